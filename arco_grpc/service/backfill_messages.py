"""Backfill, progress and plan messages, built from rows and resolved plans.

Progress is computed, never enumerated: chunks without a row are planned
(PENDING, or CANCELLED once a cancel was asked for), and their count is the
plan's count minus the round-1 rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf, events_pb2
from arco_grpc.planning.plan import preview_chunks
from arco_grpc.service.backfill_chunks import FIRST_ROUND, planned_chunk_state, round_one_chunk
from arco_grpc.service.backfill_plans import ResolvedPlan
from arco_grpc.service.convert_backfills import chunk_state_name
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.store import BackfillRecord, ChunkStateCount, TransitionRecord

# GetBackfill and mutation answers carry at most this many transitions (the
# latest); ListBackfillEvents has the whole history.
TRANSITION_LIMIT = 25


def progress_of(record: BackfillRecord, counts: Sequence[ChunkStateCount]) -> bf.BackfillProgress:
    """Partition and chunk counts by state, from the row's totals and the stored-chunk counts."""
    chunks: Counter[int] = Counter()
    partitions: Counter[int] = Counter()
    for count in counts:
        chunks[count.state] += count.chunks
        partitions[count.state] += count.partitions
    stored_first_round = [count for count in counts if count.round == FIRST_ROUND]
    planned = planned_chunk_state(record.state)
    chunks[planned] += record.chunks_total - sum(count.chunks for count in stored_first_round)
    partitions[planned] += record.partitions_total - sum(count.partitions for count in stored_first_round)
    return bf.BackfillProgress(
        partitions_total=record.partitions_total,
        partitions_succeeded=partitions[bf.Chunk.STATE_SUCCEEDED],
        partitions_failed=partitions[bf.Chunk.STATE_FAILED],
        partitions_running=partitions[bf.Chunk.STATE_LEASED],
        partitions_pending=partitions[bf.Chunk.STATE_PENDING],
        partitions_cancelled=partitions[bf.Chunk.STATE_CANCELLED],
        chunks_by_state={chunk_state_name(state): n for state, n in sorted(chunks.items()) if n},
    )


def transition_to_proto(record: TransitionRecord) -> bf.StateTransition:
    """The StateTransition message of a transition row."""
    return bf.StateTransition(
        from_state=record.from_state,  # type: ignore[arg-type]
        to_state=record.to_state,  # type: ignore[arg-type]
        reason=record.reason,
        state_version=record.state_version,
        time=datetime_to_proto(record.recorded_at),
        request_id=record.request_id or "",
    )


def backfill_to_proto(
    record: BackfillRecord, transitions: Sequence[TransitionRecord], counts: Sequence[ChunkStateCount]
) -> bf.Backfill:
    """The Backfill message of a row, its latest transitions and its stored-chunk counts."""
    spec = events_pb2.BackfillCreated.FromString(record.spec)
    backfill = bf.Backfill(
        id=record.backfill_id,
        state=record.state,  # type: ignore[arg-type]
        state_version=record.state_version,
        targets=spec.targets,
        max_concurrency=record.max_concurrency,
        order=record.dispatch_order,  # type: ignore[arg-type]
        tags=spec.tags,
        title=spec.title,
        description=spec.description,
        creator=spec.creator,
        as_of=spec.as_of,
        create_time=datetime_to_proto(record.created_at),
        update_time=datetime_to_proto(record.updated_at),
        progress=progress_of(record, counts),
        transitions=[transition_to_proto(t) for t in transitions[-TRANSITION_LIMIT:]],
        fingerprint=record.fingerprint,
    )
    if record.ended_at is not None:
        backfill.end_time.CopyFrom(datetime_to_proto(record.ended_at))
    return backfill


def plan_to_proto(created: events_pb2.BackfillCreated, plan: ResolvedPlan) -> api.BackfillPlan:
    """The plan message: per-target counts, the first and last chunks with keys and run keys."""
    counts = [target.chunk_count for target in plan.targets]
    first, last = preview_chunks(counts)

    def chunks(positions: list[tuple[int, int]]) -> list[bf.Chunk]:
        result = []
        for target, index in positions:
            chunk = round_one_chunk(plan, plan.targets[target], index)
            chunk.state = bf.Chunk.STATE_PENDING
            result.append(chunk)
        return result

    return api.BackfillPlan(
        targets=created.targets,
        partition_count=sum(target.partition_count for target in created.targets),
        chunk_count=sum(counts),
        first_chunks=chunks(first),
        last_chunks=chunks(last),
        fingerprint=created.fingerprint,
        backfill_id=plan.backfill_id,
        as_of=created.as_of,
    )
