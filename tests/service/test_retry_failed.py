"""RetryFailedPartitions: a new round over exactly the failed partitions (and, after a cancel, the unattempted)."""

from __future__ import annotations

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc.planning.chunks import run_key
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

C = bf.Chunk
B = bf.Backfill
JANUARY = key_range("2024-01-01", "2024-01-31")  # 31 partitions: chunks of 7 (5 chunks)
FAILING = ["2024-01-02", "2024-01-03", "2024-01-09", "2024-01-30"]


def retry(backfill_id: str, request_id: str = "retry-1", **fields: object) -> api.RetryFailedPartitionsRequest:
    return api.RetryFailedPartitionsRequest(request_id=request_id, backfill_id=backfill_id, **fields)  # type: ignore[arg-type]


def ranges(subset) -> list[tuple[int, int]]:  # noqa: ANN001
    return [(r.start, r.end) for r in subset.ranges]


async def completed_with_failures(w: Workers) -> str:
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=1))
    await w.drain("w1", backfill_id, failing=FAILING)
    assert (await w.backfill(backfill_id)).progress.partitions_failed == 4
    return backfill_id


async def test_retry_opens_a_round_over_exactly_the_failed_partitions(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await completed_with_failures(w)

    answer = await w.backfills.RetryFailedPartitions(retry(backfill_id, reason="fixed the disk"))

    assert (answer.round, answer.backfill.state, answer.backfill.round) == (2, B.STATE_RUNNING, 2)
    [retried] = answer.retried
    assert (retried.asset_key, retried.partition_count, retried.chunk_count) == ("orders", 4, 1)
    assert ranges(retried.partitions) == [(1, 3), (8, 9), (29, 30)]
    progress = answer.backfill.progress
    assert (progress.partitions_succeeded, progress.partitions_failed, progress.partitions_pending) == (27, 0, 4)
    event = (await w.events(backfill_id))[-1]
    assert event.type == "RetryRoundOpened" and event.request_id == "retry-1"
    opened = event.payload.retry_round_opened
    assert (opened.round, opened.reason, [ranges(t.partitions) for t in opened.targets]) == (
        2, "fixed the disk", [[(1, 3), (8, 9), (29, 30)]]
    )
    assert answer.backfill.transitions[-1].to_state == B.STATE_RUNNING

    [chunk] = await w.lease("w2", 5)
    assert (chunk.round, chunk.index, chunk.attempt) == (2, 0, 1)
    assert list(chunk.partition_keys) == FAILING
    assert chunk.run_key == run_key(backfill_id, "orders", 2, 0, 1)
    listed = await w.chunks(backfill_id, round=2)
    assert [(c.state, c.partition_count) for c in listed] == [(C.STATE_LEASED, 4)]
    await w.complete("w2", chunk)
    backfill = await w.backfill(backfill_id)
    assert (backfill.state, backfill.progress.partitions_succeeded, backfill.progress.partitions_failed) == (
        B.STATE_COMPLETED, 31, 0
    )
    assert dict(backfill.progress.chunks_by_state) == {"STATE_SUCCEEDED": 3, "STATE_FAILED": 3}  # round 1 keeps its history


async def test_retry_rounds_are_chunked_by_the_chunk_size_in_dispatch_order(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), chunk_size=2, order=B.ORDER_BACKWARD,
                                 retry_policy=no_backoff(max_attempts=1))
    await w.drain("w1", backfill_id, failing=FAILING)

    answer = await w.backfills.RetryFailedPartitions(retry(backfill_id))

    assert answer.retried[0].chunk_count == 2
    planned = await w.chunks(backfill_id, round=2)
    assert [(c.index, list(c.partition_keys), c.state) for c in planned] == [
        (0, ["2024-01-30", "2024-01-09"], C.STATE_PENDING), (1, ["2024-01-03", "2024-01-02"], C.STATE_PENDING)
    ]
    leased = await w.lease("w2", 5)
    assert [list(c.partition_keys) for c in leased] == [list(c.partition_keys) for c in planned]


async def test_retry_is_refused_while_running_and_without_failures(served_workers: Workers) -> None:
    w = served_workers
    clean = await w.create("clean", target("orders", key_range("2024-01-01", "2024-01-07")))
    await w.drain("w1", clean)
    running = await w.create("running", target("orders", JANUARY))
    assert (await w.backfill(clean)).state == B.STATE_COMPLETED

    for backfill_id, reason in ((running, "BACKFILL_NOT_FINISHED"), (clean, "NOTHING_TO_RETRY")):
        events = await w.event_types(backfill_id)
        failure = await call_failure(w.backfills.RetryFailedPartitions(retry(backfill_id, f"r-{backfill_id}")))
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)
        assert await w.event_types(backfill_id) == events


async def test_retry_is_idempotent_and_honours_the_expected_version(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await completed_with_failures(w)
    version = (await w.backfill(backfill_id)).state_version

    stale = await call_failure(w.backfills.RetryFailedPartitions(retry(backfill_id, expected_state_version=version - 1)))
    first = await w.backfills.RetryFailedPartitions(retry(backfill_id, "r-2", expected_state_version=version))
    again = await w.backfills.RetryFailedPartitions(retry(backfill_id, "r-2", expected_state_version=version))

    assert stale.code == grpc.StatusCode.ABORTED
    assert again == first
    assert (await w.event_types(backfill_id)).count("RetryRoundOpened") == 1


async def test_a_cancelled_backfill_retries_failures_and_optionally_what_it_never_ran(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=1))
    first, second = await w.lease("w1", 2)
    await w.complete("w1", first, FAILED, failed=["2024-01-02"])
    await w.complete("w1", second)
    await w.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="x", backfill_id=backfill_id))
    cancelled = await w.backfill(backfill_id)
    assert (cancelled.state, cancelled.progress.partitions_cancelled) == (B.STATE_CANCELLED, 17)

    only_failed = await w.backfills.RetryFailedPartitions(retry(backfill_id, "r-1"))
    assert ranges(only_failed.retried[0].partitions) == [(1, 2)]
    assert only_failed.backfill.progress.partitions_cancelled == 17  # still not coming back
    assert only_failed.backfill.progress.partitions_pending == 1
    await w.drain("w1", backfill_id)
    after = await w.backfill(backfill_id)
    assert (after.state, after.progress.partitions_succeeded, after.progress.partitions_cancelled) == (
        B.STATE_COMPLETED, 14, 17
    )
    # Round 1's never-leased chunks stay CANCELLED in every listing.
    assert [c.state for c in await w.chunks(backfill_id, round=1)] == [
        C.STATE_FAILED, C.STATE_SUCCEEDED, C.STATE_CANCELLED, C.STATE_CANCELLED, C.STATE_CANCELLED
    ]

    refused = await call_failure(w.backfills.RetryFailedPartitions(retry(backfill_id, "r-2")))
    assert refused.reason == "NOTHING_TO_RETRY"  # completed, no failure left


async def test_include_unattempted_brings_back_what_the_cancel_left_out(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=1))
    [first] = await w.lease("w1")
    await w.complete("w1", first, FAILED, failed=["2024-01-02"])
    await w.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="x", backfill_id=backfill_id))

    answer = await w.backfills.RetryFailedPartitions(retry(backfill_id, include_unattempted=True))

    assert ranges(answer.retried[0].partitions) == [(1, 2), (7, 31)]
    assert (answer.retried[0].partition_count, answer.retried[0].chunk_count) == (25, 4)
    assert answer.backfill.progress.partitions_cancelled == 0
    assert (await w.events(backfill_id))[-1].payload.retry_round_opened.targets[0].failed_count == 1
    await w.drain("w1", backfill_id)
    assert (await w.backfill(backfill_id)).progress.partitions_succeeded == 31
