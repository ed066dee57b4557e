"""One watcher's place in the watch hub: a bounded event queue, pending progress, a wake-up, and the accounting.

The hub appends; only the watcher's own task takes. Everything runs on the
event loop, so no lock is needed. See :mod:`arco_grpc.service.watch_hub`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from arco_grpc.service.watch_progress import DEFAULT_UPDATES_PER_SECOND, ChunkId, ChunkProgress
from arco_grpc.store import StoredEvent

# What one queued event is counted as, besides its variable-length fields: the
# StoredEvent object, its datetime and ints, and the queue slot. The count is
# an upper bound: every queue holding an event shares the same object.
EVENT_OVERHEAD_BYTES = 240
PROGRESS_OVERHEAD_BYTES = 320


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """The limits and cadences of watch streams (tests shorten them)."""

    # Events a watcher may have queued before it is marked lagging.
    queue_bound: int = 256
    # Live events a lagging watcher may miss before it is ended with the
    # sequence to resume after (RESOURCE_EXHAUSTED).
    max_lag_events: int = 100_000
    # An idle stream gets a heartbeat message this often.
    heartbeat_seconds: float = 10.0
    # Events read from the store per page while catching up.
    catch_up_page: int = 500
    # How often the hub looks for events it was not told about (other processes).
    poll_seconds: float = 1.0
    # At most this many progress updates per chunk per second reach watchers.
    progress_updates_per_second: float = DEFAULT_UPDATES_PER_SECOND
    # Chunks whose latest progress one watcher holds unsent; past it the oldest is dropped.
    progress_per_watcher: int = 64

    def __post_init__(self) -> None:
        for name in ("queue_bound", "max_lag_events", "catch_up_page", "progress_per_watcher"):
            if getattr(self, name) < 1:
                raise ValueError(f"WatchConfig.{name} must be at least 1, got {getattr(self, name)}")
        for name in ("heartbeat_seconds", "poll_seconds", "progress_updates_per_second"):
            if getattr(self, name) <= 0:
                raise ValueError(f"WatchConfig.{name} must be positive, got {getattr(self, name)}")


class BufferAccount:
    """What every subscription of one hub holds, counted as it changes, with the peaks."""

    __slots__ = (
        "events", "bytes", "progress", "progress_bytes", "peak_events", "peak_bytes",
        "lag_episodes", "ended_too_far_behind",
    )

    def __init__(self) -> None:
        self.events = self.bytes = self.progress = self.progress_bytes = 0
        self.peak_events = self.peak_bytes = self.lag_episodes = self.ended_too_far_behind = 0

    def count_events(self, items: int, size: int) -> None:
        """Adds (or, negative, removes) queued events and their bytes."""
        self.events += items
        self.bytes += size
        if self.events > self.peak_events:
            self.peak_events = self.events
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes

    def count_progress(self, items: int, size: int) -> None:
        """Adds (or, negative, removes) pending progress updates and their bytes."""
        self.progress += items
        self.progress_bytes += size


def event_size(event: StoredEvent) -> int:
    """The bytes one queued event is accounted at."""
    return EVENT_OVERHEAD_BYTES + len(event.payload) + len(event.stream_id) + len(event.event_type) + len(
        event.request_id or ""
    )


def progress_size(update: ChunkProgress) -> int:
    """The bytes one pending progress update is accounted at."""
    return PROGRESS_OVERHEAD_BYTES + len(update.message) + len(update.run_id) + len(update.asset_key)


class EndReason:
    """Why the hub ended a watcher."""

    TOO_FAR_BEHIND = "too far behind"
    SHUTTING_DOWN = "server shutting down"


class Subscription:
    """One watcher's place in the hub: a bounded event queue, pending progress and a wake-up.

    Only the watcher's own task takes from it; the hub only appends, so no
    lock is needed (everything runs on the event loop).
    """

    __slots__ = (
        "_config", "_account", "stream_id", "_events", "_queued_bytes", "_progress", "_waiter",
        "lagging", "missed", "ended", "__weakref__",
    )

    def __init__(self, config: WatchConfig, account: BufferAccount, stream_id: str | None) -> None:
        self._config = config
        self._account = account
        # None: every backfill stream (WatchBackfills).
        self.stream_id = stream_id
        self._events: deque[StoredEvent] = deque()
        self._queued_bytes = 0
        self._progress: dict[ChunkId, ChunkProgress] = {}
        self._waiter: asyncio.Future[None] | None = None
        self.lagging = False
        # Live events dropped since the watcher last rejoined.
        self.missed = 0
        self.ended: str | None = None

    # -- the hub's side ---------------------------------------------------------

    def offer_event(self, event: StoredEvent, size: int) -> None:
        """Queues a live event, or (queue full) marks the watcher lagging; never blocks."""
        if self.ended is not None:
            return
        if self.lagging:
            self.missed += 1
            if self.missed > self._config.max_lag_events:
                self.ended = EndReason.TOO_FAR_BEHIND
                self._account.ended_too_far_behind += 1
                self._wake()
            return
        if len(self._events) >= self._config.queue_bound:
            self.lagging = True
            self.missed = len(self._events) + 1
            self._account.lag_episodes += 1
            self._drop_events()
            self._wake()
            return
        self._events.append(event)
        self._queued_bytes += size
        self._account.count_events(1, size)
        self._wake()

    def offer_progress(self, update: ChunkProgress) -> None:
        """Keeps ``update`` as its chunk's latest (a bounded map: the oldest chunk goes first)."""
        if self.ended is not None:
            return
        previous = self._progress.pop(update.chunk, None)
        if previous is not None:
            self._account.count_progress(-1, -progress_size(previous))
        elif len(self._progress) >= self._config.progress_per_watcher:
            oldest = self._progress.pop(next(iter(self._progress)))
            self._account.count_progress(-1, -progress_size(oldest))
        self._progress[update.chunk] = update
        self._account.count_progress(1, progress_size(update))
        self._wake()

    def end(self, reason: str) -> None:
        """Ends the watcher (it raises on its next step) and wakes it."""
        if self.ended is None:
            self.ended = reason
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _drop_events(self) -> None:
        if self._events:
            self._account.count_events(-len(self._events), -self._queued_bytes)
            self._events.clear()
            self._queued_bytes = 0

    def release(self) -> None:
        """Drops everything held (the watcher is leaving)."""
        self._drop_events()
        for update in self._progress.values():
            self._account.count_progress(-1, -progress_size(update))
        self._progress.clear()

    # -- the watcher's side -----------------------------------------------------

    def rejoin(self) -> None:
        """Accepts live events again; call it before reading the store to catch up (so nothing falls between)."""
        self._drop_events()
        self.lagging = False
        self.missed = 0

    def take_events(self) -> list[StoredEvent]:
        """Every queued event, oldest first (empty while lagging)."""
        if not self._events:
            return []
        taken = list(self._events)
        self._drop_events()
        return taken

    def take_progress(self) -> list[ChunkProgress]:
        """The latest pending progress of each chunk."""
        if not self._progress:
            return []
        taken = list(self._progress.values())
        for update in taken:
            self._account.count_progress(-1, -progress_size(update))
        self._progress.clear()
        return taken

    def has_news(self) -> bool:
        """True when something is queued, the watcher lags, or it was ended."""
        return bool(self._events or self._progress or self.lagging or self.ended is not None)

    async def wait(self, timeout: float) -> bool:
        """Waits until :meth:`has_news` or ``timeout`` seconds pass; True when there is news."""
        if self.has_news():
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return self.has_news()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
