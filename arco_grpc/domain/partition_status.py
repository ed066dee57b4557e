"""Partition status per asset (materialized, failed, in progress) and the reprocess policies that read it.

Status follows Dagster's partition status cache (``partition_status_cache.py``):
a partition's status is the outcome of its latest *finished* attempt, and an
attempt in flight shows over it. A success makes a partition materialized and
clears an earlier failure; a failure makes it failed, and a failure after a
materialization shows as failed (Dagster keeps the partition in its
materialized set but every view subtracts the failed one; we keep the two
disjoint, which is the same thing). An attempt that ends without an outcome
(lease lapsed, released, cancelled) only stops being in progress, and the
partition shows its previous status again; a lapse that exhausts the retries
is the backfill giving up on it, as a failed run is in Dagster: failed.

Everything is a compact subset (ranges, or bands for multi partitions), so a
status costs O(ranges), never O(partitions). In-progress partitions are kept
by depth (partitions with more than d attempts in flight), so that one of two
overlapping attempts ending leaves the other's partitions in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from arco_grpc.domain.chunk_events import (
    ChunkEvent,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunkSucceeded,
)
from arco_grpc.domain.outcomes import EMPTY, unite, unite_all, without
from arco_grpc.partitions.selection import AnySubset


class ReprocessPolicy(IntEnum):
    """Which selected partitions a new backfill runs; values equal the proto enum's numbers."""

    ALL = 1
    MISSING = 2
    FAILED_AND_MISSING = 3


class SkipReason(IntEnum):
    """Why a selected partition is left out of a plan; values equal the proto enum's numbers."""

    ALREADY_MATERIALIZED = 1
    IN_FLIGHT = 2
    FAILED = 3
    # Needs upstream partitions that do not exist (or reads, in the backfill, one that does).
    MISSING_UPSTREAM = 4


def intersect(first: AnySubset, second: AnySubset) -> AnySubset:
    """``first & second``; an empty operand of either kind gives the empty subset."""
    if first.is_empty or second.is_empty:
        return EMPTY
    return first & second  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """One asset's status: latest finished outcomes (disjoint) and in-flight partitions by depth."""

    materialized: AnySubset = EMPTY
    failed: AnySubset = EMPTY
    in_flight: tuple[AnySubset, ...] = ()

    @property
    def in_progress(self) -> AnySubset:
        """Partitions with at least one attempt in flight."""
        return self.in_flight[0] if self.in_flight else EMPTY

    def visible(self) -> tuple[AnySubset, AnySubset, AnySubset]:
        """(materialized, failed, in progress) as reported: disjoint, in progress showing over the others."""
        running = self.in_progress
        return without(self.materialized, running), without(self.failed, running), running

    def within(self, selection: AnySubset) -> tuple[AnySubset, AnySubset, AnySubset]:
        """:meth:`visible`, restricted to ``selection``."""
        return tuple(intersect(part, selection) for part in self.visible())  # type: ignore[return-value]


def _started(levels: tuple[AnySubset, ...], partitions: AnySubset) -> tuple[AnySubset, ...]:
    """One more attempt in flight over ``partitions``: each partition moves one depth down."""
    result = list(levels) + [EMPTY]
    carried = partitions
    for depth in range(len(result)):
        if carried.is_empty:
            break
        already = intersect(result[depth], carried)
        result[depth] = unite(result[depth], carried)
        carried = already
    return tuple(level for level in result if not level.is_empty)


def _ended(levels: tuple[AnySubset, ...], partitions: AnySubset) -> tuple[AnySubset, ...]:
    """One attempt over ``partitions`` ended: each partition moves one depth up (the deepest level drops it)."""
    result = []
    for depth, level in enumerate(levels):
        deeper = levels[depth + 1] if depth + 1 < len(levels) else EMPTY
        # Partitions of the attempt stay at this depth only if they were one deeper.
        result.append(unite(without(level, partitions), intersect(deeper, partitions)))
    return tuple(level for level in result if not level.is_empty)


def _leased(status: PartitionStatus, partitions: AnySubset) -> PartitionStatus:
    return PartitionStatus(status.materialized, status.failed, _started(status.in_flight, partitions))


def _succeeded(status: PartitionStatus, done: AnySubset) -> PartitionStatus:
    return PartitionStatus(unite(status.materialized, done), without(status.failed, done), _ended(status.in_flight, done))


def apply_chunk_event(status: PartitionStatus, event: ChunkEvent) -> PartitionStatus:
    """``status`` after one chunk event of a backfill targeting the asset (other events leave it as it is)."""
    if isinstance(event, ChunkLeased):
        return _leased(status, event.partitions)
    if isinstance(event, ChunkSucceeded):
        return _succeeded(status, event.partitions)
    if isinstance(event, ChunkFailed):
        lost = event.failed_partitions
        done = without(event.partitions, lost)
        return PartitionStatus(
            unite(without(status.materialized, lost), done),
            unite(without(status.failed, done), lost),
            _ended(status.in_flight, event.partitions),
        )
    if isinstance(event, ChunkLeaseExpired):
        in_flight = _ended(status.in_flight, event.partitions)
        if event.attempts_exhausted:
            lost = event.partitions
            return PartitionStatus(without(status.materialized, lost), unite(status.failed, lost), in_flight)
        return PartitionStatus(status.materialized, status.failed, in_flight)
    if isinstance(event, ChunkReleased):
        return PartitionStatus(status.materialized, status.failed, _ended(status.in_flight, event.partitions))
    # ChunkCancelled follows the lapse or release that ended the attempt: nothing more changes.
    return status


def apply_chunk_events(status: PartitionStatus, events: Sequence[ChunkEvent]) -> PartitionStatus:
    """``status`` after ``events``, in order.

    A run of leases, or of successes, over disjoint partitions (a batch's chunks) is applied as one
    event over their union, which it equals: the dispatch hot path pays O(ranges) per batch, not per chunk.
    """
    position = 0
    while position < len(events):
        kind = type(events[position])
        end = position + 1
        if kind is ChunkLeased or kind is ChunkSucceeded:
            while end < len(events) and type(events[end]) is kind:
                end += 1
        if end - position > 1:
            parts = [event.partitions for event in events[position:end]]  # type: ignore[union-attr]
            merged = unite_all(EMPTY, parts)
            if merged.count == sum(part.count for part in parts):  # disjoint: one step is the same
                status = _leased(status, merged) if kind is ChunkLeased else _succeeded(status, merged)
                position = end
                continue
            end = position + 1
        status = apply_chunk_event(status, events[position])
        position = end
    return status


@dataclass(frozen=True, slots=True)
class Skipped:
    """Selected partitions a plan leaves out, for one reason."""

    reason: SkipReason
    partitions: AnySubset


def skipped_partitions(status: PartitionStatus, selection: AnySubset, policy: ReprocessPolicy) -> tuple[Skipped, ...]:
    """The partitions of ``selection`` that ``policy`` skips, one entry per reason with any, in reason order.

    ALL skips nothing. MISSING skips materialized, in-flight and failed partitions; FAILED_AND_MISSING
    skips materialized and in-flight ones. The entries are disjoint (an in-flight partition is IN_FLIGHT
    only, whatever its previous outcome).
    """
    if policy is ReprocessPolicy.ALL:
        return ()
    materialized, failed, running = status.within(selection)
    found = {SkipReason.ALREADY_MATERIALIZED: materialized, SkipReason.IN_FLIGHT: running}
    if policy is ReprocessPolicy.MISSING:
        found[SkipReason.FAILED] = failed
    return tuple(Skipped(reason, found[reason]) for reason in sorted(found) if not found[reason].is_empty)


def remaining_selection(selection: AnySubset, skipped: Sequence[Skipped]) -> AnySubset:
    """``selection`` without every skipped partition: what the plan chunks."""
    for entry in skipped:
        selection = without(selection, entry.partitions)
    return selection
