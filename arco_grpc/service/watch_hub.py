"""The in-process fan-out of committed events (and chunk progress) to watchers, with bounded buffers.

Writers hand every batch of committed events to :meth:`WatchHub.notify_committed`
(:class:`~arco_grpc.service.appending.DecisionRunner` does it through
:func:`announce_committed`). The hub publishes events strictly in sequence
order: a batch that does not follow the last published sequence (two commits
whose notifications crossed, a request cancelled between its commit and its
notification, a write by another process) is not published from the
notification; the hub reads the log after its head from the store instead.
The store also is read every ``poll_seconds``, so events written by another
process reach watchers too.

Each watcher (:class:`Subscription`) has a queue of at most ``queue_bound``
events. Publishing never waits for a watcher: a full queue marks the watcher
*lagging* and empties it; the watcher then catches up from the store (after
the last sequence it delivered) and rejoins the live feed. A lagging watcher
that misses more than ``max_lag_events`` live events is ended; it resumes
from the last sequence it delivered. So the events buffered by the hub are at
most watchers x ``queue_bound``, whatever the watchers do; :meth:`WatchHub.stats`
counts them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from arco_grpc.service.backfill_projection import backfill_stream
from arco_grpc.service.watch_progress import ChunkProgress, ProgressThrottle, progress_of
from arco_grpc.service.watch_subscription import (
    BufferAccount,
    EndReason,
    Subscription,
    WatchConfig,
    event_size,
)
from arco_grpc.store import EventStore, StoredEvent

__all__ = [
    "BACKFILL_STREAM_PREFIX", "EndReason", "Subscription", "WatchConfig", "WatchHub", "WatchStats",
    "announce_committed", "event_size",
]

logger = logging.getLogger(__name__)

BACKFILL_STREAM_PREFIX = backfill_stream("")


@dataclass(frozen=True, slots=True)
class WatchStats:
    """What the hub holds for its watchers right now, and the peaks since it started."""

    watchers: int
    lagging_watchers: int
    buffered_events: int
    buffered_bytes: int
    pending_progress: int
    pending_progress_bytes: int
    peak_buffered_events: int
    peak_buffered_bytes: int
    lag_episodes: int
    ended_too_far_behind: int
    head: int


# Hubs by the store they watch, so that whoever appends to a store can
# announce its commits without holding a reference to the server.
_HUBS: weakref.WeakKeyDictionary[EventStore, WatchHub] = weakref.WeakKeyDictionary()


def announce_committed(store: EventStore, events: Sequence[StoredEvent]) -> None:
    """Hands ``events``, just committed to ``store``, to the hub watching it (if any). Never blocks."""
    if not events:
        return
    hub = _HUBS.get(store)
    if hub is not None:
        hub.notify_committed(events)


class WatchHub:
    """Fans committed events and chunk progress out to subscriptions; see the module docstring.

    Also the :class:`~arco_grpc.service.watch_progress.ProgressSink` the
    worker service reports heartbeat progress to.
    """

    def __init__(self, store: EventStore, config: WatchConfig | None = None) -> None:
        self.store = store
        self.config = config or WatchConfig()
        self._head = 0
        self._by_stream: dict[str, set[Subscription]] = {}
        self._every_backfill: set[Subscription] = set()
        self._throttle = ProgressThrottle(self._fan_out_progress, self.config.progress_updates_per_second)
        self._look: asyncio.Event | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self._account = BufferAccount()

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Starts at the store's last sequence and begins watching it."""
        self._head = await self.store.max_sequence()
        self._look = asyncio.Event()
        self._reader = asyncio.create_task(self._read_missed_events(), name="watch-hub-reader")
        _HUBS[self.store] = self

    async def close(self) -> None:
        """Ends every watcher (they answer UNAVAILABLE with where to resume) and stops watching the store."""
        self._closed = True
        if _HUBS.get(self.store) is self:
            del _HUBS[self.store]
        for subscription in [*self._every_backfill, *(s for subs in self._by_stream.values() for s in subs)]:
            subscription.end(EndReason.SHUTTING_DOWN)
        self._throttle.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def head(self) -> int:
        """The last sequence published: every event up to it has reached every queue."""
        return self._head

    # -- subscriptions ----------------------------------------------------------

    @contextmanager
    def subscribe(self, backfill_id: str | None) -> Iterator[Subscription]:
        """A subscription to one backfill's events and progress (None: every backfill's), for a ``with`` block."""
        stream_id = None if backfill_id is None else BACKFILL_STREAM_PREFIX + backfill_id
        subscription = Subscription(self.config, self._account, stream_id)
        if self._closed:
            subscription.end(EndReason.SHUTTING_DOWN)
        elif stream_id is None:
            self._every_backfill.add(subscription)
        else:
            self._by_stream.setdefault(stream_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._unsubscribe(subscription)

    def _unsubscribe(self, subscription: Subscription) -> None:
        subscription.release()
        if subscription.stream_id is None:
            self._every_backfill.discard(subscription)
            return
        subscribers = self._by_stream.get(subscription.stream_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._by_stream[subscription.stream_id]

    # -- events -----------------------------------------------------------------

    def notify_committed(self, events: Sequence[StoredEvent]) -> None:
        """Publishes events just committed (ascending sequences). Never blocks; call it right after the commit.

        A batch that does not continue the head is left to the store reader,
        which publishes the log after the head in order.
        """
        if self._closed or not events:
            return
        if events[0].sequence > self._head + 1:
            if events[-1].sequence > self._head and self._look is not None:
                self._look.set()
            return
        self._publish(events)

    def _publish(self, events: Sequence[StoredEvent]) -> None:
        for event in events:
            if event.sequence <= self._head:
                continue
            self._head = event.sequence
            if not event.stream_id.startswith(BACKFILL_STREAM_PREFIX):
                continue
            size = event_size(event)
            for subscription in self._every_backfill:
                subscription.offer_event(event, size)
            for subscription in self._by_stream.get(event.stream_id, ()):
                subscription.offer_event(event, size)

    async def _read_missed_events(self) -> None:
        assert self._look is not None
        while not self._closed:
            try:
                await asyncio.wait_for(self._look.wait(), self.config.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._look.clear()
            try:
                while not self._closed:
                    page = await self.store.read_all(self._head, self.config.catch_up_page)
                    self._publish(page)
                    if len(page) < self.config.catch_up_page:
                        break
            except Exception:  # noqa: BLE001 - the reader must survive a store hiccup; it retries next poll
                logger.exception("reading the event log for watchers failed; retrying in %.1f s", self.config.poll_seconds)

    # -- progress ---------------------------------------------------------------

    def publish_progress(
        self,
        backfill_id: str,
        asset_key: str,
        round: int,  # noqa: A002 - the proto's name for it
        index: int,
        run_id: str,
        fraction: float,
        message: str,
        time: datetime,
    ) -> None:
        """See :meth:`arco_grpc.service.watch_progress.ProgressSink.publish_progress`."""
        if self._closed:
            return
        self._throttle.offer(progress_of(backfill_id, asset_key, round, index, run_id, fraction, message, time))

    def _fan_out_progress(self, update: ChunkProgress) -> None:
        for subscription in self._every_backfill:
            subscription.offer_progress(update)
        for subscription in self._by_stream.get(BACKFILL_STREAM_PREFIX + update.backfill_id, ()):
            subscription.offer_progress(update)

    # -- accounting -------------------------------------------------------------

    def stats(self) -> WatchStats:
        """What is buffered for watchers now, and the peaks since the hub started."""
        subscriptions = [*self._every_backfill, *(s for subs in self._by_stream.values() for s in subs)]
        return WatchStats(
            watchers=len(subscriptions),
            lagging_watchers=sum(1 for s in subscriptions if s.lagging),
            buffered_events=self._account.events,
            buffered_bytes=self._account.bytes,
            pending_progress=self._account.progress,
            pending_progress_bytes=self._account.progress_bytes,
            peak_buffered_events=self._account.peak_events,
            peak_buffered_bytes=self._account.peak_bytes,
            lag_episodes=self._account.lag_episodes,
            ended_too_far_behind=self._account.ended_too_far_behind,
            head=self._head,
        )
