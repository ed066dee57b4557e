"""Chunk messages: planned chunks computed from the plan, stored chunks completed from their rows.

A chunk's partitions always come from its round's source: round 1 chunk k
holds positions ``[k * size, (k + 1) * size)`` of the ordered selection, and
a retry round's chunks cut the partitions it retries the same way. A stored
row adds what happened to the chunk (state, attempt, run, lease, failures).
Chunks that will never run read as CANCELLED: those not leased once a cancel
was asked for, and those of a round a later round replaced; a planned chunk of
the current round whose partitions are all upstream failed reads as
UPSTREAM_FAILED.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, partitions_pb2 as pb
from arco_grpc.domain.backfill import BackfillState, DispatchOrder
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.chunks import chunk_count, chunk_dispatch_positions, chunk_selection, chunks_within
from arco_grpc.service.backfill_plans import ResolvedPlan, ResolvedTarget
from arco_grpc.service.convert_chunk_events import decode_subset, subset_from_proto
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto
from arco_grpc.store import ChunkRecord, RoundRecord

# Chunks list their keys only up to this many partitions; bigger ones give the
# compact subset and their first and last keys.
MAX_LISTED_KEYS = 1000
FIRST_ROUND = 1
FIRST_ATTEMPT = 1
# The current expiry of a lease held now (heartbeats extend it in memory), by backfill id and run id.
LeaseExpiry = Callable[[str, str], "datetime | None"]


def planned_chunk_state(backfill_state: int) -> int:
    """The state of a chunk without events: CANCELLED once a cancel was asked for, PENDING before."""
    if backfill_state in (BackfillState.CANCELLING, BackfillState.CANCELLED):
        return bf.Chunk.STATE_CANCELLED
    return bf.Chunk.STATE_PENDING


@dataclass(frozen=True, slots=True)
class Rounds:
    """A backfill's rounds as chunk listings need them: the current round and what each retry round holds."""

    current: int
    backfill_state: int
    # round -> target position -> the partitions it retries
    retried: dict[int, dict[int, AnySubset]] = field(default_factory=dict)
    # target position -> the indices of the current round's chunks whose partitions are all upstream failed
    blocked: dict[int, PartitionSubset] = field(default_factory=dict)

    @classmethod
    def of(
        cls, current: int, backfill_state: int, rows: list[RoundRecord], plan: ResolvedPlan | None = None,
        upstream_failed: Sequence[AnySubset] = (),
    ) -> Rounds:
        """The rounds of a backfill from its round rows (and, with ``plan``, its upstream failed partitions)."""
        retried: dict[int, dict[int, AnySubset]] = {}
        for row in rows:
            retried.setdefault(row.round, {})[row.target_position] = decode_subset(row.partitions)
        rounds = cls(current, backfill_state, retried)
        if plan is not None:
            for target, blocked in zip(plan.targets, upstream_failed):
                if not blocked.is_empty:
                    rounds.blocked[target.position] = chunks_within(
                        rounds.source(target, current), target.target.chunk_size, plan.order, blocked
                    )
        return rounds

    def source(self, target: ResolvedTarget, round_number: int) -> AnySubset:
        """The partitions round ``round_number`` chunks for ``target``."""
        if round_number == FIRST_ROUND:
            return target.selection
        return self.retried.get(round_number, {}).get(target.position, PartitionSubset.empty())

    def chunk_count(self, target: ResolvedTarget, round_number: int) -> int:
        """How many chunks round ``round_number`` has for ``target``."""
        if round_number == FIRST_ROUND:
            return target.chunk_count
        return chunk_count(self.source(target, round_number).count, target.target.chunk_size)

    def planned_state(self, round_number: int) -> int:
        """The state of a chunk of ``round_number`` that never ran: CANCELLED when it never will."""
        if round_number < self.current:
            return bf.Chunk.STATE_CANCELLED
        return planned_chunk_state(self.backfill_state)

    def planned_state_of(self, target_position: int, round_number: int, index: int) -> int:
        """The state of planned chunk ``index``: UPSTREAM_FAILED when it never runs for that reason."""
        blocked = self.blocked.get(target_position)
        if round_number == self.current and blocked is not None and index in blocked:
            return bf.Chunk.STATE_UPSTREAM_FAILED
        return self.planned_state(round_number)

    def next_planned_index(
        self, target_position: int, round_number: int, start: int, admits: Callable[[int], bool]
    ) -> int | None:
        """The first planned chunk index at or after ``start`` whose state ``admits`` takes (None: none can)."""
        usual = admits(self.planned_state(round_number))
        blocked = self.blocked.get(target_position) if round_number == self.current else None
        if blocked is None or blocked.is_empty:
            return start if usual else None
        wants_blocked = admits(bf.Chunk.STATE_UPSTREAM_FAILED)
        if usual and wants_blocked:
            return start
        for low, high in blocked.ranges:
            if high <= start:
                continue
            if wants_blocked:
                return max(low, start)
            if start < low:
                return start
            start = high  # inside a blocked run: the next usual chunk is right after it
        return None if wants_blocked else start

    def shown_state(self, row_state: int, round_number: int) -> int:
        """The state a stored row reads as: a chunk waiting to run reads as planned chunks of its round do."""
        if row_state == bf.Chunk.STATE_PENDING:
            return self.planned_state(round_number)
        return row_state


def _message(
    plan: ResolvedPlan,
    target: ResolvedTarget,
    round_number: int,
    index: int,
    source: AnySubset,
    positions: tuple[int, int],
    partitions: AnySubset,
) -> bf.Chunk:
    """A chunk holding positions ``[start, stop)`` of ``source`` counted in dispatch order."""
    start, stop = positions
    descending = plan.order is DispatchOrder.BACKWARD
    count = stop - start
    keys = subset_keys(target.space, source, start, stop, descending) if count <= MAX_LISTED_KEYS else []
    if count > MAX_LISTED_KEYS:
        first = subset_keys(target.space, source, start, start + 1, descending)[0]
        last = subset_keys(target.space, source, stop - 1, stop, descending)[0]
    else:
        first, last = (keys[0], keys[-1]) if keys else ("", "")
    return bf.Chunk(
        backfill_id=plan.backfill_id,
        asset_key=target.asset_key,
        round=round_number,
        index=index,
        partitions=subset_to_proto(partitions),
        partition_count=count,
        first_key=first,
        last_key=last,
        partition_keys=keys,
    )


def _round_chunk(plan: ResolvedPlan, target: ResolvedTarget, round_number: int, index: int, source: AnySubset) -> bf.Chunk:
    size = target.target.chunk_size
    chunk = _message(
        plan,
        target,
        round_number,
        index,
        source,
        chunk_dispatch_positions(index, size, source.count, plan.order),
        chunk_selection(source, size, index, plan.order),
    )
    chunk.attempt = FIRST_ATTEMPT
    chunk.run_key = plan.run_key(target.asset_key, round_number, index, FIRST_ATTEMPT)
    return chunk


def round_one_chunk(plan: ResolvedPlan, target: ResolvedTarget, index: int) -> bf.Chunk:
    """Round-1 chunk ``index`` of ``target`` as planned: attempt 1, with the run key attempt 1 will use.

    Raises:
        IndexError: the target has no such chunk.
    """
    return _round_chunk(plan, target, FIRST_ROUND, index, target.selection)


def planned_chunk(
    plan: ResolvedPlan, target: ResolvedTarget, index: int, backfill_state: int, rounds: Rounds | None = None,
    round_number: int = FIRST_ROUND,
) -> bf.Chunk:
    """A chunk that has had no event."""
    rounds = rounds or Rounds(FIRST_ROUND, backfill_state)
    chunk = _round_chunk(plan, target, round_number, index, rounds.source(target, round_number))
    chunk.state = rounds.planned_state_of(target.position, round_number, index)  # type: ignore[assignment]
    return chunk


def stored_chunk(
    plan: ResolvedPlan,
    target: ResolvedTarget,
    record: ChunkRecord,
    rounds: Rounds | None = None,
    lease_expiry: LeaseExpiry | None = None,
) -> bf.Chunk:
    """A chunk that has had events: its row's state, attempt, run and lease over its partitions."""
    if record.round == FIRST_ROUND:
        chunk = round_one_chunk(plan, target, record.chunk_index)
    else:
        retried = subset_from_proto(pb.PartitionSubset.FromString(record.subset or b""))
        chunk = _message(plan, target, record.round, record.chunk_index, retried, (0, retried.count), retried)
    chunk.state = record.state if rounds is None else rounds.shown_state(record.state, record.round)  # type: ignore[assignment]
    chunk.attempt = record.attempt
    chunk.run_key = record.run_key
    chunk.update_time.CopyFrom(datetime_to_proto(record.updated_at))
    chunk.run_id = record.run_id
    chunk.worker_id = record.worker_id
    chunk.failed_attempts = record.failed_attempts
    chunk.failed_partition_count = record.failed_count
    chunk.error_message = record.error
    if record.remaining is not None:
        remaining = decode_subset(record.remaining)
        chunk.remaining_partitions.CopyFrom(subset_to_proto(remaining))
        chunk.remaining_partition_count = remaining.count
    if record.state == bf.Chunk.STATE_LEASED and record.lease_expires_at is not None:
        current = lease_expiry(record.backfill_id, record.run_id) if lease_expiry is not None else None
        chunk.lease_expire_time.CopyFrom(datetime_to_proto(current or record.lease_expires_at))
    if chunk.state == bf.Chunk.STATE_PENDING and record.next_attempt_at is not None:
        chunk.next_attempt_time.CopyFrom(datetime_to_proto(record.next_attempt_at))
    return chunk
