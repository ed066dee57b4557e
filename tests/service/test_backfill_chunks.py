"""ListChunks and GetChunk: the lazy plan, stored rows merged in, filters, pages, run keys, 10^7 partitions."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p
from arco_grpc.planning.chunks import run_key
from arco_grpc.store import ChunkRecord, NewEvent, StoredEvent, Transaction
from tests.service.backfill_helpers import (  # noqa: F401 - backfills is a fixture
    MINUTELY_COUNT,
    Backfills,
    backfills,
    create,
    serve_backfills,
    table_counts,
    target,
)
from tests.service.builders import key_range
from tests.service.conftest import ServerStarter, call_failure, stop

C = bf.Chunk
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


async def all_chunks(backfills: Backfills, page_size: int, **filters: object) -> list[bf.Chunk]:
    chunks: list[bf.Chunk] = []
    token = ""
    while True:
        page = await backfills.stub.ListChunks(
            api.ListChunksRequest(page_size=page_size, page_token=token, **filters)  # type: ignore[arg-type]
        )
        assert len(page.chunks) <= page_size
        chunks.extend(page.chunks)
        token = page.next_page_token
        if not token:
            return chunks


def where(chunks: list[bf.Chunk]) -> list[tuple[str, int, int, int]]:
    return [(c.asset_key, c.round, c.index, c.state) for c in chunks]


@pytest.fixture
async def two_targets(backfills: Backfills) -> str:
    """orders 2024-01-01..2024-01-20 in chunks of 7 (3 chunks), then regions (3 chunks of 1)."""
    request = create("c-1", target("orders", key_range("2024-01-01", "2024-01-20")), target("regions"))
    return (await backfills.stub.CreateBackfill(request)).backfill.id


async def test_pages_of_any_size_walk_the_plan_in_order(backfills: Backfills, two_targets: str) -> None:
    expected = [("orders", 1, k, C.STATE_PENDING) for k in range(3)] + [("regions", 1, k, C.STATE_PENDING) for k in range(3)]
    for size in (1, 2, 4, 6, 100):
        assert where(await all_chunks(backfills, size, backfill_id=two_targets)) == expected
    chunks = await all_chunks(backfills, 100, backfill_id=two_targets)
    assert [c.partition_count for c in chunks] == [7, 7, 6, 1, 1, 1]
    assert [c.first_key for c in chunks[3:]] == ["us", "eu", "ap"]
    assert all(c.run_key == run_key(two_targets, c.asset_key, 1, c.index, 1) and c.attempt == 1 for c in chunks)


async def test_filters_by_asset_round_and_start_index(backfills: Backfills, two_targets: str) -> None:
    assert where(await all_chunks(backfills, 2, backfill_id=two_targets, asset_key="regions")) == [
        ("regions", 1, k, C.STATE_PENDING) for k in range(3)
    ]
    assert len(await all_chunks(backfills, 2, backfill_id=two_targets, round=1)) == 6
    assert await all_chunks(backfills, 2, backfill_id=two_targets, round=2) == []
    assert [(c.asset_key, c.index) for c in await all_chunks(backfills, 2, backfill_id=two_targets, start_index=2)] == [
        ("orders", 2), ("regions", 2)
    ]
    assert await all_chunks(backfills, 2, backfill_id=two_targets, states=[C.STATE_SUCCEEDED]) == []
    missing = await call_failure(backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=two_targets, asset_key="grid")))
    assert missing.code == grpc.StatusCode.NOT_FOUND


async def store_rows(backfills: Backfills, *rows: ChunkRecord) -> None:
    """Writes chunk rows through the store, as the next issue's chunk events will."""

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        for row in rows:
            await transaction.put_chunk(row)

    await backfills.served.running.store.append(
        "test/chunks", None, [NewEvent("TestChunkRows", b"")], request=None, recorded_at=T0, project=project
    )


def row(backfill_id: str, target: int, asset: str, round_number: int, index: int, state: int,
        subset: p.PartitionSubset | None = None, count: int = 7) -> ChunkRecord:
    return ChunkRecord(
        backfill_id=backfill_id, target_position=target, asset_key=asset, round=round_number, chunk_index=index,
        state=state, attempt=2, run_key=run_key(backfill_id, asset, round_number, index, 2), partition_count=count,
        subset=None if subset is None else subset.SerializeToString(), updated_at=T0,
    )


async def test_stored_rows_replace_their_planned_chunks_and_filters_see_both(
    backfills: Backfills, two_targets: str
) -> None:
    retry = p.PartitionSubset(ranges=[p.IndexRange(start=3, end=5)])  # 2024-01-04, 2024-01-05
    await store_rows(
        backfills,
        row(two_targets, 0, "orders", 1, 1, C.STATE_SUCCEEDED),
        row(two_targets, 0, "orders", 1, 2, C.STATE_FAILED, count=6),
        row(two_targets, 0, "orders", 2, 0, C.STATE_LEASED, subset=retry, count=2),
        row(two_targets, 1, "regions", 1, 0, C.STATE_LEASED, count=1),
    )
    b = two_targets
    everything = await all_chunks(backfills, 2, backfill_id=b)
    assert where(everything) == [
        ("orders", 1, 0, C.STATE_PENDING), ("orders", 1, 1, C.STATE_SUCCEEDED), ("orders", 1, 2, C.STATE_FAILED),
        ("orders", 2, 0, C.STATE_LEASED), ("regions", 1, 0, C.STATE_LEASED), ("regions", 1, 1, C.STATE_PENDING),
        ("regions", 1, 2, C.STATE_PENDING),
    ]
    stored = everything[1]
    assert (stored.first_key, stored.attempt, stored.run_key) == ("2024-01-08", 2, run_key(b, "orders", 1, 1, 2))
    assert stored.HasField("update_time") and not everything[0].HasField("update_time")
    retried = everything[3]
    assert (list(retried.partition_keys), retried.partition_count) == (["2024-01-04", "2024-01-05"], 2)
    for size in (1, 3):
        assert where(await all_chunks(backfills, size, backfill_id=b, states=[C.STATE_PENDING])) == [
            ("orders", 1, 0, C.STATE_PENDING), ("regions", 1, 1, C.STATE_PENDING), ("regions", 1, 2, C.STATE_PENDING)
        ]
        assert where(await all_chunks(backfills, size, backfill_id=b, states=[C.STATE_LEASED])) == [
            ("orders", 2, 0, C.STATE_LEASED), ("regions", 1, 0, C.STATE_LEASED)
        ]
    assert where(await all_chunks(backfills, 5, backfill_id=b, round=2)) == [("orders", 2, 0, C.STATE_LEASED)]
    assert where(await all_chunks(backfills, 5, backfill_id=b, asset_key="orders", states=[C.STATE_FAILED, C.STATE_PENDING])) == [
        ("orders", 1, 0, C.STATE_PENDING), ("orders", 1, 2, C.STATE_FAILED)
    ]
    got = await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=b))
    assert dict(got.backfill.progress.chunks_by_state) == {
        "STATE_PENDING": 3, "STATE_LEASED": 2, "STATE_SUCCEEDED": 1, "STATE_FAILED": 1
    }
    assert (got.backfill.progress.partitions_running, got.backfill.progress.partitions_pending) == (3, 9)
    chunk = await backfills.stub.GetChunk(api.GetChunkRequest(backfill_id=b, asset_key="orders", round=2, index=0))
    assert chunk.chunk == retried


async def test_get_chunk_answers_planned_chunks_and_refuses_missing_ones(backfills: Backfills, two_targets: str) -> None:
    planned = await backfills.stub.GetChunk(
        api.GetChunkRequest(backfill_id=two_targets, asset_key="orders", round=1, index=2)
    )
    listed = await all_chunks(backfills, 10, backfill_id=two_targets)
    assert planned.chunk == listed[2]
    for request, code in (
        (api.GetChunkRequest(backfill_id=two_targets, asset_key="orders", round=1, index=3), grpc.StatusCode.NOT_FOUND),
        (api.GetChunkRequest(backfill_id=two_targets, asset_key="orders", round=2, index=0), grpc.StatusCode.NOT_FOUND),
        (api.GetChunkRequest(backfill_id=two_targets, asset_key="grid", round=1, index=0), grpc.StatusCode.NOT_FOUND),
        (api.GetChunkRequest(backfill_id=two_targets, asset_key="orders", round=0, index=0),
         grpc.StatusCode.INVALID_ARGUMENT),
        (api.GetChunkRequest(backfill_id=two_targets, asset_key="orders", round=1, index=-1),
         grpc.StatusCode.INVALID_ARGUMENT),
    ):
        assert (await call_failure(backfills.stub.GetChunk(request))).code == code


async def test_planned_chunks_of_a_cancelled_backfill_are_cancelled(backfills: Backfills, two_targets: str) -> None:
    await backfills.stub.CancelBackfill(api.CancelBackfillRequest(request_id="x", backfill_id=two_targets))
    chunks = await all_chunks(backfills, 10, backfill_id=two_targets)
    assert {c.state for c in chunks} == {C.STATE_CANCELLED}
    assert await all_chunks(backfills, 10, backfill_id=two_targets, states=[C.STATE_PENDING]) == []
    assert len(await all_chunks(backfills, 4, backfill_id=two_targets, states=[C.STATE_CANCELLED])) == 6


async def test_a_page_token_is_bound_to_its_filters(backfills: Backfills, two_targets: str) -> None:
    page = await backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=two_targets, page_size=1))
    failure = await call_failure(backfills.stub.ListChunks(
        api.ListChunksRequest(backfill_id=two_targets, page_size=1, asset_key="orders", page_token=page.next_page_token)
    ))
    assert failure.violations[0][0] == "page_token"


async def test_run_keys_are_the_same_after_a_restart_and_never_shared(start: ServerStarter) -> None:
    first = await serve_backfills(await start())
    one = (await first.stub.CreateBackfill(create("c-1", target("orders")))).backfill.id
    two = (await first.stub.CreateBackfill(create("c-2", target("orders")))).backfill.id
    before = {b: await all_chunks(first, 1000, backfill_id=b) for b in (one, two)}
    await stop(first.served)

    second = await serve_backfills(await start())
    after = {b: await all_chunks(second, 1000, backfill_id=b) for b in (one, two)}

    assert after == before
    keys = [c.run_key for b in (one, two) for c in after[b]]
    assert len(keys) == 2 * 53 == len(set(keys))
    assert [c.partition_keys for c in after[one]] == [c.partition_keys for c in after[two]]


def database_size(db: Path) -> int:
    """The logical size of the database (WAL frames included), in bytes."""
    with sqlite3.connect(db) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        return int(pages * connection.execute("PRAGMA page_size").fetchone()[0])


def stored_bytes(db: Path, backfill_id: str) -> int:
    """Bytes of every row that belongs to the backfill: its events, its answer, its projection rows."""
    with sqlite3.connect(db) as connection:
        total = connection.execute(
            "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM events WHERE stream_id = ?", (f"backfill/{backfill_id}",)
        ).fetchone()[0]
        total += connection.execute(
            "SELECT COALESCE(SUM(LENGTH(r.response)), 0) FROM requests r JOIN events e ON e.request_id = r.request_id "
            "WHERE e.stream_id = ? AND e.stream_version = 1", (f"backfill/{backfill_id}",)
        ).fetchone()[0]
        total += connection.execute("SELECT LENGTH(spec) FROM backfills WHERE backfill_id = ?", (backfill_id,)).fetchone()[0]
    return int(total)


async def test_ten_million_partitions_cost_what_a_hundred_do(backfills: Backfills, db_path: Path) -> None:
    small_selector = key_range("2005-12-27-00:00", "2005-12-27-01:39")  # 100 minutes
    counts_0, size_0 = table_counts(db_path), database_size(db_path)
    small = await backfills.stub.CreateBackfill(create("small", target("minutely", small_selector), chunk_size=1))
    counts_1, size_1 = table_counts(db_path), database_size(db_path)
    huge = await backfills.stub.CreateBackfill(create("huge", target("minutely"), chunk_size=1))
    counts_2, size_2 = table_counts(db_path), database_size(db_path)

    assert (small.plan.partition_count, huge.plan.partition_count) == (100, MINUTELY_COUNT)
    assert huge.plan.chunk_count == MINUTELY_COUNT
    # The same rows in every table, and about the same bytes.
    growth_small = {t: counts_1[t] - counts_0[t] for t in counts_0}
    growth_huge = {t: counts_2[t] - counts_1[t] for t in counts_1}
    assert growth_huge == growth_small
    assert growth_huge["events"] == 2 and growth_huge["chunks"] == 0
    assert stored_bytes(db_path, huge.backfill.id) <= stored_bytes(db_path, small.backfill.id) + 64
    assert size_2 - size_1 <= size_1 - size_0 + 4 * 4096

    backfill_id = huge.backfill.id
    got = (await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert got.progress.partitions_pending == MINUTELY_COUNT
    assert got.progress.chunks_by_state == {"STATE_PENDING": MINUTELY_COUNT}
    page = await backfills.stub.ListChunks(
        api.ListChunksRequest(backfill_id=backfill_id, asset_key="minutely", start_index=5_000_000, page_size=3)
    )
    assert [c.index for c in page.chunks] == [5_000_000, 5_000_001, 5_000_002]
    # 2005-12-27 00:00 plus 5,000,000 minutes.
    assert [c.first_key for c in page.chunks] == ["2015-06-30-05:20", "2015-06-30-05:21", "2015-06-30-05:22"]
    following = await backfills.stub.ListChunks(api.ListChunksRequest(
        backfill_id=backfill_id, asset_key="minutely", start_index=5_000_000, page_size=3,
        page_token=page.next_page_token,
    ))
    assert [c.index for c in following.chunks] == [5_000_003, 5_000_004, 5_000_005]
    last = await backfills.stub.GetChunk(
        api.GetChunkRequest(backfill_id=backfill_id, asset_key="minutely", round=1, index=MINUTELY_COUNT - 1)
    )
    assert last.chunk.first_key == "2024-12-31-23:59"
    assert huge.plan.last_chunks[-1] == last.chunk


async def test_a_page_of_big_chunks_ends_at_ten_thousand_keys(backfills: Backfills) -> None:
    request = create("big", target("minutely"), chunk_size=1000)
    backfill_id = (await backfills.stub.CreateBackfill(request)).backfill.id
    page = await backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=backfill_id, page_size=50))
    assert [c.index for c in page.chunks] == list(range(10))
    assert sum(len(c.partition_keys) for c in page.chunks) == 10_000
    following = await backfills.stub.ListChunks(
        api.ListChunksRequest(backfill_id=backfill_id, page_size=50, page_token=page.next_page_token)
    )
    assert following.chunks[0].index == 10
    # Chunks above 1,000 partitions list no keys, only their edges and compact subset.
    huge = await backfills.stub.CreateBackfill(create("bigger", target("minutely"), chunk_size=5000))
    chunk = huge.plan.first_chunks[0]
    assert (len(chunk.partition_keys), chunk.partition_count) == (0, 5000)
    assert (chunk.first_key, chunk.last_key) == ("2005-12-27-00:00", "2005-12-30-11:19")
    assert [(r.start, r.end) for r in chunk.partitions.ranges] == [(0, 5000)]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"backfill_id": "bf-aaaaaaaaaaaa"}, grpc.StatusCode.NOT_FOUND, None),
        ({"backfill_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "backfill_id"),
        ({"states": [9]}, grpc.StatusCode.INVALID_ARGUMENT, "states[0]"),
        ({"round": -1}, grpc.StatusCode.INVALID_ARGUMENT, "round"),
        ({"start_index": -5}, grpc.StatusCode.INVALID_ARGUMENT, "start_index"),
        ({"page_size": -1}, grpc.StatusCode.INVALID_ARGUMENT, "page_size"),
        ({"page_token": "garbage!"}, grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
    ],
)
async def test_bad_chunk_listings_are_refused(
    backfills: Backfills, two_targets: str, fields: dict[str, object], code: grpc.StatusCode, field: str | None
) -> None:
    request = api.ListChunksRequest(**{"backfill_id": two_targets, **fields})  # type: ignore[arg-type]
    failure = await call_failure(backfills.stub.ListChunks(request))
    assert failure.code == code
    if field is not None:
        assert [f for f, _ in failure.violations] == [field]


async def test_after_a_restart_dynamic_keys_are_replayed_to_the_recorded_version(start: ServerStarter) -> None:
    from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi

    first = await serve_backfills(await start())
    await first.catalog.DeleteDynamicPartitions(
        capi.DeleteDynamicPartitionsRequest(request_id="d-1", name="customers", keys=["acme"])
    )
    await first.catalog.AddDynamicPartitions(
        capi.AddDynamicPartitionsRequest(request_id="a-2", name="customers", keys=["acme", "zeta"])
    )  # version 3: globex, initech, acme, zeta
    created = await first.stub.CreateBackfill(create("c-1", target("customers/profiles"), chunk_size=3))
    await first.catalog.DeleteDynamicPartitions(
        capi.DeleteDynamicPartitionsRequest(request_id="d-2", name="customers", keys=["globex", "zeta"])
    )
    await stop(first.served)

    second = await serve_backfills(await start())  # a fresh process: nothing cached
    chunks = await all_chunks(second, 10, backfill_id=created.backfill.id)
    assert [list(c.partition_keys) for c in chunks] == [["globex", "initech", "acme"], ["zeta"]]
    assert list(chunks[0].partition_keys) == list(created.plan.first_chunks[0].partition_keys)
