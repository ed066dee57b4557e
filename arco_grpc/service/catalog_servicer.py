"""CatalogService: validate and convert each request, call the application, convert back.

Errors are not caught here: ``errors.map_errors`` turns them into statuses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Union

import grpc

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api, catalog_service_pb2_grpc
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import check_dynamic_keys, check_dynamic_name
from arco_grpc.partitions.selection import subset_keys
from arco_grpc.partitions.selector import AllPartitions, Selector
from arco_grpc.service.catalog_app import CatalogApplication
from arco_grpc.service.convert_assets import asset_from_proto
from arco_grpc.service.convert_mappings import downstream_response, upstream_response
from arco_grpc.service.convert_partitions import (
    datetime_from_proto,
    datetime_to_proto,
    selector_from_proto,
    selector_to_proto,
    subset_to_proto,
)
from arco_grpc.service.idempotency import identify_request
from arco_grpc.service.paging import (
    KeyPageToken,
    decode_asset_page_token,
    encode_asset_page_token,
    key_page_scope,
    page_size_of,
)
from arco_grpc.store.model import from_microseconds, to_microseconds

SERVICE_NAME = "arco.orchestration.v1.CatalogService"
MAX_KEYS_PER_CALL = 10_000


# Requests that carry an optional selector and an optional as_of.
SelectingRequest = Union[
    api.ListPartitionKeysRequest,
    api.ResolveSelectionRequest,
    api.GetUpstreamPartitionsRequest,
    api.GetDownstreamPartitionsRequest,
    api.GetPartitionStatusRequest,
]


def _given_selector(request: SelectingRequest) -> Selector | None:
    if not request.HasField("selector"):
        return None
    try:
        return selector_from_proto(request.selector)
    except InvalidArgument as error:
        raise error.under("selector") from None


def _selector_of(request: SelectingRequest) -> Selector:
    given = _given_selector(request)
    return AllPartitions() if given is None else given


def _as_of(request: SelectingRequest, default: datetime) -> datetime:
    return datetime_from_proto(request.as_of, "as_of") if request.HasField("as_of") else default


def _dynamic_request(request: api.AddDynamicPartitionsRequest | api.DeleteDynamicPartitionsRequest) -> list[str]:
    check_dynamic_name(request.name, "name")
    if len(request.keys) > MAX_KEYS_PER_CALL:
        raise InvalidArgument(
            f"{len(request.keys)} keys were given; at most {MAX_KEYS_PER_CALL} per call, split them into batches",
            field="keys",
        )
    return list(request.keys)


class CatalogServicer(catalog_service_pb2_grpc.CatalogServiceServicer):
    """The gRPC face of :class:`CatalogApplication`."""

    def __init__(self, app: CatalogApplication) -> None:
        self._app = app

    async def ApplyAssets(  # noqa: N802
        self, request: api.ApplyAssetsRequest, context: grpc.aio.ServicerContext
    ) -> api.ApplyAssetsResponse:
        identity = identify_request("ApplyAssets", request)
        assets = []
        for position, message in enumerate(request.assets):
            try:
                assets.append(asset_from_proto(message))
            except InvalidArgument as error:
                raise error.under(f"assets[{position}]") from None
        return await self._app.apply_assets(identity, assets)

    async def GetAsset(  # noqa: N802
        self, request: api.GetAssetRequest, context: grpc.aio.ServicerContext
    ) -> api.GetAssetResponse:
        if not request.asset_key:
            raise InvalidArgument("asset_key is required", field="asset_key")
        return api.GetAssetResponse(asset=await self._app.get_asset(request.asset_key))

    async def ListAssets(  # noqa: N802
        self, request: api.ListAssetsRequest, context: grpc.aio.ServicerContext
    ) -> api.ListAssetsResponse:
        page_size = page_size_of(request.page_size, default=100, maximum=1000)
        after = decode_asset_page_token(request.page_token) if request.page_token else None
        assets, last_key = await self._app.list_assets(after, page_size)
        token = "" if last_key is None else encode_asset_page_token(last_key)
        return api.ListAssetsResponse(assets=assets, next_page_token=token)

    async def AddDynamicPartitions(  # noqa: N802
        self, request: api.AddDynamicPartitionsRequest, context: grpc.aio.ServicerContext
    ) -> api.AddDynamicPartitionsResponse:
        identity = identify_request("AddDynamicPartitions", request)
        keys = _dynamic_request(request)
        check_dynamic_keys(keys, "keys")
        first_seen: dict[str, int] = {}
        for position, key in enumerate(keys):
            if key in first_seen:
                raise InvalidArgument(
                    f"key {key!r} is listed twice (keys[{first_seen[key]}] and keys[{position}]); list each key once",
                    field=f"keys[{position}]",
                )
            first_seen[key] = position
        return await self._app.add_dynamic_partitions(identity, request.name, keys)

    async def DeleteDynamicPartitions(  # noqa: N802
        self, request: api.DeleteDynamicPartitionsRequest, context: grpc.aio.ServicerContext
    ) -> api.DeleteDynamicPartitionsResponse:
        identity = identify_request("DeleteDynamicPartitions", request)
        keys = _dynamic_request(request)
        for position, key in enumerate(keys):
            if not key:
                raise InvalidArgument("partition keys may not be empty", field=f"keys[{position}]")
        return await self._app.delete_dynamic_partitions(identity, request.name, keys)

    async def ListPartitionKeys(  # noqa: N802
        self, request: api.ListPartitionKeysRequest, context: grpc.aio.ServicerContext
    ) -> api.ListPartitionKeysResponse:
        page_size = page_size_of(request.page_size, default=1000, maximum=MAX_KEYS_PER_CALL)
        selector = _selector_of(request)
        token = KeyPageToken.decode(request.page_token) if request.page_token else None
        # Later pages reuse the first page's as_of unless the caller passes it again.
        default_as_of = self._app.now() if token is None else from_microseconds(token.as_of_us)
        resolved = await self._app.resolve_selection(request.asset_key, selector, _as_of(request, default_as_of))
        as_of_us = to_microseconds(resolved.as_of)
        scope = key_page_scope(request.asset_key, resolved.fingerprint, str(as_of_us), str(request.descending))
        start = 0 if token is None else token.position_in(scope)
        stop = start + page_size
        keys = subset_keys(resolved.space, resolved.subset, start, stop, request.descending)
        next_token = KeyPageToken(stop, as_of_us, scope).encode() if stop < resolved.count else ""
        return api.ListPartitionKeysResponse(
            keys=keys, next_page_token=next_token, total_count=resolved.count, as_of=datetime_to_proto(resolved.as_of)
        )

    async def ResolveSelection(  # noqa: N802
        self, request: api.ResolveSelectionRequest, context: grpc.aio.ServicerContext
    ) -> api.ResolveSelectionResponse:
        selector = _selector_of(request)
        resolved = await self._app.resolve_selection(request.asset_key, selector, _as_of(request, self._app.now()))
        first = subset_keys(resolved.space, resolved.subset, 0, 1)
        last = subset_keys(resolved.space, resolved.subset, 0, 1, descending=True)
        return api.ResolveSelectionResponse(
            count=resolved.count,
            first_key=first[0] if first else "",
            last_key=last[0] if last else "",
            canonical_selector=selector_to_proto(resolved.canonical_selector),
            fingerprint=resolved.fingerprint,
            subset=subset_to_proto(resolved.subset),
            as_of=datetime_to_proto(resolved.as_of),
            partitions_total=resolved.space.count,
        )

    async def GetUpstreamPartitions(  # noqa: N802
        self, request: api.GetUpstreamPartitionsRequest, context: grpc.aio.ServicerContext
    ) -> api.GetUpstreamPartitionsResponse:
        mapped = await self._app.map_selection(
            downstream_key=request.downstream_asset_key,
            upstream_key=request.upstream_asset_key,
            selector=_given_selector(request),
            as_of=_as_of(request, self._app.now()),
            toward_upstream=True,
        )
        return upstream_response(mapped)

    async def GetDownstreamPartitions(  # noqa: N802
        self, request: api.GetDownstreamPartitionsRequest, context: grpc.aio.ServicerContext
    ) -> api.GetDownstreamPartitionsResponse:
        mapped = await self._app.map_selection(
            downstream_key=request.downstream_asset_key,
            upstream_key=request.upstream_asset_key,
            selector=_given_selector(request),
            as_of=_as_of(request, self._app.now()),
            toward_upstream=False,
        )
        return downstream_response(mapped)

    async def GetPartitionStatus(  # noqa: N802
        self, request: api.GetPartitionStatusRequest, context: grpc.aio.ServicerContext
    ) -> api.GetPartitionStatusResponse:
        status = await self._app.partition_status(
            request.asset_key, _selector_of(request), _as_of(request, self._app.now())
        )
        return api.GetPartitionStatusResponse(
            materialized=subset_to_proto(status.materialized),
            failed=subset_to_proto(status.failed),
            in_progress=subset_to_proto(status.in_progress),
            materialized_count=status.materialized.count,
            failed_count=status.failed.count,
            in_progress_count=status.in_progress.count,
            missing_count=status.missing_count,
            selected_count=status.selection.count,
            as_of=datetime_to_proto(status.as_of),
        )
