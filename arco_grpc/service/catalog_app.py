"""The catalog application: load state, decide, append with the projector, answer.

No business rule lives here (those are in ``domain/`` and ``partitions/``);
this module sequences reads, decisions and appends, retries a decision when a
concurrent write moved the stream, and caches what is expensive to rebuild
(parsed definitions, dynamic keys), invalidating on its own writes.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2, catalog_service_pb2 as api, events_pb2
from arco_grpc.domain.catalog import Asset, VersionedAsset, check_asset_key, decide_apply_assets
from arco_grpc.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from arco_grpc.partitions.dynamic import DynamicKeys
from arco_grpc.partitions.evaluate import PartitionsDefinition, partition_space
from arco_grpc.partitions.selection import AnySubset, select
from arco_grpc.partitions.selector import Selector, normalize_selector, selector_fingerprint
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.service.convert_assets import asset_from_proto, asset_to_proto
from arco_grpc.service.convert_partitions import dynamic_names
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.store import AssetRecord, EventStore, NewEvent, RequestIdReused, RequestRecord, WrongExpectedVersion
from arco_grpc.store.payloads import encode_event
from arco_grpc.store.projections import project_catalog

Clock = Callable[[], datetime]
CATALOG_STREAM = "catalog"
# A decision is retried when another write moved its stream in between; more
# than this many losses in a row means heavy contention: the client retries.
MAX_ATTEMPTS = 5
_MAX_CACHED_DEFINITIONS = 4096
# Decisions on one stream are serialized in-process (a lock stripe per stream),
# so concurrent requests queue instead of deciding against the same version
# and retrying; the store's version check still guards other processes.
_LOCK_STRIPES = 64

R = TypeVar("R", bound=Message)
# Given the time of the request: (stream version decided against, events, response).
Decision = Callable[[datetime], Awaitable[tuple[int, list[NewEvent], R]]]


def dynamic_stream(name: str) -> str:
    """The stream holding the events of dynamic definition ``name``."""
    return f"dynamic/{name}"


@dataclass(frozen=True, slots=True)
class ResolvedSelection:
    """A selection over one asset's partitions at one evaluation time."""

    space: PartitionSpace
    subset: AnySubset
    canonical_selector: Selector
    fingerprint: str
    as_of: datetime

    @property
    def count(self) -> int:
        """How many partitions are selected."""
        return self.subset.count


class CatalogApplication:
    """Use cases of CatalogService over an event store, with one injectable clock."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._catalog: tuple[int, dict[str, VersionedAsset]] | None = None
        self._definitions: dict[str, tuple[int, PartitionsDefinition | None]] = {}
        self._dynamic_keys: dict[str, DynamicKeys] = {}
        self._dynamic_generation: dict[str, int] = {}
        self._stream_locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]

    def now(self) -> datetime:
        """The current time, from the injected clock."""
        return self._clock()

    # -- mutations ------------------------------------------------------------

    async def apply_assets(self, identity: RequestIdentity, assets: Sequence[Asset]) -> api.ApplyAssetsResponse:
        """Creates or updates ``assets``; see ``decide_apply_assets`` for the rules."""

        async def decide(now: datetime) -> tuple[int, list[NewEvent], api.ApplyAssetsResponse]:
            version, catalog = await self._load_catalog()
            applied = decide_apply_assets(assets, catalog, now)
            events = []
            if applied.changed:
                payload = events_pb2.AssetsApplied(assets=[asset_to_proto(entry) for entry in applied.changed])
                events.append(encode_event(payload))
            response = api.ApplyAssetsResponse(
                assets=[asset_to_proto(entry) for entry in applied.assets], changed_keys=applied.changed_keys
            )
            return version, events, response

        return await self._decide_and_append(identity, CATALOG_STREAM, decide, api.ApplyAssetsResponse)

    async def add_dynamic_partitions(
        self, identity: RequestIdentity, name: str, keys: Sequence[str]
    ) -> api.AddDynamicPartitionsResponse:
        """Adds the keys not yet present, at the end, in request order."""

        async def decide(now: datetime) -> tuple[int, list[NewEvent], api.AddDynamicPartitionsResponse]:
            snapshot = await self._store.dynamic_partitions(name, dynamic_stream(name))
            present = set(snapshot.keys)
            added = [key for key in keys if key not in present]
            events = [encode_event(events_pb2.DynamicPartitionsAdded(name=name, keys=added))] if added else []
            count = len(snapshot.keys) + len(added)
            response = api.AddDynamicPartitionsResponse(added_keys=added, partition_count=count)
            return snapshot.stream_version, events, response

        try:
            return await self._decide_and_append(
                identity, dynamic_stream(name), decide, api.AddDynamicPartitionsResponse
            )
        finally:
            self._forget_dynamic_keys(name)

    async def delete_dynamic_partitions(
        self, identity: RequestIdentity, name: str, keys: Sequence[str]
    ) -> api.DeleteDynamicPartitionsResponse:
        """Deletes the keys that are present; absent keys are ignored."""

        async def decide(now: datetime) -> tuple[int, list[NewEvent], api.DeleteDynamicPartitionsResponse]:
            snapshot = await self._store.dynamic_partitions(name, dynamic_stream(name))
            present = set(snapshot.keys)
            deleted = list(dict.fromkeys(key for key in keys if key in present))
            events = [encode_event(events_pb2.DynamicPartitionsDeleted(name=name, keys=deleted))] if deleted else []
            count = len(snapshot.keys) - len(deleted)
            return snapshot.stream_version, events, api.DeleteDynamicPartitionsResponse(
                deleted_keys=deleted, partition_count=count
            )

        try:
            return await self._decide_and_append(
                identity, dynamic_stream(name), decide, api.DeleteDynamicPartitionsResponse
            )
        finally:
            self._forget_dynamic_keys(name)

    async def _decide_and_append(
        self, identity: RequestIdentity, stream_id: str, decide: Decision[R], response_type: type[R]
    ) -> R:
        async with self._stream_locks[zlib.crc32(stream_id.encode("utf-8", "surrogatepass")) % _LOCK_STRIPES]:
            return await self._decide_and_append_locked(identity, stream_id, decide, response_type)

    async def _decide_and_append_locked(
        self, identity: RequestIdentity, stream_id: str, decide: Decision[R], response_type: type[R]
    ) -> R:
        replayed = await self._replayed(identity, response_type)
        if replayed is not None:
            return replayed
        for _ in range(MAX_ATTEMPTS):
            now = self._clock()
            version, events, response = await decide(now)
            record = RequestRecord(
                identity.request_id, identity.method, identity.body_fingerprint, response.SerializeToString()
            )
            try:
                result = await self._store.append(
                    stream_id, version, events, request=record, recorded_at=now, project=project_catalog
                )
            except WrongExpectedVersion:
                continue  # another write moved the stream: decide again on fresh state
            return response_type.FromString(result.response or b"") if result.replayed else response
        raise Aborted(
            f"{stream_id!r} changed concurrently {MAX_ATTEMPTS} times while deciding this request; retry it",
            metadata={"stream_id": stream_id},
        )

    async def _replayed(self, identity: RequestIdentity, response_type: type[R]) -> R | None:
        record = await self._store.find_request(identity.request_id)
        if record is None:
            return None
        if (record.method, record.body_fingerprint) != (identity.method, identity.body_fingerprint):
            raise RequestIdReused(identity.request_id, record.method)
        return response_type.FromString(record.response)

    # -- catalog reads --------------------------------------------------------

    async def _load_catalog(self) -> tuple[int, dict[str, VersionedAsset]]:
        snapshot = await self._store.catalog_snapshot(CATALOG_STREAM)
        cached = self._catalog
        if cached is not None and cached[0] == snapshot.stream_version:
            return cached
        catalog = {
            record.key: VersionedAsset(_stored_asset(record), record.version, record.updated_at)
            for record in snapshot.assets
        }
        self._catalog = (snapshot.stream_version, catalog)
        return self._catalog

    async def get_asset(self, key: str) -> assets_pb2.Asset:
        """The stored asset with ``key``.

        Raises:
            NotFound: no asset has this key.
        """
        return assets_pb2.Asset.FromString((await self._asset_record(key)).definition)

    async def list_assets(self, after_key: str | None, limit: int) -> tuple[list[assets_pb2.Asset], str | None]:
        """Up to ``limit`` assets after ``after_key`` by key, and the key to continue after (None at the end)."""
        records = await self._store.list_assets(after_key, limit + 1)
        more = len(records) > limit
        page = [assets_pb2.Asset.FromString(record.definition) for record in records[:limit]]
        return page, (records[limit - 1].key if more else None)

    async def _asset_record(self, key: str) -> AssetRecord:
        record = await self._store.get_asset(key)
        if record is None:
            raise NotFound(
                f"asset {key!r} does not exist; define it with ApplyAssets", metadata={"asset_key": key}
            )
        return record

    def _definition_of(self, record: AssetRecord) -> PartitionsDefinition | None:
        cached = self._definitions.get(record.key)
        if cached is not None and cached[0] == record.version:
            return cached[1]
        definition = _stored_asset(record).partitions
        if len(self._definitions) >= _MAX_CACHED_DEFINITIONS:
            self._definitions.clear()
        self._definitions[record.key] = (record.version, definition)
        return definition

    # -- selections -----------------------------------------------------------

    async def resolve_selection(self, asset_key: str, selector: Selector, as_of: datetime) -> ResolvedSelection:
        """Resolves ``selector`` over the partitions ``asset_key`` has at ``as_of``.

        Raises:
            NotFound: the asset does not exist.
            FailedPrecondition: the asset is not partitioned.
            InvalidArgument: the selector does not fit the definition (paths under "selector").
        """
        check_asset_key(asset_key, "asset_key")
        definition = self._definition_of(await self._asset_record(asset_key))
        if definition is None:
            raise FailedPrecondition(
                f"asset {asset_key!r} is not partitioned, so it has no partitions to select",
                metadata={"asset_key": asset_key},
            )
        keys = {name: await self._keys_of(name) for name in dynamic_names(definition)}
        space = partition_space(definition, as_of=as_of, dynamic_keys=keys.__getitem__)
        try:
            canonical = normalize_selector(selector)
            subset = select(space, selector)
        except InvalidArgument as error:
            raise error.under("selector") from None
        return ResolvedSelection(space, subset, canonical, selector_fingerprint(canonical), as_of)

    async def _keys_of(self, name: str) -> DynamicKeys:
        cached = self._dynamic_keys.get(name)
        if cached is not None:
            return cached
        generation = self._dynamic_generation.get(name, 0)
        snapshot = await self._store.dynamic_partitions(name, dynamic_stream(name))
        keys = DynamicKeys(snapshot.keys)
        # Cache only if no write to this definition finished while we read.
        if self._dynamic_generation.get(name, 0) == generation:
            self._dynamic_keys[name] = keys
        return keys

    def _forget_dynamic_keys(self, name: str) -> None:
        self._dynamic_generation[name] = self._dynamic_generation.get(name, 0) + 1
        self._dynamic_keys.pop(name, None)


def _stored_asset(record: AssetRecord) -> Asset:
    """The pure asset of a stored row (stored rows were validated when applied)."""
    return asset_from_proto(assets_pb2.Asset.FromString(record.definition))
