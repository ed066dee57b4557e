"""Checking RunService requests and turning them into plain values (what needs the catalog is checked later)."""

from __future__ import annotations

from dataclasses import dataclass

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.domain.partition_status import ReprocessPolicy
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.selector import Selector
from arco_grpc.planning.run_keys import ManualScope, ReexecutionMode, RunOrigin, RunScope, ScheduleScope, SensorScope
from arco_grpc.service.backfill_requests import (
    MAX_REASON_LENGTH,
    check_text,
    reprocess_policy_from_proto,
    tags_from_proto,
)
from arco_grpc.service.convert_partitions import datetime_from_proto, selector_from_proto
from arco_grpc.service.convert_runs import MODE_FROM_PROTO, ORIGIN_FROM_PROTO
from arco_grpc.service.idempotency import check_request_id

MAX_ORIGIN_NAME_LENGTH = 255
MAX_RUN_KEY_LENGTH = 1024
_SUBMITTABLE = (RunOrigin.SCHEDULE, RunOrigin.SENSOR, RunOrigin.MANUAL)


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """A checked SubmitRunRequest: the dedupe scope it falls in, the asset and the partitions asked for."""

    request_id: str
    scope: RunScope
    asset_key: str
    selector: Selector
    tags: tuple[tuple[str, str], ...]
    reprocess_policy: ReprocessPolicy


@dataclass(frozen=True, slots=True)
class ReexecuteRequest:
    """A checked ReexecuteRunRequest."""

    request_id: str
    run_id: str
    mode: ReexecutionMode
    tags: tuple[tuple[str, str], ...]


def _check_name(text: str, field: str, what: str) -> None:
    if not text:
        raise InvalidArgument(f"{field} is required: the {what}", field=field)
    check_text(text, MAX_ORIGIN_NAME_LENGTH, field)


def _scope(request: rapi.SubmitRunRequest, origin: RunOrigin) -> RunScope:
    run_key = request.run_key
    if len(run_key) > MAX_RUN_KEY_LENGTH:
        raise InvalidArgument(f"run_key is {len(run_key)} characters long; the limit is {MAX_RUN_KEY_LENGTH}", field="run_key")
    if origin is not RunOrigin.SCHEDULE and request.HasField("scheduled_time"):
        raise InvalidArgument("scheduled_time is for SCHEDULE runs only; leave it unset", field="scheduled_time")
    if origin is RunOrigin.MANUAL:
        if request.origin_name:
            raise InvalidArgument("origin_name is for SCHEDULE and SENSOR runs; leave it empty", field="origin_name")
        if run_key:
            raise InvalidArgument(
                "run_key is for SCHEDULE and SENSOR runs; a manual launch is repeated only by a retry of its request_id",
                field="run_key",
            )
        return ManualScope(request.request_id)
    if origin is RunOrigin.SENSOR:
        _check_name(request.origin_name, "origin_name", "sensor's name")
        return SensorScope(request.origin_name, run_key or None, request.request_id)
    _check_name(request.origin_name, "origin_name", "schedule's name")
    if not request.HasField("scheduled_time"):
        raise InvalidArgument(
            "scheduled_time is required for SCHEDULE runs: the tick's scheduled execution time (one tick, one scope)",
            field="scheduled_time",
        )
    return ScheduleScope(request.origin_name, datetime_from_proto(request.scheduled_time, "scheduled_time"), run_key or None)


def submit_request_from_proto(request: rapi.SubmitRunRequest) -> SubmitRequest:
    """The checked request.

    Raises:
        InvalidArgument: with the path of the first bad field.
    """
    check_request_id(request.request_id)
    origin = ORIGIN_FROM_PROTO.get(request.origin)
    if origin not in _SUBMITTABLE:
        raise InvalidArgument(
            "origin must be RUN_ORIGIN_SCHEDULE, RUN_ORIGIN_SENSOR or RUN_ORIGIN_MANUAL "
            "(backfill runs are created by BackfillService.CreateBackfill)",
            field="origin",
        )
    assert origin is not None
    scope = _scope(request, origin)
    check_asset_key(request.asset_key, "asset_key")
    if not request.HasField("selector"):
        raise InvalidArgument("selector is required: the partitions to run", field="selector")
    try:
        selector = selector_from_proto(request.selector)
    except InvalidArgument as error:
        raise error.under("selector") from None
    return SubmitRequest(
        request_id=request.request_id,
        scope=scope,
        asset_key=request.asset_key,
        selector=selector,
        tags=tags_from_proto(dict(request.tags)),
        reprocess_policy=reprocess_policy_from_proto(request.reprocess_policy),
    )


def reexecute_request_from_proto(request: rapi.ReexecuteRunRequest) -> ReexecuteRequest:
    """The checked request.

    Raises:
        InvalidArgument: with the path of the first bad field.
    """
    check_request_id(request.request_id)
    check_run_id(request.run_id)
    mode = MODE_FROM_PROTO.get(request.mode)
    if mode is None:
        raise InvalidArgument("mode must be MODE_FROM_FAILURE or MODE_ALL", field="mode")
    return ReexecuteRequest(request.request_id, request.run_id, mode, tags_from_proto(dict(request.tags)))


def check_run_id(run_id: str, field: str = "run_id") -> None:
    """Raises InvalidArgument unless ``run_id`` may name a run."""
    if not run_id:
        raise InvalidArgument(f"{field} is required", field=field)
    if len(run_id) > MAX_ORIGIN_NAME_LENGTH or not run_id.isascii() or not run_id.replace("-", "").isalnum():
        raise InvalidArgument(f"{field} {run_id!r} is not a run id (like 'run-' and hex digits)", field=field)


def check_cancel_request(request: rapi.CancelRunRequest) -> None:
    """Raises InvalidArgument for a bad CancelRunRequest."""
    check_request_id(request.request_id)
    check_run_id(request.run_id)
    check_text(request.reason, MAX_REASON_LENGTH, "reason", single_line=False)
