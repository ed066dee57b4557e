"""RunService: check and convert each request, call the application, convert back."""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.backfill_requests import check_backfill_id
from arco_grpc.service.paging import CURSOR_RUNS, CursorToken, key_page_scope, page_size_of
from arco_grpc.service.run_app import RunApplication

SERVICE_NAME = "arco.orchestration.v1.RunService"


class RunServicer(run_service_pb2_grpc.RunServiceServicer):
    """The gRPC face of :class:`RunApplication`."""

    def __init__(self, app: RunApplication) -> None:
        self._app = app

    async def GetRun(self, request: rapi.GetRunRequest, context: grpc.aio.ServicerContext) -> rapi.GetRunResponse:  # noqa: N802
        if not request.run_id:
            raise InvalidArgument("run_id is required", field="run_id")
        return rapi.GetRunResponse(run=await self._app.get(request.run_id))

    async def ListRuns(  # noqa: N802
        self, request: rapi.ListRunsRequest, context: grpc.aio.ServicerContext
    ) -> rapi.ListRunsResponse:
        check_backfill_id(request.backfill_id)
        page_size = page_size_of(request.page_size, default=100, maximum=1000)
        if request.asset_key:
            check_asset_key(request.asset_key, "asset_key")
        if request.round < 0:
            raise InvalidArgument(f"round may not be negative, got {request.round}; 0 means every round", field="round")
        chunk_index = request.chunk_index if request.HasField("chunk_index") else None
        if chunk_index is not None:
            if not request.asset_key or not request.round:
                raise InvalidArgument(
                    "chunk_index names a chunk only with asset_key and round; give both, or leave chunk_index unset",
                    field="chunk_index",
                )
            if chunk_index < 0:
                raise InvalidArgument(f"chunk_index may not be negative, got {chunk_index}", field="chunk_index")
        scope = key_page_scope(
            "runs", request.backfill_id, request.asset_key, str(request.round), "" if chunk_index is None else str(chunk_index)
        )
        after = None
        if request.page_token:
            sequence, position, _ = CursorToken.decode(request.page_token, CURSOR_RUNS, scope)
            after = (sequence, position)
        runs, last = await self._app.list(
            request.backfill_id, request.asset_key, request.round or None, chunk_index, after, page_size
        )
        token = "" if last is None else CursorToken(CURSOR_RUNS, (*last, 0), scope).encode()
        return rapi.ListRunsResponse(runs=runs, next_page_token=token)
