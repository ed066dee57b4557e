"""The catalog application: load state, decide, append with the projector, answer.

No business rule lives here (those are in ``domain/`` and ``partitions/``);
this module sequences reads, decisions and appends, retries a decision when a
concurrent write moved the stream, and caches what is expensive to rebuild
(parsed definitions, dynamic keys), invalidating on its own writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2, catalog_service_pb2 as api, events_pb2
from arco_grpc.domain.catalog import Asset, VersionedAsset, check_asset_key, decide_apply_assets
from arco_grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from arco_grpc.partitions.dynamic import DynamicKeys
from arco_grpc.partitions.evaluate import PartitionsDefinition, partition_space
from arco_grpc.partitions.mapping import (
    PartitionMapping,
    RequiredButNonexistent,
    describe_mapping,
    downstream_partitions,
    mapping_in_effect,
    upstream_partitions,
)
from arco_grpc.partitions.selection import AnySubset, select
from arco_grpc.partitions.selector import AllPartitions, Selector, normalize_selector, selector_fingerprint
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.service.appending import Clock, Decision, DecisionRunner, R
from arco_grpc.service.convert_assets import asset_from_proto, asset_to_proto
from arco_grpc.service.convert_partitions import dynamic_names
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.partition_status_rows import DynamicDeletions, read_partition_status
from arco_grpc.store import AssetRecord, EventStore, NewEvent
from arco_grpc.store.payloads import encode_event
from arco_grpc.store.projections import project_catalog

CATALOG_STREAM = "catalog"
_MAX_CACHED_DEFINITIONS = 4096


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


@dataclass(frozen=True, slots=True)
class SelectionStatus:
    """The status of a selection of one asset's partitions: three disjoint subsets of ``selection``."""

    selection: AnySubset
    materialized: AnySubset
    failed: AnySubset
    in_progress: AnySubset
    as_of: datetime

    @property
    def missing_count(self) -> int:
        """Selected partitions in none of the three subsets."""
        return self.selection.count - self.materialized.count - self.failed.count - self.in_progress.count


@dataclass(frozen=True, slots=True)
class MappedSelection:
    """A selection of one asset's partitions mapped through a dependency onto another asset's."""

    space: PartitionSpace  # the partitions of the asset mapped onto, at as_of
    subset: AnySubset  # over ``space``
    required_but_nonexistent: RequiredButNonexistent  # always empty toward downstream
    mapping: PartitionMapping  # the mapping in effect
    inferred: bool  # the dependency declares no mapping: ``mapping`` is the default
    description: str
    selected_count: int
    as_of: datetime


class CatalogApplication:
    """Use cases of CatalogService over an event store, with one injectable clock."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._catalog: tuple[int, dict[str, VersionedAsset]] | None = None
        self._definitions: dict[str, tuple[int, PartitionsDefinition | None]] = {}
        self._dynamic_keys: dict[str, DynamicKeys] = {}
        self._dynamic_generation: dict[str, int] = {}
        self._runner = DecisionRunner(store, clock)
        self._deletions = DynamicDeletions(store)

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
        return await self._runner.run(identity, stream_id, decide, response_type, project_catalog)

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

    async def partition_status(self, asset_key: str, selector: Selector, as_of: datetime) -> SelectionStatus:
        """The status of the partitions ``selector`` selects of ``asset_key`` at ``as_of``.

        Raises:
            NotFound: the asset does not exist.
            FailedPrecondition: the asset is not partitioned.
            InvalidArgument: a malformed key, or a selector that does not fit (paths under "selector").
        """
        check_asset_key(asset_key, "asset_key")
        record = await self._asset_record(asset_key)
        definition = self._definition_of(record)
        if definition is None:
            raise FailedPrecondition(
                f"asset {asset_key!r} is not partitioned, so it has no partition status",
                metadata={"asset_key": asset_key},
            )
        # Keys and their stream versions read together: the versions name the status space of those keys.
        versions: list[tuple[str, int]] = []
        keys: dict[str, DynamicKeys] = {}
        for name in dynamic_names(definition):
            snapshot = await self._store.dynamic_partitions(name, dynamic_stream(name))
            versions.append((name, snapshot.stream_version))
            keys[name] = DynamicKeys(snapshot.keys)
        space = partition_space(definition, as_of=as_of, dynamic_keys=keys.__getitem__)
        selection = _selected(asset_key, space, selector)
        assert selection is not None  # the asset is partitioned
        partitions = assets_pb2.Asset.FromString(record.definition).partitions.SerializeToString(deterministic=True)
        status_space = await self._deletions.space(partitions, sorted(versions))
        status = await read_partition_status(self._store, asset_key, status_space)
        materialized, failed, in_progress = status.within(selection)
        return SelectionStatus(selection, materialized, failed, in_progress, as_of)

    # -- dependencies ----------------------------------------------------------

    async def map_selection(
        self,
        *,
        downstream_key: str,
        upstream_key: str,
        selector: Selector | None,
        as_of: datetime,
        toward_upstream: bool,
    ) -> MappedSelection:
        """Maps a selection through the dependency of ``downstream_key`` on ``upstream_key``.

        Toward upstream the selection is over the downstream asset and the answer
        over the upstream one; otherwise the reverse. ``selector`` None means all.

        Raises:
            InvalidArgument: a malformed key, or a selector that does not fit (paths under "selector").
            NotFound: an asset does not exist.
            FailedPrecondition: the downstream asset does not depend on the upstream one, the
                asset mapped onto is unpartitioned, or the stored mapping cannot be evaluated.
        """
        check_asset_key(downstream_key, "downstream_asset_key")
        check_asset_key(upstream_key, "upstream_asset_key")
        _, catalog = await self._load_catalog()
        downstream, upstream = (_asset_in(catalog, key) for key in (downstream_key, upstream_key))
        dependency = next((d for d in downstream.dependencies if d.asset_key == upstream_key), None)
        if dependency is None:
            listed = ", ".join(repr(d.asset_key) for d in downstream.dependencies) or "none"
            raise FailedPrecondition(
                f"asset {downstream_key!r} does not depend on {upstream_key!r} (its dependencies: {listed}); "
                "partitions map only along a declared dependency",
                reason="NOT_A_DEPENDENCY",
                metadata={"downstream_asset_key": downstream_key, "upstream_asset_key": upstream_key},
            )
        down_space = await self._space_at(downstream.partitions, as_of)
        up_space = await self._space_at(upstream.partitions, as_of)
        source_key, source_space, target_key, target_space = (
            (downstream_key, down_space, upstream_key, up_space)
            if toward_upstream
            else (upstream_key, up_space, downstream_key, down_space)
        )
        if target_space is None:
            raise FailedPrecondition(
                f"asset {target_key!r} is not partitioned, so it has no partitions to map onto; "
                + (f"every partition of {downstream_key!r} reads all of it" if toward_upstream
                   else f"it reads {upstream_key!r} as a whole"),
                metadata={"asset_key": target_key},
            )
        chosen = _selected(source_key, source_space, selector)
        mapping = mapping_in_effect(dependency.mapping, up_space, down_space)
        try:
            if toward_upstream:
                found = upstream_partitions(mapping, chosen, down_space, up_space)
                subset, missing = found.subset, found.required_but_nonexistent
            else:
                subset, missing = downstream_partitions(mapping, chosen, up_space, down_space), RequiredButNonexistent()
        except InvalidArgument as error:
            raise FailedPrecondition(
                f"the partition mapping of {downstream_key!r} on {upstream_key!r} cannot be evaluated: {error.message}",
                metadata={"downstream_asset_key": downstream_key, "upstream_asset_key": upstream_key},
            ) from None
        description = describe_mapping(
            mapping, inferred=dependency.mapping is None, upstream=upstream.partitions, downstream=downstream.partitions
        )
        return MappedSelection(
            target_space, subset, missing, mapping, dependency.mapping is None, description,
            1 if chosen is None else chosen.count, as_of,
        )

    async def _space_at(self, definition: PartitionsDefinition | None, as_of: datetime) -> PartitionSpace | None:
        if definition is None:
            return None
        keys = {name: await self._keys_of(name) for name in dynamic_names(definition)}
        return partition_space(definition, as_of=as_of, dynamic_keys=keys.__getitem__)

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


def _asset_in(catalog: dict[str, VersionedAsset], key: str) -> Asset:
    entry = catalog.get(key)
    if entry is None:
        raise NotFound(f"asset {key!r} does not exist; define it with ApplyAssets", metadata={"asset_key": key})
    return entry.asset


def _selected(asset_key: str, space: PartitionSpace | None, selector: Selector | None) -> AnySubset | None:
    """The selection over ``space``; None for an unpartitioned asset (selected whole)."""
    if space is None:
        if selector is not None and not isinstance(selector, AllPartitions):
            raise InvalidArgument(
                f"asset {asset_key!r} is not partitioned, so there is nothing to select; leave selector unset",
                field="selector",
            )
        return None
    try:
        return select(space, AllPartitions() if selector is None else selector)
    except InvalidArgument as error:
        raise error.under("selector") from None


def _stored_asset(record: AssetRecord) -> Asset:
    """The pure asset of a stored row (stored rows were validated when applied)."""
    return asset_from_proto(assets_pb2.Asset.FromString(record.definition))
