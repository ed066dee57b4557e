"""Partition status through the real server: kept by workers' outcomes, read compactly with GetPartitionStatus,
and applied by CreateBackfill's reprocess policies (skipped partitions with reasons, in the preview and the plan)."""

from __future__ import annotations

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.conftest import call_failure
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    Workers,
    no_backoff,
    served_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

TEN_DAYS = key_range("2024-01-01", "2024-01-10")  # orders indices 0..9
MISSING = bf.REPROCESS_POLICY_MISSING
FAILED_AND_MISSING = bf.REPROCESS_POLICY_FAILED_AND_MISSING


def ranges(subset: p.PartitionSubset) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in subset.ranges]


def day(index: int) -> str:
    return f"2024-01-{index + 1:02d}"


async def status(w: Workers, asset_key: str, selector: p.PartitionSelector | None = None) -> capi.GetPartitionStatusResponse:
    return await w.catalog.GetPartitionStatus(capi.GetPartitionStatusRequest(asset_key=asset_key, selector=selector))


async def outcomes_of_three_chunks(w: Workers, attempts: int = 1) -> str:
    """Ten days of orders in chunks of 2: days 1-2 succeed, day 3 fails (day 4 succeeds), days 5-6 stay leased."""
    backfill_id = await w.create("first", target("orders", TEN_DAYS), chunk_size=2, retry_policy=no_backoff(attempts))
    first, second, third = await w.lease("w1", 3, ttl=30)
    assert [list(c.partition_keys) for c in (first, second, third)] == [[day(0), day(1)], [day(2), day(3)], [day(4), day(5)]]
    await w.complete("w1", first)
    await w.complete("w1", second, FAILED, failed=[day(2)], error="bad day")
    w.held = third  # type: ignore[attr-defined]
    return backfill_id


def skipped_of(target_message: bf.BackfillTarget) -> dict[str, list[tuple[int, int]]]:
    return {bf.SkipReason.Name(s.reason): ranges(s.partitions) for s in target_message.skipped}


async def test_status_follows_leases_and_outcomes_compactly(served_workers: Workers) -> None:
    w = served_workers
    assert (await status(w, "orders", TEN_DAYS)).missing_count == 10  # nothing ran yet
    backfill_id = await outcomes_of_three_chunks(w, attempts=2)

    found = await status(w, "orders", TEN_DAYS)
    assert (ranges(found.materialized), ranges(found.failed), ranges(found.in_progress)) == ([(0, 2), (3, 4)], [(2, 3)], [(4, 6)])
    assert (found.materialized_count, found.failed_count, found.in_progress_count, found.missing_count) == (3, 1, 2, 4)
    assert found.selected_count == 10
    # Restricted to the selection: days 4-5 only.
    narrow = await status(w, "orders", key_range("2024-01-04", "2024-01-05"))
    assert (ranges(narrow.materialized), ranges(narrow.in_progress), narrow.missing_count) == ([(3, 4)], [(4, 5)], 0)

    # A lapsed lease (with attempts left) leaves no trace but the attempts that finished.
    assert await w.advance(31) == 1
    lapsed = await status(w, "orders", TEN_DAYS)
    assert (lapsed.in_progress_count, lapsed.missing_count, lapsed.failed_count) == (0, 6, 1)

    # The retried day 3 succeeds (a success heals a failure); day 5 fails on its last attempt.
    assert await w.drain("w2", backfill_id, failing=[day(4)]) == 4
    healed = await status(w, "orders", TEN_DAYS)
    assert (ranges(healed.materialized), ranges(healed.failed), healed.missing_count) == ([(0, 4), (5, 10)], [(4, 5)], 0)
    # A failure after a materialization shows failed, as in Dagster.
    again = await w.create("again", target("orders", key_range(day(0), day(0))), retry_policy=no_backoff(1))
    assert await w.drain("w2", again, failing=[day(0)]) == 1
    last = await status(w, "orders", TEN_DAYS)
    assert (ranges(last.materialized), ranges(last.failed)) == ([(1, 4), (5, 10)], [(0, 1), (4, 5)])


async def test_a_lapse_that_uses_up_the_attempts_is_a_failure(served_workers: Workers) -> None:
    w = served_workers
    await outcomes_of_three_chunks(w, attempts=1)
    assert await w.advance(31) == 1
    found = await status(w, "orders", TEN_DAYS)
    assert (ranges(found.failed), found.in_progress_count, found.missing_count) == ([(2, 3), (4, 6)], 0, 4)


async def test_a_retry_round_heals_the_failed_partition(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("one", target("orders", key_range("2024-01-01", "2024-01-02")), chunk_size=2,
                                 retry_policy=no_backoff(1))
    [chunk] = await w.lease("w1")
    await w.complete("w1", chunk, FAILED, failed=[day(1)], error="x")
    assert ranges((await status(w, "orders", TEN_DAYS)).failed) == [(1, 2)]
    await w.backfills.RetryFailedPartitions(api.RetryFailedPartitionsRequest(request_id="r", backfill_id=backfill_id))
    assert await w.drain("w1", backfill_id) == 1
    healed = await status(w, "orders", TEN_DAYS)
    assert (ranges(healed.materialized), healed.failed_count) == ([(0, 2)], 0)


async def test_status_of_ten_million_minutes_stays_a_few_ranges(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("minutes", target("minutely"), retry_policy=no_backoff(1))
    total = (await w.backfill(backfill_id)).progress.partitions_total
    assert total > 10_000_000
    chunks = await w.lease("w1", 3)
    await w.complete("w1", chunks[0])
    await w.complete("w1", chunks[2], FAILED, failed=[chunks[2].partition_keys[7]], error="x")

    found = await status(w, "minutely")
    assert (ranges(found.materialized), ranges(found.failed), ranges(found.in_progress)) == (
        [(0, 60), (120, 127), (128, 180)], [(127, 128)], [(60, 120)]
    )
    assert found.missing_count == total - 180 and found.selected_count == total
    assert found.ByteSize() < 200  # ranges, never keys

    # MISSING over all ten million minutes: the plan starts after the skipped ranges, found by rank, not by listing.
    preview = (await w.backfills.CreateBackfill(api.CreateBackfillRequest(
        targets=[target("minutely")], validate_only=True, reprocess_policy=MISSING,
    ))).plan
    assert preview.skipped_partition_count == 180 and preview.partition_count == total - 180
    assert dict(preview.skipped_by_reason) == {
        "SKIP_REASON_ALREADY_MATERIALIZED": 119, "SKIP_REASON_IN_FLIGHT": 60, "SKIP_REASON_FAILED": 1
    }
    assert preview.chunk_count == -(-(total - 180) // 60)
    fourth = await w.chunk(backfill_id, "minutely", 3)
    assert preview.first_chunks[0].first_key == fourth.first_key
    assert preview.first_chunks[0].partition_count == 60


async def test_missing_skips_materialized_failed_and_in_flight_in_preview_and_plan(served_workers: Workers) -> None:
    w = served_workers
    await outcomes_of_three_chunks(w)
    request = api.CreateBackfillRequest(
        request_id="missing", targets=[target("orders", TEN_DAYS)], chunk_size=3, reprocess_policy=MISSING,
    )
    preview = (await w.backfills.CreateBackfill(api.CreateBackfillRequest(
        targets=request.targets, chunk_size=3, reprocess_policy=MISSING, validate_only=True,
    ))).plan
    [planned] = preview.targets
    assert skipped_of(planned) == {
        "SKIP_REASON_ALREADY_MATERIALIZED": [(0, 2), (3, 4)], "SKIP_REASON_IN_FLIGHT": [(4, 6)], "SKIP_REASON_FAILED": [(2, 3)],
    }
    assert [s.partition_count for s in planned.skipped] == [3, 2, 1]
    assert (planned.selected_partition_count, planned.partition_count, planned.chunk_count) == (10, 4, 2)
    assert (preview.partition_count, preview.chunk_count, preview.skipped_partition_count) == (4, 2, 6)
    assert preview.reprocess_policy == MISSING
    assert [list(c.partition_keys) for c in preview.first_chunks] == [[day(6), day(7), day(8)], [day(9)]]

    created = await w.backfills.CreateBackfill(request)
    backfill_id = created.backfill.id
    chunks = await w.chunks(backfill_id)
    assert [list(c.partition_keys) for c in chunks] == [[day(6), day(7), day(8)], [day(9)]]
    shown = await w.backfill(backfill_id)
    assert (shown.progress.partitions_total, shown.progress.partitions_skipped) == (4, 6)
    assert shown.reprocess_policy == MISSING and skipped_of(shown.targets[0]) == skipped_of(planned)

    # The same request later returns the first answer, though the status has changed since.
    await w.complete("w1", w.held)  # type: ignore[attr-defined]
    again = await w.backfills.CreateBackfill(request)
    assert again == created
    # The leased chunks of the new backfill run exactly the remaining days.
    leased = await w.lease("w3", 4, assets=["orders"])
    assert sorted(k for c in leased if c.backfill_id == backfill_id for k in c.partition_keys) == [day(i) for i in (6, 7, 8, 9)]


async def test_failed_and_missing_reruns_failures_and_skips_only_materialized_and_in_flight(served_workers: Workers) -> None:
    w = served_workers
    await outcomes_of_three_chunks(w)
    created = await w.backfills.CreateBackfill(api.CreateBackfillRequest(
        request_id="fam", targets=[target("orders", TEN_DAYS)], chunk_size=3, reprocess_policy=FAILED_AND_MISSING,
    ))
    [planned] = created.plan.targets
    assert skipped_of(planned) == {"SKIP_REASON_ALREADY_MATERIALIZED": [(0, 2), (3, 4)], "SKIP_REASON_IN_FLIGHT": [(4, 6)]}
    chunks = await w.chunks(created.backfill.id)
    assert [list(c.partition_keys) for c in chunks] == [[day(2), day(6), day(7)], [day(8), day(9)]]
    # ALL (the default) skips nothing.
    everything = await w.backfills.CreateBackfill(api.CreateBackfillRequest(
        targets=[target("orders", TEN_DAYS)], chunk_size=3, validate_only=True,
    ))
    assert everything.plan.partition_count == 10 and not everything.plan.targets[0].skipped
    assert everything.plan.reprocess_policy == bf.REPROCESS_POLICY_ALL


async def test_a_policy_that_leaves_nothing_is_refused_but_previewed(served_workers: Workers) -> None:
    w = served_workers
    await outcomes_of_three_chunks(w)
    done = key_range("2024-01-01", "2024-01-02")
    failure = await call_failure(w.backfills.CreateBackfill(api.CreateBackfillRequest(
        request_id="nothing", targets=[target("orders", done)], reprocess_policy=MISSING,
    )))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION and failure.reason == "NOTHING_TO_REPROCESS"
    assert failure.metadata == {"asset_key": "orders", "skipped": "2", "skip_reasons": "ALREADY_MATERIALIZED"}
    assert len((await w.backfills.ListBackfills(api.ListBackfillsRequest())).backfills) == 1  # nothing created
    preview = (await w.backfills.CreateBackfill(api.CreateBackfillRequest(
        targets=[target("orders", done)], reprocess_policy=MISSING, validate_only=True,
    ))).plan
    assert (preview.partition_count, preview.chunk_count, preview.skipped_partition_count) == (0, 0, 2)


async def test_multi_partitioned_status_is_per_dimension_bands(served_workers: Workers) -> None:
    w = served_workers
    await w.create("grid", target("grid"), chunk_size=3)
    [chunk] = await w.lease("w1")
    await w.complete("w1", chunk, FAILED, failed=[chunk.partition_keys[1]], error="x")
    found = await status(w, "grid")
    assert (found.materialized_count, found.failed_count) == (2, 1)
    assert found.materialized.bands and not found.materialized.ranges


async def test_deleting_a_dynamic_key_starts_a_new_status_space_and_adding_keys_does_not(
    served_workers: Workers,
) -> None:
    w = served_workers
    add = capi.AddDynamicPartitionsRequest
    await w.catalog.AddDynamicPartitions(add(request_id="k1", name="customers", keys=["acme", "globex", "initech"]))
    backfill_id = await w.create("c", target("customers/profiles"))
    assert await w.drain("w1", backfill_id) == 2
    await w.catalog.AddDynamicPartitions(add(request_id="k2", name="customers", keys=["umbrella"]))
    kept = await status(w, "customers/profiles")
    assert (ranges(kept.materialized), kept.missing_count) == ([(0, 3)], 1)
    await w.catalog.DeleteDynamicPartitions(
        capi.DeleteDynamicPartitionsRequest(request_id="k3", name="customers", keys=["acme"])
    )
    # Indices shifted: the old status no longer names these keys, so it is not shown against them.
    fresh = await status(w, "customers/profiles")
    assert (fresh.materialized_count, fresh.missing_count) == (0, 3)


async def test_bad_status_requests_get_precise_errors(served_workers: Workers) -> None:
    w = served_workers
    request = capi.GetPartitionStatusRequest
    unknown = await call_failure(w.catalog.GetPartitionStatus(request(asset_key="nope")))
    assert unknown.code == grpc.StatusCode.NOT_FOUND and unknown.metadata == {"asset_key": "nope"}
    empty = await call_failure(w.catalog.GetPartitionStatus(request(asset_key="")))
    assert empty.code == grpc.StatusCode.INVALID_ARGUMENT and empty.violations[0][0] == "asset_key"
    bad_key = await call_failure(w.catalog.GetPartitionStatus(request(asset_key="orders", selector=key_range("x", "y"))))
    assert bad_key.code == grpc.StatusCode.INVALID_ARGUMENT and bad_key.violations[0][0] == "selector.key_range.start"
    flat = await call_failure(w.catalog.GetPartitionStatus(request(asset_key="scorecards")))
    assert flat.code == grpc.StatusCode.FAILED_PRECONDITION
    policy = await call_failure(w.backfills.CreateBackfill(api.CreateBackfillRequest(
        request_id="p", targets=[target("orders")], reprocess_policy=9,  # type: ignore[arg-type]
    )))
    assert policy.code == grpc.StatusCode.INVALID_ARGUMENT and policy.violations[0][0] == "reprocess_policy"
