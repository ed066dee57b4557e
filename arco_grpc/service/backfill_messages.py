"""Backfill, progress and plan messages, built from rows and resolved plans.

Progress is computed, never enumerated: chunks without a row are planned
(PENDING, or CANCELLED once a cancel was asked for), and their count is the
plan's count minus the round-1 rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf, events_pb2
from arco_grpc.domain.backfill import BackfillState
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.planning.plan import preview_chunks
from arco_grpc.service.backfill_chunks import Rounds, round_one_chunk
from arco_grpc.service.backfill_plans import ResolvedPlan
from arco_grpc.service.convert_backfills import chunk_state_name
from arco_grpc.service.convert_chunk_events import decode_subset, retry_policy_to_proto
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto
from arco_grpc.store import BackfillRecord, ChunkStateCount, TransitionRecord

# GetBackfill and mutation answers carry at most this many transitions (the
# latest); ListBackfillEvents has the whole history.
TRANSITION_LIMIT = 25
_TERMINAL_CHUNK_STATES = (bf.Chunk.STATE_SUCCEEDED, bf.Chunk.STATE_FAILED, bf.Chunk.STATE_CANCELLED)


def progress_of(record: BackfillRecord, counts: Sequence[ChunkStateCount]) -> bf.BackfillProgress:
    """Partition and chunk counts by state, from the row's outcomes and the stored-chunk counts.

    Succeeded and failed come from the outcomes; running is what the leased
    chunks' attempts hold; pending is what the current round has not run yet
    (its planned chunks and what its waiting chunks still hold); the rest was
    cancelled. Chunks without a row are planned: PENDING in the current round,
    CANCELLED in a replaced round or once a cancel was asked for, and
    UPSTREAM_FAILED when a failure upstream ended them (the round counts them
    finished; no row is written for them).
    """
    state = record.state
    rounds = Rounds(record.round, state)
    chunks: Counter[int] = Counter()
    stored_current = stored_earlier = finished_current = 0
    held_current = waiting_current = running = 0
    for count in counts:
        chunks[rounds.shown_state(count.state, count.round)] += count.chunks
        if count.state == bf.Chunk.STATE_LEASED:
            running += count.remaining
        if count.round == record.round:
            stored_current += count.chunks
            if count.state in _TERMINAL_CHUNK_STATES:
                finished_current += count.chunks
            held_current += count.partitions
            if count.state == bf.Chunk.STATE_PENDING:
                waiting_current += count.remaining
        elif count.round < record.round:
            stored_earlier += count.chunks
    upstream_failed_chunks = max(0, record.round_finished - finished_current)
    chunks[bf.Chunk.STATE_UPSTREAM_FAILED] += upstream_failed_chunks
    chunks[rounds.planned_state(record.round)] += record.round_chunks - stored_current - upstream_failed_chunks
    chunks[bf.Chunk.STATE_CANCELLED] += record.chunks_total - record.round_chunks - stored_earlier
    upstream_failed = sum(decode_subset(outcome[2]).count for outcome in record.outcomes if outcome[2])
    unresolved = (
        record.partitions_total - record.partitions_succeeded - record.partitions_failed - upstream_failed - running
    )
    pending = 0
    if state not in (BackfillState.CANCELLING, BackfillState.CANCELLED):
        round_partitions = record.round_partitions or record.partitions_total
        pending = max(0, min(unresolved, round_partitions - held_current + waiting_current - upstream_failed))
    return bf.BackfillProgress(
        partitions_total=record.partitions_total,
        partitions_succeeded=record.partitions_succeeded,
        partitions_failed=record.partitions_failed,
        partitions_running=running,
        partitions_pending=pending,
        partitions_cancelled=max(0, unresolved - pending),
        partitions_upstream_failed=upstream_failed,
        chunks_by_state={chunk_state_name(s): n for s, n in sorted(chunks.items()) if n > 0},
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


def outcomes_to_proto(record: BackfillRecord) -> list[bf.TargetOutcome]:
    """Per target, its succeeded and failed partitions."""
    outcomes = []
    for position, asset_key in enumerate(record.asset_keys):
        succeeded, failed, upstream_failed = (
            record.outcomes[position] if position < len(record.outcomes) else (None, None, None)
        )
        done, lost, blocked = decode_subset(succeeded), decode_subset(failed), decode_subset(upstream_failed)
        outcomes.append(bf.TargetOutcome(
            asset_key=asset_key, succeeded=subset_to_proto(done), succeeded_count=done.count,
            failed=subset_to_proto(lost), failed_count=lost.count,
            upstream_failed=subset_to_proto(blocked), upstream_failed_count=blocked.count,
        ))
    return outcomes


def backfill_to_proto(
    record: BackfillRecord,
    transitions: Sequence[TransitionRecord],
    counts: Sequence[ChunkStateCount],
    *,
    with_outcomes: bool = True,
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
        retry_policy=spec.retry_policy if spec.HasField("retry_policy") else retry_policy_to_proto(RetryPolicy()),
        round=record.round,
        outcomes=outcomes_to_proto(record) if with_outcomes else [],
    )
    backfill.progress.partitions_skipped = _skipped_count(spec.targets)
    backfill.reprocess_policy = spec.reprocess_policy or bf.REPROCESS_POLICY_ALL
    if record.ended_at is not None:
        backfill.end_time.CopyFrom(datetime_to_proto(record.ended_at))
    return backfill


def _skipped_count(targets: Sequence[bf.BackfillTarget]) -> int:
    return sum(entry.partition_count for target in targets for entry in target.skipped)


def _skipped_by_reason(targets: Sequence[bf.BackfillTarget]) -> dict[str, int]:
    by_reason: dict[str, int] = {}
    for target in targets:
        for entry in target.skipped:
            name = bf.SkipReason.Name(entry.reason)
            by_reason[name] = by_reason.get(name, 0) + entry.partition_count
    return by_reason


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
        skipped_partition_count=_skipped_count(created.targets),
        skipped_by_reason=_skipped_by_reason(created.targets),
        reprocess_policy=created.reprocess_policy or bf.REPROCESS_POLICY_ALL,
    )
