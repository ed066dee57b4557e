"""Keys of chunks too large for their lease, listed from a real server's catalog: single, multi, gaps, backward."""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as catalog, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as ws
from arco_grpc.worker import Backoff
from arco_grpc.worker._keys import RemoteKeys
from tests.worker.conftest import LiveServer
from tests.worker.processes import Client, static_keys

COLORS = ["red", "green", "blue"]
SIZES = [f"s{n:03d}" for n in range(500)]


def chunk(asset: str, backfill_id: str, keys: list[str], subset: p.PartitionSubset) -> ws.LeasedChunk:
    """A lease as the server sends it for a large chunk: ranges and edge keys, no key list."""
    return ws.LeasedChunk(backfill_id=backfill_id, asset_key=asset, partitions=subset, partition_count=len(keys),
                          first_key=keys[0], last_key=keys[-1])


def ranges(*pairs: tuple[int, int]) -> p.PartitionSubset:
    return p.PartitionSubset(ranges=[p.IndexRange(start=s, end=e) for s, e in pairs])


async def listed(live: LiveServer, leased: ws.LeasedChunk) -> tuple[str, ...]:
    async with grpc.aio.insecure_channel(live.address) as channel:
        source = RemoteKeys(leased, catalog_service_pb2_grpc.CatalogServiceStub(channel),
                            backfill_service_pb2_grpc.BackfillServiceStub(channel), Backoff())
        first = await source.keys()
        assert await source.keys() is first  # listed once, then cached
        return first


async def test_single_dimension_ranges_with_gaps_in_both_orders(live: LiveServer, client: Client) -> None:
    keys = static_keys(3000)
    await client.apply_static("letters", keys)
    backfill_id = await client.create_backfill("letters", chunk_size=100, max_concurrency=1)
    # A retry round's chunk: two runs of failed partitions with a gap between them.
    wanted = keys[100:900] + keys[1200:1500]
    subset = ranges((100, 900), (1200, 1500))
    assert await listed(live, chunk("letters", backfill_id, wanted, subset)) == tuple(wanted)
    backward = wanted[::-1]
    assert await listed(live, chunk("letters", backfill_id, backward, subset)) == tuple(backward)


async def test_multi_dimension_bands(live: LiveServer, client: Client) -> None:
    definition = p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
        p.PartitionDimension(name="size", definition=p.PartitionsDefinition(static=p.StaticPartitions(keys=SIZES))),
        p.PartitionDimension(name="color", definition=p.PartitionsDefinition(static=p.StaticPartitions(keys=COLORS))),
    ]))
    await client.catalog.ApplyAssets(catalog.ApplyAssetsRequest(
        request_id="grid", assets=[a.Asset(key="grid", partitions=definition)]))
    backfill_id = await client.create_backfill("grid", chunk_size=100, max_concurrency=1)
    # Dimensions sort by name: color (outer) then size; flat index = color * 500 + size.
    bands = p.PartitionSubset(bands=[
        p.MultiSubsetBand(first=p.IndexRange(start=1, end=2),
                          second=[p.IndexRange(start=0, end=300), p.IndexRange(start=400, end=500)]),
        p.MultiSubsetBand(first=p.IndexRange(start=2, end=3), second=[p.IndexRange(start=0, end=300)]),
    ])
    wanted = ([f"green|{s}" for s in SIZES[:300] + SIZES[400:]] + [f"blue|{s}" for s in SIZES[:300]])
    assert await listed(live, chunk("grid", backfill_id, wanted, bands)) == tuple(wanted)
    assert await listed(live, chunk("grid", backfill_id, wanted[::-1], bands)) == tuple(wanted[::-1])
