"""Backfills over dependent assets, through the real server: gating, UPSTREAM_FAILED, retries, self-dependencies."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi
from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.mapping import AllMapping, LastMapping, PartitionMapping, StaticMapping, upstream_partitions
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_assets import mapping_to_proto
from tests.service.backfill_helpers import target
from tests.service.builders import apply, asset, daily, dep, hourly, key_range, keys_selector, static
from tests.service.conftest import call_failure
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    OK,
    ManualClock,
    Workers,
    no_backoff,
    served_workers,
    start_workers,
    stop_workers,
)

B = bf.Backfill
C = bf.Chunk
IDENTITY = a.PartitionMapping(identity=a.IdentityMapping())


def previous_day(start: int = -1, end: int = 0) -> a.PartitionMapping:
    return a.PartitionMapping(time_window=a.TimeWindowMapping(start_offset=start, end_offset=end))


@dataclass
class Driver:
    """Leases and completes like a worker, and checks gating at every lease against what the reads need."""

    w: Workers
    reads: dict[tuple[str, str], set[tuple[str, str]]]  # (asset, key) -> in-backfill (asset, key) it reads
    failing: set[tuple[str, str]]
    succeeded: set[tuple[str, str]] = field(default_factory=set)
    failed: set[tuple[str, str]] = field(default_factory=set)
    leased: list[tuple[str, str]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    async def run(self, max_chunks: int = 4) -> None:
        while True:
            chunks = await self.w.lease("w1", self.rng.randint(1, max_chunks))
            if not chunks:
                return
            for chunk in chunks:
                for key in chunk.partition_keys:
                    node = (chunk.asset_key, key)
                    missing = self.reads.get(node, set()) - self.succeeded
                    assert not missing, f"{node} leased before {sorted(missing)} succeeded"
                    self.leased.append(node)
            self.rng.shuffle(chunks)
            for chunk in chunks:
                bad = [key for key in chunk.partition_keys if (chunk.asset_key, key) in self.failing]
                await self.w.complete("w1", chunk, FAILED if bad else OK, bad, "boom" if bad else "")
                for key in chunk.partition_keys:
                    (self.failed if key in bad else self.succeeded).add((chunk.asset_key, key))


async def keys_of(w: Workers, asset_key: str, subset: object) -> set[str]:
    """The keys of a PartitionSubset message of ``asset_key``, by paging through its keys."""
    wanted = {i for r in subset.ranges for i in range(r.start, r.end)}  # type: ignore[attr-defined]
    found: set[str] = set()
    position, token = 0, ""
    while wanted and position <= max(wanted):
        page = await w.catalog.ListPartitionKeys(
            capi.ListPartitionKeysRequest(asset_key=asset_key, page_size=1000, page_token=token)
        )
        found |= {key for offset, key in enumerate(page.keys) if position + offset in wanted}
        position, token = position + len(page.keys), page.next_page_token
        if not token:
            break
    return found


async def test_dagster_observed_example_blocks_only_what_the_failure_reaches(served_workers: Workers) -> None:
    """Reference 4.7: a->b->c identity, d reads c with start_offset -1; b fails on 01-03."""
    w = served_workers
    day = daily("2023-01-01")
    await w.catalog.ApplyAssets(apply(
        "graph-1",
        asset("a", day), asset("b", day, dep("a", IDENTITY)), asset("c", day, dep("b", IDENTITY)),
        asset("d", day, dep("c", previous_day())),
    ))
    roots = key_range("2023-01-02", "2023-01-05")
    backfill_id = await w.create(
        "dag-1", target("d", key_range("2023-01-02", "2023-01-06")), target("c", roots), target("b", roots),
        target("a", roots), retry_policy=no_backoff(max_attempts=1), max_concurrency=8,
    )
    created = await w.backfill(backfill_id)
    assert [t.asset_key for t in created.targets] == ["a", "b", "c", "d"]  # upstream first

    day_keys = [f"2023-01-0{n}" for n in range(2, 7)]
    reads = {("b", k): {("a", k)} for k in day_keys[:4]} | {("c", k): {("b", k)} for k in day_keys[:4]}
    reads |= {("d", k): {("c", p) for p in day_keys[:4] if p in (k, day_keys[day_keys.index(k) - 1])} for k in day_keys}
    driver = Driver(w, reads, failing={("b", "2023-01-03")})
    await driver.run()

    done = await w.backfill(backfill_id)
    assert done.state == B.STATE_COMPLETED
    assert (done.progress.partitions_succeeded, done.progress.partitions_failed) == (13, 1)
    assert done.progress.partitions_upstream_failed == 3
    assert sorted(k for asset_key, k in driver.leased if asset_key == "d") == ["2023-01-02", "2023-01-05", "2023-01-06"]
    blocked = {o.asset_key: await keys_of(w, o.asset_key, o.upstream_failed) for o in done.outcomes}
    assert blocked == {"a": set(), "b": set(), "c": {"2023-01-03"}, "d": {"2023-01-03", "2023-01-04"}}
    assert done.progress.chunks_by_state["STATE_UPSTREAM_FAILED"] == 3
    d_chunks = {c.index: c.state for c in await w.chunks(backfill_id, asset_key="d")}
    assert d_chunks == {0: C.STATE_SUCCEEDED, 1: C.STATE_UPSTREAM_FAILED, 2: C.STATE_UPSTREAM_FAILED,
                        3: C.STATE_SUCCEEDED, 4: C.STATE_SUCCEEDED}
    events = await w.event_types(backfill_id)
    assert events.count("PartitionsUpstreamFailed") == 1

    # The retry reruns the failure and what it blocked, in dependency order, and nothing else.
    answer = await w.backfills.RetryFailedPartitions(api.RetryFailedPartitionsRequest(request_id="r-1", backfill_id=backfill_id))
    assert {t.asset_key: t.partition_count for t in answer.retried} == {"b": 1, "c": 1, "d": 2}
    retry = Driver(w, reads, failing=set(), succeeded=set(driver.succeeded))
    await retry.run()
    assert sorted(retry.leased) == [("b", "2023-01-03"), ("c", "2023-01-03"), ("d", "2023-01-03"), ("d", "2023-01-04")]
    final = await w.backfill(backfill_id)
    assert final.state == B.STATE_COMPLETED
    assert (final.progress.partitions_succeeded, final.progress.partitions_failed) == (17, 0)
    assert final.progress.partitions_upstream_failed == 0


async def test_a_self_dependent_chain_advances_as_each_day_succeeds(served_workers: Workers) -> None:
    w = served_workers
    await w.catalog.ApplyAssets(apply("chain-1", asset("totals", daily("2023-01-01"), dep("totals", previous_day(-1, -1)))))
    backfill_id = await w.create("chain", target("totals", key_range("2023-01-01", "2023-12-31")), max_concurrency=10)
    leased_per_call = []
    while True:
        chunks = await w.lease("w1", 10)
        if not chunks:
            break
        leased_per_call.append(len(chunks))
        for chunk in chunks:
            await w.complete("w1", chunk)
    done = await w.backfill(backfill_id)
    assert done.state == B.STATE_COMPLETED and done.progress.partitions_succeeded == 365
    assert leased_per_call == [1] * 365  # each day waits for the day before, never for a tick


async def test_gating_and_blocked_partitions_survive_restarts(tmp_path: Path) -> None:
    """A chain of three daily assets; the middle one fails on one day; the server restarts after every call."""
    w = await start_workers(tmp_path / "arco.db", ManualClock())
    try:
        day = daily("2023-01-01")
        await w.catalog.ApplyAssets(apply(
            "restart-1", asset("x", day, chunk=2), asset("y", day, dep("x"), chunk=3), asset("z", day, dep("y"), chunk=1),
        ))
        week = key_range("2023-01-01", "2023-01-07")
        backfill_id = await w.create(
            "restart", target("x", week), target("y", week), target("z", week), retry_policy=no_backoff(1), max_concurrency=2
        )
        succeeded: set[tuple[str, str]] = set()
        ran: list[tuple[str, str]] = []
        while True:
            chunks = await w.lease("w1", 2)
            if not chunks:
                break
            for chunk in chunks:
                for key in chunk.partition_keys:
                    upstream = {"y": "x", "z": "y"}.get(chunk.asset_key)
                    assert upstream is None or (upstream, key) in succeeded, (chunk.asset_key, key)
                    ran.append((chunk.asset_key, key))
            stop_and_start = await restart_after(w)
            for chunk in chunks:
                bad = ["2023-01-04"] if chunk.asset_key == "y" and "2023-01-04" in chunk.partition_keys else []
                await stop_and_start.complete("w1", chunk, FAILED if bad else OK, bad, "boom" if bad else "")
                succeeded |= {(chunk.asset_key, k) for k in chunk.partition_keys if k not in bad}
            w = await restart_after(stop_and_start)
        done = await w.backfill(backfill_id)
        assert done.state == B.STATE_COMPLETED
        assert (done.progress.partitions_succeeded, done.progress.partitions_failed) == (19, 1)
        assert done.progress.partitions_upstream_failed == 1
        assert len(ran) == len(set(ran)) == 20  # nothing ran twice across the restarts
        assert ("z", "2023-01-04") not in ran
    finally:
        await stop_workers(w)


async def restart_after(w: Workers) -> Workers:
    await stop_workers(w)
    return await start_workers(w.db, w.clock)


async def test_an_upstream_outside_the_backfill_never_blocks(served_workers: Workers) -> None:
    w = served_workers
    day = daily("2023-01-01")
    await w.catalog.ApplyAssets(apply("outside-1", asset("src", day), asset("dst", day, dep("src"))))
    backfill_id = await w.create("outside", target("dst", key_range("2023-01-01", "2023-01-03")))
    chunks = await w.lease("w1", 10)
    assert len(chunks) == 3


async def test_a_failure_that_will_be_retried_does_not_block_yet(served_workers: Workers) -> None:
    w = served_workers
    day = daily("2023-01-01")
    await w.catalog.ApplyAssets(apply("retry-1", asset("up", day), asset("down", day, dep("up"))))
    one = key_range("2023-01-01", "2023-01-01")
    backfill_id = await w.create("retry", target("up", one), target("down", one), retry_policy=no_backoff(max_attempts=2))
    [first] = await w.lease("w1", 10)
    assert first.asset_key == "up"
    await w.complete("w1", first, FAILED, [], "flaky")
    [again] = await w.lease("w1", 10)
    assert (again.asset_key, again.attempt) == ("up", 2)
    await w.complete("w1", again)
    [down] = await w.lease("w1", 10)
    assert down.asset_key == "down"
    await w.complete("w1", down)
    assert (await w.backfill(backfill_id)).progress.partitions_upstream_failed == 0


# Random small graphs: a partition-by-partition model says what must happen.

KEYS = [f"k{i}" for i in range(6)]
SPACE = partition_space(StaticPartitionsDefinition(tuple(KEYS)), as_of=datetime(2024, 1, 1, tzinfo=timezone.utc))


def _random_mapping(rng: random.Random) -> PartitionMapping | None:
    choice = rng.randrange(4)
    if choice == 0:
        return None  # identity, inferred
    if choice == 1:
        return AllMapping()
    if choice == 2:
        return LastMapping()
    pairs = {up: tuple(sorted(rng.sample(KEYS, rng.randint(1, 2)))) for up in rng.sample(KEYS, 3)}
    return StaticMapping(tuple(sorted(pairs.items())))


def _reads_of(mapping: PartitionMapping | None, key: str, up_selection: Sequence[str]) -> set[str]:
    index = SPACE.index_of(key)
    assert index is not None
    mapped = upstream_partitions(mapping, PartitionSubset.of_range(index, index + 1), SPACE, SPACE).subset
    return {SPACE.key_at(i) for i in mapped.indices()} & set(up_selection)


_EXAMPLES = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=st.integers(0, 2**32 - 1))
async def test_random_graphs_run_in_dependency_order_and_end_in_one_state_each(
    served_workers: Workers, scenario: int
) -> None:
    """Each example's seed draws the graph, mappings, selections, chunk sizes, order, failures and the worker's
    batch sizes and report order (a seed, not hypothesis's own draws: the worker's draws depend on the server's
    answers); one server serves every example."""
    w = served_workers
    rng = random.Random(scenario)
    seed = next(_EXAMPLES)  # a fresh name space per example on the shared server
    names = [f"s{seed}-{i}" for i in range(rng.randint(2, 4))]
    edges = [
        (names[i], names[j], _random_mapping(rng)) for j in range(len(names)) for i in range(j) if rng.random() < 0.6
    ]
    selections = {name: sorted(rng.sample(KEYS, rng.randint(1, len(KEYS)))) for name in names}
    assets = [
        asset(name, static(*KEYS), *[dep(u, None if m is None else mapping_to_proto(m)) for u, d, m in edges if d == name],
              chunk=rng.randint(1, 3))
        for name in names
    ]
    await w.catalog.ApplyAssets(apply(f"cat-{seed}", *assets))
    reads: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for up, down, mapping in edges:
        for key in selections[down]:
            reads.setdefault((down, key), set()).update((up, k) for k in _reads_of(mapping, key, selections[up]))
    failing = {(n, k) for n in names for k in selections[n] if rng.random() < 0.2}
    order = rng.choice([B.ORDER_FORWARD, B.ORDER_BACKWARD])
    backfill_id = await w.create(
        f"rand-{seed}", *[target(n, keys_selector(*selections[n])) for n in reversed(names)],
        retry_policy=no_backoff(max_attempts=1), max_concurrency=rng.randint(1, 4), order=order,
    )
    driver = Driver(w, reads, failing, rng=rng)
    await driver.run()

    # The model: a partition runs once everything it reads succeeded; else it is upstream failed.
    expected_ok, expected_failed, expected_blocked = set(), set(), set()
    for name in names:  # names are in dependency order
        for key in selections[name]:
            node = (name, key)
            if reads.get(node, set()) <= expected_ok:
                (expected_failed if node in failing else expected_ok).add(node)
            else:
                expected_blocked.add(node)
    assert sorted(driver.leased) == sorted(expected_ok | expected_failed), seed  # each ran once, as the model says
    done = await w.backfill(backfill_id)
    assert done.state == B.STATE_COMPLETED, seed
    outcomes = {o.asset_key: o for o in done.outcomes}
    for name in names:
        got = {
            "ok": await keys_of(w, name, outcomes[name].succeeded),
            "failed": await keys_of(w, name, outcomes[name].failed),
            "blocked": await keys_of(w, name, outcomes[name].upstream_failed),
        }
        want = {
            "ok": {k for n, k in expected_ok if n == name},
            "failed": {k for n, k in expected_failed if n == name},
            "blocked": {k for n, k in expected_blocked if n == name},
        }
        assert got == want, (seed, name)


# Creating over a graph: one selection propagated from the roots, and partitions blocked by missing upstreams.


def validate(*targets: api.BackfillTargetSpec, **fields: object) -> api.CreateBackfillRequest:
    return api.CreateBackfillRequest(validate_only=True, targets=targets, **fields)  # type: ignore[arg-type]


async def test_a_root_selection_propagates_through_the_mappings(served_workers: Workers) -> None:
    """Reference 4.5: d reads its parent with start_offset -1; parents 01-02..01-05 select d 01-02..01-06."""
    w = served_workers
    day = daily("2023-01-01")
    await w.catalog.ApplyAssets(apply(
        "prop-1", asset("p", day), asset("q", day, dep("p", previous_day())),
        asset("h", hourly("2023-01-01-00:00")), asset("hd", day, dep("h")),
    ))
    plan = (await w.backfills.CreateBackfill(
        validate(api.BackfillTargetSpec(asset_key="q"), api.BackfillTargetSpec(asset_key="p"),
                 root_selector=key_range("2023-01-02", "2023-01-05"))
    )).plan
    by_asset = {t.asset_key: t for t in plan.targets}
    assert [t.asset_key for t in plan.targets] == ["p", "q"]
    assert by_asset["q"].partition_count == 5
    assert by_asset["q"].selector.key_range.start == "2023-01-02" and by_asset["q"].selector.key_range.end == "2023-01-06"

    hours = (await w.backfills.CreateBackfill(
        validate(api.BackfillTargetSpec(asset_key="h"), api.BackfillTargetSpec(asset_key="hd"),
                 root_selector=key_range("2023-03-01-05:00", "2023-03-02-01:00"))
    )).plan
    assert {t.asset_key: t.partition_count for t in hours.targets} == {"h": 21, "hd": 2}


async def test_root_selector_mistakes_are_invalid_arguments(served_workers: Workers) -> None:
    w = served_workers
    day = daily("2023-01-01")
    await w.catalog.ApplyAssets(apply("prop-2", asset("r1", day), asset("r2", hourly("2023-01-01-00:00"))))
    both = await call_failure(w.backfills.CreateBackfill(validate(
        target("r1", key_range("2023-01-01", "2023-01-02")), root_selector=key_range("2023-01-01", "2023-01-02")
    )))
    assert (both.code, both.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, "targets[0].selector")
    mixed = await call_failure(w.backfills.CreateBackfill(validate(
        api.BackfillTargetSpec(asset_key="r1"), api.BackfillTargetSpec(asset_key="r2"),
        root_selector=key_range("2023-01-01", "2023-01-02"),
    )))
    assert (mixed.code, mixed.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, "root_selector")
    assert "partitioned differently" in mixed.message


async def test_partitions_needing_missing_upstreams_are_blocked_not_the_whole_backfill(served_workers: Workers) -> None:
    """Reference 3.5: a daily from 2023-12-25 reads a daily from 2024-01-01; Dagster fails the whole backfill."""
    w = served_workers
    await w.catalog.ApplyAssets(apply(
        "missing-1", asset("late", daily("2024-01-01")), asset("early", daily("2023-12-25"), dep("late")),
        asset("after", daily("2023-12-25"), dep("early")),
    ))
    selection = keys_selector("2023-12-30", "2024-01-02")
    plan = (await w.backfills.CreateBackfill(validate(target("early", selection), target("after", selection)))).plan
    assert dict(plan.skipped_by_reason) == {"SKIP_REASON_MISSING_UPSTREAM": 2}  # early and, reading it, after
    assert [t.partition_count for t in plan.targets] == [1, 1]
    [blocked] = plan.targets[0].skipped
    assert (blocked.reason, blocked.partition_count) == (bf.SKIP_REASON_MISSING_UPSTREAM, 1)

    backfill_id = await w.create("missing", target("early", selection), target("after", selection))
    ran = []
    while chunks := await w.lease("w1", 4):
        for chunk in chunks:
            ran.extend((chunk.asset_key, key) for key in chunk.partition_keys)
            await w.complete("w1", chunk)
    assert sorted(ran) == [("after", "2024-01-02"), ("early", "2024-01-02")]
    done = await w.backfill(backfill_id)
    assert done.state == B.STATE_COMPLETED and done.progress.partitions_skipped == 2

    nothing = await call_failure(w.backfills.CreateBackfill(api.CreateBackfillRequest(
        request_id="missing-all", targets=[target("early", keys_selector("2023-12-30"))]
    )))
    assert (nothing.code, nothing.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTHING_TO_RUN")
