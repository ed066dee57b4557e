"""WatchBackfills: every backfill's events in sequence order, filtered by state (as events arrive), asset and tags."""

from __future__ import annotations

from datetime import datetime, timezone

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from tests.service.conftest import db_path  # noqa: F401 - fixture
from tests.service.watch_support import (
    WatchServer,
    WatchStarter,
    event_log,
    events_of,
    kinds,
    new_backfill,
    read_until,
    start_watching,  # noqa: F401 - fixture
)

REPORTED_AT = datetime(2025, 1, 1, 0, 5, tzinfo=timezone.utc)


async def until_caught_up(call, head: int) -> list:  # noqa: ANN001 - the generated call type
    """Messages up to a heartbeat that has considered ``head``."""
    return await read_until(call, lambda m: m.WhichOneof("kind") == "heartbeat" and m.heartbeat.sequence >= head)


async def steer(server: WatchServer, verb: str, backfill_id: str, request_id: str, **fields: object) -> None:
    method = getattr(server.stub, f"{verb}Backfill")
    request = getattr(api, f"{verb}BackfillRequest")(request_id=request_id, backfill_id=backfill_id, **fields)
    await method(request)


async def test_filters_by_state_before_or_after_each_event_asset_and_tags(start_watching: WatchStarter) -> None:
    server = await start_watching()
    a = await new_backfill(server.stub, "fa", asset="orders", tags={"team": "x"})
    b = await new_backfill(server.stub, "fb", asset="regions", tags={"team": "y"})
    watches = {
        "paused": api.WatchBackfillsRequest(states=[bf.Backfill.STATE_PAUSED]),
        "regions": api.WatchBackfillsRequest(asset_key="regions"),
        "team x": api.WatchBackfillsRequest(tags={"team": "x"}),
        "paused and team x": api.WatchBackfillsRequest(states=[bf.Backfill.STATE_PAUSED], tags={"team": "x"}),
        "everything since 1": api.WatchBackfillsRequest(after_sequence=1),
    }
    calls = {name: server.stub.WatchBackfills(request) for name, request in watches.items()}
    # "From now" starts once subscribed: wait for that before changing anything.
    received = {name: events_of(await until_caught_up(call, server.hub.head)) for name, call in calls.items()}

    await steer(server, "Pause", a, "s1")  # a: RUNNING -> PAUSED
    await steer(server, "Update", a, "s2", max_concurrency=3)  # a stays PAUSED
    await steer(server, "Pause", b, "s3")  # b: RUNNING -> PAUSED
    await steer(server, "Resume", a, "s4")  # a: PAUSED -> RUNNING
    await steer(server, "Update", a, "s5", max_concurrency=4)  # a RUNNING: not a paused event
    await steer(server, "Resume", b, "s6")  # b: PAUSED -> RUNNING
    await steer(server, "Cancel", a, "s7")  # a: -> CANCELLING -> CANCELLED
    c = await new_backfill(server.stub, "fc", asset="orders", tags={"team": "x", "more": "tags"})
    head = server.hub.head

    log_a, log_b, log_c = [await event_log(server.stub, x) for x in (a, b, c)]
    steered_a, steered_b = log_a[2:], log_b[2:]
    expected = {
        "paused": [steered_a[0], steered_a[1], steered_b[0], steered_a[2], steered_b[1]],
        "regions": steered_b,
        "team x": [*steered_a, *log_c],
        "paused and team x": steered_a[:3],
        "everything since 1": sorted([*log_a, *log_b, *log_c], key=lambda e: e.sequence),
    }
    for name, call in calls.items():
        received[name] += events_of(await until_caught_up(call, head))
        assert received[name] == sorted(expected[name], key=lambda e: e.sequence), name
        call.cancel()


async def test_snapshots_of_matching_backfills_then_only_newer_events(start_watching: WatchStarter) -> None:
    server = await start_watching()
    running = await new_backfill(server.stub, "sr")
    paused = await new_backfill(server.stub, "sp")
    await steer(server, "Pause", paused, "sp-pause")
    call = server.stub.WatchBackfills(
        api.WatchBackfillsRequest(states=[bf.Backfill.STATE_RUNNING], include_snapshot=True, after_sequence=1)
    )
    first = await until_caught_up(call, server.hub.head)
    snapshots = [m.snapshot for m in first if m.WhichOneof("kind") == "snapshot"]
    assert [s.backfill.id for s in snapshots] == [running]  # the paused one does not match now
    got = await server.stub.GetBackfill(api.GetBackfillRequest(backfill_id=running))
    assert snapshots[0].backfill == got.backfill
    # The running backfill's events are folded into its snapshot; the other entered RUNNING, then left it.
    assert [(e.backfill_id, e.type) for e in events_of(first)] == [(paused, "BackfillStarted"), (paused, "BackfillPaused")]
    await steer(server, "Pause", running, "sr-pause")
    later = events_of(await until_caught_up(call, server.hub.head))
    assert [(e.backfill_id, e.type) for e in later] == [(running, "BackfillPaused")]
    call.cancel()


async def test_progress_reaches_only_watchers_whose_filter_matches(start_watching: WatchStarter) -> None:
    server = await start_watching()
    orders = await new_backfill(server.stub, "po", asset="orders")
    regions = await new_backfill(server.stub, "pr", asset="regions")
    every = server.stub.WatchBackfills(api.WatchBackfillsRequest())
    only_regions = server.stub.WatchBackfills(api.WatchBackfillsRequest(asset_key="regions"))
    for call in (every, only_regions):
        await until_caught_up(call, server.hub.head)
    server.hub.publish_progress(orders, "orders", 1, 0, "run-o", 0.5, "orders half", REPORTED_AT)
    server.hub.publish_progress(regions, "regions", 1, 0, "run-r", 0.25, "regions quarter", REPORTED_AT)
    seen_by_every = await read_until(every, lambda m: m.WhichOneof("kind") == "progress" and m.progress.backfill_id == regions)
    seen_by_regions = await read_until(only_regions, lambda m: m.WhichOneof("kind") == "progress")
    assert {m.progress.backfill_id for m in seen_by_every if m.WhichOneof("kind") == "progress"} == {orders, regions}
    assert [m.progress.message for m in seen_by_regions if m.WhichOneof("kind") == "progress"] == ["regions quarter"]
    assert "progress" not in kinds(await until_caught_up(only_regions, server.hub.head))
    every.cancel()
    only_regions.cancel()
