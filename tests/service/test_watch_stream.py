"""WatchBackfill's messages: the snapshot, follow off and on, heartbeats, progress, bad requests."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api
from tests.service.backfill_helpers import event_count
from tests.service.conftest import call_failure, db_path  # noqa: F401 - fixture
from tests.service.watch_support import (
    WatchStarter,
    churn,
    event_log,
    events_of,
    kinds,
    new_backfill,
    read_to_end,
    read_until,
    start_watching,  # noqa: F401 - fixture
)

REPORTED_AT = datetime(2025, 1, 1, 0, 5, tzinfo=timezone.utc)


def watch(backfill_id: str, after: int = 0, *, follow: bool = True, snapshot: bool = False) -> api.WatchBackfillRequest:
    return api.WatchBackfillRequest(backfill_id=backfill_id, after_sequence=after, follow=follow,
                                    include_snapshot=snapshot)


async def test_the_snapshot_equals_get_backfill_at_the_same_state_version(start_watching: WatchStarter) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "snap", tags={"team": "data"}, title="snapshots")
    for round_number in range(3):
        await churn(server.stub, backfill_id, 3, label=f"snap-{round_number}")
        call = server.stub.WatchBackfill(watch(backfill_id, snapshot=True))
        first = await asyncio.wait_for(call.read(), 10)
        got = await server.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))
        assert first.WhichOneof("kind") == "snapshot"
        assert first.snapshot.backfill.state_version == got.backfill.state_version == 2 + 4 * round_number + 3
        assert first.snapshot.backfill == got.backfill
        log = await event_log(server.stub, backfill_id)
        assert first.snapshot.sequence == log[-1].sequence  # the sequence of the event at that state_version
        # What follows the snapshot starts right after it.
        await churn(server.stub, backfill_id, 1, label=f"next-{round_number}")
        following = events_of(await read_until(call, lambda m: m.WhichOneof("kind") == "event"))
        assert following[0].state_version == first.snapshot.backfill.state_version + 1
        call.cancel()


async def test_follow_off_ends_after_the_terminal_event(start_watching: WatchStarter) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "ends")
    call = server.stub.WatchBackfill(watch(backfill_id, follow=False))
    await churn(server.stub, backfill_id, 4, label="ends")
    await server.stub.CancelBackfill(api.CancelBackfillRequest(request_id="ends-cancel", backfill_id=backfill_id))
    events = events_of(await read_to_end(call))
    assert [e.type for e in events][-2:] == ["BackfillCancelRequested", "BackfillCancelled"]
    assert events == await event_log(server.stub, backfill_id)
    assert await call.code() == grpc.StatusCode.OK

    # Already terminal: the snapshot alone, then the end; from an earlier cursor, the rest of the log, then the end.
    only_snapshot = await read_to_end(server.stub.WatchBackfill(watch(backfill_id, follow=False, snapshot=True)))
    assert kinds(only_snapshot) == ["snapshot"]
    assert only_snapshot[0].snapshot.backfill.state == only_snapshot[0].snapshot.backfill.STATE_CANCELLED
    rest = events_of(await read_to_end(server.stub.WatchBackfill(watch(backfill_id, events[2].sequence, follow=False))))
    assert rest == events[3:]
    assert await read_to_end(server.stub.WatchBackfill(watch(backfill_id, events[-1].sequence, follow=False))) == []


async def test_follow_on_stays_open_after_the_terminal_event(start_watching: WatchStarter) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "stays")
    await server.stub.CancelBackfill(api.CancelBackfillRequest(request_id="stays-cancel", backfill_id=backfill_id))
    call = server.stub.WatchBackfill(watch(backfill_id, follow=True))
    messages = await read_until(call, lambda m: m.WhichOneof("kind") == "heartbeat")
    assert [e.type for e in events_of(messages)][-1] == "BackfillCancelled"
    assert kinds(await read_until(call, lambda m: True)) == ["heartbeat"]  # still open
    call.cancel()


async def test_an_idle_stream_gets_heartbeats_with_the_head_sequence(start_watching: WatchStarter) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "idle")
    other = await new_backfill(server.stub, "busy-elsewhere")
    call = server.stub.WatchBackfill(watch(backfill_id))
    first = await read_until(call, lambda m: m.WhichOneof("kind") == "heartbeat")
    assert kinds(first) == ["event", "event", "heartbeat"]
    assert first[-1].heartbeat.sequence == server.hub.head
    await churn(server.stub, other, 2, label="elsewhere")  # other backfills move the head, not this stream
    beat = await read_until(call, lambda m: m.WhichOneof("kind") == "heartbeat" and m.heartbeat.sequence > first[-1].heartbeat.sequence)
    assert kinds(beat) == ["heartbeat"] * len(beat)
    assert beat[-1].heartbeat.sequence == server.hub.head
    assert beat[-1].heartbeat.time.seconds > 0
    call.cancel()


async def test_progress_is_coalesced_sent_live_and_never_stored_or_replayed(
    start_watching: WatchStarter, db_path: Path  # noqa: F811 - fixture
) -> None:
    server = await start_watching()
    backfill_id = await new_backfill(server.stub, "progress")
    call = server.stub.WatchBackfill(watch(backfill_id))
    await read_until(call, lambda m: m.WhichOneof("kind") == "heartbeat")  # subscribed and caught up
    stored_before = event_count(db_path)
    # A chatty worker: 100 reports for one chunk at once, one for another chunk, and one for another backfill.
    for step in range(100):
        server.hub.publish_progress(backfill_id, "orders", 1, 0, "run-0", step / 100, f"step {step}", REPORTED_AT)
    server.hub.publish_progress(backfill_id, "orders", 1, 1, "run-1", 2.5, "x" * 5000, REPORTED_AT)
    server.hub.publish_progress("bf-aaaaaaaaaaaa", "orders", 1, 0, "run-9", 0.5, "elsewhere", REPORTED_AT)
    updates = []
    while not any(u.index == 0 and u.message == "step 99" for u in updates):
        message = await read_until(call, lambda m: m.WhichOneof("kind") == "progress")
        updates.append(message[-1].progress)
    chunk_zero = [(u.fraction, u.message) for u in updates if u.index == 0]
    # The first report at once, then only the latest of the rate-limit window.
    assert chunk_zero == [(0.0, "step 0"), (0.99, "step 99")]
    chunk_one = [u for u in updates if u.index == 1]
    assert [(u.run_id, u.fraction, len(u.message)) for u in chunk_one] == [("run-1", 1.0, 512)]  # clamped and cut
    assert {u.backfill_id for u in updates} == {backfill_id}
    assert updates[0].time.ToDatetime(tzinfo=timezone.utc) == REPORTED_AT
    assert event_count(db_path) == stored_before  # progress never reaches the event table
    call.cancel()

    # Resuming replays events, never progress.
    replay = await read_until(server.stub.WatchBackfill(watch(backfill_id)), lambda m: m.WhichOneof("kind") == "heartbeat")
    assert "progress" not in kinds(replay)


async def test_bad_requests_and_unknown_backfills(start_watching: WatchStarter) -> None:
    server = await start_watching()
    missing = await call_failure(read_to_end(server.stub.WatchBackfill(watch("bf-aaaaaaaaaaaa"))))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "BACKFILL_NOT_FOUND")
    bad_id = await call_failure(read_to_end(server.stub.WatchBackfill(watch("nope"))))
    assert (bad_id.code, bad_id.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, "backfill_id")
    backfill_id = await new_backfill(server.stub, "bad")
    negative = await call_failure(read_to_end(server.stub.WatchBackfill(watch(backfill_id, -1))))
    assert negative.violations[0][0] == "after_sequence"
    bad_state = await call_failure(read_to_end(server.stub.WatchBackfills(api.WatchBackfillsRequest(states=[42]))))
    assert bad_state.violations[0][0] == "states[0]"
