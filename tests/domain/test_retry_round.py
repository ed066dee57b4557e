"""RetryFailedPartitions as a pure decision; the property: a retry never widens the backfill's scope."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.domain.backfill import (
    Backfill,
    BackfillCreated,
    BackfillState,
    CancelBackfill,
    CreateBackfill,
    DispatchOrder,
    Target,
    decide,
    evolve,
    settle,
)
from arco_grpc.domain.chunks import Chunk, ChunkKey, Report, decide_lease, decide_report, evolve_chunk
from arco_grpc.domain.outcomes import unite, within, without
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.domain.retry_round import RetryFailedPartitions, decide_retry
from arco_grpc.errors import Aborted, FailedPrecondition
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.selector import AllPartitions
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.chunks import chunk_count, chunk_selection

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
ORDERS = [DispatchOrder.FORWARD, DispatchOrder.BACKWARD]


def as_multi(subset: PartitionSubset, width: int = 3) -> MultiPartitionSubset:
    """The same indices laid out on a grid ``width`` wide (a two-dimension target)."""
    return MultiPartitionSubset.from_pairs(divmod(index, width) for index in subset.indices())


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    targets = []
    for position in range(draw(st.integers(1, 3))):
        indices = draw(st.sets(st.integers(0, 60), min_size=1, max_size=40))
        selection: AnySubset = PartitionSubset.from_indices(indices)
        if draw(st.booleans()):
            selection = as_multi(selection)
        targets.append((f"asset-{position}", selection, draw(st.integers(1, 9))))
    return {
        "targets": targets,
        "order": draw(st.sampled_from(ORDERS)),
        # Per chunk in plan order: None = succeeded, else the positions within the chunk that failed.
        "outcomes": draw(st.lists(st.none() | st.sets(st.integers(0, 8)), min_size=0, max_size=40)),
        "cancel_after": draw(st.none() | st.integers(0, 30)),
        "include_unattempted": draw(st.booleans()),
    }


def run_round_one(scenario: dict) -> tuple[Backfill, list[AnySubset]]:
    """Folds a backfill through round 1 with the scenario's outcomes (failures final: max_attempts 1)."""
    specs = scenario["targets"]
    created = BackfillCreated(
        backfill_id="bf-prop", max_concurrency=1000, order=scenario["order"], tags=(), title="", description="",
        creator="", as_of=NOW, fingerprint="fp", retry_policy=RetryPolicy(max_attempts=1),
        targets=tuple(Target(key, AllPartitions(), "fp", selection.count, size) for key, selection, size in specs),
    )
    backfill = None
    for event in decide(CreateBackfill(created), None):
        backfill = evolve(backfill, event)
    assert backfill is not None
    plan = [
        (position, index)
        for position, (_, selection, size) in enumerate(specs)
        for index in range(chunk_count(selection.count, size))
    ]
    outcomes = scenario["outcomes"]
    for number, (position, index) in enumerate(plan):
        if scenario["cancel_after"] is not None and number == scenario["cancel_after"]:
            for event in decide(CancelBackfill("enough"), backfill):
                backfill = evolve(backfill, event)
            break
        key, selection, size = specs[position]
        partitions = chunk_selection(selection, size, index, scenario["order"])
        chunk = Chunk.planned(ChunkKey(position, 1, index), key, partitions)
        leased = decide_lease(backfill, chunk, run_id=f"r{number}", worker_id="w", ttl=timedelta(seconds=5), now=NOW)
        backfill, chunk = evolve(backfill, leased), evolve_chunk(chunk, leased, NOW)
        failing = outcomes[number] if number < len(outcomes) else None
        if failing is None:
            report = Report(f"r{number}", "w", True)
        else:
            picked = [i for position_in_chunk, i in enumerate(_positions(partitions)) if position_in_chunk in failing]
            failed = _subset_like(partitions, picked)
            report = Report(f"r{number}", "w", False, None if failed.is_empty else failed)
        for event in decide_report(backfill, chunk, report, NOW):
            backfill = evolve(backfill, event)
        for event in settle(backfill):
            backfill = evolve(backfill, event)
    return backfill, [selection for _, selection, _ in specs]


def _positions(subset: AnySubset) -> list:  # noqa: ANN001
    return list(subset.iter_pairs()) if isinstance(subset, MultiPartitionSubset) else list(subset.indices())


def _subset_like(like: AnySubset, items: list) -> AnySubset:  # noqa: ANN001
    if isinstance(like, MultiPartitionSubset):
        return MultiPartitionSubset.from_pairs(items)
    return PartitionSubset.from_indices(items)


@given(scenarios())
def test_retry_targets_exactly_the_failed_partitions_and_never_widens_the_scope(scenario: dict) -> None:
    backfill, selections = run_round_one(scenario)
    command = RetryFailedPartitions(include_unattempted=scenario["include_unattempted"])
    cancelled = backfill.state is BackfillState.CANCELLED
    with_unattempted = cancelled and scenario["include_unattempted"]
    expected = []
    for position, selection in enumerate(selections):
        wanted = backfill.outcomes.failed[position]
        if with_unattempted:
            wanted = unite(wanted, without(without(selection, backfill.outcomes.succeeded[position]), wanted))
        expected.append(wanted)
    if backfill.state not in (BackfillState.COMPLETED, BackfillState.CANCELLED) or all(e.is_empty for e in expected):
        with pytest.raises(FailedPrecondition):
            decide_retry(command, backfill, selections)
        return

    [opened] = decide_retry(command, backfill, selections)

    retried = {backfill.target_position(t.asset_key): t for t in opened.targets}
    for position, selection in enumerate(selections):
        got = retried[position].partitions if position in retried else PartitionSubset.empty()
        assert got == expected[position] or (got.is_empty and expected[position].is_empty)
        assert within(got, selection)  # never outside what was selected
        assert without(got, backfill.outcomes.succeeded[position]) == got or got.is_empty  # never a success
        if not with_unattempted:
            assert got == backfill.outcomes.failed[position] or got.is_empty
    # The round's chunks hold the retried partitions exactly, each once.
    after = evolve(backfill, opened)
    assert (after.state, after.round, after.round_finished) == (BackfillState.RUNNING, 2, 0)
    for position, target in retried.items():
        size = backfill.spec.targets[position].chunk_size
        chunks = [chunk_selection(target.partitions, size, k, scenario["order"]) for k in range(target.chunk_count)]
        assert sum(chunk.count for chunk in chunks) == target.partitions.count
        union: AnySubset = PartitionSubset.empty()
        for chunk in chunks:
            union = unite(union, chunk)
        assert union == target.partitions
        assert after.outcomes.failed[position].is_empty or not with_unattempted
        assert without(after.outcomes.failed[position], target.partitions) == after.outcomes.failed[position]


def test_retry_refuses_a_stale_version_before_anything_else() -> None:
    backfill, selections = run_round_one({
        "targets": [("a", PartitionSubset.of_range(0, 4), 2)], "order": DispatchOrder.FORWARD,
        "outcomes": [{0}], "cancel_after": None, "include_unattempted": False,
    })
    assert backfill.state is BackfillState.COMPLETED
    with pytest.raises(Aborted):
        decide_retry(RetryFailedPartitions(expected_version=backfill.version - 1), backfill, selections)
    [opened] = decide_retry(RetryFailedPartitions(expected_version=backfill.version), backfill, selections)
    assert opened.targets[0].partitions == PartitionSubset.of_range(0, 1)
