"""Partition algebra speed: key <-> index operations per second per definition
kind, and ResolveSelection latency through a real server as selections grow
from 10^3 to 10^8 partitions (it must stay flat).

    .venv/bin/python bench/partitions.py

Prints figures only; nothing here is a test.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import (  # noqa: E402
    assets_pb2 as a,
    catalog_service_pb2 as api,
    catalog_service_pb2_grpc as rpc,
    partitions_pb2 as p,
)
from arco_grpc.partitions import (  # noqa: E402
    DynamicKeys,
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
    PartitionDimension,
    StaticPartitionsDefinition,
    TimeWindowPartitionsDefinition,
    partition_space,
)
from arco_grpc.server import start_server  # noqa: E402
from arco_grpc.store import open_store  # noqa: E402

AS_OF = datetime(2026, 1, 1, tzinfo=timezone.utc)
OPS = 20_000


def rate(operation, arguments) -> float:
    started = time.perf_counter()
    for argument in arguments:
        operation(argument)
    return len(arguments) / (time.perf_counter() - started)


def key_index_rates() -> None:
    regions = StaticPartitionsDefinition(tuple(f"region-{i:04d}" for i in range(1000)))
    customers = tuple(f"customer-{i:06d}" for i in range(100_000))
    spaces = {
        "static (100k keys)": partition_space(StaticPartitionsDefinition(customers), as_of=AS_OF),
        "dynamic (100k keys)": partition_space(
            DynamicPartitionsDefinition("customers"), as_of=AS_OF, dynamic_keys=lambda _: DynamicKeys(customers)
        ),
        "hourly UTC (2000-)": TimeWindowPartitionsDefinition.create(cron_schedule="0 * * * *", start="2000-01-01")
        .space(AS_OF),
        "hourly Los Angeles (2000-)": TimeWindowPartitionsDefinition.create(
            cron_schedule="0 * * * *", start="2000-01-01", timezone="America/Los_Angeles"
        ).space(AS_OF),
        "daily Europe/Berlin (1990-)": TimeWindowPartitionsDefinition.create(
            cron_schedule="0 0 * * *", start="1990-01-01", timezone="Europe/Berlin"
        ).space(AS_OF),
        "weekly Sydney (1990-)": TimeWindowPartitionsDefinition.create(
            cron_schedule="0 0 * * 1", start="1990-01-01", timezone="Australia/Sydney"
        ).space(AS_OF),
        "monthly day 31 (1900-)": TimeWindowPartitionsDefinition.create(
            cron_schedule="0 0 31 * *", start="1900-01-01"
        ).space(AS_OF),
        "weekdays 0 0 * * 1-5 (2000-)": TimeWindowPartitionsDefinition.create(
            cron_schedule="0 0 * * 1-5", start="2000-01-01"
        ).space(AS_OF),
        "multi daily x 1000 regions": partition_space(
            MultiPartitionsDefinition(
                (
                    PartitionDimension("date", TimeWindowPartitionsDefinition.create(cron_schedule="0 0 * * *",
                                                                                     start="2000-01-01")),
                    PartitionDimension("region", regions),
                )
            ),
            as_of=AS_OF,
        ),
    }
    print(f"key <-> index, {OPS:,} random operations each")
    print(f"  {'definition':32} {'partitions':>12} {'key_at/s':>12} {'index_of/s':>12}")
    rng = random.Random(7)
    for name, space in spaces.items():
        indices = [rng.randrange(space.count) for _ in range(OPS)]
        keys = [space.key_at(i) for i in indices]
        assert [space.index_of(k) for k in keys[:100]] == indices[:100]
        print(f"  {name:32} {space.count:>12,} {rate(space.key_at, indices):>12,.0f} "
              f"{rate(space.index_of, keys):>12,.0f}")


def cron_asset(key: str, schedule: str, start: str) -> a.Asset:
    window = p.TimeWindowPartitions(cron_schedule=schedule, start=start)
    return a.Asset(key=key, partitions=p.PartitionsDefinition(time_window=window))


async def resolve_latency() -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = await open_store(str(Path(directory) / "bench.db"))
        server = await start_server(store, clock=lambda: AS_OF)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                stub = rpc.CatalogServiceStub(channel)
                static_keys = [f"k{i:05d}" for i in range(10_000)]
                grid = p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
                    p.PartitionDimension(name="a", definition=p.PartitionsDefinition(
                        static=p.StaticPartitions(keys=static_keys))),
                    p.PartitionDimension(name="b", definition=p.PartitionsDefinition(
                        static=p.StaticPartitions(keys=static_keys))),
                ]))
                await stub.ApplyAssets(api.ApplyAssetsRequest(request_id=str(uuid.uuid4()), assets=[
                    cron_asset("minutely", "* * * * *", "1800-01-01"),
                    cron_asset("hourly_la", "0 * * * *", "2000-01-01"),
                    a.Asset(key="grid", partitions=grid),
                ]))
                minutely = (await stub.ListPartitionKeys(api.ListPartitionKeysRequest(
                    asset_key="minutely", page_size=1, descending=True))).keys[0]
                print("\nResolveSelection latency through the server (median of 50 calls, milliseconds)")
                print(f"  {'selection':44} {'count':>14} {'median ms':>10} {'p95 ms':>8}")
                cases = []
                last = datetime.strptime(minutely, "%Y-%m-%d-%H:%M").replace(tzinfo=timezone.utc)
                for exponent in (3, 5, 7, 8):
                    first = datetime.fromtimestamp(last.timestamp() - 60 * (10**exponent - 1), timezone.utc)
                    selector = p.PartitionSelector(key_range=p.PartitionKeyRange(
                        start=first.strftime("%Y-%m-%d-%H:%M"), end=minutely))
                    cases.append((f"minutely key range 10^{exponent}", "minutely", selector))
                for exponent in (3, 5, 7, 8):
                    side = round(10 ** (exponent / 2))
                    selector = p.PartitionSelector(multi=p.MultiPartitionSelector(dimensions=[
                        p.DimensionSelector(dimension=d, selector=p.PartitionSelector(key_range=p.PartitionKeyRange(
                            start=static_keys[0], end=static_keys[side - 1]))) for d in ("a", "b")]))
                    cases.append((f"static x static rectangle ~10^{exponent}", "grid", selector))
                cases.append(("hourly Los Angeles, all", "hourly_la", p.PartitionSelector(all=p.AllPartitions())))
                for label, asset_key, selector in cases:
                    request = api.ResolveSelectionRequest(asset_key=asset_key, selector=selector)
                    response = await stub.ResolveSelection(request)
                    samples = []
                    for _ in range(50):
                        started = time.perf_counter()
                        await stub.ResolveSelection(request)
                        samples.append((time.perf_counter() - started) * 1000)
                    samples.sort()
                    print(f"  {label:44} {response.count:>14,} {statistics.median(samples):>10.2f} "
                          f"{samples[int(len(samples) * 0.95)]:>8.2f}")
        finally:
            await server.stop(1)


if __name__ == "__main__":
    key_index_rates()
    asyncio.run(resolve_latency())
