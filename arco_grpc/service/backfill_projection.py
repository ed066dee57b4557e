"""The backfill projections: how each backfill event changes the backfill row and its transitions.

One function, :func:`apply_event`, folds an event into the decision state
(with the domain's ``evolve``) and into the row, so the projector inside each
append, the rebuild from the log and the answer a mutation returns all agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from arco_grpc._gen.arco.orchestration.v1 import events_pb2
from arco_grpc.domain.backfill import (
    Backfill,
    BackfillCancelled,
    BackfillCompleted,
    BackfillCreated,
    BackfillEvent,
    BackfillStarted,
    BackfillState,
    evolve,
    state_after,
)
from arco_grpc.service.convert_backfills import BACKFILL_EVENT_TYPES, created_from_proto, event_from_payload
from arco_grpc.store import BackfillRecord, StoredEvent, Transaction, TransitionRecord
from arco_grpc.store.payloads import decode_payload

_STREAM_PREFIX = "backfill/"


def backfill_stream(backfill_id: str) -> str:
    """The stream holding every event of backfill ``backfill_id``."""
    return _STREAM_PREFIX + backfill_id


def backfill_id_of(stream_id: str) -> str:
    """The backfill id of a backfill stream."""
    if not stream_id.startswith(_STREAM_PREFIX):
        raise ValueError(f"{stream_id!r} is not a backfill stream")
    return stream_id[len(_STREAM_PREFIX) :]


@dataclass(frozen=True, slots=True)
class Projected:
    """A backfill as decisions see it (``backfill``) and as its row stores it (``record``)."""

    backfill: Backfill
    record: BackfillRecord


def transition_reason(event: BackfillEvent) -> str:
    """The reason recorded with the state change ``event`` makes: the caller's, or the system's."""
    if isinstance(event, BackfillCreated):
        return "created"
    if isinstance(event, BackfillStarted):
        return "started when created"
    if isinstance(event, BackfillCancelled):
        return f"no chunk was leased: {event.partitions_cancelled} unfinished partitions cancelled"
    if isinstance(event, BackfillCompleted):
        return f"every chunk finished: {event.partitions_succeeded} partitions succeeded, {event.partitions_failed} failed"
    return str(getattr(event, "reason", ""))


def projected_from_record(record: BackfillRecord) -> Projected:
    """The decision state and row of a stored backfill."""
    spec = created_from_proto(events_pb2.BackfillCreated.FromString(record.spec))
    backfill = Backfill(
        spec=spec,
        state=BackfillState(record.state),
        version=record.state_version,
        max_concurrency=record.max_concurrency,
        partitions_succeeded=record.partitions_succeeded,
        partitions_failed=record.partitions_failed,
        partitions_cancelled=record.partitions_cancelled,
        leased_chunks=record.leased_chunks,
    )
    return Projected(backfill, record)


def _created_record(event: BackfillCreated, spec: bytes, sequence: int, at: datetime) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=event.backfill_id,
        state=int(BackfillState.CREATED),
        state_version=1,
        max_concurrency=event.max_concurrency,
        dispatch_order=int(event.order),
        title=event.title,
        creator=event.creator,
        fingerprint=event.fingerprint,
        as_of=event.as_of,
        created_at=at,
        updated_at=at,
        ended_at=None,
        created_sequence=sequence,
        partitions_total=sum(target.partition_count for target in event.targets),
        chunks_total=sum(target.chunk_count for target in event.targets),
        partitions_succeeded=0,
        partitions_failed=0,
        partitions_cancelled=0,
        leased_chunks=0,
        asset_keys=tuple(target.asset_key for target in event.targets),
        tags=event.tags,
        spec=spec,
    )


def apply_event(
    current: Projected | None,
    event: BackfillEvent,
    *,
    payload: bytes,
    sequence: int,
    at: datetime,
    request_id: str | None,
) -> tuple[Projected, TransitionRecord | None]:
    """``current`` after ``event`` (recorded at ``at`` with global ``sequence``), and the state change it made."""
    before = None if current is None else current.backfill
    after = evolve(before, event)
    if isinstance(event, BackfillCreated):
        record = _created_record(event, payload, sequence, at)
    else:
        assert current is not None  # evolve refuses any other first event
        record = replace(
            current.record,
            state=int(after.state),
            state_version=after.version,
            max_concurrency=after.max_concurrency,
            updated_at=at,
            ended_at=current.record.ended_at or (at if after.state.is_terminal else None),
            partitions_succeeded=after.partitions_succeeded,
            partitions_failed=after.partitions_failed,
            partitions_cancelled=after.partitions_cancelled,
            leased_chunks=after.leased_chunks,
        )
    transition = None
    moved_to = state_after(event, None if before is None else before.state)
    if moved_to is not None:
        transition = TransitionRecord(
            backfill_id=after.backfill_id,
            state_version=after.version,
            from_state=0 if before is None else int(before.state),
            to_state=int(moved_to),
            reason=transition_reason(event),
            recorded_at=at,
            request_id=request_id,
        )
    return Projected(after, record), transition


async def project_backfills(transaction: Transaction, events: list[StoredEvent]) -> None:
    """Updates the backfill projections for the backfill events among ``events``."""
    touched: dict[str, Projected] = {}
    for stored in events:
        if stored.event_type not in BACKFILL_EVENT_TYPES:
            continue
        backfill_id = backfill_id_of(stored.stream_id)
        current = touched.get(backfill_id)
        if current is None:
            record = await transaction.get_backfill(backfill_id)
            current = None if record is None else projected_from_record(record)
        event = event_from_payload(decode_payload(stored.event_type, stored.payload))
        projected, transition = apply_event(
            current, event, payload=stored.payload, sequence=stored.sequence, at=stored.recorded_at,
            request_id=stored.request_id,
        )
        touched[backfill_id] = projected
        if transition is not None:
            await transaction.add_backfill_transition(transition)
    for projected in touched.values():
        await transaction.put_backfill(projected.record)
