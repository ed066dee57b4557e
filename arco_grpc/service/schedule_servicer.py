"""ScheduleService: check and convert each request, call the application, convert back.

Errors are not caught here: ``errors.map_errors`` turns them into statuses.
"""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as api, schedule_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as sc
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window.cron_ticks import check_cron_in_zone
from arco_grpc.planning.schedule_ticks import DEFAULT_CATCH_UP_WINDOW, DEFAULT_MAX_CATCH_UP_RUNS
from arco_grpc.service.backfill_requests import MAX_REASON_LENGTH, check_text, reprocess_policy_from_proto, tags_from_proto
from arco_grpc.service.convert_partitions import datetime_from_proto
from arco_grpc.service.convert_schedules import catch_up_policy_from_proto
from arco_grpc.service.idempotency import identify_request
from arco_grpc.service.paging import CURSOR_SCHEDULES, CursorToken, key_page_scope, page_size_of
from arco_grpc.service.schedule_app import NewSchedule, ScheduleApplication

SERVICE_NAME = "arco.orchestration.v1.ScheduleService"
MAX_NAME_LENGTH = 255


def check_schedule_name(name: str, field: str = "name") -> None:
    """Raises InvalidArgument unless ``name`` can name a schedule."""
    if not name:
        raise InvalidArgument("a schedule name may not be empty", field=field)
    check_text(name, MAX_NAME_LENGTH, field)


def new_schedule_from_proto(request: api.CreateScheduleRequest) -> NewSchedule:
    """The checked values of a CreateSchedule request, defaults filled in.

    Raises:
        InvalidArgument: with the field of the first bad value.
    """
    check_schedule_name(request.name)
    timezone = request.timezone or "UTC"
    check_cron_in_zone(request.cron_schedule, timezone)
    check_asset_key(request.asset_key, "asset_key")
    if request.catch_up_policy not in sc.CatchUpPolicy.values():
        raise InvalidArgument(
            f"catch_up_policy {request.catch_up_policy} is not known; use CATCH_UP_POLICY_LATEST_ONLY or "
            "CATCH_UP_POLICY_ALL_MISSED",
            field="catch_up_policy",
        )
    window = DEFAULT_CATCH_UP_WINDOW
    if request.HasField("catch_up_window"):
        window = request.catch_up_window.ToTimedelta()
        if window.total_seconds() <= 0:
            raise InvalidArgument("catch_up_window must be positive (unset means 365 days)", field="catch_up_window")
    if request.max_catch_up_runs < 0:
        raise InvalidArgument(
            f"max_catch_up_runs may not be negative, got {request.max_catch_up_runs}; 0 means "
            f"{DEFAULT_MAX_CATCH_UP_RUNS}",
            field="max_catch_up_runs",
        )
    start = datetime_from_proto(request.start_time, "start_time") if request.HasField("start_time") else None
    return NewSchedule(
        name=request.name,
        cron_schedule=request.cron_schedule,
        timezone=timezone,
        asset_key=request.asset_key,
        catch_up_policy=catch_up_policy_from_proto(request.catch_up_policy),
        catch_up_window=window,
        max_catch_up_runs=request.max_catch_up_runs or DEFAULT_MAX_CATCH_UP_RUNS,
        tags=tags_from_proto(dict(request.tags)),
        reprocess_policy=reprocess_policy_from_proto(request.reprocess_policy),
        start_time=start,
    )


class ScheduleServicer(schedule_service_pb2_grpc.ScheduleServiceServicer):
    """The gRPC face of :class:`ScheduleApplication`."""

    def __init__(self, app: ScheduleApplication) -> None:
        self._app = app

    async def CreateSchedule(  # noqa: N802
        self, request: api.CreateScheduleRequest, context: grpc.aio.ServicerContext
    ) -> api.CreateScheduleResponse:
        identity = identify_request("CreateSchedule", request)
        return await self._app.create(identity, new_schedule_from_proto(request))

    async def PauseSchedule(  # noqa: N802
        self, request: api.PauseScheduleRequest, context: grpc.aio.ServicerContext
    ) -> api.PauseScheduleResponse:
        identity = identify_request("PauseSchedule", request)
        check_schedule_name(request.name)
        check_text(request.note, MAX_REASON_LENGTH, "note", single_line=False)
        return await self._app.pause(identity, request.name, request.note)

    async def ResumeSchedule(  # noqa: N802
        self, request: api.ResumeScheduleRequest, context: grpc.aio.ServicerContext
    ) -> api.ResumeScheduleResponse:
        identity = identify_request("ResumeSchedule", request)
        check_schedule_name(request.name)
        check_text(request.note, MAX_REASON_LENGTH, "note", single_line=False)
        return await self._app.resume(identity, request.name, request.note)

    async def GetSchedule(  # noqa: N802
        self, request: api.GetScheduleRequest, context: grpc.aio.ServicerContext
    ) -> api.GetScheduleResponse:
        check_schedule_name(request.name)
        return api.GetScheduleResponse(schedule=await self._app.get(request.name))

    async def ListSchedules(  # noqa: N802
        self, request: api.ListSchedulesRequest, context: grpc.aio.ServicerContext
    ) -> api.ListSchedulesResponse:
        page_size = page_size_of(request.page_size, default=50, maximum=500)
        scope = key_page_scope("schedules")
        after = CursorToken.decode(request.page_token, CURSOR_SCHEDULES, scope)[0] if request.page_token else 0
        schedules, last = await self._app.list(after, page_size)
        token = "" if last is None else CursorToken(CURSOR_SCHEDULES, (last, 0, 0), scope).encode()
        return api.ListSchedulesResponse(schedules=schedules, next_page_token=token)
