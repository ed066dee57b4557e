"""How chunk events and retry rounds change a backfill's counters and outcomes.

Kept apart from the lifecycle in ``backfill.py`` (which calls these from
``evolve``); each function is a fold step of the backfill, given the event
and the event's target position. Chunk events raise ``version`` here (in the
same copy as their counters: they are most of a backfill's events); a retry
round leaves it to ``evolve``.
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Sequence
from typing import TYPE_CHECKING

from arco_grpc.domain.chunk_events import (
    ChunkCancelled,
    ChunkEvent,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunksCompleted,
    ChunksLeased,
    ChunkSucceeded,
    PartitionsUpstreamFailed,
    RetryRoundOpened,
)
from arco_grpc.domain.outcomes import Outcomes, without
from arco_grpc.partitions.selection import AnySubset

if TYPE_CHECKING:
    from arco_grpc.domain.backfill import Backfill


def _counted(
    backfill: Backfill, *, leased: int, running: int, finished: int = 0, outcomes: Outcomes | None = None
) -> Backfill:
    """``backfill`` one event later with its counters moved (one copy: this runs for every chunk event)."""
    return type(backfill)(
        spec=backfill.spec,
        state=backfill.state,
        version=backfill.version + 1,
        max_concurrency=backfill.max_concurrency,
        outcomes=backfill.outcomes if outcomes is None else outcomes,
        partitions_cancelled=backfill.partitions_cancelled,
        leased_chunks=backfill.leased_chunks + leased,
        partitions_running=backfill.partitions_running + running,
        round=backfill.round,
        round_chunks=backfill.round_chunks,
        round_finished=backfill.round_finished + finished,
        chunks_total=backfill.chunks_total,
        round_partitions=backfill.round_partitions,
    )


def fold_chunk_event(backfill: Backfill, event: ChunkEvent, target: int) -> Backfill:
    """``backfill`` after a chunk event of target position ``target`` (``version`` included)."""
    if isinstance(event, ChunkLeased):
        return _counted(backfill, leased=1, running=event.partitions.count)
    count = -event.partitions.count
    if isinstance(event, ChunkSucceeded):
        return _counted(
            backfill, leased=-1, running=count, finished=1, outcomes=backfill.outcomes.succeed(target, event.partitions)
        )
    if isinstance(event, ChunkFailed):
        failed = event.failed_partitions
        outcomes = backfill.outcomes.succeed(target, without(event.partitions, failed))
        if event.will_retry:
            return _counted(backfill, leased=-1, running=count, outcomes=outcomes)
        return _counted(backfill, leased=-1, running=count, finished=1, outcomes=outcomes.fail(target, failed))
    if isinstance(event, ChunkLeaseExpired):
        if event.attempts_exhausted:
            outcomes = backfill.outcomes.fail(target, event.partitions)
            return _counted(backfill, leased=-1, running=count, finished=1, outcomes=outcomes)
        return _counted(backfill, leased=-1, running=count)
    if isinstance(event, ChunkReleased):
        return _counted(backfill, leased=-1, running=count)
    if isinstance(event, ChunkCancelled):
        return _counted(backfill, leased=0, running=0, finished=1)
    raise TypeError(f"not a chunk event: {event!r}")


def fold_chunk_batch(backfill: Backfill, event: ChunksLeased | ChunksCompleted) -> Backfill:
    """``backfill`` after a batch of chunk events (``version`` rises by one for the batch).

    The same counters and outcomes as folding each entry with
    :func:`fold_chunk_event`, summed, in one copy (outcomes merged once per target).
    """
    if isinstance(event, ChunksLeased):
        return _counted(backfill, leased=len(event.leases), running=sum(lease.partitions.count for lease in event.leases))
    leased = running = finished = 0
    succeeded: dict[int, list[AnySubset]] = {}
    failed: dict[int, list[AnySubset]] = {}
    for outcome in event.outcomes:
        target = backfill.target_position(outcome.asset_key)
        leased -= 1
        running -= outcome.partitions.count
        if isinstance(outcome, ChunkSucceeded):
            finished += 1
            succeeded.setdefault(target, []).append(outcome.partitions)
            continue
        failed_partitions = outcome.failed_partitions
        succeeded.setdefault(target, []).append(without(outcome.partitions, failed_partitions))
        if not outcome.will_retry:
            finished += 1
            failed.setdefault(target, []).append(failed_partitions)
    outcomes = backfill.outcomes.record(succeeded, failed)
    return _counted(backfill, leased=leased, running=running, finished=finished, outcomes=outcomes)


def fold_retry_round(backfill: Backfill, event: RetryRoundOpened, targets: Sequence[int]) -> Backfill:
    """``backfill`` after a retry round opened; ``targets`` are the positions of ``event.targets``.

    The retried partitions leave ``failed``; those that had no outcome leave
    the cancelled count. The lifecycle state is the caller's business.
    """
    outcomes = backfill.outcomes
    cancelled = backfill.partitions_cancelled
    for position, retried in zip(targets, event.targets):
        outcomes = outcomes.retry(position, retried.partitions)
        cancelled -= retried.partitions.count - retried.failed_count
    chunks = sum(retried.chunk_count for retried in event.targets)
    return replace(
        backfill,
        outcomes=outcomes,
        partitions_cancelled=max(cancelled, 0),
        round=event.round,
        round_chunks=chunks,
        round_finished=0,
        chunks_total=backfill.chunks_total + chunks,
        round_partitions=sum(retried.partitions.count for retried in event.targets),
    )


def fold_upstream_failed(backfill: Backfill, event: PartitionsUpstreamFailed, targets: Sequence[int]) -> Backfill:
    """``backfill`` after partitions became UPSTREAM_FAILED; ``targets`` are the positions of ``event.targets``.

    The chunks the event ends count as finished (``version`` is the caller's business).
    """
    outcomes = backfill.outcomes
    for position, target in zip(targets, event.targets):
        outcomes = outcomes.block(position, target.partitions)
    finished = sum(target.chunk_count for target in event.targets)
    return replace(backfill, outcomes=outcomes, round_finished=backfill.round_finished + finished)
