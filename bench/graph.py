"""Dependency-gated backfills benchmark (not a test): prints wall times and rates, in one run.

Starts a real arco server in this process on a temporary SQLite file
(synchronous=FULL) and drives it over loopback with no-op workers (leasing up
to 64 chunks per call, reporting with CompleteChunks), then prints:

- a self-dependent daily chain (each day reads the day before) of 365
  partitions, chunks of one day: every chunk waits for the one before, so this
  is the latency of the gate (Dagster launches one partition per 30 s tick);
- the same chain in weekly chunks (a run does its week in order);
- ten years of an hourly asset and the daily asset that reads it (87,672 +
  3,653 partitions), against the hourly asset alone in the same run: the
  ratio is what gating the daily chunks on their 24 hours costs;
- CreateBackfill (validate_only) of that two-asset backfill from one root
  selection propagated through the mapping: flat in the number of partitions.

Run: .venv/bin/python bench/graph.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from google.protobuf import duration_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, catalog_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as w, worker_service_pb2_grpc  # noqa: E402
from arco_grpc.server import start_server  # noqa: E402
from arco_grpc.store import open_store  # noqa: E402

WORKERS = 4
BATCH = 64


def daily(start: str) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(time_window=p.TimeWindowPartitions(cadence=p.Cadence(kind=p.Cadence.KIND_DAILY), start=start))


def hourly(start: str) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(time_window=p.TimeWindowPartitions(cadence=p.Cadence(kind=p.Cadence.KIND_HOURLY), start=start))


def catalog() -> capi.ApplyAssetsRequest:
    previous_day = a.PartitionMapping(time_window=a.TimeWindowMapping(start_offset=-1, end_offset=-1))
    return capi.ApplyAssetsRequest(request_id="bench-graph-catalog", assets=[
        a.Asset(key="chain", partitions=daily("2024-01-01"),
                dependencies=[a.AssetDependency(asset_key="chain", mapping=previous_day)]),
        a.Asset(key="hours", partitions=hourly("2015-01-01-00:00"), chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=24)),
        a.Asset(key="days", partitions=daily("2015-01-01"), dependencies=[a.AssetDependency(asset_key="hours")],
                chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=7)),
    ])


def key_range(start: str, end: str) -> p.PartitionSelector:
    return p.PartitionSelector(key_range=p.PartitionKeyRange(start=start, end=end))


async def run_backfill(channel: grpc.aio.Channel, request: api.CreateBackfillRequest) -> tuple[float, bf.Backfill]:
    """Creates the backfill and runs it with no-op workers; returns the wall time and the final backfill."""
    backfills = backfill_service_pb2_grpc.BackfillServiceStub(channel)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    started = time.perf_counter()
    backfill_id = (await backfills.CreateBackfill(request)).backfill.id
    done = asyncio.Event()

    async def worker(number: int) -> None:
        name = f"w{number}"
        wait = duration(0.05)
        while not done.is_set():
            leased = (await workers.LeaseChunks(w.LeaseChunksRequest(
                worker_id=name, max_chunks=BATCH, wait_timeout=wait
            ))).chunks
            if leased:
                await workers.CompleteChunks(w.CompleteChunksRequest(completions=[
                    w.ChunkCompletion(lease=c.lease, worker_id=name, outcome=w.ChunkCompletion.OUTCOME_SUCCEEDED)
                    for c in leased
                ]))
                continue
            state = (await backfills.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill.state
            if state == bf.Backfill.STATE_COMPLETED:
                done.set()

    await asyncio.gather(*(worker(n) for n in range(WORKERS)))
    elapsed = time.perf_counter() - started
    final = (await backfills.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    return elapsed, final


def duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(int(seconds * 1e9))
    return value


def create(request_id: str, *targets: tuple[str, p.PartitionSelector | None], **fields: object) -> api.CreateBackfillRequest:
    specs = [api.BackfillTargetSpec(asset_key=key, selector=selector) for key, selector in targets]
    return api.CreateBackfillRequest(request_id=request_id, targets=specs, max_concurrency=64, **fields)  # type: ignore[arg-type]


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = await open_store(str(Path(directory) / "bench.db"))
        running = await start_server(store, host="127.0.0.1", port=0)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        try:
            await catalog_service_pb2_grpc.CatalogServiceStub(channel).ApplyAssets(catalog())
            print(f"dependency-gated backfills: {WORKERS} no-op workers in this process, up to {BATCH} chunks per lease, "
                  "SQLite synchronous=FULL")
            year = key_range("2024-01-01", "2024-12-30")
            seconds, final = await run_backfill(channel, create("chain-daily", ("chain", year), chunk_size=1))
            print(f"self-dependent chain, 365 days, chunks of 1:  {seconds:6.2f} s  "
                  f"({365 / seconds:,.0f} days/s, {final.progress.partitions_succeeded} succeeded)")
            seconds, final = await run_backfill(channel, create("chain-weekly", ("chain", year), chunk_size=7))
            print(f"self-dependent chain, 365 days, chunks of 7:  {seconds:6.2f} s  "
                  f"({final.progress.partitions_succeeded} succeeded)")

            decade_hours = key_range("2015-01-01-00:00", "2024-12-31-23:00")
            alone, final_alone = await run_backfill(channel, create("hours-alone", ("hours", decade_hours)))
            both, final_both = await run_backfill(channel, create(
                "hours-days", ("hours", decade_hours), ("days", key_range("2015-01-01", "2024-12-31"))
            ))
            hours = final_alone.progress.partitions_succeeded
            total = final_both.progress.partitions_succeeded
            chunks_alone = sum(final_alone.progress.chunks_by_state.values())
            chunks_both = sum(final_both.progress.chunks_by_state.values())
            print(f"10 years hourly alone ({hours:,} partitions, {chunks_alone:,} chunks):      {alone:6.2f} s")
            print(f"10 years hourly -> daily ({total:,} partitions, {chunks_both:,} chunks):   {both:6.2f} s  "
                  f"(ratio to hourly alone {both / alone:.2f})")

            backfills = backfill_service_pb2_grpc.BackfillServiceStub(channel)
            for label, root in (("1 day", key_range("2015-01-01-00:00", "2015-01-01-23:00")), ("10 years", decade_hours)):
                timings = []
                for _ in range(20):
                    started = time.perf_counter()
                    await backfills.CreateBackfill(api.CreateBackfillRequest(
                        validate_only=True, root_selector=root,
                        targets=[api.BackfillTargetSpec(asset_key="hours"), api.BackfillTargetSpec(asset_key="days")],
                    ))
                    timings.append(time.perf_counter() - started)
                print(f"CreateBackfill validate_only, root selection of {label:>8} propagated to days: "
                      f"median {statistics.median(timings) * 1000:5.2f} ms")
        finally:
            await channel.close()
            await running.stop(grace=2)


if __name__ == "__main__":
    asyncio.run(main())
