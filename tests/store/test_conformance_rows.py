"""Rows read back as written, keys in byte order, and several stores on one database, on every backend."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from arco_grpc.store import (
    AssetRecord,
    BackfillFilter,
    ChunkQuery,
    ChunkRecord,
    EventStore,
    NewEvent,
    RunRecord,
    StoredEvent,
    Transaction,
    WrongExpectedVersion,
    open_store,
)
from arco_grpc.store.model import StatusUpdate
from tests.store.test_conformance import watch_sequences
from tests.store.test_conformance_backfills import record

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


class _AppendByte:
    """A status update that appends one byte to the stored row."""

    def __init__(self, byte: bytes) -> None:
        self.byte = byte

    def __call__(self, stored: bytes | None) -> bytes:
        return (stored or b"") + self.byte

    def then(self, later: StatusUpdate) -> StatusUpdate:
        raise AssertionError("one update per row and append in these tests")


def thing(n: int = 0) -> NewEvent:
    return NewEvent("Thing", f"p-{n}".encode())


async def test_each_append_updates_the_status_row_as_the_one_before_left_it(store: EventStore) -> None:
    for version, byte in enumerate((b"a", b"b", b"c")):
        async def project(transaction: Transaction, _: list[StoredEvent], byte: bytes = byte) -> None:
            await transaction.update_partition_status("asset", "space", _AppendByte(byte))
            await transaction.update_partition_status("other", "space", _AppendByte(byte.upper()))

        await store.append("s", version, [thing()], request=None, recorded_at=T0, project=project)
    assert await store.partition_status("asset", "space") == b"abc"
    assert await store.partition_status("other", "space") == b"ABC"
    assert await store.partition_status("asset", "elsewhere") is None


async def test_runs_read_back_as_recorded_whether_or_not_their_end_and_submission_columns_are_set(
    store: EventStore,
) -> None:
    leased = RunRecord("rk-1", "bf", "a", 1, 0, 1, T0, run_id="run-1", worker_id="w", state=2, lease_sequence=1,
                       partitions=b"\x08\x01", partition_count=1, lease_position=3, waited_for=("run-0",))
    submitted = RunRecord("rk-2", "bf", "a", 1, 1, 1, T0, run_id="run-2", state=7, lease_sequence=1, origin=2,
                          origin_name="sched", scope_key="scope", origin_run_key="tick", scheduled_at=T0,
                          submitted_at=T0, metadata=(("k", "v"), ("é", "ü")), error="e", will_retry=True)

    async def project(transaction: Transaction, _: list[StoredEvent]) -> None:
        await transaction.record_runs([leased, submitted])

    await store.append("s", 0, [thing()], request=None, recorded_at=T0, project=project)
    assert await store.get_run("rk-1") == leased
    assert await store.get_run("rk-2") == submitted
    assert await store.get_run_by_id("run-2") == submitted
    assert await store.runs_in_scope("scope") == [submitted]


async def test_a_chunk_row_reads_back_as_last_written_whether_or_not_it_has_failed(store: EventStore) -> None:
    fresh = ChunkRecord("bf", 0, "a", 1, 4, 2, 1, "rk-1", 1, b"\x08\x04", T0, b"\x08\x04", 1, "run-1", "w", T0, T0, 30)
    failed = ChunkRecord("bf", 0, "a", 1, 4, 4, 2, "rk-2", 1, b"\x08\x04", T0, b"\x08\x04", 1, "run-2", "w",
                         next_attempt_at=T0, failed_attempts=1, failed_count=1, error="boom")
    for version, chunk in enumerate((fresh, failed, fresh)):
        async def project(transaction: Transaction, _: list[StoredEvent], chunk: ChunkRecord = chunk) -> None:
            await transaction.put_chunk(chunk)

        await store.append("s", version, [thing()], request=None, recorded_at=T0, project=project)
        assert await store.list_chunks(ChunkQuery("bf", (0, 0, 0), 10)) == [chunk]


# Keys whose order by bytes (code points) differs from a natural-language order: case, punctuation, accents.
KEYS = ["b", "B", "a", "_x", "é", "Z", "a-b", "a_b", "ab", "A"]


async def test_keys_sort_and_page_by_their_bytes(store: EventStore) -> None:
    async def project(transaction: Transaction, _: list[StoredEvent]) -> None:
        for key in KEYS:
            await transaction.put_asset(AssetRecord(key, 1, b"d", T0))
        await transaction.put_backfill(record("bf-1", 1, tags=tuple((key, "v") for key in KEYS)))

    await store.append("s", 0, [thing()], request=None, recorded_at=T0, project=project)

    in_byte_order = sorted(KEYS, key=lambda key: key.encode())
    assert [a.key for a in (await store.catalog_snapshot("catalog")).assets] == in_byte_order
    paged, after = [], None
    while page := await store.list_assets(after, 3):
        paged.extend(a.key for a in page)
        after = page[-1].key
    assert paged == in_byte_order
    listed = await store.list_backfills(BackfillFilter(), None, 10)
    assert [key for key, _ in listed[0][0].tags] == in_byte_order


async def test_reads_never_see_an_append_in_progress(persistent_location: str) -> None:
    store = await open_store(persistent_location)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(transaction: Transaction, _: list[StoredEvent]) -> None:
        await transaction.put_asset(AssetRecord("a", 1, b"d", T0))
        await transaction.get_backfill("bf-none")  # writes the asset row now, inside the transaction
        entered.set()
        await release.wait()

    try:
        await store.append("s", 0, [thing(1)], request=None, recorded_at=T0)
        before = await store.read_all()
        append = asyncio.create_task(store.append("s", 1, [thing(2)], request=None, recorded_at=T0, project=slow))
        await asyncio.wait_for(entered.wait(), timeout=10)
        assert await store.read_all() == before
        assert (await store.max_sequence(), await store.stream_version("s")) == (1, 1)
        assert await store.get_asset("a") is None
        release.set()
        await asyncio.wait_for(append, timeout=10)
        assert [e.stream_version for e in await store.read_stream("s")] == [1, 2]
        assert await store.get_asset("a") is not None
    finally:
        release.set()
        await store.close()


async def test_two_stores_on_one_database_commit_in_sequence_order(persistent_location: str) -> None:
    """Appends of two store instances (as of two servers) interleave: the sequences have no gap and no
    duplicate, a watcher on either store misses nothing, and a version race has one winner across both."""
    stores = [await open_store(persistent_location), await open_store(persistent_location)]
    writers_done = asyncio.Event()
    seen: list[int] = []

    async def write(store: EventStore, stream: str) -> None:
        version = 0
        for n in range(8):
            result = await store.append(stream, version, [thing(n)], request=None, recorded_at=T0)
            version = result.events[-1].stream_version

    try:
        watcher = asyncio.create_task(watch_sequences(stores[0], writers_done, seen))
        await asyncio.gather(*(write(stores[n % 2], f"s-{n}") for n in range(4)))
        race = await asyncio.gather(
            *(stores[n % 2].append("race", 0, [thing(n)], request=None, recorded_at=T0) for n in range(6)),
            return_exceptions=True,
        )
        writers_done.set()
        await asyncio.wait_for(watcher, timeout=30)

        everything = [e.sequence for e in await stores[1].read_all()]
        assert everything == list(range(1, 34))
        assert seen == everything
        assert len([r for r in race if not isinstance(r, BaseException)]) == 1
        assert all(isinstance(r, WrongExpectedVersion) for r in race if isinstance(r, BaseException))
        for n in range(4):
            assert [e.stream_version for e in await stores[0].read_stream(f"s-{n}")] == list(range(1, 9))
    finally:
        for store in stores:
            await store.close()
