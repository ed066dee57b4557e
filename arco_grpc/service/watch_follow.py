"""Following the log for one watcher: catch up from the store, then live from the hub, in sequence order.

The order of operations is what makes resuming exact. The watcher rejoins
the hub's live feed *before* it reads the store, so every event is either
read from the store or queued live (or both); it then delivers only events
above its cursor (the last sequence it delivered), so nothing is missed and
nothing repeats. When its queue overflows (the watcher lags) it goes round
again: rejoin, read the store after its cursor, go live.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from arco_grpc.errors import ResourceExhausted
from arco_grpc.service.watch_hub import BACKFILL_STREAM_PREFIX, EndReason, Subscription, WatchHub
from arco_grpc.service.watch_progress import ChunkProgress
from arco_grpc.store import EventStore, StoredEvent


class ServerShuttingDown(Exception):
    """The server is stopping: the stream ends UNAVAILABLE, to be resumed after ``resume_after_sequence``."""

    def __init__(self, resume_after_sequence: int) -> None:
        super().__init__(
            f"the server is shutting down; reconnect and resume with after_sequence={resume_after_sequence}"
        )
        self.resume_after_sequence = resume_after_sequence


@dataclass(slots=True)
class Cursor:
    """How far a watcher has got: the last sequence it delivered (or passed over), and for one backfill its version."""

    sequence: int
    version: int = 0

    def advance(self, event: StoredEvent) -> None:
        """Moves past ``event``."""
        self.sequence = event.sequence
        self.version = event.stream_version


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing happened for a while; every event up to ``sequence`` has been considered."""

    sequence: int


class Log(Protocol):
    """The part of the event log a watcher reads while it catches up."""

    async def page_after(self, cursor: Cursor, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events after ``cursor``, in sequence order."""


@dataclass(frozen=True, slots=True)
class StreamLog:
    """One backfill's stream, read by stream version."""

    store: EventStore
    stream_id: str

    async def page_after(self, cursor: Cursor, limit: int) -> list[StoredEvent]:
        """See :meth:`Log.page_after`."""
        return await self.store.read_stream(self.stream_id, cursor.version, limit)


@dataclass(frozen=True, slots=True)
class WholeLog:
    """Every stream, read by global sequence."""

    store: EventStore

    async def page_after(self, cursor: Cursor, limit: int) -> list[StoredEvent]:
        """See :meth:`Log.page_after`."""
        return await self.store.read_all(cursor.sequence, limit)


async def version_at(store: EventStore, stream_id: str, sequence: int) -> int:
    """The last version of ``stream_id`` whose event has a sequence at most ``sequence`` (0 if none).

    A binary search over versions (sequences rise with versions), one
    indexed read per step: resuming costs O(log n) whatever the stream's length.
    """
    low, high = 0, await store.stream_version(stream_id)
    while low < high:
        middle = (low + high + 1) // 2
        probe = await store.read_stream(stream_id, middle - 1, 1)
        if probe and probe[0].sequence <= sequence:
            low = middle
        else:
            high = middle - 1
    return low


def check_still_watching(subscription: Subscription, cursor: Cursor) -> None:
    """Raises when the hub ended the watcher; the error says where to resume.

    Raises:
        ResourceExhausted: the watcher fell too far behind the live log.
        ServerShuttingDown: the server is stopping.
    """
    if subscription.ended == EndReason.TOO_FAR_BEHIND:
        raise ResourceExhausted(
            f"this watcher fell too far behind the live event log (more than the server's limit of events "
            f"arrived while it was not reading); reconnect with after_sequence={cursor.sequence} to resume "
            "exactly where it stopped",
            reason="WATCHER_TOO_FAR_BEHIND",
            metadata={"resume_after_sequence": str(cursor.sequence)},
        )
    if subscription.ended == EndReason.SHUTTING_DOWN:
        raise ServerShuttingDown(cursor.sequence)


async def follow(
    hub: WatchHub, subscription: Subscription, log: Log, cursor: Cursor
) -> AsyncIterator[StoredEvent | list[ChunkProgress] | Heartbeat]:
    """Every backfill event after ``cursor`` in sequence order (advancing it), pending progress, and heartbeats.

    Ends only by raising (see :func:`check_still_watching`) or when the consumer stops.
    """
    config = hub.config
    loop = asyncio.get_running_loop()
    while True:
        check_still_watching(subscription, cursor)
        subscription.rejoin()
        while True:
            page = await log.page_after(cursor, config.catch_up_page)
            for event in page:
                if event.sequence <= cursor.sequence:
                    continue
                cursor.advance(event)
                if event.stream_id.startswith(BACKFILL_STREAM_PREFIX):
                    yield event
                    check_still_watching(subscription, cursor)
            if len(page) < config.catch_up_page:
                break
        last_sent = loop.time()
        while not subscription.lagging:
            check_still_watching(subscription, cursor)
            sent = False
            for event in subscription.take_events():
                if event.sequence > cursor.sequence:
                    cursor.advance(event)
                    yield event
                    sent = True
                    check_still_watching(subscription, cursor)
            progress = subscription.take_progress()
            if progress:
                yield progress
                sent = True
            if sent:
                last_sent = loop.time()
                continue
            idle_left = last_sent + config.heartbeat_seconds - loop.time()
            if idle_left > 0 and await subscription.wait(idle_left):
                continue
            if not subscription.has_news():
                yield Heartbeat(max(cursor.sequence, hub.head))
                last_sent = loop.time()
