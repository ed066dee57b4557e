"""One chunk's lifecycle as pure decisions: leases, reports, lapses, releases, and what they lead to."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from arco_grpc.domain.backfill import (
    Backfill,
    BackfillCancelled,
    BackfillCompleted,
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
from arco_grpc.domain.chunk_events import ChunkCancelled, ChunkFailed, ChunkLeased, ChunkLeaseExpired, ChunkState
from arco_grpc.domain.chunks import (
    Chunk,
    ChunkKey,
    Report,
    decide_expiry,
    decide_lease,
    decide_release,
    decide_report,
    evolve_chunk,
)
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.errors import FailedPrecondition, InvalidArgument
from arco_grpc.partitions.selector import AllPartitions
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.chunks import run_key

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
TTL = timedelta(seconds=30)


def created(max_concurrency: int = 2, policy: RetryPolicy = RetryPolicy()) -> BackfillCreated:
    return BackfillCreated(
        backfill_id="bf-test",
        targets=(Target("orders", AllPartitions(), "fp", partition_count=10, chunk_size=5),),
        max_concurrency=max_concurrency,
        order=DispatchOrder.FORWARD,
        tags=(),
        title="",
        description="",
        creator="",
        as_of=NOW,
        fingerprint="fp",
        retry_policy=policy,
    )


def fold(backfill: Backfill | None, events: list) -> Backfill:  # noqa: ANN001
    for event in events:
        backfill = evolve(backfill, event)
    assert backfill is not None
    return backfill


def running(**kwargs: object) -> Backfill:
    return fold(None, decide(CreateBackfill(created(**kwargs)), None))  # type: ignore[arg-type]


def planned(index: int) -> Chunk:
    return Chunk.planned(ChunkKey(0, 1, index), "orders", PartitionSubset.of_range(index * 5, index * 5 + 5))


class Run:
    """A backfill and its chunks, folded as the server would."""

    def __init__(self, backfill: Backfill) -> None:
        self.backfill = backfill
        self.chunks = {index: planned(index) for index in range(2)}
        self.now = NOW

    def apply(self, index: int, events: list) -> list:  # noqa: ANN001
        events = list(events)
        for event in events:
            self.backfill = evolve(self.backfill, event)
            if not isinstance(event, (BackfillCompleted, BackfillCancelled)):
                self.chunks[index] = evolve_chunk(self.chunks[index], event, self.now)
        consequences = settle(self.backfill)
        self.backfill = fold(self.backfill, consequences)
        return events + consequences

    def lease(self, index: int, worker: str = "w1", run_id: str | None = None) -> ChunkLeased:
        event = decide_lease(self.backfill, self.chunks[index], run_id=run_id or f"run-{index}-{self.chunks[index].attempt + 1}",
                             worker_id=worker, ttl=TTL, now=self.now)
        self.apply(index, [event])
        return event

    def report(self, index: int, succeeded: bool, failed: PartitionSubset | None = None, worker: str = "w1") -> list:
        lease = self.chunks[index].lease
        assert lease is not None
        report = Report(lease.run_id, worker, succeeded, failed)
        return self.apply(index, decide_report(self.backfill, self.chunks[index], report, self.now))


def test_a_lease_is_the_next_attempt_with_its_run_key_and_counts_against_the_limit() -> None:
    run = Run(running(max_concurrency=1))
    event = run.lease(0)

    assert (event.attempt, event.run_key) == (1, run_key("bf-test", "orders", 1, 0, 1))
    assert (event.lease_expires_at, event.partitions) == (NOW + TTL, PartitionSubset.of_range(0, 5))
    assert (run.backfill.leased_chunks, run.backfill.partitions_running, run.backfill.version) == (1, 5, 3)
    assert run.chunks[0].state is ChunkState.LEASED
    with pytest.raises(FailedPrecondition, match="limit"):
        run.lease(1)


def test_no_lease_while_paused_or_cancelling() -> None:
    for state in (BackfillState.PAUSED, BackfillState.CANCELLING, BackfillState.COMPLETED):
        with pytest.raises(FailedPrecondition):
            decide_lease(replace(running(), state=state), planned(0), run_id="r", worker_id="w", ttl=TTL, now=NOW)


def test_successes_complete_the_backfill_with_counts() -> None:
    run = Run(running())
    run.lease(0)
    run.lease(1)
    assert [type(e).__name__ for e in run.report(0, True)] == ["ChunkSucceeded"]
    events = run.report(1, True)

    assert [type(e).__name__ for e in events] == ["ChunkSucceeded", "BackfillCompleted"]
    assert events[-1] == BackfillCompleted(10, 0)
    assert run.backfill.state is BackfillState.COMPLETED
    assert (run.backfill.leased_chunks, run.backfill.partitions_running) == (0, 0)


def test_a_partial_failure_keeps_only_the_failed_partitions_for_the_next_attempt() -> None:
    policy = RetryPolicy(max_attempts=2, initial_backoff=timedelta(seconds=10))
    run = Run(running(policy=policy))
    run.lease(0)
    [failed] = run.report(0, False, PartitionSubset.from_indices([1, 3]))

    assert isinstance(failed, ChunkFailed)
    assert (failed.will_retry, failed.retry_at) == (True, NOW + timedelta(seconds=10))
    chunk = run.chunks[0]
    assert (chunk.state, chunk.remaining, chunk.failed_attempts) == (ChunkState.PENDING, PartitionSubset.from_indices([1, 3]), 1)
    assert run.backfill.outcomes.succeeded[0] == PartitionSubset.from_indices([0, 2, 4])
    assert not chunk.leasable(NOW + timedelta(seconds=9))
    run.now += timedelta(seconds=10)
    second = run.lease(0)
    assert (second.attempt, second.partitions) == (2, PartitionSubset.from_indices([1, 3]))
    [last] = run.report(0, False)  # every partition of the attempt failed; attempts used up

    assert (last.will_retry, run.chunks[0].state) == (False, ChunkState.FAILED)
    assert run.backfill.outcomes.failed[0] == PartitionSubset.from_indices([1, 3])
    assert run.backfill.partitions_failed == 2


def test_reports_on_stale_leases_and_bad_failures_are_refused() -> None:
    run = Run(running())
    run.lease(0)
    chunk = run.chunks[0]
    with pytest.raises(FailedPrecondition, match="only the holder"):
        decide_report(run.backfill, chunk, Report("run-0-1", "w2", True), NOW)
    with pytest.raises(FailedPrecondition, match="no longer held"):
        decide_report(run.backfill, chunk, Report("run-old", "w1", True), NOW)
    with pytest.raises(InvalidArgument):
        decide_report(run.backfill, chunk, Report("run-0-1", "w1", False, PartitionSubset.of_range(4, 6)), NOW)
    with pytest.raises(InvalidArgument):
        decide_report(run.backfill, chunk, Report("run-0-1", "w1", True, PartitionSubset.of_range(0, 1)), NOW)


def test_a_lapse_uses_an_attempt_and_a_release_does_not() -> None:
    run = Run(running(policy=RetryPolicy(max_attempts=2)))
    run.lease(0)
    [released] = run.apply(0, decide_release(run.backfill, run.chunks[0], "run-0-1", "w1"))
    assert run.chunks[0].failed_attempts == 0 and run.chunks[0].leasable(NOW)
    run.lease(0)
    [lapsed] = run.apply(0, decide_expiry(run.backfill, run.chunks[0]))
    assert isinstance(lapsed, ChunkLeaseExpired) and lapsed.will_retry and run.chunks[0].leasable(NOW)
    run.lease(0)
    [exhausted] = run.apply(0, decide_expiry(run.backfill, run.chunks[0]))

    assert (exhausted.will_retry, exhausted.attempts_exhausted) == (False, True)
    assert (run.chunks[0].state, run.chunks[0].attempt) == (ChunkState.FAILED, 3)
    assert run.backfill.outcomes.failed[0] == PartitionSubset.of_range(0, 5)


def test_cancelling_waits_for_leases_then_cancels() -> None:
    run = Run(running())
    run.lease(0)
    run.lease(1)
    run.backfill = fold(run.backfill, decide(CancelBackfill("stop"), run.backfill))
    assert run.backfill.state is BackfillState.CANCELLING

    assert [type(e).__name__ for e in run.report(0, False)] == ["ChunkFailed"]  # reported: recorded, not retried
    assert run.chunks[0].state is ChunkState.FAILED
    events = run.apply(1, decide_expiry(run.backfill, run.chunks[1]))

    assert [type(e).__name__ for e in events] == ["ChunkLeaseExpired", "ChunkCancelled", "BackfillCancelled"]
    assert isinstance(events[1], ChunkCancelled) and events[1].partitions == PartitionSubset.of_range(5, 10)
    assert events[-1] == BackfillCancelled(partitions_cancelled=5)
    assert run.backfill.state is BackfillState.CANCELLED


def test_backoff_grows_by_the_multiplier_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, initial_backoff=timedelta(seconds=2), backoff_multiplier=3,
                         max_backoff=timedelta(seconds=60))
    assert [policy.backoff(n).total_seconds() for n in range(1, 7)] == [2, 6, 18, 54, 60, 60]
    assert policy.backoff(10_000) == timedelta(seconds=60)
    assert policy.retry_at(1, NOW) == NOW + timedelta(seconds=2)
    assert policy.retries_left(9) and not policy.retries_left(10)
    with pytest.raises(InvalidArgument):
        RetryPolicy(max_attempts=0)
    with pytest.raises(InvalidArgument):
        RetryPolicy(initial_backoff=timedelta(seconds=10), max_backoff=timedelta(seconds=5))
