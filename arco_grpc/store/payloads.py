"""The event-payload codec: event type names and their protobuf messages.

The only place in the store that knows protobuf. An event's type is its
payload message's name, so the log reads as a list of domain facts.
"""

from __future__ import annotations

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import events_pb2
from arco_grpc.store.model import NewEvent

PAYLOAD_TYPES: dict[str, type[Message]] = {
    "AssetsApplied": events_pb2.AssetsApplied,
    "DynamicPartitionsAdded": events_pb2.DynamicPartitionsAdded,
    "DynamicPartitionsDeleted": events_pb2.DynamicPartitionsDeleted,
    "BackfillCreated": events_pb2.BackfillCreated,
    "BackfillStarted": events_pb2.BackfillStarted,
    "BackfillPaused": events_pb2.BackfillPaused,
    "BackfillResumed": events_pb2.BackfillResumed,
    "BackfillCancelRequested": events_pb2.BackfillCancelRequested,
    "BackfillCancelled": events_pb2.BackfillCancelled,
    "BackfillCompleted": events_pb2.BackfillCompleted,
    "BackfillConcurrencyChanged": events_pb2.BackfillConcurrencyChanged,
    "ChunkLeased": events_pb2.ChunkLeased,
    "ChunkSucceeded": events_pb2.ChunkSucceeded,
    "ChunkFailed": events_pb2.ChunkFailed,
    "ChunkLeaseExpired": events_pb2.ChunkLeaseExpired,
    "ChunkReleased": events_pb2.ChunkReleased,
    "ChunkCancelled": events_pb2.ChunkCancelled,
    "RetryRoundOpened": events_pb2.RetryRoundOpened,
    "ChunksLeased": events_pb2.ChunksLeased,
    "ChunksCompleted": events_pb2.ChunksCompleted,
    "PartitionsUpstreamFailed": events_pb2.PartitionsUpstreamFailed,
    "ScheduleCreated": events_pb2.ScheduleCreated,
    "SchedulePaused": events_pb2.SchedulePaused,
    "ScheduleResumed": events_pb2.ScheduleResumed,
    "TicksDecided": events_pb2.TicksDecided,
    "TickLaunched": events_pb2.TickLaunched,
    "TickSkipped": events_pb2.TickSkipped,
}


def encode_event(payload: Message) -> NewEvent:
    """The event carrying ``payload``, typed by its message name.

    Raises:
        KeyError: the message is not a registered event payload.
    """
    name = payload.DESCRIPTOR.name
    if PAYLOAD_TYPES.get(name) is not type(payload):
        raise KeyError(f"{name} is not a registered event payload type")
    return NewEvent(event_type=name, payload=payload.SerializeToString(deterministic=True))


def decode_payload(event_type: str, payload: bytes) -> Message:
    """The payload message of an event.

    Raises:
        KeyError: ``event_type`` is unknown.
    """
    message = PAYLOAD_TYPES[event_type]()
    message.ParseFromString(payload)
    return message
