"""Submitted runs and run origins between protobuf messages and domain values."""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import events_pb2 as ev, run_service_pb2 as rapi
from arco_grpc.domain.submitted_run import SubmittedRun
from arco_grpc.planning.run_keys import (
    ManualScope,
    ReexecutionMode,
    ReexecutionScope,
    RunOrigin,
    ScheduleScope,
    SensorScope,
)
from arco_grpc.service.convert_partitions import datetime_from_proto, datetime_to_proto

ORIGIN_TO_PROTO = {
    RunOrigin.BACKFILL: rapi.RUN_ORIGIN_BACKFILL,
    RunOrigin.SCHEDULE: rapi.RUN_ORIGIN_SCHEDULE,
    RunOrigin.SENSOR: rapi.RUN_ORIGIN_SENSOR,
    RunOrigin.MANUAL: rapi.RUN_ORIGIN_MANUAL,
}
ORIGIN_FROM_PROTO = {number: origin for origin, number in ORIGIN_TO_PROTO.items()}
# The origin as the runs table stores it (the proto numbers).
ORIGIN_NUMBERS: dict[RunOrigin, int] = {origin: int(number) for origin, number in ORIGIN_TO_PROTO.items()}
MODE_TO_PROTO = {
    ReexecutionMode.FROM_FAILURE: rapi.ReexecuteRunRequest.MODE_FROM_FAILURE,
    ReexecutionMode.ALL: rapi.ReexecuteRunRequest.MODE_ALL,
}
MODE_FROM_PROTO = {number: mode for mode, number in MODE_TO_PROTO.items()}


def submitted_run_to_proto(run: SubmittedRun) -> ev.SubmittedRun:
    """The SubmittedRun payload of a BackfillCreated event."""
    scope = run.scope
    message = ev.SubmittedRun(
        origin=ORIGIN_TO_PROTO[run.origin],  # type: ignore[arg-type]
        origin_name=run.origin_name,
        parent_run_id=run.parent_run_id,
        root_run_id=run.root_run_id,
    )
    if run.origin_run_key is not None:
        message.origin_run_key = run.origin_run_key
    if isinstance(scope, ScheduleScope):
        message.scheduled_time.CopyFrom(datetime_to_proto(scope.scheduled_time))
    elif isinstance(scope, SensorScope):
        message.request_id = scope.request_id
    elif isinstance(scope, ManualScope):
        message.request_id = scope.request_id
    elif isinstance(scope, ReexecutionScope):
        message.request_id = scope.request_id
        message.parent_run_key = scope.parent_run_key
        message.reexecution_mode = MODE_TO_PROTO[scope.mode]  # type: ignore[assignment]
    return message


def submitted_run_from_proto(message: ev.SubmittedRun) -> SubmittedRun:
    """The domain value of a stored SubmittedRun payload."""
    origin = ORIGIN_FROM_PROTO.get(message.origin)
    key = message.origin_run_key if message.HasField("origin_run_key") else None
    scope: ScheduleScope | SensorScope | ManualScope | ReexecutionScope
    if origin is RunOrigin.SCHEDULE:
        scope = ScheduleScope(message.origin_name, datetime_from_proto(message.scheduled_time, "scheduled_time"), key)
    elif origin is RunOrigin.SENSOR:
        scope = SensorScope(message.origin_name, key, message.request_id)
    elif origin is RunOrigin.MANUAL and message.reexecution_mode:
        scope = ReexecutionScope(message.parent_run_key, MODE_FROM_PROTO[message.reexecution_mode], message.request_id)
    elif origin is RunOrigin.MANUAL:
        scope = ManualScope(message.request_id)
    else:
        raise ValueError(f"a submitted run cannot have origin {message.origin}")
    return SubmittedRun(scope, message.parent_run_id, message.root_run_id)
