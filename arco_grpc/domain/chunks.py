"""One chunk's lifecycle as pure functions: lease, report, lapse, release.

States::

    PENDING -> LEASED -> SUCCEEDED
                      -> PENDING   (failed with attempts left: only the failed partitions,
                                    eligible at retry_at; lapsed: at once; released: at once)
                      -> FAILED    (attempts used up)
                      -> CANCELLED (lapsed or released while the backfill is cancelling)

Every lease is a new attempt (a new run, with a new run key); the retry
budget counts the attempts that failed or lapsed, not releases. Deciding
functions return the chunk events; what they lead to for the backfill
(completion once every chunk is terminal, CANCELLED once a cancelling
backfill has no lease left) is ``backfill.settle`` of the state after them,
which the caller appends in the same batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from arco_grpc.domain.backfill import Backfill, BackfillCreated, BackfillEvent, BackfillState
from arco_grpc.domain.chunk_events import (
    ChunkCancelled,
    ChunkEvent,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunksLeased,
    ChunkState,
    ChunkSucceeded,
)
from arco_grpc.domain.outcomes import within, without
from arco_grpc.errors import FailedPrecondition, InvalidArgument
from arco_grpc.partitions.selection import AnySubset


# A tuple: built, hashed and compared (plan order) many times per chunk on the hot path, all in C.
class ChunkKey(NamedTuple):
    """A chunk's place in plan order: target position, round, index."""

    target: int
    round: int
    index: int


# Lease, Chunk and Report are not frozen: several are made per chunk on the hot path, and a frozen
# dataclass's __init__ costs several times more. Treat them as immutable all the same.
@dataclass(slots=True)
class Lease:
    """The attempt a worker holds: its run, its partitions and its recorded expiry."""

    run_id: str
    run_key: str
    worker_id: str
    attempt: int
    partitions: AnySubset
    leased_at: datetime
    expires_at: datetime
    ttl: timedelta


@dataclass(slots=True)
class Chunk:
    """A chunk that is, or has been, dispatched.

    ``partitions`` is the whole chunk; ``remaining`` holds the partitions that have not succeeded: what the next
    (or current) attempt runs. ``attempt`` counts leases; ``failed_attempts``
    counts the attempts that failed or lapsed. ``run_id``, ``run_key`` and
    ``worker_id`` name the latest attempt; ``failed_count`` and ``error`` the latest failure.
    """

    key: ChunkKey
    asset_key: str
    partitions: AnySubset
    partition_count: int
    remaining: AnySubset
    state: ChunkState = ChunkState.PENDING
    attempt: int = 0
    failed_attempts: int = 0
    lease: Lease | None = None
    run_id: str = ""
    run_key: str = ""
    worker_id: str = ""
    retry_at: datetime | None = None
    failed_count: int = 0
    error: str = ""

    @classmethod
    def planned(cls, key: ChunkKey, asset_key: str, partitions: AnySubset, partition_count: int | None = None) -> Chunk:
        """A chunk that was never leased, holding ``partitions``."""
        count = partitions.count if partition_count is None else partition_count
        return cls(key=key, asset_key=asset_key, partitions=partitions, partition_count=count, remaining=partitions)

    def leasable(self, now: datetime) -> bool:
        """True when the chunk may be leased at ``now``."""
        return self.state is ChunkState.PENDING and (self.retry_at is None or self.retry_at <= now)


@dataclass(slots=True)
class Report:
    """A worker's outcome for the attempt it holds: success, or the failed partitions (None = all)."""

    run_id: str
    worker_id: str
    succeeded: bool
    failed: AnySubset | None = None
    error: str = ""
    metadata: tuple[tuple[str, str], ...] = ()


def _stale(chunk: Chunk, run_id: str, why: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the lease of run {run_id} on chunk {chunk.key.index} of {chunk.asset_key!r} (round {chunk.key.round}) "
        f"is no longer held: {why}; abandon the run without reporting",
        reason="STALE_LEASE",
        metadata={"run_id": run_id, "chunk_state": chunk.state.name},
    )


def _held(chunk: Chunk, run_id: str, worker_id: str) -> Lease:
    """The lease ``worker_id`` holds on ``chunk`` for run ``run_id``.

    Raises:
        FailedPrecondition: the run's lease lapsed, ended, or is held by another worker.
    """
    lease = chunk.lease
    if lease is None or lease.run_id != run_id:
        raise _stale(chunk, run_id, f"the chunk is {chunk.state.name} and its latest run is {chunk.run_id or 'none'}")
    if lease.worker_id != worker_id:
        raise FailedPrecondition(
            f"run {run_id} is leased by worker {lease.worker_id!r}, not {worker_id!r}; only the holder may report it",
            reason="LEASE_HELD_BY_ANOTHER_WORKER",
            metadata={"run_id": run_id},
        )
    return lease


def _refuse_dispatch(backfill: Backfill, more: int) -> None:
    """Raises FailedPrecondition unless ``backfill`` may lease ``more`` chunks now."""
    if backfill.state is not BackfillState.RUNNING:
        raise FailedPrecondition(f"backfill {backfill.backfill_id} is {backfill.state.name}: it leases nothing")
    if backfill.leased_chunks + more > backfill.max_concurrency:
        raise FailedPrecondition(
            f"backfill {backfill.backfill_id} holds {backfill.leased_chunks} leases, its limit is "
            f"{backfill.max_concurrency}: {more} more would exceed it"
        )


def _leased(
    spec: BackfillCreated, chunk: Chunk, run_id: str, worker_id: str, expires_at: datetime, ttl: timedelta,
    now: datetime, waited_for: tuple[str, ...] = (),
) -> ChunkLeased:
    if not chunk.leasable(now):
        raise FailedPrecondition(f"chunk {chunk.key} is {chunk.state.name} and not due at {now.isoformat()}")
    key = chunk.key
    attempt = chunk.attempt + 1
    if attempt == 1 and spec.submitted_run is not None:
        run_id = spec.backfill_id  # a submitted run's first attempt is the run SubmitRun answered with
    return ChunkLeased(
        chunk.asset_key, key.round, key.index, attempt, run_id,
        spec.run_key(chunk.asset_key, key.round, key.index, attempt), worker_id, expires_at, ttl,
        chunk.remaining, chunk.partition_count, waited_for,
    )


def decide_lease(
    backfill: Backfill, chunk: Chunk, *, run_id: str, worker_id: str, ttl: timedelta, now: datetime
) -> ChunkLeased:
    """The lease of ``chunk`` to ``worker_id`` as its next attempt (one entry of a ChunksLeased).

    Raises:
        FailedPrecondition: the backfill does not dispatch, is at its concurrency limit, or the chunk is not due.
    """
    _refuse_dispatch(backfill, 1)
    return _leased(backfill.spec, chunk, run_id, worker_id, now + ttl, ttl, now)


def decide_leases(
    backfill: Backfill, chunks: Sequence[Chunk], *, run_ids: Sequence[str], worker_id: str, ttl: timedelta,
    now: datetime, waited_for: Mapping[ChunkKey, tuple[str, ...]] | None = None,
) -> ChunksLeased:
    """The event leasing ``chunks`` (distinct, in dispatch order) to ``worker_id``, each as its next attempt,
    under the run id at its position in ``run_ids``; ``waited_for`` names, per chunk, the runs of other
    streams it waited for.

    Raises:
        FailedPrecondition: the backfill does not dispatch, the leases would exceed its concurrency limit, or
            a chunk is not due.
        ValueError: ``chunks`` is empty, names a chunk twice, or ``run_ids`` does not match it.
    """
    _refuse_dispatch(backfill, len(chunks))
    if len({chunk.key for chunk in chunks}) != len(chunks):
        raise ValueError("a chunk can be leased once per event")
    spec = backfill.spec
    expires_at = now + ttl
    waits = waited_for or {}
    return ChunksLeased(tuple(
        _leased(spec, chunk, run_id, worker_id, expires_at, ttl, now, waits.get(chunk.key, ()))
        for chunk, run_id in zip(chunks, run_ids, strict=True)
    ))


def decide_report(backfill: Backfill, chunk: Chunk, report: Report, now: datetime) -> list[BackfillEvent]:
    """The event recording a worker's outcome.

    A failure is retried (only its failed partitions) while attempts are left
    and the backfill is not being cancelled.

    Raises:
        FailedPrecondition: the lease is stale (lapsed, ended, another worker's).
        InvalidArgument: the failed partitions are not the attempt's, or a success names failures.
    """
    lease = _held(chunk, report.run_id, report.worker_id)
    if report.succeeded:
        if report.failed is not None and not report.failed.is_empty:
            raise InvalidArgument(
                "a SUCCEEDED outcome cannot name failed partitions; report OUTCOME_FAILED for a partial failure",
                field="completion.failed_partition_keys",
            )
        event: ChunkEvent = ChunkSucceeded(
            chunk.asset_key, chunk.key.round, chunk.key.index, lease.attempt, lease.run_id, lease.partitions,
            report.metadata,
        )
        return [event]
    failed = report.failed
    if failed is not None and not within(failed, lease.partitions):
        raise InvalidArgument(
            f"failed_partition_keys names partitions that run {lease.run_id} does not hold; name only partitions "
            "of the leased attempt (or none: every partition failed)",
            field="completion.failed_partition_keys",
        )
    if failed is not None and (failed.is_empty or failed.count == lease.partitions.count):
        failed = None  # every partition of the attempt failed
    failed_attempts = chunk.failed_attempts + 1
    will_retry = backfill.state is not BackfillState.CANCELLING and backfill.retry_policy.retries_left(failed_attempts)
    event = ChunkFailed(
        chunk.asset_key, chunk.key.round, chunk.key.index, lease.attempt, lease.run_id, lease.partitions,
        failed, report.error, will_retry,
        backfill.retry_policy.retry_at(failed_attempts, now) if will_retry else None,
        report.metadata,
    )
    return [event]


def decide_expiry(backfill: Backfill, chunk: Chunk) -> list[BackfillEvent]:
    """The events of a lapsed lease (the caller checked the in-memory expiry)."""
    lease = chunk.lease
    if lease is None:
        raise FailedPrecondition(f"chunk {chunk.key} holds no lease to lapse")
    cancelling = backfill.state is BackfillState.CANCELLING
    will_retry = not cancelling and backfill.retry_policy.retries_left(chunk.failed_attempts + 1)
    events: list[BackfillEvent] = [
        ChunkLeaseExpired(
            chunk.asset_key, chunk.key.round, chunk.key.index, lease.attempt, lease.run_id, lease.partitions,
            will_retry=will_retry, attempts_exhausted=not will_retry and not cancelling,
        )
    ]
    if cancelling:
        events.append(ChunkCancelled(chunk.asset_key, chunk.key.round, chunk.key.index, chunk.remaining))
    return events


def decide_release(backfill: Backfill, chunk: Chunk, run_id: str, worker_id: str) -> list[BackfillEvent]:
    """The events of a worker giving its lease back.

    Raises:
        FailedPrecondition: the lease is stale or another worker's.
    """
    lease = _held(chunk, run_id, worker_id)
    events: list[BackfillEvent] = [
        ChunkReleased(chunk.asset_key, chunk.key.round, chunk.key.index, lease.attempt, lease.run_id, lease.partitions)
    ]
    if backfill.state is BackfillState.CANCELLING:
        events.append(ChunkCancelled(chunk.asset_key, chunk.key.round, chunk.key.index, chunk.remaining))
    return events


def _next(
    chunk: Chunk,
    state: ChunkState,
    *,
    remaining: AnySubset | None = None,
    lease: Lease | None = None,
    failed_attempts: int | None = None,
    retry_at: datetime | None = None,
    failed_count: int | None = None,
    error: str | None = None,
) -> Chunk:
    """``chunk`` in ``state`` after an event that ends or starts an attempt (one constructor call: a hot path)."""
    return Chunk(
        key=chunk.key,
        asset_key=chunk.asset_key,
        partitions=chunk.partitions,
        partition_count=chunk.partition_count,
        remaining=chunk.remaining if remaining is None else remaining,
        state=state,
        attempt=chunk.attempt if lease is None else lease.attempt,
        failed_attempts=chunk.failed_attempts if failed_attempts is None else failed_attempts,
        lease=lease,
        run_id=chunk.run_id if lease is None else lease.run_id,
        run_key=chunk.run_key if lease is None else lease.run_key,
        worker_id=chunk.worker_id if lease is None else lease.worker_id,
        retry_at=retry_at,
        failed_count=chunk.failed_count if failed_count is None else failed_count,
        error=chunk.error if error is None else error,
    )


def first_lease(key: ChunkKey, event: ChunkLeased, at: datetime) -> Chunk:
    """A chunk that had no events, after ``event`` leased it at ``at`` (``evolve_chunk`` of its planned state)."""
    lease = Lease(
        event.run_id, event.run_key, event.worker_id, event.attempt, event.partitions, at, event.lease_expires_at,
        event.lease_ttl,
    )
    return Chunk(
        key, event.asset_key, event.partitions, event.chunk_partition_count, event.partitions, ChunkState.LEASED,
        event.attempt, 0, lease, event.run_id, event.run_key, event.worker_id,
    )


def evolve_chunk(chunk: Chunk, event: ChunkEvent, at: datetime) -> Chunk:
    """``chunk`` after ``event``, recorded at ``at``."""
    if isinstance(event, ChunkLeased):
        lease = Lease(
            event.run_id, event.run_key, event.worker_id, event.attempt, event.partitions, at,
            event.lease_expires_at, event.lease_ttl,
        )
        return _next(chunk, ChunkState.LEASED, remaining=event.partitions, lease=lease)
    if isinstance(event, ChunkSucceeded):
        return _next(chunk, ChunkState.SUCCEEDED, remaining=without(chunk.remaining, event.partitions))
    if isinstance(event, ChunkFailed):
        failed = event.failed_partitions
        return _next(
            chunk,
            ChunkState.PENDING if event.will_retry else ChunkState.FAILED,
            remaining=failed,
            failed_attempts=chunk.failed_attempts + 1,
            retry_at=event.retry_at,
            failed_count=failed.count,
            error=event.error,
        )
    if isinstance(event, ChunkLeaseExpired):
        exhausted = event.attempts_exhausted
        return _next(
            chunk,
            ChunkState.FAILED if exhausted else ChunkState.PENDING,
            failed_attempts=chunk.failed_attempts + 1,
            failed_count=event.partitions.count if exhausted else None,
            error="the lease lapsed: the worker stopped heartbeating",
        )
    if isinstance(event, ChunkReleased):
        return _next(chunk, ChunkState.PENDING)
    if isinstance(event, ChunkCancelled):
        return _next(chunk, ChunkState.CANCELLED)
    raise TypeError(f"not a chunk event: {event!r}")
