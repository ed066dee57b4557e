"""WatchBackfill and WatchBackfills, mixed into the BackfillService servicer.

Check the request, stream what :class:`WatchStreams` yields. Errors other
than the shutdown are left to ``errors.map_errors``; a shutdown ends
the stream UNAVAILABLE with the sequence to resume after, as google.rpc
ErrorInfo metadata (``resume_after_sequence``), like RESOURCE_EXHAUSTED does
for a watcher that fell too far behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.backfill_requests import check_backfill_id
from arco_grpc.service.errors import ERROR_DOMAIN
from arco_grpc.service.watch_filter import BackfillsFilter
from arco_grpc.service.watch_follow import ServerShuttingDown
from arco_grpc.service.watch_streams import BackfillsWatch, BackfillWatch, WatchStreams

SHUTTING_DOWN_REASON = "SERVER_SHUTTING_DOWN"


def _after_sequence(value: int) -> int:
    if value < 0:
        raise InvalidArgument(
            f"after_sequence may not be negative, got {value}; use 0 or the last sequence received",
            field="after_sequence",
        )
    return value


def backfill_watch_from_proto(request: api.WatchBackfillRequest) -> BackfillWatch:
    """The checked WatchBackfill request.

    Raises:
        InvalidArgument: a malformed backfill id or a negative after_sequence.
    """
    check_backfill_id(request.backfill_id)
    return BackfillWatch(
        request.backfill_id, _after_sequence(request.after_sequence), request.include_snapshot, request.follow
    )


def backfills_watch_from_proto(request: api.WatchBackfillsRequest) -> BackfillsWatch:
    """The checked WatchBackfills request.

    Raises:
        InvalidArgument: an unknown state, a malformed asset key or a negative after_sequence.
    """
    known = set(bf.Backfill.State.values()) - {bf.Backfill.STATE_UNSPECIFIED}
    for position, state in enumerate(request.states):
        if state not in known:
            names = ", ".join(bf.Backfill.State.keys()[1:])
            raise InvalidArgument(f"state {state} is not a known state; use one of {names}", field=f"states[{position}]")
    if request.asset_key:
        check_asset_key(request.asset_key, "asset_key")
    where = BackfillsFilter(
        states=frozenset(request.states), asset_key=request.asset_key or None, tags=tuple(sorted(request.tags.items()))
    )
    return BackfillsWatch(where, _after_sequence(request.after_sequence), request.include_snapshot)


def shutting_down_status(stopping: ServerShuttingDown) -> grpc.Status:
    """UNAVAILABLE, with ErrorInfo metadata resume_after_sequence."""
    info = error_details_pb2.ErrorInfo(
        reason=SHUTTING_DOWN_REASON,
        domain=ERROR_DOMAIN,
        metadata={"resume_after_sequence": str(stopping.resume_after_sequence)},
    )
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=str(stopping))
    status.details.add().Pack(info)
    return rpc_status.to_status(status)


async def _end_unavailable(context: grpc.aio.ServicerContext, stopping: ServerShuttingDown) -> None:
    """Ends the stream UNAVAILABLE with where to resume, unless the client has gone already."""
    if context.done():
        return
    try:
        await context.abort_with_status(shutting_down_status(stopping))
    except grpc.aio.AbortError:
        raise  # the status was sent: this is how an abort ends the handler
    except Exception:  # noqa: BLE001 - the client hung up before the status could be sent: nobody to tell
        return


class BackfillWatchMethods:
    """The streaming half of BackfillService; the servicer sets ``_watch_streams``."""

    _watch_streams: WatchStreams | None = None

    async def WatchBackfill(  # noqa: N802
        self, request: api.WatchBackfillRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[api.WatchBackfillResponse]:
        """Streams one backfill: snapshot, events after a cursor, live events, progress, heartbeats."""
        watch = backfill_watch_from_proto(request)
        if self._watch_streams is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this server does not serve watch streams")
        try:
            async for message in self._watch_streams.backfill(watch):  # type: ignore[union-attr]
                yield message
        except ServerShuttingDown as stopping:
            await _end_unavailable(context, stopping)

    async def WatchBackfills(  # noqa: N802
        self, request: api.WatchBackfillsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[api.WatchBackfillsResponse]:
        """Streams every backfill matching a filter."""
        watch = backfills_watch_from_proto(request)
        if self._watch_streams is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this server does not serve watch streams")
        try:
            async for message in self._watch_streams.backfills(watch):  # type: ignore[union-attr]
                yield message
        except ServerShuttingDown as stopping:
            await _end_unavailable(context, stopping)
