"""Chunk messages: planned chunks computed from the plan, stored chunks completed from their rows.

A round-1 chunk's partitions always come from the plan (positions
``[k * size, (k + 1) * size)`` of the ordered selection); a stored row only
adds what happened to it (state, attempt, run key, time). Later rounds hold
the partitions they retry in their row.
"""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, partitions_pb2 as pb
from arco_grpc.domain.backfill import BackfillState, DispatchOrder
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.planning.chunks import chunk_dispatch_positions, chunk_selection, run_key
from arco_grpc.service.backfill_plans import ResolvedPlan, ResolvedTarget
from arco_grpc.service.convert_backfills import subset_from_proto
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto
from arco_grpc.store import ChunkRecord

# Chunks list their keys only up to this many partitions; bigger ones give the
# compact subset and their first and last keys.
MAX_LISTED_KEYS = 1000
FIRST_ROUND = 1
FIRST_ATTEMPT = 1


def planned_chunk_state(backfill_state: int) -> int:
    """The state of a chunk without events: CANCELLED once a cancel was asked for, PENDING before."""
    if backfill_state in (BackfillState.CANCELLING, BackfillState.CANCELLED):
        return bf.Chunk.STATE_CANCELLED
    return bf.Chunk.STATE_PENDING


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


def round_one_chunk(plan: ResolvedPlan, target: ResolvedTarget, index: int) -> bf.Chunk:
    """Round-1 chunk ``index`` of ``target`` as planned: attempt 1, with the run key attempt 1 will use.

    Raises:
        IndexError: the target has no such chunk.
    """
    size, count = target.target.chunk_size, target.selection.count
    chunk = _message(
        plan,
        target,
        FIRST_ROUND,
        index,
        target.selection,
        chunk_dispatch_positions(index, size, count, plan.order),
        chunk_selection(target.selection, size, index, plan.order),
    )
    chunk.attempt = FIRST_ATTEMPT
    chunk.run_key = run_key(plan.backfill_id, target.asset_key, FIRST_ROUND, index, FIRST_ATTEMPT)
    return chunk


def planned_chunk(plan: ResolvedPlan, target: ResolvedTarget, index: int, backfill_state: int) -> bf.Chunk:
    """A round-1 chunk that has had no event."""
    chunk = round_one_chunk(plan, target, index)
    chunk.state = planned_chunk_state(backfill_state)  # type: ignore[assignment]
    return chunk


def stored_chunk(plan: ResolvedPlan, target: ResolvedTarget, record: ChunkRecord) -> bf.Chunk:
    """A chunk that has had events: its row's state, attempt and run key over its partitions."""
    if record.round == FIRST_ROUND:
        chunk = round_one_chunk(plan, target, record.chunk_index)
    else:
        retried = subset_from_proto(pb.PartitionSubset.FromString(record.subset or b""))
        chunk = _message(
            plan, target, record.round, record.chunk_index, retried, (0, retried.count), retried
        )
    chunk.state = record.state  # type: ignore[assignment]
    chunk.attempt = record.attempt
    chunk.run_key = record.run_key
    chunk.update_time.CopyFrom(datetime_to_proto(record.updated_at))
    return chunk

