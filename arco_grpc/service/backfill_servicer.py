"""BackfillService: check and convert each request, call the application, convert back.

Errors are not caught here: ``errors.map_errors`` turns them into statuses.
"""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc.domain.backfill import CancelBackfill, PauseBackfill, ResumeBackfill, UpdateBackfill
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.domain.retry_round import RetryFailedPartitions
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.backfill_app import BackfillApplication
from arco_grpc.service.backfill_requests import (
    check_backfill_id,
    check_max_concurrency,
    check_stream_id,
    create_request_from_proto,
    mutation_fields,
)
from arco_grpc.service.chunk_listing import START, ChunkFilter
from arco_grpc.service.idempotency import identify_request
from arco_grpc.service.paging import (
    CURSOR_BACKFILLS,
    CURSOR_CHUNKS,
    CURSOR_EVENTS,
    CursorToken,
    key_page_scope,
    page_size_of,
)
from arco_grpc.service.watch_servicer import BackfillWatchMethods
from arco_grpc.service.watch_streams import WatchStreams
from arco_grpc.store import BackfillFilter

SERVICE_NAME = "arco.orchestration.v1.BackfillService"


def _known_states(values: list[int], enum: type, field: str) -> tuple[int, ...]:
    for position, value in enumerate(values):
        if value not in enum.values() or value == 0:  # type: ignore[attr-defined]
            raise InvalidArgument(
                f"state {value} is not a known state; use one of {', '.join(enum.keys()[1:])}",  # type: ignore[attr-defined]
                field=f"{field}[{position}]",
            )
    return tuple(sorted(set(values)))


class BackfillServicer(BackfillWatchMethods, backfill_service_pb2_grpc.BackfillServiceServicer):
    """The gRPC face of :class:`BackfillApplication` (the watch streams come from :class:`BackfillWatchMethods`)."""

    def __init__(self, app: BackfillApplication, watch_streams: WatchStreams | None = None) -> None:
        self._app = app
        self._watch_streams = watch_streams

    async def CreateBackfill(  # noqa: N802
        self, request: api.CreateBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.CreateBackfillResponse:
        checked = create_request_from_proto(request)
        identity = None if request.validate_only else identify_request("CreateBackfill", request)
        return await self._app.create(identity, checked)

    async def GetBackfill(  # noqa: N802
        self, request: api.GetBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.GetBackfillResponse:
        check_backfill_id(request.backfill_id)
        return api.GetBackfillResponse(backfill=await self._app.get(request.backfill_id))

    async def ListBackfills(  # noqa: N802
        self, request: api.ListBackfillsRequest, context: grpc.aio.ServicerContext
    ) -> api.ListBackfillsResponse:
        page_size = page_size_of(request.page_size, default=50, maximum=500)
        states = _known_states(list(request.states), bf.Backfill.State, "states")
        if request.asset_key:
            check_asset_key(request.asset_key, "asset_key")
        tags = tuple(sorted(request.tags.items()))
        where = BackfillFilter(states=states, asset_key=request.asset_key or None, tags=tags)
        scope = key_page_scope("backfills", repr(states), request.asset_key, repr(tags))
        before = None
        if request.page_token:
            before = CursorToken.decode(request.page_token, CURSOR_BACKFILLS, scope)[0]
        backfills, last = await self._app.list(where, before, page_size)
        token = "" if last is None else CursorToken(CURSOR_BACKFILLS, (last, 0, 0), scope).encode()
        return api.ListBackfillsResponse(backfills=backfills, next_page_token=token)

    async def PauseBackfill(  # noqa: N802
        self, request: api.PauseBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.PauseBackfillResponse:
        identity = identify_request("PauseBackfill", request)
        expected, reason = mutation_fields(request)
        command = PauseBackfill(reason=reason, expected_version=expected)
        return await self._app.change(identity, request.backfill_id, command, api.PauseBackfillResponse)

    async def ResumeBackfill(  # noqa: N802
        self, request: api.ResumeBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.ResumeBackfillResponse:
        identity = identify_request("ResumeBackfill", request)
        expected, reason = mutation_fields(request)
        command = ResumeBackfill(reason=reason, expected_version=expected)
        return await self._app.change(identity, request.backfill_id, command, api.ResumeBackfillResponse)

    async def CancelBackfill(  # noqa: N802
        self, request: api.CancelBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.CancelBackfillResponse:
        identity = identify_request("CancelBackfill", request)
        expected, reason = mutation_fields(request)
        command = CancelBackfill(reason=reason, expected_version=expected)
        return await self._app.change(identity, request.backfill_id, command, api.CancelBackfillResponse)

    async def UpdateBackfill(  # noqa: N802
        self, request: api.UpdateBackfillRequest, context: grpc.aio.ServicerContext
    ) -> api.UpdateBackfillResponse:
        identity = identify_request("UpdateBackfill", request)
        expected, reason = mutation_fields(request)
        check_max_concurrency(request.max_concurrency)
        command = UpdateBackfill(max_concurrency=request.max_concurrency, reason=reason, expected_version=expected)
        return await self._app.change(identity, request.backfill_id, command, api.UpdateBackfillResponse)

    async def ListChunks(  # noqa: N802
        self, request: api.ListChunksRequest, context: grpc.aio.ServicerContext
    ) -> api.ListChunksResponse:
        check_backfill_id(request.backfill_id)
        page_size = page_size_of(request.page_size, default=100, maximum=1000)
        states = _known_states(list(request.states), bf.Chunk.State, "states")
        for name, value in (("round", request.round), ("start_index", request.start_index)):
            if value < 0:
                raise InvalidArgument(f"{name} may not be negative, got {value}; 0 means no filter", field=name)
        if request.asset_key:
            check_asset_key(request.asset_key, "asset_key")
        where = ChunkFilter(frozenset(states) or None, request.round or None, None, request.start_index)
        scope = key_page_scope(
            "chunks", request.backfill_id, repr(states), str(request.round), request.asset_key, str(request.start_index)
        )
        start = CursorToken.decode(request.page_token, CURSOR_CHUNKS, scope) if request.page_token else START
        chunks, position = await self._app.list_chunks(request.backfill_id, request.asset_key, where, start, page_size)
        token = "" if position is None else CursorToken(CURSOR_CHUNKS, position, scope).encode()
        return api.ListChunksResponse(chunks=chunks, next_page_token=token)

    async def GetChunk(  # noqa: N802
        self, request: api.GetChunkRequest, context: grpc.aio.ServicerContext
    ) -> api.GetChunkResponse:
        check_backfill_id(request.backfill_id)
        check_asset_key(request.asset_key, "asset_key")
        if request.round < 1:
            raise InvalidArgument(f"round must be at least 1 (1 is the first plan), got {request.round}", field="round")
        if request.index < 0:
            raise InvalidArgument(f"index may not be negative, got {request.index}", field="index")
        chunk = await self._app.get_chunk(request.backfill_id, request.asset_key, request.round, request.index)
        return api.GetChunkResponse(chunk=chunk)

    async def RetryFailedPartitions(  # noqa: N802
        self, request: api.RetryFailedPartitionsRequest, context: grpc.aio.ServicerContext
    ) -> api.RetryFailedPartitionsResponse:
        identity = identify_request("RetryFailedPartitions", request)
        expected, reason = mutation_fields(request)
        command = RetryFailedPartitions(request.include_unattempted, reason, expected)
        return await self._app.retry_failed(identity, request.backfill_id, command)

    async def ListBackfillEvents(  # noqa: N802
        self, request: api.ListBackfillEventsRequest, context: grpc.aio.ServicerContext
    ) -> api.ListBackfillEventsResponse:
        check_stream_id(request.backfill_id)
        page_size = page_size_of(request.page_size, default=100, maximum=1000)
        scope = key_page_scope("events", request.backfill_id)
        after = CursorToken.decode(request.page_token, CURSOR_EVENTS, scope)[0] if request.page_token else 0
        events, last = await self._app.list_events(request.backfill_id, after, page_size)
        token = "" if last is None else CursorToken(CURSOR_EVENTS, (last, 0, 0), scope).encode()
        return api.ListBackfillEventsResponse(events=events, next_page_token=token)
