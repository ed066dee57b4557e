"""Resuming watch streams: many disconnects, a server restart, a watcher too far behind, shutdown."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api
from arco_grpc.service.watch_hub import WatchConfig
from tests.service.watch_support import (
    LONG_REASON,
    READ_TIMEOUT,
    STALLING_CLIENT_OPTIONS,
    WATCH,
    WatchStarter,
    churn,
    event_log,
    events_of,
    eventually,
    new_backfill,
    read_to_end,
    read_until,
    read_until_error,
    resume_point,
    start_watching,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.backends("sqlite", "postgres")


def watch(backfill_id: str, after: int = 0, *, follow: bool = True, snapshot: bool = False) -> api.WatchBackfillRequest:
    return api.WatchBackfillRequest(backfill_id=backfill_id, after_sequence=after, follow=follow,
                                    include_snapshot=snapshot)


async def cancel(stub, backfill_id: str, request_id: str) -> None:  # noqa: ANN001 - the generated stub
    await stub.CancelBackfill(api.CancelBackfillRequest(request_id=request_id, backfill_id=backfill_id))


async def test_many_disconnects_during_a_busy_backfill_lose_and_repeat_nothing(start_watching: WatchStarter) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "busy")
    driver = asyncio.create_task(churn(server.stub, backfill_id, 240, label="busy"))
    received: list[api.BackfillEvent] = []
    connections = while_busy = 0
    last_sequence: int | None = None  # known once the driver is done
    while last_sequence is None or received[-1].sequence < last_sequence:
        # Every connection takes a few events (1 to 7), then hangs up mid-stream.
        call = server.stub.WatchBackfill(watch(backfill_id, received[-1].sequence if received else 0))
        connections += 1
        while_busy += not driver.done()
        wanted, taken = 1 + connections % 7, 0
        while taken < wanted:
            message = await asyncio.wait_for(call.read(), READ_TIMEOUT)
            if message.WhichOneof("kind") == "event":
                received.append(message.event)
                taken += 1
            if driver.done() and last_sequence is None:
                last_sequence = (await event_log(server.stub, backfill_id))[-1].sequence
            if last_sequence is not None and received[-1].sequence >= last_sequence:
                break
        call.cancel()
    await driver
    assert connections > 40
    assert while_busy > 20, f"only {while_busy} connections overlapped the mutations"
    sequences = [event.sequence for event in received]
    assert len(sequences) == len(set(sequences)), "an event was delivered twice"
    assert received == await event_log(server.stub, backfill_id)


async def test_a_server_restart_during_a_watch_loses_nothing(start_watching: WatchStarter) -> None:
    first = await start_watching()
    backfill_id = await new_backfill(first.stub, "restart")
    call = first.stub.WatchBackfill(watch(backfill_id))
    await churn(first.stub, backfill_id, 10, label="before")
    received = events_of(await read_until(call, lambda m: m.event.state_version == 12))

    stopping = asyncio.create_task(first.stop(grace=5))
    late, error = await read_until_error(call)
    received += events_of(late)
    code, reason, resume_after = resume_point(error)
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "SERVER_SHUTTING_DOWN")
    assert resume_after == received[-1].sequence
    assert "after_sequence=" in error.details()
    await stopping

    second = await start_watching()  # same database, new port
    await churn(second.stub, backfill_id, 6, label="while-away")
    resumed = second.stub.WatchBackfill(watch(backfill_id, resume_after, follow=False))
    await churn(second.stub, backfill_id, 6, label="after")
    await cancel(second.stub, backfill_id, "restart-cancel")
    received += events_of(await read_to_end(resumed))
    assert received == await event_log(second.stub, backfill_id)
    assert received[-1].type == "BackfillCancelled"


async def test_a_watcher_too_far_behind_is_told_where_to_resume(start_watching: WatchStarter) -> None:
    config = WatchConfig(queue_bound=4, max_lag_events=20, heartbeat_seconds=WATCH.heartbeat_seconds,
                         catch_up_page=WATCH.catch_up_page)
    server = await start_watching(config)
    backfill_id = await new_backfill(server.stub, "behind")
    stalled = server.stub_on(server.channel(STALLING_CLIENT_OPTIONS)).WatchBackfill(watch(backfill_id))
    received = events_of(await read_until(stalled, lambda m: m.WhichOneof("kind") == "event"))
    # The watcher reads nothing more: its stream stalls, its queue overflows, it misses more than 20 live events.
    await churn(server.stub, backfill_id, 60, label="flood", reason=LONG_REASON)
    await eventually(lambda: server.hub.stats().ended_too_far_behind == 1, "the stalled watcher is ended")

    late, error = await read_until_error(stalled)
    received += events_of(late)
    code, reason, resume_after = resume_point(error)
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "WATCHER_TOO_FAR_BEHIND")
    assert resume_after == received[-1].sequence
    assert f"after_sequence={resume_after}" in error.details()

    await cancel(server.stub, backfill_id, "behind-cancel")
    resumed = server.stub.WatchBackfill(watch(backfill_id, resume_after, follow=False))
    received += events_of(await read_to_end(resumed))
    assert received == await event_log(server.stub, backfill_id)


async def test_shutdown_ends_every_stream_unavailable_without_waiting_for_the_grace(
    start_watching: WatchStarter,
) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "shutdown")
    one = server.stub.WatchBackfill(watch(backfill_id, snapshot=True))
    every = server.stub.WatchBackfills(api.WatchBackfillsRequest(include_snapshot=True))
    await read_until(one, lambda m: m.WhichOneof("kind") == "heartbeat")
    await read_until(every, lambda m: m.WhichOneof("kind") == "heartbeat")
    head = server.hub.head

    # A 60 s grace: the stop must not wait for it, because the streams end at once.
    await asyncio.wait_for(server.stop(grace=60), 20)
    for call in (one, every):
        _, error = await read_until_error(call)
        code, reason, resume_after = resume_point(error)
        assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "SERVER_SHUTTING_DOWN")
        assert resume_after <= head
