"""Behaviour every EventStore backend must have (the backend list is in conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2, events_pb2
from arco_grpc.store import (
    AssetRecord,
    EventStore,
    NewEvent,
    RequestIdReused,
    RequestRecord,
    StoredEvent,
    StoreUnavailable,
    Transaction,
    WrongExpectedVersion,
    open_store,
)
from arco_grpc.store.payloads import encode_event
from arco_grpc.store.projections import project_catalog

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def event(n: int) -> NewEvent:
    return NewEvent(event_type="Thing", payload=f"payload-{n}".encode())


def request(request_id: str, fingerprint: str = "f1", response: bytes = b"answer") -> RequestRecord:
    return RequestRecord(request_id=request_id, method="Test/Do", body_fingerprint=fingerprint, response=response)


async def test_append_then_read_returns_events_with_versions_and_sequences(store: EventStore) -> None:
    first = await store.append("s-1", 0, [event(1), event(2)], request=None, recorded_at=T0)
    second = await store.append("s-2", 0, [event(3)], request=None, recorded_at=T0 + timedelta(seconds=1))
    third = await store.append("s-1", 2, [event(4)], request=None, recorded_at=T0 + timedelta(seconds=2))

    assert [e.stream_version for e in first.events] == [1, 2]
    assert [e.stream_version for e in third.events] == [3]
    all_events = [*first.events, *second.events, *third.events]
    assert [e.sequence for e in all_events] == sorted(e.sequence for e in all_events)
    assert await store.read_stream("s-1") == [*first.events, *third.events]
    assert await store.read_stream("s-1", after_version=1, limit=1) == [first.events[1]]
    assert await store.read_all() == all_events
    assert await store.read_all(after_sequence=first.events[1].sequence, limit=1) == list(second.events)
    assert await store.max_sequence() == third.events[0].sequence
    assert await store.stream_version("s-1") == 3
    assert await store.stream_version("nothing") == 0
    stored = (await store.read_stream("s-1"))[0]
    assert stored == StoredEvent(
        sequence=first.events[0].sequence,
        stream_id="s-1",
        stream_version=1,
        event_type="Thing",
        payload=b"payload-1",
        request_id=None,
        recorded_at=T0,
    )


async def test_empty_store_reads_nothing(store: EventStore) -> None:
    assert await store.read_all() == []
    assert await store.max_sequence() == 0
    assert await store.find_request("r") is None
    snapshot = await store.catalog_snapshot("catalog")
    assert (snapshot.stream_version, snapshot.assets) == (0, ())


@pytest.mark.parametrize("expected", [0, 1, 3])
async def test_wrong_expected_version_is_refused_and_writes_nothing(store: EventStore, expected: int) -> None:
    await store.append("s", 0, [event(1), event(2)], request=None, recorded_at=T0)
    before = await store.read_all()

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append("s", expected, [event(3)], request=request("r-1"), recorded_at=T0)

    assert caught.value.actual_version == 2
    assert await store.read_all() == before
    assert await store.find_request("r-1") is None


async def test_concurrent_appends_at_the_same_version_let_exactly_one_win(store: EventStore) -> None:
    results = await asyncio.gather(
        *(store.append("race", 0, [event(n)], request=None, recorded_at=T0) for n in range(8)),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(loser, WrongExpectedVersion) for loser in losers)
    assert [e.payload for e in await store.read_stream("race")] == [winners[0].events[0].payload]


async def test_expected_version_none_appends_after_the_current_version(store: EventStore) -> None:
    await store.append("s", None, [event(1)], request=None, recorded_at=T0)
    result = await store.append("s", None, [event(2)], request=None, recorded_at=T0)
    assert [e.stream_version for e in result.events] == [2]


async def test_repeated_request_returns_the_first_answer_and_writes_nothing(store: EventStore) -> None:
    first = await store.append("s", 0, [event(1)], request=request("r-1", response=b"first"), recorded_at=T0)
    after_first = await store.read_all()

    # The retry decided against a newer state and carries other events: it must not matter.
    again = await store.append("s", 1, [event(2)], request=request("r-1", response=b"second"), recorded_at=T0)

    assert (first.replayed, first.response) == (False, b"first")
    assert (again.replayed, again.response, again.events) == (True, b"first", ())
    assert await store.read_all() == after_first
    assert first.events[0].request_id == "r-1"
    assert await store.find_request("r-1") == request("r-1", response=b"first")


@pytest.mark.parametrize(
    "reuse",
    [
        RequestRecord("r-1", "Test/Do", "other-body", b"x"),
        RequestRecord("r-1", "Test/Other", "f1", b"x"),
    ],
    ids=["different-body", "different-method"],
)
async def test_request_id_reused_for_a_different_request_is_refused(store: EventStore, reuse: RequestRecord) -> None:
    await store.append("s", 0, [event(1)], request=request("r-1"), recorded_at=T0)
    before = await store.read_all()

    with pytest.raises(RequestIdReused) as caught:
        await store.append("s", 1, [event(2)], request=reuse, recorded_at=T0)

    assert caught.value.violations[0].field == "request_id"
    assert "was already used for a different request" in caught.value.message
    assert await store.read_all() == before
    assert await store.find_request("r-1") == request("r-1")


async def test_a_request_without_events_still_remembers_its_answer(store: EventStore) -> None:
    result = await store.append("s", 0, [], request=request("noop", response=b"nothing to do"), recorded_at=T0)
    again = await store.append("s", 0, [], request=request("noop", response=b"other"), recorded_at=T0)

    assert (result.events, result.replayed) == ((), False)
    assert (again.response, again.replayed) == (b"nothing to do", True)
    assert await store.read_all() == []
    assert await store.find_request("noop") == request("noop", response=b"nothing to do")


async def test_a_failing_projector_rolls_back_the_whole_append(store: EventStore) -> None:
    async def failing(transaction: Transaction, events: list[StoredEvent]) -> None:
        await transaction.put_asset(AssetRecord("a", 1, b"x", T0))
        raise RuntimeError("projection bug")

    with pytest.raises(RuntimeError, match="projection bug"):
        await store.append("s", 0, [event(1)], request=request("r"), recorded_at=T0, project=failing)

    assert await store.read_all() == []
    assert await store.find_request("r") is None
    assert await store.get_asset("a") is None
    # The writer is usable afterwards.
    assert len((await store.append("s", 0, [event(2)], request=None, recorded_at=T0)).events) == 1


async def watch_sequences(store: EventStore, writers_done: asyncio.Event, seen: list[int]) -> None:
    """Follows the log from a cursor, as a watcher does, into ``seen`` until the writers are done and it is read."""
    cursor = 0
    while True:
        finished = writers_done.is_set()
        batch = await store.read_all(after_sequence=cursor)
        seen.extend(e.sequence for e in batch)
        cursor = batch[-1].sequence if batch else cursor
        if finished and not batch:
            return
        await asyncio.sleep(0)  # yield to the writers; not synchronisation


async def test_commit_order_equals_sequence_order_so_a_cursor_misses_nothing(store: EventStore) -> None:
    writers_done = asyncio.Event()
    seen: list[int] = []

    async def write(stream: int) -> None:
        version = 0
        for n in range(10):
            result = await store.append(f"s-{stream}", version, [event(n)], request=None, recorded_at=T0)
            version = result.events[-1].stream_version

    watcher = asyncio.create_task(watch_sequences(store, writers_done, seen))
    await asyncio.gather(*(write(stream) for stream in range(6)))
    writers_done.set()
    await asyncio.wait_for(watcher, timeout=30)

    everything = [e.sequence for e in await store.read_all()]
    assert len(everything) == 60
    assert seen == everything
    for stream in range(6):
        assert [e.stream_version for e in await store.read_stream(f"s-{stream}")] == list(range(1, 11))


def assets_applied(*assets: tuple[str, int]) -> NewEvent:
    return encode_event(
        events_pb2.AssetsApplied(
            assets=[assets_pb2.Asset(key=key, version=version, description=f"v{version}") for key, version in assets]
        )
    )


async def test_catalog_projection_keeps_assets_in_the_same_transaction(store: EventStore) -> None:
    first = [assets_applied(("b", 1), ("a", 1))]
    await store.append("catalog", 0, first, request=None, recorded_at=T0, project=project_catalog)
    later = T0 + timedelta(hours=1)
    second = [assets_applied(("a", 2))]
    await store.append("catalog", 1, second, request=None, recorded_at=later, project=project_catalog)

    snapshot = await store.catalog_snapshot("catalog")
    assert snapshot.stream_version == 2
    assert [(a.key, a.version, a.updated_at) for a in snapshot.assets] == [("a", 2, later), ("b", 1, T0)]
    stored = assets_pb2.Asset.FromString(snapshot.assets[0].definition)
    assert (stored.key, stored.description) == ("a", "v2")
    assert await store.get_asset("b") == snapshot.assets[1]
    assert await store.get_asset("c") is None
    assert [a.key for a in await store.list_assets(None, 1)] == ["a"]
    assert [a.key for a in await store.list_assets("a", 10)] == ["b"]


async def test_dynamic_partitions_keep_insertion_order_and_readd_moves_to_the_end(store: EventStore) -> None:
    def added(*keys: str) -> NewEvent:
        return encode_event(events_pb2.DynamicPartitionsAdded(name="customers", keys=keys))

    def deleted(*keys: str) -> NewEvent:
        return encode_event(events_pb2.DynamicPartitionsDeleted(name="customers", keys=keys))

    stream = "dynamic/customers"
    steps = [added("c", "a", "b"), added("d"), deleted("a", "zz"), added("a"), deleted("c")]
    for version, step in enumerate(steps):
        await store.append(stream, version, [step], request=None, recorded_at=T0, project=project_catalog)

    snapshot = await store.dynamic_partitions("customers", stream)
    assert snapshot.keys == ("b", "d", "a")
    assert snapshot.stream_version == len(steps)
    assert (await store.dynamic_partitions("other", "dynamic/other")).keys == ()


async def test_written_rows_are_never_changed_by_later_work(store: EventStore) -> None:
    """A workload of every write path; the rows of its first half must come back unchanged."""
    async def workload(prefix: str) -> None:
        stream = f"dynamic/{prefix}"
        await store.append(stream, 0, [encode_event(events_pb2.DynamicPartitionsAdded(name=prefix, keys=["x", "y"]))],
                           request=request(f"{prefix}-1"), recorded_at=T0, project=project_catalog)
        await store.append(stream, 1, [encode_event(events_pb2.DynamicPartitionsDeleted(name=prefix, keys=["x"]))],
                           request=request(f"{prefix}-2"), recorded_at=T0, project=project_catalog)
        await store.append(stream, 1, [], request=request(f"{prefix}-2"), recorded_at=T0)  # replay
        with pytest.raises(WrongExpectedVersion):
            await store.append(stream, 1, [event(0)], request=None, recorded_at=T0)
        with pytest.raises(RequestIdReused):
            await store.append(stream, 2, [event(0)], request=request(f"{prefix}-1", "other"), recorded_at=T0)
        version = await store.stream_version("catalog")
        await store.append("catalog", version, [assets_applied((prefix, 1))], request=None, recorded_at=T0,
                           project=project_catalog)

    await workload("first")
    before = await store.read_all()
    await workload("second")
    after = await store.read_all()

    assert after[: len(before)] == before
    assert len(after) == 2 * len(before)


async def test_a_closed_store_refuses_work(store: EventStore) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.append("s", 0, [event(1)], request=None, recorded_at=T0)
    with pytest.raises(StoreUnavailable):
        await store.read_all()
    await store.close()  # closing twice is harmless


async def test_close_waits_for_the_write_in_progress(store: EventStore) -> None:
    projector_entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(transaction: Transaction, events: list[StoredEvent]) -> None:
        projector_entered.set()
        await release.wait()

    append = asyncio.create_task(store.append("s", 0, [event(1)], request=None, recorded_at=T0, project=slow))
    await asyncio.wait_for(projector_entered.wait(), timeout=10)
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    result = await asyncio.wait_for(append, timeout=10)
    await asyncio.wait_for(closing, timeout=10)
    assert [e.stream_version for e in result.events] == [1]


async def test_reopening_keeps_everything(persistent_location: str) -> None:
    location = persistent_location
    store = await open_store(location)
    try:
        await store.append("s", 0, [event(1), event(2)], request=request("r"), recorded_at=T0)
        await store.append("catalog", 0, [assets_applied(("a", 1))], request=None, recorded_at=T0,
                           project=project_catalog)
        events = await store.read_all()
        assets = (await store.catalog_snapshot("catalog")).assets
    finally:
        await store.close()

    reopened = await open_store(location)
    try:
        assert await reopened.read_all() == events
        assert (await reopened.catalog_snapshot("catalog")).assets == assets
        assert await reopened.find_request("r") == request("r")
        next_event = await reopened.append("s", 2, [event(3)], request=None, recorded_at=T0)
        assert next_event.events[0].sequence > events[-1].sequence
    finally:
        await reopened.close()
