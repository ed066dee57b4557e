"""Automatic retries: lapsed leases come back as new attempts, failures back off, attempts run out."""

from __future__ import annotations

import logging

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi
from arco_grpc.planning.chunks import run_key
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.conftest import call_failure
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    Workers,
    no_backoff,
    seconds,
    served_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

C = bf.Chunk
B = bf.Backfill
WEEK = key_range("2024-01-01", "2024-01-07")  # one chunk of 7


async def test_a_lapsed_lease_comes_back_as_the_next_attempt_with_a_new_run_key(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", WEEK))
    [first] = await w.lease("w1", ttl=30)

    assert await w.advance(29) == 0
    assert await w.lease("w2") == []  # still leased
    assert await w.advance(1) == 1
    [second] = await w.lease("w2", ttl=30)

    assert (second.index, second.attempt, list(second.partition_keys)) == (0, 2, list(first.partition_keys))
    assert second.run_key == run_key(backfill_id, "orders", 1, 0, 2) != first.run_key
    assert second.run_id != first.run_id
    runs = await w.all_runs(backfill_id)
    assert [(r.attempt, r.state) for r in runs] == [(1, rapi.Run.STATE_LEASE_EXPIRED), (2, rapi.Run.STATE_RUNNING)]
    assert (await w.chunk(backfill_id, "orders", 0)).failed_attempts == 1
    expired = [e for e in await w.events(backfill_id) if e.type == "ChunkLeaseExpired"]
    assert [(e.payload.chunk_lease_expired.run_id, e.payload.chunk_lease_expired.will_retry) for e in expired] == [
        (first.run_id, True)
    ]


async def test_a_lapsed_lease_is_logged_with_its_run_chunk_and_worker(
    served_workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    w = served_workers
    backfill_id = await w.create("c-log", target("orders", WEEK))
    [leased] = await w.lease("w1", ttl=30)
    caplog.set_level(logging.INFO, logger="arco_grpc.service.dispatch")

    assert await w.advance(30) == 1

    [line] = [record.getMessage() for record in caplog.records if "lease lapsed" in record.getMessage()]
    assert line == (
        f"lease lapsed: run {leased.run_id} of backfill {backfill_id} (target 0, round 1, chunk 0), held by worker w1"
    )


async def test_when_attempts_run_out_the_chunk_fails_and_the_backfill_completes(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", WEEK), retry_policy=no_backoff(max_attempts=2))
    [first] = await w.lease("w1", ttl=5)
    await w.advance(5)
    [second] = await w.lease("w1", ttl=5)
    await w.advance(5)

    assert second.attempt == 2
    assert await w.lease("w1") == []
    chunk = await w.chunk(backfill_id, "orders", 0)
    assert (chunk.state, chunk.failed_attempts, chunk.failed_partition_count) == (C.STATE_FAILED, 2, 7)
    backfill = await w.backfill(backfill_id)
    assert (backfill.state, backfill.progress.partitions_failed) == (B.STATE_COMPLETED, 7)
    expired = [e.payload.chunk_lease_expired for e in await w.events(backfill_id) if e.type == "ChunkLeaseExpired"]
    assert [(e.will_retry, e.attempts_exhausted) for e in expired] == [(True, False), (False, True)]


async def test_a_partial_failure_retries_only_its_failed_keys_after_the_backoff(served_workers: Workers) -> None:
    w = served_workers
    policy = bf.RetryPolicy(max_attempts=3, initial_backoff=seconds(10), backoff_multiplier=3, max_backoff=seconds(60))
    backfill_id = await w.create("c-1", target("orders", WEEK), retry_policy=policy)
    [first] = await w.lease("w1")

    answer = await w.complete("w1", first, FAILED, failed=["2024-01-03", "2024-01-05"], error="disk full")

    assert (answer.chunk_state, answer.will_retry) == (C.STATE_PENDING, True)
    chunk = await w.chunk(backfill_id, "orders", 0)
    assert (chunk.remaining_partition_count, chunk.failed_partition_count, chunk.error_message) == (2, 2, "disk full")
    progress = (await w.backfill(backfill_id)).progress
    assert (progress.partitions_succeeded, progress.partitions_pending, progress.partitions_failed) == (5, 2, 0)
    assert await w.lease("w1") == []  # backing off: 10 s
    await w.advance(9.9)
    assert await w.lease("w1") == []
    await w.advance(0.1)
    [second] = await w.lease("w1")
    assert (second.attempt, list(second.partition_keys)) == (2, ["2024-01-03", "2024-01-05"])

    await w.complete("w1", second, FAILED, failed=["2024-01-05"])
    await w.advance(29.9)  # the second retry waits 10 * 3 = 30 s
    assert await w.lease("w1") == []
    await w.advance(0.1)
    [third] = await w.lease("w1")
    assert (third.attempt, list(third.partition_keys)) == (3, ["2024-01-05"])
    final = await w.complete("w1", third, FAILED, error="still broken")

    assert (final.chunk_state, final.will_retry) == (C.STATE_FAILED, False)
    backfill = await w.backfill(backfill_id)
    assert (backfill.state, backfill.progress.partitions_succeeded, backfill.progress.partitions_failed) == (
        B.STATE_COMPLETED, 6, 1
    )
    runs = await w.all_runs(backfill_id)
    assert [(r.attempt, r.partition_count, r.failed_partition_count, r.state) for r in runs] == [
        (1, 7, 2, rapi.Run.STATE_FAILED), (2, 2, 1, rapi.Run.STATE_FAILED), (3, 1, 1, rapi.Run.STATE_FAILED)
    ]


async def test_an_out_of_range_retry_policy_is_invalid_argument(served_workers: Workers) -> None:
    w = served_workers
    for policy, field in (
        (bf.RetryPolicy(max_attempts=101), "retry_policy.max_attempts"),
        (bf.RetryPolicy(backoff_multiplier=0.5), "retry_policy.backoff_multiplier"),
        (bf.RetryPolicy(initial_backoff=seconds(20), max_backoff=seconds(5)), "retry_policy.max_backoff"),
    ):
        failure = await call_failure(w.create("bad", target("orders", WEEK), retry_policy=policy))
        assert (failure.code, failure.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    backfill_id = await w.create("defaults", target("orders", WEEK))
    policy = (await w.backfill(backfill_id)).retry_policy
    assert (policy.max_attempts, policy.initial_backoff.seconds, policy.backoff_multiplier, policy.max_backoff.seconds) == (
        3, 10, 2.0, 300
    )
