"""The keys of a chunk too large to carry them in its lease, listed from the server on first use.

A lease always carries the chunk's partitions as index ranges (bands for
multi definitions) and its first and last keys. The keys between the chunk's
lowest and highest index are listed with CatalogService.ListPartitionKeys (a
key range, evaluated at the backfill's ``as_of``); the listing's position p is
index ``low + p`` (for multi: outer index ``low + p // inner_count``, inner
index ``p % inner_count``), so keeping the positions inside the chunk's ranges
gives exactly its keys. The cost is one pass over the chunk's span, never over
the asset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2, backfill_service_pb2_grpc, backfills_pb2
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as catalog
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2_grpc, partitions_pb2 as pb
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as ws
from arco_grpc.worker._retrying import Backoff, call_with_retry

MULTI_KEY_DELIMITER = "|"
PAGE_SIZE = 10_000
RPC_TIMEOUT_SECONDS = 30.0

Listing = tuple[catalog.ListPartitionKeysRequest, catalog.ListPartitionKeysResponse]


class RemoteKeys:
    """Lists a large chunk's keys from the server once, then caches them."""

    def __init__(
        self,
        chunk: ws.LeasedChunk,
        catalog_stub: catalog_service_pb2_grpc.CatalogServiceStub,
        backfill_stub: backfill_service_pb2_grpc.BackfillServiceStub,
        backoff: Backoff,
    ) -> None:
        self._chunk = chunk
        self._catalog = catalog_stub
        self._backfills = backfill_stub
        self._backoff = backoff
        self._lock = asyncio.Lock()
        self._cached: tuple[str, ...] | None = None

    async def keys(self) -> tuple[str, ...]:
        """The chunk's keys in dispatch order.

        Raises:
            grpc.aio.AioRpcError: the server refused a listing call.
            RuntimeError: the listing does not match the chunk (its partitions changed since planning).
        """
        async with self._lock:
            if self._cached is None:
                self._cached = await self._list()
            return self._cached

    async def _list(self) -> tuple[str, ...]:
        chunk = self._chunk
        request = backfill_service_pb2.GetBackfillRequest(backfill_id=chunk.backfill_id)
        backfill = (
            await call_with_retry(
                lambda: self._backfills.GetBackfill(request, timeout=RPC_TIMEOUT_SECONDS),
                what="GetBackfill",
                backoff=self._backoff,
            )
        ).backfill
        ascending = await (self._multi_keys(backfill) if chunk.partitions.bands else self._single_keys(backfill))
        if len(ascending) != chunk.partition_count:
            raise RuntimeError(
                f"listed {len(ascending)} keys for chunk {chunk.index} of {chunk.partition_count} partitions; "
                "did the asset's partitions change after the backfill was planned?"
            )
        forward = not ascending or ascending[0] == chunk.first_key
        return tuple(ascending if forward else reversed(ascending))

    async def _single_keys(self, backfill: backfills_pb2.Backfill) -> list[str]:
        ranges = [(r.start, r.end) for r in self._chunk.partitions.ranges]
        low, high = ranges[0][0], ranges[-1][1]
        first, last = self._chunk.first_key, self._chunk.last_key
        listing = await self._listing(backfill, _key_range(first, last))
        if listing[1].total_count != high - low:  # backward order: the first key is the highest
            listing = await self._listing(backfill, _key_range(last, first))
        return await self._keep(listing, lambda p: any(start <= low + p < end for start, end in ranges))

    async def _multi_keys(self, backfill: backfills_pb2.Backfill) -> list[str]:
        bands = [((b.first.start, b.first.end), [(r.start, r.end) for r in b.second]) for b in self._chunk.partitions.bands]
        low, high = bands[0][0][0], bands[-1][0][1]
        request = catalog.GetAssetRequest(asset_key=self._chunk.asset_key)
        asset = (
            await call_with_retry(
                lambda: self._catalog.GetAsset(request, timeout=RPC_TIMEOUT_SECONDS), what="GetAsset", backoff=self._backoff
            )
        ).asset
        outer = sorted(d.name for d in asset.partitions.multi.dimensions)[0]
        first = self._chunk.first_key.split(MULTI_KEY_DELIMITER)[0]
        last = self._chunk.last_key.split(MULTI_KEY_DELIMITER)[0]

        def selector(start: str, end: str) -> pb.PartitionSelector:
            # The outer dimension's span crossed with all of the inner one.
            dimension = pb.DimensionSelector(dimension=outer, selector=_key_range(start, end))
            return pb.PartitionSelector(multi=pb.MultiPartitionSelector(dimensions=[dimension]))

        listing = await self._listing(backfill, selector(first, last))
        if listing[1].total_count == 0:
            listing = await self._listing(backfill, selector(last, first))
        inner_count = max(1, listing[1].total_count // (high - low))

        def wanted(position: int) -> bool:
            i, j = low + position // inner_count, position % inner_count
            return any(a <= i < b and any(s <= j < e for s, e in seconds) for (a, b), seconds in bands)

        return await self._keep(listing, wanted)

    async def _listing(self, backfill: backfills_pb2.Backfill, selector: pb.PartitionSelector) -> Listing:
        request = catalog.ListPartitionKeysRequest(
            asset_key=self._chunk.asset_key, selector=selector, as_of=backfill.as_of, page_size=PAGE_SIZE
        )
        return request, await self._page(request)

    async def _page(self, request: catalog.ListPartitionKeysRequest) -> catalog.ListPartitionKeysResponse:
        return await call_with_retry(
            lambda: self._catalog.ListPartitionKeys(request, timeout=RPC_TIMEOUT_SECONDS),
            what="ListPartitionKeys",
            backoff=self._backoff,
        )

    async def _keep(self, listing: Listing, wanted: Callable[[int], bool]) -> list[str]:
        request, page = listing
        kept: list[str] = []
        position = 0
        while True:
            for key in page.keys:
                if wanted(position):
                    kept.append(key)
                position += 1
            if not page.next_page_token:
                return kept
            request.page_token = page.next_page_token
            page = await self._page(request)


def _key_range(start: str, end: str) -> pb.PartitionSelector:
    return pb.PartitionSelector(key_range=pb.PartitionKeyRange(start=start, end=end))
