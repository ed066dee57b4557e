"""IdentityPartitionMapping: a partition depends on the upstream partition with the same key.

Dagster intersects key strings whenever the two definitions differ, even when
their types differ (validation refuses that pair, evaluation still runs). The
same answer is computed here without listing the definitions:

* equal definitions: the subset itself;
* time windows on one grid (same cron, timezone and key format; start, end or
  end_offset may differ): equal keys are equal instants, so the indices shift by
  a constant and the answer is range arithmetic;
* two multi definitions: a multi key is its dimension keys joined by "|" and no
  dimension key contains "|", so keys match exactly when every dimension key
  does; each dimension is mapped on its own and the result is rectangles;
* anything else: one lookup per key of the subset, so the cost is O(size of the
  subset), never O(size of a definition).

Each function returns ``(mapped, present)``: the matching partitions of the
target and the source partitions that have a match. The source partitions
without one are Dagster's required-but-nonexistent keys (toward upstream).
"""

from __future__ import annotations

from arco_grpc.partitions.multi import MULTI_KEY_DELIMITER, MultiSpace
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowSpace


def _same_grid(source: PartitionSpace, target: PartitionSpace) -> bool:
    if not isinstance(source, TimeWindowSpace) or not isinstance(target, TimeWindowSpace):
        return False
    a, b = source.definition, target.definition
    return (a.cron_schedule, a.timezone, a.fmt) == (b.cron_schedule, b.timezone, b.fmt)


def _shifted(source: TimeWindowSpace, target: TimeWindowSpace, subset: PartitionSubset) -> tuple[PartitionSubset, PartitionSubset]:
    # Source index i starts at the same instant as target tick i + shift.
    shift = target.definition._ticks.count_before(source.definition._ticks.instant(0))
    present = subset & PartitionSubset.of_range(-shift if shift < 0 else 0, max(target.count - shift, 0))
    mapped = PartitionSubset(tuple((start + shift, stop + shift) for start, stop in present.ranges))
    return mapped, present


def _key_by_key(source: PartitionSpace, target: PartitionSpace, subset: AnySubset) -> tuple[AnySubset, AnySubset]:
    """One key lookup per partition of ``subset`` (the fallback; O(subset size))."""
    found: list[int] = []
    present: list[int] = []
    for position, key in enumerate(_keys_of(source, subset)):
        index = target.index_of(key)
        if index is not None:
            found.append(index)
            present.append(position)
    mapped: AnySubset
    if isinstance(target, MultiSpace):
        mapped = MultiPartitionSubset.from_pairs(divmod(index, target.second.count) for index in found)
    else:
        mapped = PartitionSubset.from_indices(found)
    return mapped, _positions_of(subset, present)


def _keys_of(space: PartitionSpace, subset: AnySubset) -> list[str]:
    if isinstance(subset, MultiPartitionSubset):
        assert isinstance(space, MultiSpace)
        first, second = space.first, space.second
        return [first.key_at(i) + MULTI_KEY_DELIMITER + second.key_at(j) for i, j in subset.iter_pairs()]
    return [space.key_at(index) for index in subset.indices()]


def _positions_of(subset: AnySubset, positions: list[int]) -> AnySubset:
    """The elements of ``subset`` at the given ascending positions."""
    if isinstance(subset, MultiPartitionSubset):
        pairs = list(subset.iter_pairs())
        return MultiPartitionSubset.from_pairs(pairs[position] for position in positions)
    indices = list(subset.indices())
    return PartitionSubset.from_indices(indices[position] for position in positions)


def identity_of_dimension(
    source: PartitionSpace, target: PartitionSpace, subset: PartitionSubset
) -> tuple[PartitionSubset, PartitionSubset]:
    """Identity between two single-dimension spaces: ``(mapped, present)``."""
    if source.definition == target.definition:  # type: ignore[attr-defined]
        return subset, subset
    if _same_grid(source, target):
        assert isinstance(source, TimeWindowSpace) and isinstance(target, TimeWindowSpace)
        return _shifted(source, target, subset)
    mapped, present = _key_by_key(source, target, subset)
    assert isinstance(mapped, PartitionSubset) and isinstance(present, PartitionSubset)
    return mapped, present


def identity(source: PartitionSpace, target: PartitionSpace, subset: AnySubset) -> tuple[AnySubset, AnySubset]:
    """Identity from ``source`` partitions to ``target`` ones: ``(mapped, present)``."""
    if source.definition == target.definition:  # type: ignore[attr-defined]
        return subset, subset
    if isinstance(source, MultiSpace) and isinstance(target, MultiSpace):
        assert isinstance(subset, MultiPartitionSubset)
        return _identity_by_dimension(source, target, subset)
    if isinstance(source, MultiSpace) or isinstance(target, MultiSpace):
        return _key_by_key(source, target, subset)
    assert isinstance(subset, PartitionSubset)
    return identity_of_dimension(source, target, subset)


def _identity_by_dimension(
    source: MultiSpace, target: MultiSpace, subset: MultiPartitionSubset
) -> tuple[MultiPartitionSubset, MultiPartitionSubset]:
    cache: dict[PartitionSubset, tuple[PartitionSubset, PartitionSubset]] = {}

    def second(keys: PartitionSubset) -> tuple[PartitionSubset, PartitionSubset]:
        if keys not in cache:
            cache[keys] = identity_of_dimension(source.second, target.second, keys)
        return cache[keys]

    mapped = MultiPartitionSubset.empty()
    present = MultiPartitionSubset.empty()
    for start, stop, keys in subset.bands:
        mapped_first, present_first = identity_of_dimension(source.first, target.first, PartitionSubset.of_range(start, stop))
        mapped_second, present_second = second(keys)
        mapped = mapped | MultiPartitionSubset.rectangle(mapped_first, mapped_second)
        present = present | MultiPartitionSubset.rectangle(present_first, present_second)
    return mapped, present
