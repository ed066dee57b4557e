"""The watch hub on its own: order, gaps, bounded queues, lagging, progress throttling, shutdown, keepalive options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from arco_grpc.server import SERVER_OPTIONS
from arco_grpc.service.watch_follow import version_at
from arco_grpc.service.watch_hub import EndReason, Subscription, WatchConfig, WatchHub, announce_committed, event_size
from arco_grpc.service.watch_keepalive import CLIENT_CHANNEL_OPTIONS, SERVER_MIN_PING_INTERVAL_MS
from arco_grpc.service.watch_progress import MAX_MESSAGE_CHARS, ChunkProgress, ProgressThrottle, progress_of
from arco_grpc.store import EventStore, NewEvent, StoredEvent, open_store

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
BACKFILL = "bf-aaaaaaaaaaaa"
STREAM = f"backfill/{BACKFILL}"
CONFIG = WatchConfig(queue_bound=4, max_lag_events=6, poll_seconds=0.05, progress_updates_per_second=50,
                     progress_per_watcher=2)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    opened = await open_store(str(tmp_path / "hub.db"))
    yield opened
    await opened.close()


@pytest.fixture
async def hub(store: EventStore) -> AsyncIterator[WatchHub]:
    started = WatchHub(store, CONFIG)
    await started.start()
    yield started
    await started.close()


async def append(store: EventStore, count: int, stream: str = STREAM) -> list[StoredEvent]:
    """``count`` events appended one by one (not announced to any hub)."""
    stored: list[StoredEvent] = []
    for _ in range(count):
        version = await store.stream_version(stream)
        result = await store.append(stream, version, [NewEvent("BackfillPaused", b"")], request=None, recorded_at=AT)
        stored.extend(result.events)
    return stored


async def take(subscription: Subscription, count: int) -> list[int]:
    """The sequences of the next ``count`` queued events (waiting for them, 5 s at most)."""
    taken: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while len(taken) < count:
        assert loop.time() < deadline, f"only {taken} arrived"
        await subscription.wait(0.5)
        taken += [event.sequence for event in subscription.take_events()]
    return taken


async def test_crossed_notifications_are_published_in_sequence_order(store: EventStore, hub: WatchHub) -> None:
    with hub.subscribe(BACKFILL) as subscription:
        first, second, third = await append(store, 3)
        hub.notify_committed([second])  # ahead of the head: left to the store reader
        hub.notify_committed([first])
        hub.notify_committed([third])
        hub.notify_committed([first, second])  # repeated: ignored
        assert await take(subscription, 3) == [first.sequence, second.sequence, third.sequence]
        assert subscription.take_events() == []


async def test_events_nobody_announced_are_read_from_the_store(store: EventStore, hub: WatchHub) -> None:
    with hub.subscribe(None) as every, hub.subscribe(BACKFILL) as one:
        silent = await append(store, 2)
        other = await append(store, 1, stream="backfill/bf-bbbbbbbbbbbb")
        catalog = await append(store, 1, stream="catalog")
        assert await take(one, 2) == [e.sequence for e in silent]  # found by the periodic look at the store
        assert await take(every, 3) == [e.sequence for e in [*silent, *other]]
        assert hub.head == catalog[0].sequence  # catalog events move the head but reach no backfill watcher


async def test_announce_reaches_only_the_hub_of_that_store(store: EventStore, hub: WatchHub, tmp_path: Path) -> None:
    other_store = await open_store(str(tmp_path / "other.db"))
    try:
        events = await append(store, 1)
        with hub.subscribe(BACKFILL) as subscription:
            announce_committed(other_store, events)
            assert subscription.take_events() == []
            announce_committed(store, events)  # synchronous: queued before this returns
            assert [e.sequence for e in subscription.take_events()] == [events[0].sequence]
    finally:
        await other_store.close()


async def test_a_full_queue_makes_a_lagging_watcher_and_too_many_misses_end_it(store: EventStore, hub: WatchHub) -> None:
    events = await append(store, 20)
    with hub.subscribe(BACKFILL) as slow, hub.subscribe(BACKFILL) as fast:
        for event in events[:4]:
            hub.notify_committed([event])
            assert [e.sequence for e in fast.take_events()] == [event.sequence]
        stats = hub.stats()
        assert (stats.buffered_events, stats.buffered_bytes) == (4, sum(event_size(e) for e in events[:4]))
        hub.notify_committed([events[4]])  # the fifth overflows the slow watcher's queue of 4
        assert slow.lagging and slow.take_events() == [] and slow.missed == 5
        assert hub.stats().buffered_events == 1  # only the fast watcher's event is held
        assert fast.take_events()[0].sequence == events[4].sequence

        slow.rejoin()  # caught up from the store: live again, nothing missed
        hub.notify_committed(events[5:9])
        assert (slow.lagging, [e.sequence for e in slow.take_events()]) == (False, [e.sequence for e in events[5:9]])
        assert len(fast.take_events()) == 4
        for event in events[9:20]:  # 11 more the slow one does not read: lagging after 4, then 7 missed > 6
            hub.notify_committed([event])
            assert len(fast.take_events()) == 1
        assert slow.ended == EndReason.TOO_FAR_BEHIND and fast.ended is None
        assert hub.stats().ended_too_far_behind == 1
        assert hub.stats().peak_buffered_events <= 2 * CONFIG.queue_bound
    assert hub.stats().buffered_events == 0 and hub.stats().watchers == 0


async def test_close_ends_every_watcher_and_refuses_new_ones(store: EventStore) -> None:
    hub = WatchHub(store, CONFIG)
    await hub.start()
    with hub.subscribe(BACKFILL) as one, hub.subscribe(None) as every:
        await hub.close()
        assert one.ended == every.ended == EndReason.SHUTTING_DOWN
        assert await one.wait(5)  # woken at once
        with hub.subscribe(BACKFILL) as late:
            assert late.ended == EndReason.SHUTTING_DOWN


async def test_progress_keeps_the_latest_per_chunk_and_a_bounded_number_of_chunks(hub: WatchHub) -> None:
    with hub.subscribe(BACKFILL) as subscription:
        for index in range(3):  # three chunks, but a watcher holds at most 2 unsent: the oldest goes
            hub.publish_progress(BACKFILL, "orders", 1, index, "run", 0.1, "first", AT)
        assert [(u.index, u.message) for u in subscription.take_progress()] == [(1, "first"), (2, "first")]
        hub.publish_progress(BACKFILL, "orders", 1, 0, "run", 0.2, "second", AT)
        hub.publish_progress(BACKFILL, "orders", 1, 0, "run", 0.3, "third", AT)
        assert subscription.take_progress() == []  # inside the chunk's window: held back
        assert await subscription.wait(5)
        assert [(u.index, u.fraction, u.message) for u in subscription.take_progress()] == [(0, 0.3, "third")]
        assert hub.stats().pending_progress == 0


async def test_the_throttle_forgets_quiet_chunks() -> None:
    emitted: list[ChunkProgress] = []
    throttle = ProgressThrottle(emitted.append, updates_per_second=100)
    update = progress_of(BACKFILL, "orders", 1, 0, "run", float("nan"), "m" * (MAX_MESSAGE_CHARS + 9), AT)
    assert (update.fraction, len(update.message)) == (0.0, MAX_MESSAGE_CHARS)
    throttle.offer(update)
    assert emitted == [update] and throttle.tracked_chunks == 1
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while throttle.tracked_chunks:
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    assert emitted == [update]  # nothing else was pending
    throttle.close()


async def test_version_at_finds_the_last_version_at_or_before_a_sequence(store: EventStore) -> None:
    mine, others = [], []
    for _ in range(7):
        mine += await append(store, 1)
        others += await append(store, 2, stream="backfill/bf-bbbbbbbbbbbb")
    for sequence in range(0, others[-1].sequence + 2):
        expected = max((e.stream_version for e in mine if e.sequence <= sequence), default=0)
        assert await version_at(store, STREAM, sequence) == expected


def test_client_keepalive_never_trips_the_servers_ping_limit() -> None:
    server = dict(SERVER_OPTIONS)
    client = dict(CLIENT_CHANNEL_OPTIONS)
    assert server["grpc.http2.min_recv_ping_interval_without_data_ms"] == SERVER_MIN_PING_INTERVAL_MS
    assert client["grpc.keepalive_time_ms"] >= 2 * SERVER_MIN_PING_INTERVAL_MS
    assert server["grpc.keepalive_permit_without_calls"] == client["grpc.keepalive_permit_without_calls"] == 1
    assert client["grpc.keepalive_timeout_ms"] < client["grpc.keepalive_time_ms"]
    assert WatchConfig().heartbeat_seconds * 1000 < server["grpc.keepalive_time_ms"]


def test_watch_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="queue_bound"):
        WatchConfig(queue_bound=0)
    with pytest.raises(ValueError, match="heartbeat_seconds"):
        WatchConfig(heartbeat_seconds=0)
