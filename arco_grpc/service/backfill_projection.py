"""The backfill row: how each event changes a backfill's state and its transitions.

:func:`apply_event` folds an event into the decision state (with the
domain's ``evolve``) and the row's bookkeeping, so the projector inside each
append, the rebuild from the log, the in-memory state of live backfills and
the answer a mutation returns all agree. The row itself
(:attr:`Projected.record`) is built from the folded state on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from arco_grpc.domain.chunk_events import RetryRoundOpened
from arco_grpc.domain.outcomes import Outcomes
from arco_grpc.service.convert_backfills import created_from_proto
from arco_grpc.service.convert_chunk_events import decode_subset, encode_subset
from arco_grpc.store import BackfillRecord, TransitionRecord

_STREAM_PREFIX = "backfill/"


def backfill_stream(backfill_id: str) -> str:
    """The stream holding every event of backfill ``backfill_id``."""
    return _STREAM_PREFIX + backfill_id


def backfill_id_of(stream_id: str) -> str:
    """The backfill id of a backfill stream."""
    if not stream_id.startswith(_STREAM_PREFIX):
        raise ValueError(f"{stream_id!r} is not a backfill stream")
    return stream_id[len(_STREAM_PREFIX) :]


# Not frozen: one is made per event on the hot path (a frozen dataclass's __init__ costs several times more).
@dataclass(slots=True)
class Projected:
    """A backfill as decisions see it (``backfill``), with what its row adds: times, creation order, spec bytes."""

    backfill: Backfill
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    created_sequence: int
    spec: bytes

    @property
    def backfill_id(self) -> str:
        """The backfill's id."""
        return self.backfill.backfill_id

    @property
    def asset_keys(self) -> tuple[str, ...]:
        """The targets' asset keys, in target order."""
        return tuple(target.asset_key for target in self.backfill.spec.targets)

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """The backfill's tags."""
        return self.backfill.spec.tags

    @property
    def record(self) -> BackfillRecord:
        """The backfill row (a Projected is a :class:`~arco_grpc.store.BackfillRowSource`)."""
        backfill = self.backfill
        spec = backfill.spec
        outcomes = backfill.outcomes
        return BackfillRecord(
            backfill_id=spec.backfill_id,
            state=int(backfill.state),
            state_version=backfill.version,
            max_concurrency=backfill.max_concurrency,
            dispatch_order=int(spec.order),
            title=spec.title,
            creator=spec.creator,
            fingerprint=spec.fingerprint,
            as_of=spec.as_of,
            created_at=self.created_at,
            updated_at=self.updated_at,
            ended_at=self.ended_at,
            created_sequence=self.created_sequence,
            partitions_total=backfill.partitions_total,
            chunks_total=backfill.chunks_total,
            partitions_succeeded=backfill.partitions_succeeded,
            partitions_failed=backfill.partitions_failed,
            partitions_cancelled=backfill.partitions_cancelled,
            leased_chunks=backfill.leased_chunks,
            asset_keys=self.asset_keys,
            tags=spec.tags,
            spec=self.spec,
            round=backfill.round,
            round_chunks=backfill.round_chunks,
            round_finished=backfill.round_finished,
            partitions_running=backfill.partitions_running,
            round_partitions=backfill.round_partitions,
            outcomes=tuple(
                (encode_subset(succeeded), encode_subset(failed), encode_subset(blocked))
                for succeeded, failed, blocked in zip(outcomes.succeeded, outcomes.failed, outcomes.upstream_failed)
            ),
        )


def transition_reason(event: BackfillEvent) -> str:
    """The reason recorded with the state change ``event`` makes: the caller's, or the system's."""
    if isinstance(event, BackfillCreated):
        return "created"
    if isinstance(event, BackfillStarted):
        return "started when created"
    if isinstance(event, BackfillCancelled):
        return f"no chunk was leased: {event.partitions_cancelled} unfinished partitions cancelled"
    if isinstance(event, BackfillCompleted):
        blocked = f", {event.partitions_upstream_failed} upstream failed" if event.partitions_upstream_failed else ""
        return (
            f"every chunk finished: {event.partitions_succeeded} partitions succeeded, "
            f"{event.partitions_failed} failed{blocked}"
        )
    if isinstance(event, RetryRoundOpened):
        retried = sum(target.partitions.count for target in event.targets)
        why = f": {event.reason}" if event.reason else ""
        return f"round {event.round} retries {retried} partitions{why}"
    return str(getattr(event, "reason", ""))


def decode_spec(spec: bytes) -> BackfillCreated:
    """The creation event of a stored backfill from its row's spec bytes, without the rest of its state."""
    return created_from_proto(events_pb2.BackfillCreated.FromString(spec))


def projected_from_record(record: BackfillRecord) -> Projected:
    """The decision state of a stored backfill."""
    spec = decode_spec(record.spec)
    stored = list(record.outcomes) + [(None, None, None)] * (len(spec.targets) - len(record.outcomes))
    outcomes = Outcomes(
        tuple(decode_subset(succeeded) for succeeded, _, _ in stored),
        tuple(decode_subset(failed) for _, failed, _ in stored),
        tuple(decode_subset(blocked) for _, _, blocked in stored),
    )
    backfill = Backfill(
        spec=spec,
        state=BackfillState(record.state),
        version=record.state_version,
        max_concurrency=record.max_concurrency,
        outcomes=outcomes,
        partitions_cancelled=record.partitions_cancelled,
        leased_chunks=record.leased_chunks,
        partitions_running=record.partitions_running,
        round=record.round,
        round_chunks=record.round_chunks,
        round_finished=record.round_finished,
        chunks_total=record.chunks_total,
        round_partitions=record.round_partitions or record.partitions_total,
    )
    return Projected(backfill, record.created_at, record.updated_at, record.ended_at, record.created_sequence, record.spec)


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
        projected = Projected(after, at, at, None, sequence, payload)
    else:
        assert current is not None  # evolve refuses any other first event
        ended_at = None if not after.state.is_terminal else (current.ended_at or at)
        projected = Projected(after, current.created_at, at, ended_at, current.created_sequence, current.spec)
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
    return projected, transition
