"""The asset catalog: assets, their dependencies, and deciding an ApplyAssets request.

Pure: the current catalog and the time come in as arguments. Field paths in
errors are relative to ApplyAssetsRequest (``"assets[2].dependencies[0].asset_key"``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from arco_grpc.errors import FailedPrecondition, InvalidArgument
from arco_grpc.partitions.mapping import (
    PartitionMapping,
    definition_kind,
    infer_mapping,
    self_dependency_allowed,
    validate_mapping,
)

if TYPE_CHECKING:
    from arco_grpc.partitions.evaluate import PartitionsDefinition

MAX_KEY_LENGTH = 255
MAX_ASSETS_PER_REQUEST = 1_000
MAX_DEPENDENCIES = 1_000
MAX_DESCRIPTION_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class AssetDependency:
    """An edge to an upstream asset; ``mapping`` None means Dagster's default for the two definitions."""

    asset_key: str
    mapping: PartitionMapping | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset's definition (what ApplyAssets sets); equal definitions mean "unchanged"."""

    key: str
    partitions: PartitionsDefinition | None
    dependencies: tuple[AssetDependency, ...] = ()
    max_partitions_per_chunk: int = 1
    description: str = ""


@dataclass(frozen=True, slots=True)
class VersionedAsset:
    """An asset as the catalog holds it: raised by one version at each change."""

    asset: Asset
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AppliedAssets:
    """The outcome of an ApplyAssets request: every requested asset as stored, and what changed."""

    assets: tuple[VersionedAsset, ...]
    changed: tuple[VersionedAsset, ...]

    @property
    def changed_keys(self) -> tuple[str, ...]:
        """Keys of the new or changed assets, in request order."""
        return tuple(entry.asset.key for entry in self.changed)


def check_asset_key(key: str, field: str) -> None:
    """Raises InvalidArgument unless ``key`` can name an asset."""
    if not key:
        raise InvalidArgument("an asset key may not be empty", field=field)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"the asset key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}", field=field
        )
    for character in key:
        if unicodedata.category(character) == "Cc":
            raise InvalidArgument(
                f"the asset key {key!r} contains the control character {character!r}; use printable characters",
                field=field,
            )


def decide_apply_assets(
    requested: Sequence[Asset], catalog: Mapping[str, VersionedAsset], now: datetime
) -> AppliedAssets:
    """Validates an ApplyAssets request against ``catalog`` and computes the new versions.

    Unchanged assets keep their version and update time; new ones get version
    1 and changed ones their version + 1, both at ``now``.

    Raises:
        InvalidArgument: a bad key, a duplicate, an unknown or repeated
            dependency, a forbidden self-dependency, a cycle, or a mapping
            that does not fit the two definitions.
        FailedPrecondition: a changed definition breaks the mapping of an
            asset already in the catalog that is not part of the request.
    """
    _check_shape(requested)
    graph: dict[str, Asset] = {key: entry.asset for key, entry in catalog.items()}
    graph.update({asset.key: asset for asset in requested})
    for position, asset in enumerate(requested):
        _check_dependencies(asset, position, graph)
    _check_catalog_mappings_still_fit(requested, catalog, graph)
    _check_acyclic(requested, graph)
    stored: list[VersionedAsset] = []
    changed: list[VersionedAsset] = []
    for asset in requested:
        previous = catalog.get(asset.key)
        if previous is not None and previous.asset == asset:
            stored.append(previous)
            continue
        entry = VersionedAsset(asset, (previous.version if previous else 0) + 1, now)
        stored.append(entry)
        changed.append(entry)
    return AppliedAssets(tuple(stored), tuple(changed))


def _check_shape(requested: Sequence[Asset]) -> None:
    if not requested:
        raise InvalidArgument("no assets were given; list at least one asset to apply", field="assets")
    if len(requested) > MAX_ASSETS_PER_REQUEST:
        raise InvalidArgument(
            f"{len(requested)} assets were given; apply at most {MAX_ASSETS_PER_REQUEST} per request",
            field="assets",
        )
    seen: dict[str, int] = {}
    for position, asset in enumerate(requested):
        at = f"assets[{position}]"
        check_asset_key(asset.key, f"{at}.key")
        if asset.key in seen:
            raise InvalidArgument(
                f"asset {asset.key!r} is listed twice (assets[{seen[asset.key]}] and {at}); list each asset once",
                field=f"{at}.key",
            )
        seen[asset.key] = position
        if asset.max_partitions_per_chunk < 1:
            raise InvalidArgument(
                f"max_partitions_per_chunk must be positive (0 means 1), got {asset.max_partitions_per_chunk}",
                field=f"{at}.chunk_policy.max_partitions_per_chunk",
            )
        if len(asset.description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidArgument(
                f"the description is {len(asset.description)} characters long; the limit is {MAX_DESCRIPTION_LENGTH}",
                field=f"{at}.description",
            )
        if len(asset.dependencies) > MAX_DEPENDENCIES:
            raise InvalidArgument(
                f"{len(asset.dependencies)} dependencies were given; the limit is {MAX_DEPENDENCIES}",
                field=f"{at}.dependencies",
            )


def _check_dependencies(asset: Asset, position: int, graph: Mapping[str, Asset]) -> None:
    seen: dict[str, int] = {}
    for index, dependency in enumerate(asset.dependencies):
        at = f"assets[{position}].dependencies[{index}]"
        check_asset_key(dependency.asset_key, f"{at}.asset_key")
        if dependency.asset_key in seen:
            raise InvalidArgument(
                f"{dependency.asset_key!r} is listed twice as a dependency (entries {seen[dependency.asset_key]} "
                f"and {index}); list each upstream asset once",
                field=f"{at}.asset_key",
            )
        seen[dependency.asset_key] = index
        upstream = graph.get(dependency.asset_key)
        if upstream is None:
            raise InvalidArgument(
                f"asset {dependency.asset_key!r} is neither in the catalog nor in this request; "
                "apply it first or in the same request",
                field=f"{at}.asset_key",
            )
        if dependency.asset_key == asset.key and not self_dependency_allowed(dependency.mapping, asset.partitions):
            raise InvalidArgument(
                f"asset {asset.key!r} depends on itself; an asset may depend only on its own earlier partitions: "
                "a time window mapping with negative start_offset and end_offset (on the time dimension, for a "
                "multi definition with one time dimension)",
                field=f"{at}.asset_key",
            )
        _check_mapping(dependency, upstream.partitions, asset.partitions, f"{at}.mapping")


def _check_mapping(
    dependency: AssetDependency,
    upstream: PartitionsDefinition | None,
    downstream: PartitionsDefinition | None,
    field: str,
) -> None:
    if dependency.mapping is not None:
        try:
            validate_mapping(dependency.mapping, upstream, downstream)
        except InvalidArgument as error:
            raise error.under(field) from None
        return
    default = infer_mapping(upstream, downstream)
    try:
        validate_mapping(default, upstream, downstream)
    except InvalidArgument as error:
        raise InvalidArgument(
            f"no mapping is set, and the default for a {definition_kind(upstream)} upstream and a "
            f"{definition_kind(downstream)} downstream does not fit: {error.message}; set a mapping",
            field=field,
        ) from None


def _check_catalog_mappings_still_fit(
    requested: Sequence[Asset], catalog: Mapping[str, VersionedAsset], graph: Mapping[str, Asset]
) -> None:
    """An asset outside the request may depend on one whose definition the request changes."""
    changed = {
        asset.key
        for asset in requested
        if asset.key in catalog and catalog[asset.key].asset.partitions != asset.partitions
    }
    if not changed:
        return
    requested_keys = {asset.key for asset in requested}
    for key, downstream in graph.items():
        if key in requested_keys:
            continue
        for dependency in downstream.dependencies:
            if dependency.asset_key not in changed:
                continue
            try:
                _check_mapping(dependency, graph[dependency.asset_key].partitions, downstream.partitions, "mapping")
            except InvalidArgument as error:
                raise FailedPrecondition(
                    f"changing the partitions of {dependency.asset_key!r} breaks the dependency of {key!r} on it "
                    f"({error.message}); apply {key!r} with a fitting mapping in the same request",
                    metadata={"asset_key": dependency.asset_key, "dependent_asset_key": key},
                ) from None


def _check_acyclic(requested: Sequence[Asset], graph: Mapping[str, Asset]) -> None:
    """Raises at a requested dependency that closes a cycle (self-dependencies were checked already)."""
    positions = {asset.key: position for position, asset in enumerate(requested)}
    finished: set[str] = set()
    for root in requested:
        if root.key in finished:
            continue
        path: list[str] = [root.key]
        on_path = {root.key}
        # Iterative depth-first search; each frame iterates one asset's upstream keys.
        frames = [iter(_upstream_keys(graph[root.key]))]
        while frames:
            upstream = next(frames[-1], None)
            if upstream is None:
                frames.pop()
                done = path.pop()
                on_path.discard(done)
                finished.add(done)
                continue
            if upstream in on_path:
                _raise_cycle(path[path.index(upstream) :] + [upstream], positions, graph)
            if upstream in finished:
                continue
            path.append(upstream)
            on_path.add(upstream)
            frames.append(iter(_upstream_keys(graph[upstream])))


def _upstream_keys(asset: Asset) -> list[str]:
    return [d.asset_key for d in asset.dependencies if d.asset_key != asset.key]


def _raise_cycle(cycle: list[str], positions: Mapping[str, int], graph: Mapping[str, Asset]) -> None:
    text = " -> ".join(repr(key) for key in cycle)
    # The catalog was acyclic, so some edge of the cycle comes from a requested asset.
    for downstream, upstream in zip(cycle, cycle[1:]):
        if downstream in positions:
            index = next(i for i, d in enumerate(graph[downstream].dependencies) if d.asset_key == upstream)
            raise InvalidArgument(
                f"this dependency closes a cycle ({text}; each asset depends on the next); "
                "dependencies must form a directed acyclic graph",
                field=f"assets[{positions[downstream]}].dependencies[{index}].asset_key",
            )
    raise InvalidArgument(f"the dependencies form a cycle ({text})", field="assets")
