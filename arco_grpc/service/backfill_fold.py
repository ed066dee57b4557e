"""Folding a backfill's events into its state and the projection rows they write.

One fold serves both paths: live backfills fold the events they decide into
their in-memory state and hand the resulting :class:`Writes` to the append;
the projector (:func:`project_backfills`, which rebuilds run too) loads the
state from the rows, folds the stored events the same way and writes the same
rows. So a rebuilt projection equals the live one.

A batch event (ChunksLeased, ChunksCompleted) folds into the backfill once and
into each of its chunks in order, as its entries would one by one. Rows are
built when they are written (the runs' lease sequences are known only then),
and written in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from arco_grpc.domain.backfill import BackfillCancelled, BackfillCreated, BackfillEvent
from arco_grpc.domain.chunk_events import (
    ChunkCancelled,
    ChunkEvent,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunkState,
    ChunkSucceeded,
    RetryRoundOpened,
    RunState,
    chunk_events_of,
)
from arco_grpc.domain.chunks import Chunk, ChunkKey, Lease, evolve_chunk, first_lease
from arco_grpc.service.backfill_projection import (
    Projected,
    apply_event,
    backfill_id_of,
    backfill_stream,
    projected_from_record,
)
from arco_grpc.planning.run_keys import ScheduleScope
from arco_grpc.service.convert_backfills import BACKFILL_EVENT_TYPES, event_from_payload
from arco_grpc.service.convert_chunk_events import decode_subset, encode_subset
from arco_grpc.service.convert_runs import ORIGIN_NUMBERS
from arco_grpc.service.partition_status_rows import StatusChanges, note_chunk_event, write_partition_statuses
from arco_grpc.store import (
    ChunkRecord,
    RoundRecord,
    RunEnd,
    RunRecord,
    RunStart,
    StoredEvent,
    Transaction,
    TransitionRecord,
)
from arco_grpc.store.payloads import decode_payload

_MILLISECOND = timedelta(milliseconds=1)
_RUNNING = int(RunState.RUNNING)

# A run begun by a lease: (backfill id, the lease, its target position, the stream version of the event
# that leased it, its position among that event's leases, when, the chunk's previous run id). Its row is
# built once the event's sequence is known.
NewRun = tuple[str, ChunkLeased, int, int, int, datetime, str]
# A submitted run, queued: (its stream's spec, the stream version of its BackfillCreated, when).
QueuedRun = tuple[BackfillCreated, int, datetime]


@dataclass(slots=True)
class Writes:
    """The projection rows some events write: chunks as (backfill id, key) -> (chunk, when), their last state."""

    backfills: dict[str, Projected] = field(default_factory=dict)
    transitions: list[TransitionRecord] = field(default_factory=list)
    chunks: dict[tuple[str, ChunkKey], tuple[Chunk, datetime]] = field(default_factory=dict)
    new_runs: list[NewRun] = field(default_factory=list)
    queued_runs: list[QueuedRun] = field(default_factory=list)
    run_starts: list[RunStart] = field(default_factory=list)
    cancelled_queued_runs: list[tuple[str, datetime]] = field(default_factory=list)
    run_ends: list[RunEnd] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    statuses: StatusChanges = field(default_factory=dict)


@dataclass(slots=True)
class FoldState:
    """A backfill being folded, with the chunks its events touch (loaded by the caller before their events)."""

    projected: Projected
    chunks: dict[ChunkKey, Chunk]


# What a chunk event did to its chunk: (before, after); before is None for a chunk that had no row.
ChunkChange = tuple[Chunk | None, Chunk]


def chunk_key_of(projected: Projected, event: ChunkEvent) -> ChunkKey:
    """The chunk a chunk event is about."""
    return ChunkKey(projected.backfill.target_position(event.asset_key), event.round, event.index)


def chunk_record(spec: BackfillCreated, chunk: Chunk, at: datetime) -> ChunkRecord:
    """The row of a chunk of backfill ``spec`` that has had events."""
    backfill_id = spec.backfill_id
    lease = chunk.lease
    key = chunk.key
    attempt = chunk.attempt or 1
    remaining = chunk.remaining
    return ChunkRecord(
        backfill_id,
        key.target,
        chunk.asset_key,
        key.round,
        key.index,
        int(chunk.state),
        attempt,
        chunk.run_key or spec.run_key(chunk.asset_key, key.round, key.index, attempt),
        chunk.partition_count,
        encode_subset(chunk.partitions),
        at,
        encode_subset(remaining),
        remaining.count,
        chunk.run_id,
        chunk.worker_id,
        None if lease is None else lease.leased_at,
        None if lease is None else lease.expires_at,
        0 if lease is None else lease.ttl // _MILLISECOND,
        chunk.retry_at,
        chunk.failed_attempts,
        chunk.failed_count,
        chunk.error,
    )


def chunk_from_record(record: ChunkRecord) -> Chunk:
    """The domain chunk a row describes."""
    state = ChunkState(record.state)
    lease = None
    if state is ChunkState.LEASED and record.leased_at is not None and record.lease_expires_at is not None:
        lease = Lease(
            run_id=record.run_id,
            run_key=record.run_key,
            worker_id=record.worker_id,
            attempt=record.attempt,
            partitions=decode_subset(record.remaining),
            leased_at=record.leased_at,
            expires_at=record.lease_expires_at,
            ttl=record.lease_ttl_ms * _MILLISECOND,
        )
    return Chunk(
        key=ChunkKey(record.target_position, record.round, record.chunk_index),
        asset_key=record.asset_key,
        partitions=decode_subset(record.subset),
        partition_count=record.partition_count,
        remaining=decode_subset(record.remaining),
        state=state,
        attempt=record.attempt,
        failed_attempts=record.failed_attempts,
        lease=lease,
        run_id=record.run_id,
        run_key=record.run_key if record.run_id else "",
        worker_id=record.worker_id,
        retry_at=record.next_attempt_at,
        failed_count=record.failed_count,
        error=record.error,
    )


def run_record(run: NewRun, sequence: int, spec: BackfillCreated) -> RunRecord:
    """The row of a run begun by a lease, whose event has global sequence ``sequence``."""
    backfill_id, event, target, _, position, at, previous_run_id = run
    partitions = event.partitions
    # Positional (RunRecord's field order, up to lease_position): one per lease, and keywords cost more.
    record = RunRecord(
        event.run_key, backfill_id, event.asset_key, event.round, event.index, event.attempt, at, event.run_id,
        target, event.worker_id, _RUNNING, sequence, None, encode_subset(partitions), partitions.count, None, 0, "",
        (), False, position,
    )
    if event.waited_for:
        record.waited_for = event.waited_for
    submitted = spec.submitted_run
    if submitted is not None:  # a later attempt of a submitted run: the attempt before is its parent
        record.origin = ORIGIN_NUMBERS[submitted.origin]
        record.origin_name = submitted.origin_name
        record.parent_run_id = previous_run_id
        record.root_run_id = submitted.root_run_id or backfill_id
    return record


def queued_run_record(run: QueuedRun, sequence: int) -> RunRecord:
    """The row of a submitted run from its submission on (QUEUED), whose BackfillCreated has ``sequence``."""
    spec, _, at = run
    submitted = spec.submitted_run
    assert submitted is not None
    target = spec.targets[0]
    scope = submitted.scope
    return RunRecord(
        run_key=spec.run_key(target.asset_key, 1, 0, 1), backfill_id=spec.backfill_id, asset_key=target.asset_key,
        round=1, chunk_index=0, attempt=1, created_at=at, run_id=spec.backfill_id, state=int(RunState.QUEUED),
        lease_sequence=sequence, partition_count=target.partition_count, origin=ORIGIN_NUMBERS[submitted.origin],
        origin_name=submitted.origin_name, parent_run_id=submitted.parent_run_id,
        root_run_id=submitted.root_run_id or spec.backfill_id, scope_key=submitted.scope_key,
        origin_run_key=submitted.origin_run_key,
        scheduled_at=scope.scheduled_time if isinstance(scope, ScheduleScope) else None, submitted_at=at,
    )


def _run_writes(
    backfill_id: str, before: Chunk | None, after: Chunk, event: ChunkEvent, version: int, position: int, at: datetime,
    writes: Writes,
) -> None:
    if isinstance(event, ChunkLeased):
        if event.attempt == 1 and event.run_id == backfill_id:  # a submitted run's queued first attempt
            partitions = event.partitions
            writes.run_starts.append(
                RunStart(event.run_id, event.worker_id, at, encode_subset(partitions), partitions.count, event.waited_for)
            )
        else:
            previous = "" if before is None else before.run_id
            writes.new_runs.append((backfill_id, event, after.key.target, version, position, at, previous))
    elif isinstance(event, ChunkSucceeded):
        writes.run_ends.append(RunEnd(event.run_id, int(RunState.SUCCEEDED), at, metadata=event.metadata))
    elif isinstance(event, ChunkFailed):
        failed = event.failed_partitions
        writes.run_ends.append(RunEnd(
            event.run_id, int(RunState.FAILED), at, failed=encode_subset(failed), failed_count=failed.count,
            error=event.error, metadata=event.metadata, will_retry=event.will_retry,
        ))
    elif isinstance(event, ChunkLeaseExpired):
        writes.run_ends.append(RunEnd(
            event.run_id, int(RunState.LEASE_EXPIRED), at, error=after.error, will_retry=event.will_retry,
        ))
    elif isinstance(event, ChunkReleased):
        writes.run_ends.append(RunEnd(event.run_id, int(RunState.RELEASED), at, will_retry=True))
    elif isinstance(event, ChunkCancelled) and before is not None and before.run_id:
        writes.run_ends.append(RunEnd(before.run_id, int(RunState.CANCELLED), at, error="the backfill was cancelled"))


def fold_event(
    state: FoldState,
    event: BackfillEvent,
    *,
    payload: bytes,
    sequence: int,
    at: datetime,
    request_id: str | None,
    writes: Writes,
) -> list[ChunkChange]:
    """Folds one event into ``state`` and adds the rows it writes to ``writes``; returns its chunk changes, in order."""
    state.projected, transition = apply_event(
        state.projected, event, payload=payload, sequence=sequence, at=at, request_id=request_id
    )
    backfill = state.projected.backfill
    backfill_id = backfill.backfill_id
    writes.backfills[backfill_id] = state.projected
    if transition is not None:
        writes.transitions.append(transition)
    if isinstance(event, BackfillCancelled) and backfill.spec.submitted_run is not None:
        writes.cancelled_queued_runs.append((backfill_id, at))
    if isinstance(event, RetryRoundOpened):
        for target in event.targets:
            writes.rounds.append(RoundRecord(
                backfill_id, event.round, backfill.target_position(target.asset_key), target.asset_key,
                encode_subset(target.partitions) or b"", target.partitions.count, target.chunk_count,
            ))
        return []
    entries = chunk_events_of(event)
    if not entries:
        return []
    version = backfill.version
    chunks = state.chunks
    written = writes.chunks
    changes = []
    targets: dict[str, int] = {}  # asset key -> target position, for this event's entries
    for position, entry in enumerate(entries):
        target = targets.get(entry.asset_key)
        if target is None:
            target = targets[entry.asset_key] = backfill.target_position(entry.asset_key)
        key = ChunkKey(target, entry.round, entry.index)
        before = chunks.get(key)
        if before is not None:
            after = evolve_chunk(before, entry, at)
        elif isinstance(entry, ChunkLeased):
            after = first_lease(key, entry, at)
        else:
            raise ValueError(f"{type(entry).__name__} of chunk {key} before its ChunkLeased")
        chunks[key] = after
        written[(backfill_id, key)] = (after, at)
        _run_writes(backfill_id, before, after, entry, version, position, at, writes)
        note_chunk_event(writes.statuses, entry.asset_key, backfill.spec.targets[key.target].status_space, entry)
        changes.append((before, after))
    return changes


async def write_projection(transaction: Transaction, writes: Writes, stored: list[StoredEvent]) -> None:
    """Writes ``writes`` through ``transaction``; ``stored`` are the events folded (for the runs' sequences)."""
    for projected in writes.backfills.values():
        await transaction.put_backfill(projected)
    for transition in writes.transitions:
        await transaction.add_backfill_transition(transition)
    for round_record in writes.rounds:
        await transaction.put_round(round_record)
    # Every chunk and run written belongs to a backfill folded here: its spec and stream, once per backfill.
    specs = {backfill_id: projected.backfill.spec for backfill_id, projected in writes.backfills.items()}
    if writes.chunks:
        await transaction.put_chunks([
            chunk_record(specs[backfill_id], chunk, at) for (backfill_id, _), (chunk, at) in writes.chunks.items()
        ])
    if writes.new_runs or writes.queued_runs:
        sequences = {(event.stream_id, event.stream_version): event.sequence for event in stored}
        streams = {backfill_id: backfill_stream(backfill_id) for backfill_id in specs}
        queued = [
            queued_run_record(run, sequences[(backfill_stream(run[0].backfill_id), run[1])])
            for run in writes.queued_runs
        ]
        await transaction.record_runs(queued + [
            run_record(run, sequences[(streams[run[0]], run[3])], specs[run[0]]) for run in writes.new_runs
        ])
    if writes.run_starts:
        await transaction.start_runs(writes.run_starts)
    for run_id, at in writes.cancelled_queued_runs:
        await transaction.cancel_queued_run(run_id, at, "the run was cancelled before it started")
    if writes.run_ends:
        await transaction.end_runs(writes.run_ends)
    if writes.statuses:
        await write_partition_statuses(transaction, writes.statuses)


async def project_backfills(transaction: Transaction, events: list[StoredEvent]) -> None:
    """Updates the backfill projections for the backfill events among ``events`` (appends and rebuilds)."""
    touched: dict[str, FoldState | None] = {}
    writes = Writes()
    for stored in events:
        if stored.event_type not in BACKFILL_EVENT_TYPES:
            continue
        backfill_id = backfill_id_of(stored.stream_id)
        if backfill_id not in touched:
            # A stream's first event has no row before it: no read, so a creation can share a group commit.
            record = None if stored.stream_version == 1 else await transaction.get_backfill(backfill_id)
            touched[backfill_id] = None if record is None else FoldState(projected_from_record(record), {})
        state = touched[backfill_id]
        event = event_from_payload(decode_payload(stored.event_type, stored.payload))
        if state is None:
            projected, transition = apply_event(
                None, event, payload=stored.payload, sequence=stored.sequence, at=stored.recorded_at,
                request_id=stored.request_id,
            )
            state = touched[backfill_id] = FoldState(projected, {})
            writes.backfills[backfill_id] = projected
            if transition is not None:
                writes.transitions.append(transition)
            if isinstance(event, BackfillCreated) and event.submitted_run is not None:
                writes.queued_runs.append((event, projected.backfill.version, stored.recorded_at))
            continue
        for entry in chunk_events_of(event):
            key = chunk_key_of(state.projected, entry)
            if key not in state.chunks:
                row = await transaction.get_chunk(backfill_id, key.target, key.round, key.index)
                if row is not None:
                    state.chunks[key] = chunk_from_record(row)
        fold_event(
            state, event, payload=stored.payload, sequence=stored.sequence, at=stored.recorded_at,
            request_id=stored.request_id, writes=writes,
        )
    await write_projection(transaction, writes, events)
