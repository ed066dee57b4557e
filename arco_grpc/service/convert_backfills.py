"""Protobuf <-> pure values for backfills: targets, lifecycle events, subsets.

Domain enums reuse the proto numbers (BackfillState.RUNNING == STATE_RUNNING),
so states cross this edge by value; a test checks the two match one to one.
"""

from __future__ import annotations

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf, events_pb2 as ev
from arco_grpc.domain.backfill import (
    BackfillCancelled,
    BackfillCancelRequested,
    BackfillCompleted,
    BackfillConcurrencyChanged,
    BackfillCreated,
    BackfillEvent,
    BackfillPaused,
    BackfillResumed,
    BackfillStarted,
    DispatchOrder,
    Target,
)
from arco_grpc.domain.chunk_events import CHUNK_BATCH_TYPES, CHUNK_EVENT_TYPES, PartitionsUpstreamFailed, RetryRoundOpened
from arco_grpc.domain.partition_status import ReprocessPolicy, Skipped, SkipReason
from arco_grpc.service.convert_chunk_events import (
    CHUNK_PAYLOAD_FIELDS,
    chunk_event_from_payload,
    chunk_event_to_payload,
    retry_policy_from_proto,
    retry_policy_to_proto,
    subset_from_proto,
)
from arco_grpc.service.convert_partitions import (
    datetime_from_proto,
    datetime_to_proto,
    selector_from_proto,
    selector_to_proto,
    subset_to_proto,
)
from arco_grpc.service.convert_runs import submitted_run_from_proto, submitted_run_to_proto
from arco_grpc.store import StoredEvent
from arco_grpc.store.payloads import decode_payload

# Event type -> the BackfillEventPayload oneof field that carries it.
PAYLOAD_FIELDS = {
    "BackfillCreated": "created",
    "BackfillStarted": "started",
    "BackfillPaused": "paused",
    "BackfillResumed": "resumed",
    "BackfillCancelRequested": "cancel_requested",
    "BackfillCancelled": "cancelled",
    "BackfillCompleted": "completed",
    "BackfillConcurrencyChanged": "concurrency_changed",
    **CHUNK_PAYLOAD_FIELDS,
}
BACKFILL_EVENT_TYPES = frozenset(PAYLOAD_FIELDS)


def backfill_state_name(state: int) -> str:
    """The proto name of a backfill state ("STATE_RUNNING")."""
    return bf.Backfill.State.Name(state)  # type: ignore[arg-type]


def chunk_state_name(state: int) -> str:
    """The proto name of a chunk state ("STATE_PENDING")."""
    return bf.Chunk.State.Name(state)  # type: ignore[arg-type]


# -- targets ----------------------------------------------------------------


def target_to_proto(target: Target) -> bf.BackfillTarget:
    """The BackfillTarget message of a target (with its round-1 chunk count)."""
    return bf.BackfillTarget(
        asset_key=target.asset_key,
        selector=selector_to_proto(target.selector),
        selector_fingerprint=target.selector_fingerprint,
        partition_count=target.partition_count,
        chunk_size=target.chunk_size,
        chunk_count=target.chunk_count,
        asset_version=target.asset_version,
        dynamic_partitions_versions=dict(target.dynamic_versions),
        selected_partition_count=target.selected_count,
        skipped=[skipped_to_proto(entry) for entry in target.skipped],
        partition_status_space=target.status_space,
    )


def skipped_to_proto(entry: Skipped) -> bf.SkippedPartitions:
    """The SkippedPartitions message of partitions left out for one reason."""
    return bf.SkippedPartitions(
        reason=int(entry.reason),  # type: ignore[arg-type]
        partitions=subset_to_proto(entry.partitions),
        partition_count=entry.partitions.count,
    )


def target_from_proto(message: bf.BackfillTarget) -> Target:
    """The target a stored BackfillTarget message describes (stored selectors are canonical)."""
    return Target(
        asset_key=message.asset_key,
        selector=selector_from_proto(message.selector),
        selector_fingerprint=message.selector_fingerprint,
        partition_count=message.partition_count,
        chunk_size=message.chunk_size,
        asset_version=message.asset_version,
        dynamic_versions=tuple(sorted(message.dynamic_partitions_versions.items())),
        skipped=tuple(
            Skipped(SkipReason(entry.reason), subset_from_proto(entry.partitions)) for entry in message.skipped
        ),
        selected_count=message.selected_partition_count,
        status_space=message.partition_status_space,
    )


# -- events -----------------------------------------------------------------


def created_to_proto(event: BackfillCreated) -> ev.BackfillCreated:
    """The BackfillCreated payload of the event."""
    return ev.BackfillCreated(
        backfill_id=event.backfill_id,
        targets=[target_to_proto(target) for target in event.targets],
        max_concurrency=event.max_concurrency,
        order=int(event.order),  # type: ignore[arg-type]
        tags=dict(event.tags),
        title=event.title,
        description=event.description,
        creator=event.creator,
        as_of=datetime_to_proto(event.as_of),
        fingerprint=event.fingerprint,
        retry_policy=retry_policy_to_proto(event.retry_policy),
        reprocess_policy=int(event.reprocess_policy),  # type: ignore[arg-type]
        submitted_run=None if event.submitted_run is None else submitted_run_to_proto(event.submitted_run),
    )


def created_from_proto(message: ev.BackfillCreated) -> BackfillCreated:
    """The domain event of a stored BackfillCreated payload."""
    return BackfillCreated(
        backfill_id=message.backfill_id,
        targets=tuple(target_from_proto(target) for target in message.targets),
        max_concurrency=message.max_concurrency,
        order=DispatchOrder(message.order or DispatchOrder.FORWARD),
        tags=tuple(sorted(message.tags.items())),
        title=message.title,
        description=message.description,
        creator=message.creator,
        as_of=datetime_from_proto(message.as_of, "as_of"),
        fingerprint=message.fingerprint,
        retry_policy=retry_policy_from_proto(message.retry_policy, message.HasField("retry_policy")),
        reprocess_policy=ReprocessPolicy(message.reprocess_policy or ReprocessPolicy.ALL),
        submitted_run=submitted_run_from_proto(message.submitted_run) if message.HasField("submitted_run") else None,
    )


def event_to_payload(event: BackfillEvent) -> Message:
    """The protobuf payload of a domain event."""
    if isinstance(event, (*CHUNK_EVENT_TYPES, *CHUNK_BATCH_TYPES, RetryRoundOpened, PartitionsUpstreamFailed)):
        return chunk_event_to_payload(event)  # type: ignore[arg-type]
    if isinstance(event, BackfillCreated):
        return created_to_proto(event)
    if isinstance(event, BackfillStarted):
        return ev.BackfillStarted()
    if isinstance(event, BackfillPaused):
        return ev.BackfillPaused(reason=event.reason)
    if isinstance(event, BackfillResumed):
        return ev.BackfillResumed(reason=event.reason)
    if isinstance(event, BackfillCancelRequested):
        return ev.BackfillCancelRequested(reason=event.reason)
    if isinstance(event, BackfillCancelled):
        return ev.BackfillCancelled(partitions_cancelled=event.partitions_cancelled)
    if isinstance(event, BackfillCompleted):
        return ev.BackfillCompleted(
            partitions_succeeded=event.partitions_succeeded, partitions_failed=event.partitions_failed,
            partitions_upstream_failed=event.partitions_upstream_failed,
        )
    if isinstance(event, BackfillConcurrencyChanged):
        return ev.BackfillConcurrencyChanged(
            max_concurrency=event.max_concurrency,
            previous_max_concurrency=event.previous_max_concurrency,
            reason=event.reason,
        )
    raise TypeError(f"not a backfill event: {event!r}")


def event_from_payload(message: Message) -> BackfillEvent:
    """The domain event of a stored payload."""
    if isinstance(message, ev.BackfillCreated):
        return created_from_proto(message)
    if isinstance(message, ev.BackfillStarted):
        return BackfillStarted()
    if isinstance(message, ev.BackfillPaused):
        return BackfillPaused(message.reason)
    if isinstance(message, ev.BackfillResumed):
        return BackfillResumed(message.reason)
    if isinstance(message, ev.BackfillCancelRequested):
        return BackfillCancelRequested(message.reason)
    if isinstance(message, ev.BackfillCancelled):
        return BackfillCancelled(message.partitions_cancelled)
    if isinstance(message, ev.BackfillCompleted):
        return BackfillCompleted(
            message.partitions_succeeded, message.partitions_failed, message.partitions_upstream_failed
        )
    if isinstance(message, ev.BackfillConcurrencyChanged):
        return BackfillConcurrencyChanged(message.max_concurrency, message.previous_max_concurrency, message.reason)
    if type(message).__name__ in CHUNK_PAYLOAD_FIELDS:
        return chunk_event_from_payload(message)
    raise TypeError(f"not a backfill event payload: {type(message).__name__}")


def stored_event_to_proto(backfill_id: str, stored: StoredEvent) -> api.BackfillEvent:
    """A stored event of a backfill's stream, as ListBackfillEvents returns it."""
    payload = api.BackfillEventPayload()
    getattr(payload, PAYLOAD_FIELDS[stored.event_type]).CopyFrom(decode_payload(stored.event_type, stored.payload))
    return api.BackfillEvent(
        sequence=stored.sequence,
        backfill_id=backfill_id,
        state_version=stored.stream_version,
        type=stored.event_type,
        time=datetime_to_proto(stored.recorded_at),
        request_id=stored.request_id or "",
        payload=payload,
    )


__all__ = [
    "BACKFILL_EVENT_TYPES",
    "PAYLOAD_FIELDS",
    "backfill_state_name",
    "chunk_state_name",
    "created_from_proto",
    "created_to_proto",
    "event_from_payload",
    "event_to_payload",
    "stored_event_to_proto",
    "subset_from_proto",
    "target_from_proto",
    "target_to_proto",
]
