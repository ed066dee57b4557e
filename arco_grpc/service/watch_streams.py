"""WatchBackfill and WatchBackfills: a snapshot, then the log after a cursor, then live events and progress.

Snapshots are built by GetBackfill's code (:meth:`BackfillApplication.get`),
so a snapshot equals GetBackfill's answer at the same state_version; its
``sequence`` is that of the backfill's event at that version, and only
events after it follow. Event messages are built by ListBackfillEvents'
converter, once per event for all watchers (a small cache by sequence).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc.service.backfill_app import BackfillApplication
from arco_grpc.service.backfill_projection import backfill_id_of, backfill_stream
from arco_grpc.service.convert_backfills import stored_event_to_proto
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.service.watch_filter import BackfillMatcher, BackfillsFilter
from arco_grpc.service.watch_follow import Cursor, Heartbeat, StreamLog, WholeLog, follow, version_at
from arco_grpc.service.watch_hub import WatchHub
from arco_grpc.service.watch_progress import ChunkProgress
from arco_grpc.store import BackfillFilter, StoredEvent

TERMINAL_STATES = frozenset({bf.Backfill.STATE_CANCELLED, bf.Backfill.STATE_COMPLETED})
TERMINAL_EVENT_TYPES = frozenset({"BackfillCancelled", "BackfillCompleted"})
# Event messages kept built for other watchers of the same event: the latest
# ones, within a byte budget (a BackfillCreated with many explicit keys is large).
_CACHED_MESSAGES = 4096
_CACHED_BYTES = 8 * 1024 * 1024
_SNAPSHOT_PAGE = 100

Response = TypeVar("Response", api.WatchBackfillResponse, api.WatchBackfillsResponse)


@dataclass(frozen=True, slots=True)
class BackfillWatch:
    """A checked WatchBackfill request."""

    backfill_id: str
    after_sequence: int
    include_snapshot: bool
    follow: bool


@dataclass(frozen=True, slots=True)
class BackfillsWatch:
    """A checked WatchBackfills request (after_sequence 0: from now)."""

    where: BackfillsFilter
    after_sequence: int
    include_snapshot: bool


@dataclass(frozen=True, slots=True)
class _Snapshot:
    backfill: bf.Backfill
    sequence: int


def progress_to_proto(update: ChunkProgress) -> api.ChunkProgressUpdate:
    """The ChunkProgressUpdate message of a progress report."""
    return api.ChunkProgressUpdate(
        backfill_id=update.backfill_id,
        asset_key=update.asset_key,
        round=update.round,
        index=update.index,
        run_id=update.run_id,
        fraction=update.fraction,
        message=update.message,
        time=datetime_to_proto(update.time),
    )


class _EventMessages:
    """Stream messages of events, built once per event and message type."""

    def __init__(self) -> None:
        self._built: OrderedDict[tuple[type, int], tuple[Message, int]] = OrderedDict()
        self._bytes = 0

    def get(self, kind: type[Response], event: StoredEvent) -> Response:
        key = (kind, event.sequence)
        found = self._built.get(key)
        if found is not None:
            return found[0]  # type: ignore[return-value]
        built = kind(event=stored_event_to_proto(backfill_id_of(event.stream_id), event))
        size = len(event.payload) + 256
        self._built[key] = (built, size)
        self._bytes += size
        while len(self._built) > _CACHED_MESSAGES or self._bytes > _CACHED_BYTES:
            _, (_, dropped) = self._built.popitem(last=False)
            self._bytes -= dropped
        return built


class WatchStreams:
    """The two watch streams over one hub and the backfill application."""

    def __init__(self, hub: WatchHub, app: BackfillApplication) -> None:
        self._hub = hub
        self._app = app
        self._store = hub.store
        self._messages = _EventMessages()

    async def _snapshot(self, backfill_id: str) -> _Snapshot:
        backfill = await self._app.get(backfill_id)
        first = await self._store.read_stream(backfill_stream(backfill_id), backfill.state_version - 1, 1)
        return _Snapshot(backfill, first[0].sequence)

    def _heartbeat(self, kind: type[Response], beat: Heartbeat) -> Response:
        return kind(heartbeat=api.WatchHeartbeat(time=datetime_to_proto(self._app.now()), sequence=beat.sequence))

    async def backfill(self, request: BackfillWatch) -> AsyncIterator[api.WatchBackfillResponse]:
        """The WatchBackfill stream.

        Raises:
            NotFound: no backfill has this id.
            ResourceExhausted: the watcher fell too far behind (resume from the sequence in the error).
            ServerShuttingDown: the server is stopping.
        """
        kind = api.WatchBackfillResponse
        stream_id = backfill_stream(request.backfill_id)
        with self._hub.subscribe(request.backfill_id) as subscription:
            if request.include_snapshot:
                snapshot = await self._snapshot(request.backfill_id)
                yield kind(snapshot=api.BackfillSnapshot(backfill=snapshot.backfill, sequence=snapshot.sequence))
                state, version = snapshot.backfill.state, snapshot.backfill.state_version
                cursor = Cursor(snapshot.sequence, version)
            else:
                record = await self._app.get(request.backfill_id)  # NotFound before anything is sent
                state, version = record.state, record.state_version
                cursor = Cursor(0, 0)
            if request.after_sequence > cursor.sequence:
                cursor = Cursor(request.after_sequence, await version_at(self._store, stream_id, request.after_sequence))
            terminal_at_start = state in TERMINAL_STATES

            def ends_after(event: StoredEvent | None) -> bool:
                if request.follow:
                    return False
                if terminal_at_start:
                    return cursor.version >= version
                return event is not None and event.event_type in TERMINAL_EVENT_TYPES and event.stream_version > version

            if ends_after(None):
                return
            async with aclosing(follow(self._hub, subscription, StreamLog(self._store, stream_id), cursor)) as items:
                async for item in items:
                    if isinstance(item, StoredEvent):
                        yield self._messages.get(kind, item)
                        if ends_after(item):
                            return
                    elif isinstance(item, Heartbeat):
                        yield self._heartbeat(kind, item)
                    else:
                        for update in item:
                            yield kind(progress=progress_to_proto(update))

    async def _matching_snapshots(
        self, where: BackfillsFilter, matcher: BackfillMatcher, folded: dict[str, int]
    ) -> AsyncIterator[_Snapshot]:
        """Snapshots of every backfill matching now, newest first; records what each snapshot folded in."""
        listing = BackfillFilter(states=tuple(sorted(where.states)), asset_key=where.asset_key, tags=where.tags)
        before: int | None = None
        while True:
            rows = await self._store.list_backfills(listing, before, _SNAPSHOT_PAGE)
            for record, _ in rows:
                snapshot = await self._snapshot(record.backfill_id)
                matcher.remember(record, snapshot.backfill.state, snapshot.backfill.state_version)
                folded[record.backfill_id] = snapshot.sequence
                if where.matches_states(snapshot.backfill.state):
                    yield snapshot
            if len(rows) < _SNAPSHOT_PAGE:
                return
            before = rows[-1][0].created_sequence

    async def backfills(self, request: BackfillsWatch) -> AsyncIterator[api.WatchBackfillsResponse]:
        """The WatchBackfills stream.

        Raises:
            ResourceExhausted: the watcher fell too far behind (resume from the sequence in the error).
            ServerShuttingDown: the server is stopping.
        """
        kind = api.WatchBackfillsResponse
        with self._hub.subscribe(None) as subscription:
            cursor = Cursor(request.after_sequence or self._hub.head)
            matcher = BackfillMatcher(self._store, request.where)
            # Per backfill, the sequence its snapshot folded in: earlier events are not sent again.
            folded: dict[str, int] = {}
            if request.include_snapshot:
                async for snapshot in self._matching_snapshots(request.where, matcher, folded):
                    yield kind(snapshot=api.BackfillSnapshot(backfill=snapshot.backfill, sequence=snapshot.sequence))
            last_folded = max(folded.values(), default=0)
            async with aclosing(follow(self._hub, subscription, WholeLog(self._store), cursor)) as items:
                async for item in items:
                    if isinstance(item, StoredEvent):
                        if folded and item.sequence > last_folded:
                            folded.clear()  # every snapshot is behind the cursor now
                        if item.sequence <= folded.get(backfill_id_of(item.stream_id), 0):
                            continue
                        if await matcher.matches_event(item):
                            yield self._messages.get(kind, item)
                    elif isinstance(item, Heartbeat):
                        yield self._heartbeat(kind, item)
                    else:
                        for update in item:
                            if await matcher.matches_backfill(update.backfill_id):
                                yield kind(progress=progress_to_proto(update))

