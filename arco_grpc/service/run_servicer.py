"""RunService: check and convert each request, call the application, convert back."""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.backfill_requests import check_stream_id
from arco_grpc.service.idempotency import identify_request
from arco_grpc.service.paging import CURSOR_RUNS, CursorToken, key_page_scope, page_size_of
from arco_grpc.service.run_app import RunApplication, RunFilter
from arco_grpc.service.run_requests import (
    check_cancel_request,
    check_run_id,
    reexecute_request_from_proto,
    submit_request_from_proto,
)
from arco_grpc.service.run_submission import RunSubmissions

SERVICE_NAME = "arco.orchestration.v1.RunService"
_NAMED_ORIGINS = (rapi.RUN_ORIGIN_SCHEDULE, rapi.RUN_ORIGIN_SENSOR)


def _run_filter(request: rapi.ListRunsRequest) -> RunFilter:
    """The checked filters of a ListRunsRequest."""
    if request.backfill_id:
        check_stream_id(request.backfill_id)
    if request.asset_key:
        check_asset_key(request.asset_key, "asset_key")
    if request.round < 0:
        raise InvalidArgument(f"round may not be negative, got {request.round}; 0 means every round", field="round")
    if request.round and not request.backfill_id:
        raise InvalidArgument("round filters the runs of one backfill: give backfill_id too", field="round")
    chunk_index = request.chunk_index if request.HasField("chunk_index") else None
    if chunk_index is not None:
        if not (request.backfill_id and request.asset_key and request.round):
            raise InvalidArgument(
                "chunk_index names a chunk only with backfill_id, asset_key and round; give them, or leave "
                "chunk_index unset",
                field="chunk_index",
            )
        if chunk_index < 0:
            raise InvalidArgument(f"chunk_index may not be negative, got {chunk_index}", field="chunk_index")
    if request.origin not in rapi.RunOrigin.values():
        raise InvalidArgument(f"origin {request.origin} is not a known origin", field="origin")
    if request.origin_name and request.origin not in _NAMED_ORIGINS:
        raise InvalidArgument(
            "origin_name filters by schedule or sensor name: set origin to RUN_ORIGIN_SCHEDULE or RUN_ORIGIN_SENSOR",
            field="origin_name",
        )
    if request.partition_key and not request.asset_key:
        raise InvalidArgument("partition_key needs asset_key: a key names a partition of one asset", field="partition_key")
    for position, state in enumerate(request.states):
        if state not in rapi.Run.State.values() or state == 0:
            raise InvalidArgument(
                f"state {state} is not a known run state; use one of {', '.join(rapi.Run.State.keys()[1:])}",
                field=f"states[{position}]",
            )
    return RunFilter(
        backfill_id=request.backfill_id,
        asset_key=request.asset_key,
        round=request.round or None,
        chunk_index=chunk_index,
        origin=request.origin or None,
        origin_name=request.origin_name,
        partition_key=request.partition_key,
        states=tuple(sorted(set(request.states))),
    )


class RunServicer(run_service_pb2_grpc.RunServiceServicer):
    """The gRPC face of :class:`RunApplication` and :class:`RunSubmissions`."""

    def __init__(self, app: RunApplication, submissions: RunSubmissions) -> None:
        self._app = app
        self._submissions = submissions

    async def GetRun(self, request: rapi.GetRunRequest, context: grpc.aio.ServicerContext) -> rapi.GetRunResponse:  # noqa: N802
        check_run_id(request.run_id)
        return rapi.GetRunResponse(run=await self._app.get(request.run_id))

    async def ListRuns(  # noqa: N802
        self, request: rapi.ListRunsRequest, context: grpc.aio.ServicerContext
    ) -> rapi.ListRunsResponse:
        where = _run_filter(request)
        page_size = page_size_of(request.page_size, default=100, maximum=1000)
        scope = key_page_scope("runs", repr(where))
        after = None
        if request.page_token:
            sequence, position, _ = CursorToken.decode(request.page_token, CURSOR_RUNS, scope)
            after = (sequence, position)
        runs, last = await self._app.list(where, after, page_size)
        token = "" if last is None else CursorToken(CURSOR_RUNS, (*last, 0), scope).encode()
        return rapi.ListRunsResponse(runs=runs, next_page_token=token)

    async def SubmitRun(  # noqa: N802
        self, request: rapi.SubmitRunRequest, context: grpc.aio.ServicerContext
    ) -> rapi.SubmitRunResponse:
        checked = submit_request_from_proto(request)
        return await self._submissions.submit(identify_request("SubmitRun", request), checked)

    async def ReexecuteRun(  # noqa: N802
        self, request: rapi.ReexecuteRunRequest, context: grpc.aio.ServicerContext
    ) -> rapi.ReexecuteRunResponse:
        checked = reexecute_request_from_proto(request)
        return await self._submissions.reexecute(identify_request("ReexecuteRun", request), checked)

    async def CancelRun(  # noqa: N802
        self, request: rapi.CancelRunRequest, context: grpc.aio.ServicerContext
    ) -> rapi.CancelRunResponse:
        check_cancel_request(request)
        return await self._submissions.cancel(identify_request("CancelRun", request), request.run_id, request.reason)
