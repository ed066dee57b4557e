"""Backfill benchmark (not a test): prints figures for CreateBackfill, ListChunks and pause/resume.

Starts a real server in-process on a temporary SQLite file, talks to it over
loopback through the generated stubs, and prints:

- CreateBackfill latency and the bytes stored per backfill (its events, its
  remembered answer and its projection rows) for 10^2 ... 10^7 partitions,
  with the ratio of the largest to the smallest (near 1: creation is O(1));
- ListChunks latency for a page near chunk 10, 10^3, 10^5 and 5*10^6 of a
  10^7-chunk plan (flat: pages cost what they return);
- pause/resume mutations per second, from one client and from several.

Run: .venv/bin/python bench/backfills.py
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, catalog_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p  # noqa: E402
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition  # noqa: E402
from arco_grpc.server import start_server  # noqa: E402
from arco_grpc.store import open_store  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
START, FMT = "2005-12-27-00:00", "%Y-%m-%d-%H:%M"  # minutely: 10,000,800 partitions at NOW
SIZES = [10**k for k in range(2, 8)]
REPEATS = 5
DEEP_PAGES = [10, 1_000, 100_000, 5_000_000]


def minutely_key(index: int) -> str:
    definition = TimeWindowPartitionsDefinition.create(start=START, cron_schedule="* * * * *", fmt=FMT)
    return definition.space(NOW).key_at(index)


def stored_bytes(db: Path, backfill_id: str) -> tuple[int, int]:
    """(rows, bytes) of everything stored for one backfill: integers count 8 bytes, text and blobs their length."""
    stream = f"backfill/{backfill_id}"
    queries = [
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(stream_id) + LENGTH(event_type) + LENGTH(payload) "
         "+ COALESCE(LENGTH(request_id), 0) + 24), 0) FROM events WHERE stream_id = ?", (stream,)),
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(request_id) + LENGTH(method) + LENGTH(body_fingerprint) "
         "+ LENGTH(response) + 8), 0) FROM requests WHERE request_id IN "
         "(SELECT DISTINCT request_id FROM events WHERE stream_id = ?)", (stream,)),
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(backfill_id) + LENGTH(title) + LENGTH(creator) + LENGTH(fingerprint) "
         "+ LENGTH(spec) + 15 * 8), 0) FROM backfills WHERE backfill_id = ?", (backfill_id,)),
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(backfill_id) + LENGTH(asset_key) + 8), 0) FROM backfill_targets "
         "WHERE backfill_id = ?", (backfill_id,)),
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(backfill_id) + LENGTH(reason) + COALESCE(LENGTH(request_id), 0) "
         "+ 32), 0) FROM backfill_transitions WHERE backfill_id = ?", (backfill_id,)),
        ("SELECT COUNT(*), COALESCE(SUM(LENGTH(backfill_id) + LENGTH(run_key) + 64), 0) FROM chunks "
         "WHERE backfill_id = ?", (backfill_id,)),
    ]
    rows = size = 0
    with sqlite3.connect(db) as connection:
        for sql, parameters in queries:
            count, total = connection.execute(sql, parameters).fetchone()
            rows, size = rows + int(count), size + int(total)
    return rows, size


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


async def bench_create(stub: backfill_service_pb2_grpc.BackfillServiceStub, db: Path) -> str:
    print("CreateBackfill (minutely asset, chunk size 1: as many chunks as partitions)")
    print(f"{'partitions':>12} {'median latency':>16} {'rows':>6} {'bytes stored':>13}")
    results = []
    huge_id = ""
    for size in SIZES:
        selector = p.PartitionSelector(key_range=p.PartitionKeyRange(start=minutely_key(0), end=minutely_key(size - 1)))
        timings = []
        backfill_id = ""
        for repeat in range(REPEATS):
            request = api.CreateBackfillRequest(
                request_id=f"create-{size}-{repeat}", chunk_size=1,
                targets=[api.BackfillTargetSpec(asset_key="minutely", selector=selector)],
            )
            began = time.perf_counter()
            response = await stub.CreateBackfill(request)
            timings.append(time.perf_counter() - began)
            backfill_id = response.backfill.id
            assert response.plan.partition_count == size
        rows, stored = stored_bytes(db, backfill_id)
        results.append((statistics.median(timings), stored))
        print(f"{size:>12,} {ms(statistics.median(timings)):>16} {rows:>6} {stored:>13,}")
        huge_id = backfill_id
    latency_ratio = results[-1][0] / results[0][0]
    bytes_ratio = results[-1][1] / results[0][1]
    print(f"ratio 10^7 / 10^2: latency {latency_ratio:.2f}x, bytes {bytes_ratio:.3f}x\n")
    return huge_id


async def bench_list_chunks(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str) -> None:
    print("ListChunks of the 10^7-chunk plan (page_size 100, median of 20)")
    print(f"{'start index':>12} {'first page':>12} {'next page':>12}")
    for start in DEEP_PAGES:
        first_pages, next_pages = [], []
        for _ in range(20):
            request = api.ListChunksRequest(backfill_id=backfill_id, asset_key="minutely", start_index=start,
                                            page_size=100)
            began = time.perf_counter()
            page = await stub.ListChunks(request)
            first_pages.append(time.perf_counter() - began)
            request.page_token = page.next_page_token
            began = time.perf_counter()
            following = await stub.ListChunks(request)
            next_pages.append(time.perf_counter() - began)
            assert page.chunks[0].index == start and following.chunks[0].index == start + 100
        print(f"{start:>12,} {ms(statistics.median(first_pages)):>12} {ms(statistics.median(next_pages)):>12}")
    began = time.perf_counter()
    for _ in range(20):
        await stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))
    print(f"GetBackfill of it: {ms((time.perf_counter() - began) / 20)}\n")


async def pause_resume(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str, prefix: str,
                       count: int) -> None:
    for n in range(count):
        if n % 2 == 0:
            await stub.PauseBackfill(api.PauseBackfillRequest(request_id=f"{prefix}-{n}", backfill_id=backfill_id))
        else:
            await stub.ResumeBackfill(api.ResumeBackfillRequest(request_id=f"{prefix}-{n}", backfill_id=backfill_id))


async def bench_mutations(stub: backfill_service_pb2_grpc.BackfillServiceStub) -> None:
    print("Pause/resume (each one event, one row update, one transition, one remembered answer)")
    ids = []
    for n in range(8):
        request = api.CreateBackfillRequest(request_id=f"m-{n}", targets=[api.BackfillTargetSpec(asset_key="minutely")])
        ids.append((await stub.CreateBackfill(request)).backfill.id)
    count = 400
    began = time.perf_counter()
    await pause_resume(stub, ids[0], "one", count)
    elapsed = time.perf_counter() - began
    print(f"  1 client, one backfill:        {count / elapsed:8.0f} mutations/s")
    began = time.perf_counter()
    await asyncio.gather(*(pause_resume(stub, b, f"many-{b}", count // 4) for b in ids))
    elapsed = time.perf_counter() - began
    print(f"  8 clients, one backfill each:  {len(ids) * (count // 4) / elapsed:8.0f} mutations/s")
    began = time.perf_counter()
    await asyncio.gather(*(pause_resume(stub, ids[1], f"same-{k}", count // 4) for k in range(8)))
    elapsed = time.perf_counter() - began
    print(f"  8 clients, the same backfill:  {8 * (count // 4) / elapsed:8.0f} mutations/s (many are no-ops)")


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        db = Path(directory) / "bench.db"
        running = await start_server(await open_store(str(db)), clock=lambda: NOW)
        print("server and client in this one process and event loop; SQLite file (WAL, synchronous=FULL)\n")
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
                minutely = p.PartitionsDefinition(
                    time_window=p.TimeWindowPartitions(cron_schedule="* * * * *", start=START, fmt=FMT)
                )
                await catalog.ApplyAssets(capi.ApplyAssetsRequest(
                    request_id="catalog", assets=[a.Asset(key="minutely", partitions=minutely)]
                ))
                stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
                huge = await bench_create(stub, db)
                await bench_list_chunks(stub, huge)
                await bench_mutations(stub)
        finally:
            await running.stop(grace=1)


if __name__ == "__main__":
    asyncio.run(main())
