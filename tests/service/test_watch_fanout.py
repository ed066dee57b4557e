"""Many watchers at once: all get every event, a stalled one holds nobody up, the hub's buffers stay bounded."""

from __future__ import annotations

import asyncio
import logging

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api
from arco_grpc.service.watch_hub import WatchConfig
from tests.service.conftest import db_path  # noqa: F401 - fixture
from tests.service.watch_support import (
    LONG_REASON,
    STALLING_CLIENT_OPTIONS,
    WATCH,
    WatchStarter,
    churn,
    event_log,
    events_of,
    new_backfill,
    read_until,
    start_watching,  # noqa: F401 - fixture
)

WATCHERS = 500
CHANNELS = 5
EVENTS = 30
logger = logging.getLogger(__name__)


async def test_500_watchers_get_every_event_while_a_stalled_one_waits(start_watching: WatchStarter) -> None:
    config = WatchConfig(queue_bound=8, heartbeat_seconds=WATCH.heartbeat_seconds, catch_up_page=WATCH.catch_up_page)
    server = await start_watching(config)
    backfill_id = await new_backfill(server.stub, "fanout")
    request = api.WatchBackfillRequest(backfill_id=backfill_id, include_snapshot=True, follow=True)
    stubs = [server.stub_on(server.channel()) for _ in range(CHANNELS)]
    calls = [stubs[n % CHANNELS].WatchBackfill(request) for n in range(WATCHERS)]
    stalled = server.stub_on(server.channel(STALLING_CLIENT_OPTIONS)).WatchBackfill(request)
    for call in [*calls, stalled]:  # the snapshot comes after subscribing: every watcher is live from here
        first = await asyncio.wait_for(call.read(), 30)
        assert first.WhichOneof("kind") == "snapshot"
    start = first.snapshot.sequence

    async def read_all_events(call) -> list[api.BackfillEvent]:  # noqa: ANN001 - the generated call type
        return events_of(await read_until(call, lambda m: m.WhichOneof("kind") == "event" and m.event.state_version == 2 + EVENTS))

    readers = asyncio.gather(*(read_all_events(call) for call in calls))
    await churn(server.stub, backfill_id, EVENTS, label="fanout", reason=LONG_REASON)
    received = await asyncio.wait_for(readers, 120)  # while the stalled watcher reads nothing

    log = [event for event in await event_log(server.stub, backfill_id) if event.sequence > start]
    assert len(log) == EVENTS
    assert all(events == log for events in received)
    stats = server.hub.stats()
    assert stats.lag_episodes >= 1, "the stalled watcher's stream never filled up: the test proves nothing"
    # The hub's own accounting: never more than queue_bound events per watcher, whatever the stalled one does.
    largest_event = max(len(event.SerializeToString()) for event in log) + 400
    assert stats.peak_buffered_events <= (WATCHERS + 1) * config.queue_bound
    assert stats.peak_buffered_bytes <= (WATCHERS + 1) * config.queue_bound * largest_event
    logger.warning(
        "500 watchers x %d events: peak %d events / %d bytes buffered by the hub (bound %d events); %d lag episodes",
        EVENTS, stats.peak_buffered_events, stats.peak_buffered_bytes, (WATCHERS + 1) * config.queue_bound,
        stats.lag_episodes,
    )

    # Once it reads again, the stalled watcher catches up from the store: complete, in order, no duplicate.
    assert await read_all_events(stalled) == log
    for call in [*calls, stalled]:
        call.cancel()
