"""Run ledger benchmark (not a test): prints figures for SubmitRun, its dedupe, ListRuns and the in-flight gate.

Starts a real server in-process on a temporary SQLite file, talks to it over
loopback through the generated stubs, and prints:

- SubmitRun latency for a run of 1 ... 10^6 partitions (one chunk each), and
  the ratio of the largest to the smallest (near 1: a run is stored as a
  selector, never as keys);
- SubmitRun calls per second from 16 clients: new sensor runs, and the same
  requests repeated under new request ids (deduplicated by the sensor's run
  key), against GetRun calls per second measured in the same run (a read of
  one ledger row: the baseline);
- the batched lease rate of one backfill alone, and of the same backfill while
  other streams hold leases on the same asset (the in-flight check runs for
  every chunk then), with the ratio;
- ListRuns by partition over a ledger of a few thousand runs.

Run: .venv/bin/python bench/runs.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, catalog_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p, run_service_pb2 as rapi  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2_grpc, worker_service_pb2 as w  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2_grpc  # noqa: E402
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition  # noqa: E402
from arco_grpc.server import start_server  # noqa: E402
from arco_grpc.store import open_store  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
START, FMT = "2005-12-27-00:00", "%Y-%m-%d-%H:%M"  # minutely: 10,000,800 partitions at NOW
SIZES = [10**k for k in range(0, 7)]
CLIENTS = 16
CALLS = 1_600


def minutely_key(index: int) -> str:
    definition = TimeWindowPartitionsDefinition.create(start=START, cron_schedule="* * * * *", fmt=FMT)
    return definition.space(NOW).key_at(index)


def key_range(first: int, last: int) -> p.PartitionSelector:
    return p.PartitionSelector(key_range=p.PartitionKeyRange(start=minutely_key(first), end=minutely_key(last)))


def sensor(request_id: str, run_key: str, selector: p.PartitionSelector) -> rapi.SubmitRunRequest:
    return rapi.SubmitRunRequest(
        request_id=request_id, origin=rapi.RUN_ORIGIN_SENSOR, origin_name="files", asset_key="minutely",
        run_key=run_key, selector=selector,
    )


async def in_parallel(calls: list, clients: int = CLIENTS) -> float:  # type: ignore[type-arg]
    """Runs the awaitable factories in ``calls`` from ``clients`` concurrent callers; returns calls per second."""
    queue = list(reversed(calls))

    async def client() -> None:
        while queue:
            await queue.pop()()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(calls) / (time.perf_counter() - began)


async def bench_submit_sizes(runs: run_service_pb2_grpc.RunServiceStub) -> None:
    print("SubmitRun latency by run size (manual runs of the minutely asset, one chunk each; median of 5)")
    medians = []
    for size in SIZES:
        timings = []
        for repeat in range(5):
            offset = 2_000_000 + repeat * 1_100_000  # disjoint ranges: nothing waits, nothing dedupes
            request = rapi.SubmitRunRequest(
                request_id=f"size-{size}-{repeat}", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="minutely",
                selector=key_range(offset, offset + size - 1),
            )
            began = time.perf_counter()
            answer = await runs.SubmitRun(request)
            timings.append(time.perf_counter() - began)
            assert answer.run.partition_count == size
        medians.append(statistics.median(timings))
        print(f"{size:>12,} partitions {medians[-1] * 1000:8.2f} ms")
    print(f"ratio 10^6 / 1: {medians[-1] / medians[0]:.2f}x\n")


async def bench_submit_rates(runs: run_service_pb2_grpc.RunServiceStub) -> None:
    print(f"SubmitRun from {CLIENTS} clients, {CALLS} calls each measurement")
    selector = key_range(100, 100)
    new = await in_parallel([
        (lambda n=n: runs.SubmitRun(sensor(f"new-{n}", f"file-{n}", selector))) for n in range(CALLS)
    ])
    repeats = await in_parallel([
        (lambda n=n: runs.SubmitRun(sensor(f"again-{n}", f"file-{n}", selector))) for n in range(CALLS)
    ])
    first = (await runs.SubmitRun(sensor("new-0", "file-0", selector))).run.run_id
    reads = await in_parallel([(lambda: runs.GetRun(rapi.GetRunRequest(run_id=first))) for _ in range(CALLS)])
    print(f"  GetRun (baseline):                 {reads:8.0f} calls/s")
    print(f"  new sensor runs:                   {new:8.0f} calls/s  ({new / reads:.2f} of GetRun)")
    print(f"  repeats, deduplicated by run key:  {repeats:8.0f} calls/s  ({repeats / reads:.2f} of GetRun)\n")


async def bench_list_by_partition(runs: run_service_pb2_grpc.RunServiceStub) -> None:
    ledger = 0
    token = ""
    while True:
        page = await runs.ListRuns(rapi.ListRunsRequest(page_size=1000, page_token=token))
        ledger += len(page.runs)
        token = page.next_page_token
        if not token:
            break
    began = time.perf_counter()
    found = pages = 0
    token = ""
    while True:
        page = await runs.ListRuns(rapi.ListRunsRequest(
            asset_key="minutely", partition_key=minutely_key(100), page_size=1000, page_token=token,
        ))
        found, pages, token = found + len(page.runs), pages + 1, page.next_page_token
        if not token:
            break
    elapsed = time.perf_counter() - began
    print(f"ListRuns(asset, partition) over a ledger of {ledger:,} runs: {found:,} runs hold the partition, "
          f"listed in {pages} pages (each reads at most 10,000 ledger rows) in {elapsed * 1000:.0f} ms "
          f"({elapsed / ledger * 1e6:.1f} us per ledger row)\n")


async def lease_all(workers: worker_service_pb2_grpc.WorkerServiceStub, backfill_id: str) -> float:
    """Leases and completes every chunk of ``backfill_id`` (64 per call, 4 workers); returns chunks per second."""
    done = 0

    async def worker(name: str) -> None:
        nonlocal done
        while True:
            leased = (await workers.LeaseChunks(w.LeaseChunksRequest(worker_id=name, max_chunks=64))).chunks
            mine = [c for c in leased if c.backfill_id == backfill_id]
            others = [c for c in leased if c.backfill_id != backfill_id]
            if others:
                await workers.ReleaseChunks(w.ReleaseChunksRequest(worker_id=name, leases=[c.lease for c in others]))
            if not mine:
                return
            await workers.CompleteChunks(w.CompleteChunksRequest(completions=[
                w.ChunkCompletion(lease=c.lease, worker_id=name, outcome=w.ChunkCompletion.OUTCOME_SUCCEEDED)
                for c in mine
            ]))
            done += len(mine)

    began = time.perf_counter()
    await asyncio.gather(*(worker(f"w{n}") for n in range(4)))
    return done / (time.perf_counter() - began)


async def bench_in_flight(channel: grpc.aio.Channel, runs: run_service_pb2_grpc.RunServiceStub) -> None:
    backfills = backfill_service_pb2_grpc.BackfillServiceStub(channel)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)

    async def backfill(request_id: str, first: int) -> str:
        request = api.CreateBackfillRequest(
            request_id=request_id, chunk_size=1, max_concurrency=256,
            targets=[api.BackfillTargetSpec(asset_key="minutely", selector=key_range(first, first + 4_999))],
        )
        return (await backfills.CreateBackfill(request)).backfill.id

    alone = await lease_all(workers, await backfill("alone", 5_000_000))
    # Eight other streams hold one lease each on the asset (on other partitions): every chunk is checked.
    for n in range(8):
        await runs.SubmitRun(rapi.SubmitRunRequest(
            request_id=f"holder-{n}", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="minutely",
            selector=key_range(9_000_000 + n, 9_000_000 + n),
        ))
    holders = (await workers.LeaseChunks(w.LeaseChunksRequest(worker_id="holder", max_chunks=8))).chunks
    contended = await lease_all(workers, await backfill("contended", 6_000_000))
    print("Batched leasing of a 5,000-chunk backfill (max_chunks 64, 4 workers)")
    print(f"  alone on its asset:                          {alone:8.0f} chunks/s")
    print(f"  while {len(holders)} other runs hold leases on the asset: {contended:8.0f} chunks/s "
          f"({contended / alone:.2f} of alone)\n")


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
                runs = run_service_pb2_grpc.RunServiceStub(channel)
                await bench_in_flight(channel, runs)  # first, while the asset has no other streams
                await bench_submit_sizes(runs)
                await bench_submit_rates(runs)
                await bench_list_by_partition(runs)
        finally:
            await running.stop(grace=1)


if __name__ == "__main__":
    asyncio.run(main())
