"""Resolving a backfill's targets into partition spaces and selections, then and ever after.

At creation a target is resolved against the asset's current definition and
the current keys of the dynamic definitions it reads, at the backfill's
``as_of``; the versions used are recorded in the target. Every later read
(chunks, run keys) resolves the target against those same versions at the
same ``as_of``, so a chunk holds the same partitions for the backfill's whole
life, whatever happens to the asset or its dynamic keys afterwards.

Resolved plans are cached: a backfill's plan never changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2, events_pb2
from arco_grpc.domain.backfill import BackfillCreated, DispatchOrder, Target
from arco_grpc.domain.catalog import AssetDependency
from arco_grpc.domain.partition_status import remaining_selection
from arco_grpc.domain.submitted_run import SubmittedRun, chunk_run_key
from arco_grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from arco_grpc.partitions.dynamic import DynamicKeys
from arco_grpc.partitions.evaluate import PartitionsDefinition, partition_space
from arco_grpc.partitions.selection import AnySubset, select
from arco_grpc.partitions.selector import Selector, normalize_selector, selector_fingerprint
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.planning.asset_graph import BackfillGraph, GraphAsset, GraphEdge
from arco_grpc.service.catalog_app import dynamic_stream
from arco_grpc.service.convert_assets import mapping_from_proto
from arco_grpc.service.convert_partitions import definition_from_proto, dynamic_names
from arco_grpc.service.partition_status_rows import DynamicDeletions
from arco_grpc.store import EventStore
from arco_grpc.store.payloads import decode_payload

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A small least-recently-used cache."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class AssetPartitioning:
    """What planning needs of one version of an asset."""

    key: str
    version: int
    definition: PartitionsDefinition | None
    max_partitions_per_chunk: int
    # The PartitionsDefinition message's deterministic bytes (its status space digests them).
    definition_bytes: bytes = b""
    dependencies: tuple[AssetDependency, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """One target of a backfill with its partitions resolved: ``selection`` is a subset of ``space``.

    ``selection`` is what the plan chunks: the selector's partitions minus those the reprocess policy skipped.
    """

    position: int
    target: Target
    space: PartitionSpace
    selection: AnySubset

    @property
    def asset_key(self) -> str:
        """The target's asset."""
        return self.target.asset_key

    @property
    def chunk_count(self) -> int:
        """Round-1 chunks of this target."""
        return self.target.chunk_count


@dataclass(frozen=True, slots=True)
class ResolvedPlan:
    """A backfill's targets, resolved; everything its chunks are computed from."""

    backfill_id: str
    order: DispatchOrder
    targets: tuple[ResolvedTarget, ...]
    # The dependencies among the targets (None: there are none, nothing waits for anything).
    graph: BackfillGraph | None = None
    # Set when the stream is a run submitted through RunService (its run keys come from it).
    submitted_run: SubmittedRun | None = None

    def run_key(self, asset_key: str, round_number: int, chunk_index: int, attempt: int) -> str:
        """The run key of an attempt at one of the plan's chunks."""
        return chunk_run_key(self.submitted_run, self.backfill_id, asset_key, round_number, chunk_index, attempt)

    def target_named(self, asset_key: str) -> ResolvedTarget | None:
        """The target of ``asset_key``, if the backfill has one."""
        return next((t for t in self.targets if t.asset_key == asset_key), None)


# What the partition space of an existing target depends on: its asset, the asset version and dynamic
# definition versions it recorded, and its backfill's as_of. Equal keys give equal spaces.
PinnedSpaceKey = tuple[str, int, datetime, tuple[tuple[str, int], ...]]


def pinned_space_key(target: Target, as_of: datetime) -> PinnedSpaceKey:
    """The key of the partition space of an existing ``target`` of a backfill resolved at ``as_of``."""
    return (target.asset_key, target.asset_version, as_of, target.dynamic_versions)


def _partitioning(key: str, version: int, definition: bytes) -> AssetPartitioning:
    message = assets_pb2.Asset.FromString(definition)
    partitions = definition_from_proto(message.partitions) if message.HasField("partitions") else None
    dependencies = tuple(
        AssetDependency(d.asset_key, mapping_from_proto(d.mapping) if d.HasField("mapping") else None)
        for d in message.dependencies
    )
    return AssetPartitioning(
        key, version, partitions, message.chunk_policy.max_partitions_per_chunk or 1,
        message.partitions.SerializeToString(deterministic=True), dependencies,
    )


def graph_of(targets: Sequence[ResolvedTarget], assets: Sequence[AssetPartitioning]) -> BackfillGraph | None:
    """The dependencies among a backfill's targets (``assets`` in target order), or None when there are none.

    Each target's graph selection is what its plan chunks (the reprocess
    policy's skips are not in the backfill, so they never block).

    Raises:
        InvalidArgument: the targets depend on each other in a cycle.
    """
    keys = {target.asset_key for target in targets}
    edges = [
        GraphEdge(dependency.asset_key, asset.key, dependency.mapping)
        for asset in assets
        for dependency in asset.dependencies
        if dependency.asset_key in keys
    ]
    if not edges:
        return None
    return BackfillGraph([GraphAsset(t.asset_key, t.space, t.selection) for t in targets], edges)


def _fold_dynamic_events(payloads: list[tuple[str, bytes]]) -> DynamicKeys:
    """The keys after these events, by the projection's rule: new keys go last, deletions drop."""
    keys: dict[str, None] = {}
    for event_type, payload in payloads:
        message = decode_payload(event_type, payload)
        if isinstance(message, events_pb2.DynamicPartitionsAdded):
            for key in message.keys:
                keys.setdefault(key, None)
        elif isinstance(message, events_pb2.DynamicPartitionsDeleted):
            for key in message.keys:
                keys.pop(key, None)
    return DynamicKeys(tuple(keys))


class PlanResolver:
    """Resolves targets at creation, and the plans of existing backfills (cached)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._assets: _Lru[tuple[str, int], AssetPartitioning] = _Lru(1024)
        self._dynamic: _Lru[tuple[str, int], DynamicKeys] = _Lru(256)
        self._plans: _Lru[str, ResolvedPlan] = _Lru(256)
        # Many streams share a space and a selector (a sensor's runs, say): both outlive any one plan.
        self._spaces: _Lru[PinnedSpaceKey, PartitionSpace] = _Lru(256)
        self._selections: _Lru[tuple[PinnedSpaceKey, str], AnySubset] = _Lru(1024)
        self._deletions = DynamicDeletions(store)

    # -- at creation ------------------------------------------------------------

    async def current_asset(self, asset_key: str, field: str) -> AssetPartitioning:
        """The asset's current definition.

        Raises:
            NotFound: no asset has this key.
        """
        record = await self._store.get_asset(asset_key)
        if record is None:
            raise NotFound(
                f"asset {asset_key!r} ({field}) does not exist; define it with ApplyAssets first",
                reason="ASSET_NOT_FOUND",
                metadata={"asset_key": asset_key, "field": field},
            )
        cached = self._assets.get((record.key, record.version))
        if cached is None:
            cached = _partitioning(record.key, record.version, record.definition)
            self._assets.put((record.key, record.version), cached)
        return cached

    async def resolve_new(
        self, asset: AssetPartitioning, selector: Selector, chunk_size: int, as_of: datetime
    ) -> tuple[Target, PartitionSpace, AnySubset]:
        """Resolves a new target over the current dynamic keys; field paths are relative to the target spec.

        Raises:
            InvalidArgument: the asset is not partitioned, the selector does not fit, or it selects nothing.
        """
        if asset.definition is None:
            raise InvalidArgument(
                f"asset {asset.key!r} is not partitioned; backfills run over partitions, so pick a partitioned "
                "asset (unpartitioned targets are not supported yet)",
                field="asset_key",
                reason="ASSET_NOT_PARTITIONED",
            )
        space, versions = await self._current_space(asset.definition, as_of)
        try:
            canonical = normalize_selector(selector)
            selection = select(space, selector)
        except InvalidArgument as error:
            raise error.under("selector") from None
        if selection.count == 0:
            raise InvalidArgument(
                f"the selector selects no partition of asset {asset.key!r} at as_of {as_of.isoformat()} "
                f"(the asset has {space.count} partitions then); select at least one",
                field="selector",
                reason="EMPTY_SELECTION",
            )
        dynamic_versions = tuple(sorted(versions.items()))
        target = Target(
            asset_key=asset.key,
            selector=canonical,
            selector_fingerprint=selector_fingerprint(canonical),
            partition_count=selection.count,
            chunk_size=chunk_size or asset.max_partitions_per_chunk,
            asset_version=asset.version,
            dynamic_versions=dynamic_versions,
            selected_count=selection.count,
            status_space=await self._deletions.space(asset.definition_bytes, dynamic_versions),
        )
        return target, space, selection

    async def _current_space(
        self, definition: PartitionsDefinition, as_of: datetime
    ) -> tuple[PartitionSpace, dict[str, int]]:
        """The partitions of ``definition`` at ``as_of`` over the current dynamic keys, and their stream versions."""
        versions: dict[str, int] = {}
        keys: dict[str, DynamicKeys] = {}
        for name in dynamic_names(definition):
            snapshot = await self._store.dynamic_partitions(name, dynamic_stream(name))
            versions[name] = snapshot.stream_version
            keys[name] = DynamicKeys(snapshot.keys)
            self._dynamic.put((name, snapshot.stream_version), keys[name])
        return partition_space(definition, as_of=as_of, dynamic_keys=keys.__getitem__), versions

    async def current_space(self, asset: AssetPartitioning, as_of: datetime) -> PartitionSpace | None:
        """The asset's partitions at ``as_of`` over the current dynamic keys; None when it is unpartitioned."""
        if asset.definition is None:
            return None
        return (await self._current_space(asset.definition, as_of))[0]

    # -- ever after -------------------------------------------------------------

    def cached_plan(self, backfill_id: str) -> ResolvedPlan | None:
        """The plan of ``backfill_id`` if it is in the cache (a stream's plan never changes)."""
        return self._plans.get(backfill_id)

    async def plan_of(self, spec: BackfillCreated) -> ResolvedPlan:
        """The resolved plan of an existing backfill, against the versions it recorded.

        Raises:
            FailedPrecondition: the recorded versions cannot be found or no longer give the recorded counts.
        """
        cached = self._plans.get(spec.backfill_id)
        if cached is not None:
            return cached
        targets = [await self.resolved_target(spec, position) for position in range(len(spec.targets))]
        assets = [await self._asset_at(target.asset_key, target.asset_version) for target in spec.targets]
        plan = ResolvedPlan(
            spec.backfill_id, spec.order, tuple(targets), graph_of(targets, assets), spec.submitted_run
        )
        self._plans.put(spec.backfill_id, plan)
        return plan

    async def resolved_target(self, spec: BackfillCreated, position: int) -> ResolvedTarget:
        """Target ``position`` of an existing backfill, as its plan resolves it, without the rest of the plan.

        Raises:
            FailedPrecondition: the recorded versions cannot be found or no longer give the recorded count.
        """
        target = spec.targets[position]
        space = await self.pinned_space(target, spec.as_of)
        cache_key = (pinned_space_key(target, spec.as_of), target.selector_fingerprint)
        selection = self._selections.get(cache_key) if target.selector_fingerprint else None
        if selection is None:
            selection = select(space, target.selector)
            if target.selector_fingerprint:
                self._selections.put(cache_key, selection)
        if selection.count != target.selected_partition_count:
            raise self._unplannable(
                target, f"it now resolves to {selection.count} partitions instead of {target.selected_partition_count}"
            )
        # The plan chunks what the reprocess policy left (frozen in the target at creation).
        return ResolvedTarget(position, target, space, remaining_selection(selection, target.skipped))

    async def pinned_space(self, target: Target, as_of: datetime) -> PartitionSpace:
        """The partitions of an existing ``target``'s asset at ``as_of``, against the versions it recorded (cached).

        Raises:
            FailedPrecondition: the recorded versions cannot be found, or the recorded definition has no partitions.
        """
        key = pinned_space_key(target, as_of)
        space = self._spaces.get(key)
        if space is not None:
            return space
        asset = await self._asset_at(target.asset_key, target.asset_version)
        if asset.definition is None:
            raise self._unplannable(target, "its recorded definition has no partitions")
        versions = dict(target.dynamic_versions)
        keys = {name: await self._dynamic_keys_at(name, versions.get(name, 0)) for name in dynamic_names(asset.definition)}
        space = partition_space(asset.definition, as_of=as_of, dynamic_keys=keys.__getitem__)
        self._spaces.put(key, space)
        return space

    async def asset_at(self, key: str, version: int) -> AssetPartitioning:
        """Version ``version`` of asset ``key`` (cached).

        Raises:
            FailedPrecondition: the version is not in the asset history.
        """
        return await self._asset_at(key, version)

    async def _asset_at(self, key: str, version: int) -> AssetPartitioning:
        cached = self._assets.get((key, version))
        if cached is not None:
            return cached
        record = await self._store.asset_version(key, version)
        if record is None:
            raise FailedPrecondition(
                f"version {version} of asset {key!r} is not in the asset history; rebuild the projections "
                "(arco admin rebuild-projections)",
                reason="ASSET_VERSION_MISSING",
                metadata={"asset_key": key, "asset_version": str(version)},
            )
        partitioning = _partitioning(record.key, record.version, record.definition)
        self._assets.put((key, version), partitioning)
        return partitioning

    async def _dynamic_keys_at(self, name: str, version: int) -> DynamicKeys:
        cached = self._dynamic.get((name, version))
        if cached is not None:
            return cached
        stream = dynamic_stream(name)
        snapshot = await self._store.dynamic_partitions(name, stream)
        if snapshot.stream_version == version:
            keys = DynamicKeys(snapshot.keys)
        else:
            # Keys changed since: replay the definition's events up to the recorded version.
            events = await self._store.read_stream(stream, 0, limit=version)
            keys = _fold_dynamic_events([(event.event_type, event.payload) for event in events])
        self._dynamic.put((name, version), keys)
        return keys

    @staticmethod
    def _unplannable(target: Target, why: str) -> FailedPrecondition:
        return FailedPrecondition(
            f"the plan of target {target.asset_key!r} cannot be recomputed: {why}",
            reason="PLAN_UNAVAILABLE",
            metadata={"asset_key": target.asset_key},
        )

