"""The mappings that relate two spaces directly (every kind but the two multi ones).

``map_partitions`` maps a subset of ``source`` onto ``target`` in one
direction: toward upstream (source = downstream asset, target = upstream asset)
or toward downstream. It also serves the dimensions of multi mappings, where
``per_key`` asks for Dagster's key-by-key union (only time windows differ).
Error fields are relative to the PartitionMapping message.
"""

from __future__ import annotations

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping._identity import identity
from arco_grpc.partitions.mapping._kinds import (
    AllMapping,
    IdentityMapping,
    LastMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.mapping._result import (
    NOTHING_MISSING,
    MissingKeys,
    MissingPartitions,
    MissingWindows,
    RequiredButNonexistent,
    missing,
)
from arco_grpc.partitions.mapping._time_window import TimeWindowMapper
from arco_grpc.partitions.mapping._validate import definition_kind
from arco_grpc.partitions.multi import MultiSpace
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset, all_of, none_of
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticSpace
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowSpace

Mapped = tuple[AnySubset, RequiredButNonexistent]


def holds(space: PartitionSpace, subset: AnySubset, key: str) -> bool:
    """Whether ``key`` names a partition of ``space`` that ``subset`` holds."""
    index = space.index_of(key)
    if index is None:
        return False
    if isinstance(subset, MultiPartitionSubset):
        assert isinstance(space, MultiSpace)
        return subset.contains(divmod(index, space.second.count))
    return index in subset


def subset_of_indices(space: PartitionSpace, indices: list[int]) -> AnySubset:
    """The subset of ``space`` holding the flat ``indices``."""
    if isinstance(space, MultiSpace):
        return MultiPartitionSubset.from_pairs(divmod(index, space.second.count) for index in indices)
    return PartitionSubset.from_indices(indices)


def map_partitions(
    mapping: PartitionMapping,
    source: PartitionSpace,
    target: PartitionSpace,
    subset: AnySubset,
    *,
    toward_upstream: bool,
    per_key: bool = False,
    dimension: str | None = None,
) -> Mapped:
    """Maps a non-empty ``subset`` of ``source`` onto ``target``; see the module docstring.

    The nonexistent part is empty toward downstream (Dagster filters there).
    ``dimension`` names the upstream dimension the reported keys belong to.

    Raises:
        InvalidArgument: the mapping cannot relate these spaces (where Dagster's
            evaluation raises too).
    """
    if isinstance(mapping, IdentityMapping):
        mapped, present = identity(source, target, subset)
        if not toward_upstream:
            return mapped, NOTHING_MISSING
        return mapped, missing(MissingPartitions(source, subset - present, dimension))  # type: ignore[operator]
    if isinstance(mapping, AllMapping):
        return all_of(target), NOTHING_MISSING
    if isinstance(mapping, LastMapping):
        return _last(source, target, subset, toward_upstream), NOTHING_MISSING
    if isinstance(mapping, SpecificPartitionsMapping):
        return _specific(mapping, source, target, subset, toward_upstream, dimension)
    if isinstance(mapping, StaticMapping):
        return _static(mapping, source, target, subset, toward_upstream), NOTHING_MISSING
    if isinstance(mapping, TimeWindowMapping):
        return _time_window(mapping, source, target, subset, toward_upstream, per_key, dimension)
    raise InvalidArgument(
        f"a {type(mapping).__name__} relates a multi definition to another definition; it cannot map "
        "one dimension onto another",
        field="",
    )


def _last(source: PartitionSpace, target: PartitionSpace, subset: AnySubset, toward_upstream: bool) -> AnySubset:
    if toward_upstream:
        return subset_of_indices(target, [target.count - 1] if target.count else [])
    last = source.last_key()
    return all_of(target) if last is not None and holds(source, subset, last) else none_of(target)


def _specific(
    mapping: SpecificPartitionsMapping,
    source: PartitionSpace,
    target: PartitionSpace,
    subset: AnySubset,
    toward_upstream: bool,
    dimension: str | None,
) -> Mapped:
    if not toward_upstream:
        hit = any(holds(source, subset, key) for key in mapping.partition_keys)
        return (all_of(target) if hit else none_of(target)), NOTHING_MISSING
    # Dagster returns keys the upstream does not have as if they were partitions
    # (or raises ValueError when a time-window key does not parse). A subset of
    # indices cannot hold them, so they are reported as required but nonexistent.
    found: list[int] = []
    absent: set[str] = set()
    for key in mapping.partition_keys:
        index = target.index_of(key)
        if index is None:
            absent.add(key)
        else:
            found.append(index)
    return subset_of_indices(target, found), missing(MissingKeys(tuple(sorted(absent)), dimension))


def _static(
    mapping: StaticMapping, source: PartitionSpace, target: PartitionSpace, subset: AnySubset, toward_upstream: bool
) -> AnySubset:
    """Dagster checks only the side it maps onto: upstream keys exist when mapping
    toward upstream, downstream keys when mapping toward downstream. Cost: O(entries)."""
    upstream, downstream = (target, source) if toward_upstream else (source, target)
    if not isinstance(target, StaticSpace):
        side = "upstream" if toward_upstream else "downstream"
        raise InvalidArgument(
            f"a static mapping needs a static {side} definition, but the {side} one is "
            f"{definition_kind(target.definition)}",  # type: ignore[attr-defined]
            field="static",
        )
    found: list[int] = []
    for position, (upstream_key, downstream_keys) in enumerate(mapping.downstream_keys_by_upstream_key):
        at = f"static.entries[{position}]"
        if toward_upstream:
            index = upstream.index_of(upstream_key)
            if index is None:
                raise InvalidArgument(
                    f"{upstream_key!r} is not a key of the upstream asset's static partitions",
                    field=f"{at}.upstream_key",
                )
            if any(holds(downstream, subset, key) for key in downstream_keys):
                found.append(index)
            continue
        targets = []
        for offset, key in enumerate(downstream_keys):
            index = downstream.index_of(key)
            if index is None:
                raise InvalidArgument(
                    f"{key!r} is not a key of the downstream asset's static partitions",
                    field=f"{at}.downstream_keys[{offset}]",
                )
            targets.append(index)
        if holds(upstream, subset, upstream_key):
            found.extend(targets)
    return subset_of_indices(target, found)


def _time_window(
    mapping: TimeWindowMapping,
    source: PartitionSpace,
    target: PartitionSpace,
    subset: AnySubset,
    toward_upstream: bool,
    per_key: bool,
    dimension: str | None,
) -> Mapped:
    if not isinstance(source, TimeWindowSpace) or not isinstance(target, TimeWindowSpace):
        upstream, downstream = (target, source) if toward_upstream else (source, target)
        raise InvalidArgument(
            "a time window mapping relates two time window definitions, but upstream is "
            f"{definition_kind(upstream.definition)} and downstream is "  # type: ignore[attr-defined]
            f"{definition_kind(downstream.definition)}",  # type: ignore[attr-defined]
            field="time_window",
        )
    assert isinstance(subset, PartitionSubset)
    mapper = TimeWindowMapper(
        source,
        target,
        start_offset=mapping.start_offset,
        end_offset=mapping.end_offset,
        allow_nonexistent=mapping.allow_nonexistent_upstream_partitions,
        toward_upstream=toward_upstream,
    )
    partitions, nonexistent = (mapper.map_each if per_key else mapper.map_ranges)(subset.ranges)
    mapped = PartitionSubset(partitions)
    if not toward_upstream:
        return mapped, NOTHING_MISSING
    return mapped, missing(MissingWindows(target.definition, nonexistent, dimension))
