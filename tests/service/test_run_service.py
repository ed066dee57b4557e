"""RunService: every attempt is a run, listed oldest first by backfill or by chunk, and read by id."""

from __future__ import annotations

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi
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

R = rapi.Run
JANUARY = key_range("2024-01-01", "2024-01-20")  # chunks of 7, 7, 6


async def test_runs_record_every_attempt_with_its_outcome(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), target("regions"), retry_policy=no_backoff())
    first = await w.lease("w1", 4, ttl=5)  # orders 0, 1, 2, regions 0
    await w.complete("w1", first[0], metadata={"rows": "10"})
    await w.complete("w1", first[1], FAILED, failed=["2024-01-09"], error="bad row")
    await w.advance(5)  # orders 2 and regions 0 lapse
    second = await w.lease("w2", 2)  # retries first, in plan order: orders 1 (its failed key), orders 2

    runs = await w.all_runs(backfill_id)

    assert [(r.asset_key, r.chunk_index, r.attempt, r.state, r.worker_id) for r in runs] == [
        ("orders", 0, 1, R.STATE_SUCCEEDED, "w1"),
        ("orders", 1, 1, R.STATE_FAILED, "w1"),
        ("orders", 2, 1, R.STATE_LEASE_EXPIRED, "w1"),
        ("regions", 0, 1, R.STATE_LEASE_EXPIRED, "w1"),
        ("orders", 1, 2, R.STATE_RUNNING, "w2"),
        ("orders", 2, 2, R.STATE_RUNNING, "w2"),
    ]
    assert [r.run_id for r in runs] == [c.run_id for c in first + second]
    assert [r.run_key for r in runs] == [c.run_key for c in first + second]
    failed = runs[1]
    assert (failed.partition_count, failed.failed_partition_count, failed.error_message) == (7, 1, "bad row")
    assert [(r.start, r.end) for r in failed.failed_partitions.ranges] == [(8, 9)]
    assert dict(runs[0].metadata) == {"rows": "10"} and runs[0].HasField("end_time")
    assert not runs[4].HasField("end_time")
    assert (await w.runs.GetRun(rapi.GetRunRequest(run_id=failed.run_id))).run == failed


async def test_runs_list_by_chunk_and_by_round_in_pages(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=9))
    for _ in range(4):
        [chunk] = await w.lease("w1", ttl=5)
        await w.advance(5)  # chunk 0 lapses each time: attempts 1 to 4
    assert chunk.index == 0

    of_chunk = await w.all_runs(backfill_id, asset_key="orders", round=1, chunk_index=0)
    first_page = await w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, page_size=3))

    assert [r.attempt for r in of_chunk] == [1, 2, 3, 4]
    assert len(first_page.runs) == 3 and first_page.next_page_token
    assert await w.all_runs(backfill_id, round=2) == []
    assert await w.all_runs(backfill_id, asset_key="orders", round=1, chunk_index=1) == []
    wrong_scope = await call_failure(w.runs.ListRuns(rapi.ListRunsRequest(
        backfill_id=backfill_id, round=1, page_token=first_page.next_page_token
    )))
    assert wrong_scope.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_bad_run_requests(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    cases = [
        (w.runs.GetRun(rapi.GetRunRequest()), grpc.StatusCode.INVALID_ARGUMENT),
        (w.runs.GetRun(rapi.GetRunRequest(run_id="run-missing")), grpc.StatusCode.NOT_FOUND),
        (w.runs.ListRuns(rapi.ListRunsRequest(round=1)), grpc.StatusCode.INVALID_ARGUMENT),
        (w.runs.ListRuns(rapi.ListRunsRequest(backfill_id="bf-aaaaaaaaaaaa")), grpc.StatusCode.NOT_FOUND),
        (w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, asset_key="grid")), grpc.StatusCode.NOT_FOUND),
        (w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, chunk_index=0)), grpc.StatusCode.INVALID_ARGUMENT),
        (w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, round=-1)), grpc.StatusCode.INVALID_ARGUMENT),
        (w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, page_token="nope")),
         grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for call, code in cases:
        assert (await call_failure(call)).code == code
