"""Resolve a selector against a partition space into a subset of indices.

Resolution never lists the whole space: a key range costs two key lookups, a
time range one index computation, a key list one lookup per key, and the
result is a compact subset (ranges or bands). Multi selections are rectangles:
the cross product of one selection per dimension, as Dagster resolves a
multi-partition key range.

Error field paths are relative to the PartitionSelector proto message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol, Union, runtime_checkable

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.multi import MULTI_KEY_DELIMITER, MultiSpace, split_multi_key
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selector import (
    MAX_EXPLICIT_KEYS,
    AllPartitions,
    KeyList,
    KeyRange,
    MultiSelector,
    Selector,
    TimeRange,
    normalize_selector,
)
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset

AnySubset = Union[PartitionSubset, MultiPartitionSubset]


@runtime_checkable
class TimeIndexedSpace(Protocol):
    """A space whose partitions are time windows (TimeWindowSpace is one)."""

    def index_range_starting_in(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The half-open index range of the windows whose start lies in ``[start, end)``."""
        ...


def select(space: PartitionSpace, selector: Selector) -> AnySubset:
    """The partitions of ``space`` that ``selector`` selects.

    Returns a PartitionSubset of indices for a single-dimension space and a
    MultiPartitionSubset of per-dimension index pairs for a MultiSpace.

    Raises:
        InvalidArgument: the selector is malformed, names a key that is not a
            partition of the space, or does not apply to this kind of space
            (a time range on a space without time windows, a multi selector
            on a single-dimension space, an unknown dimension).
    """
    # Normalizing checks the shape; resolution then walks the selector as given
    # so that error paths point at the caller's own positions.
    normalize_selector(selector)
    if isinstance(space, MultiSpace):
        return _select_multi(space, selector)
    return _select_single(space, selector)


def _not_a_partition(key: str, field: str, what: str = "the definition") -> InvalidArgument:
    return InvalidArgument(f"{key!r} is not a partition of {what} at the evaluation time", field=field)


def _select_single(space: PartitionSpace, selector: Selector) -> PartitionSubset:
    if isinstance(selector, AllPartitions):
        return PartitionSubset.of_range(0, space.count)
    if isinstance(selector, KeyRange):
        first = space.index_of(selector.start)
        if first is None:
            raise _not_a_partition(selector.start, "key_range.start")
        last = space.index_of(selector.end)
        if last is None:
            raise _not_a_partition(selector.end, "key_range.end")
        # A reversed range is empty, as in Dagster.
        return PartitionSubset.of_range(first, last + 1)
    if isinstance(selector, TimeRange):
        if not isinstance(space, TimeIndexedSpace):
            raise InvalidArgument(
                "a time range selects time-window partitions, but this definition has no time windows; "
                "use a key range, a key list or all partitions",
                field="time_range",
            )
        found = space.index_range_starting_in(selector.start, selector.end)
        # Accept a range object too; unpacking one would walk every index.
        start, stop = (found.start, found.stop) if isinstance(found, range) else found
        return PartitionSubset.of_range(start, stop)
    if isinstance(selector, KeyList):
        indices: list[int] = []
        for position, key in enumerate(selector.keys):
            index = space.index_of(key)
            if index is None:
                raise _not_a_partition(key, f"keys.keys[{position}]")
            indices.append(index)
        return PartitionSubset.from_indices(indices)
    if isinstance(selector, MultiSelector):
        raise InvalidArgument(
            "a multi selector applies only to multi-partitions definitions; this definition has one dimension",
            field="multi",
        )
    raise TypeError(f"not a partition selector: {selector!r}")


def _split_for(space: MultiSpace, key: str, field: str) -> tuple[int, int]:
    """The per-dimension indices of multi key ``key``."""
    names = space.definition.dimension_names
    parts = split_multi_key(key)
    if parts is None:
        raise InvalidArgument(
            f"{key!r} is not a multi-partition key: it must be the {names[0]!r} key and the {names[1]!r} key "
            f"joined by a single {MULTI_KEY_DELIMITER!r}",
            field=field,
        )
    indices = []
    for name, dimension, part in zip(names, space.dimension_spaces, parts):
        index = dimension.index_of(part)
        if index is None:
            raise _not_a_partition(part, field, f"dimension {name!r} (in key {key!r})")
        indices.append(index)
    return (indices[0], indices[1])


def _select_multi(space: MultiSpace, selector: Selector) -> MultiPartitionSubset:
    if isinstance(selector, AllPartitions):
        return MultiPartitionSubset.rectangle(
            PartitionSubset.of_range(0, space.first.count), PartitionSubset.of_range(0, space.second.count)
        )
    if isinstance(selector, KeyRange):
        start_i, start_j = _split_for(space, selector.start, "key_range.start")
        end_i, end_j = _split_for(space, selector.end, "key_range.end")
        # A rectangle: each dimension's own inclusive range (empty if reversed).
        return MultiPartitionSubset.rectangle(
            PartitionSubset.of_range(start_i, end_i + 1), PartitionSubset.of_range(start_j, end_j + 1)
        )
    if isinstance(selector, TimeRange):
        raise InvalidArgument(
            "a time range cannot select from a multi-partitions definition as a whole; "
            "use a multi selector with a time range on the time dimension",
            field="time_range",
        )
    if isinstance(selector, KeyList):
        pairs = [_split_for(space, key, f"keys.keys[{position}]") for position, key in enumerate(selector.keys)]
        return MultiPartitionSubset.from_pairs(pairs)
    if isinstance(selector, MultiSelector):
        return _select_dimensions(space, selector)
    raise TypeError(f"not a partition selector: {selector!r}")


def _select_dimensions(space: MultiSpace, selector: MultiSelector) -> MultiPartitionSubset:
    names = space.definition.dimension_names
    chosen = [PartitionSubset.of_range(0, space.first.count), PartitionSubset.of_range(0, space.second.count)]
    for position, (name, inner) in enumerate(selector.dimensions):
        at = f"multi.dimensions[{position}]"
        dimension = space.definition.dimension_index(name)
        if dimension is None:
            raise InvalidArgument(
                f"the definition has no dimension {name!r}; its dimensions are {names[0]!r} and {names[1]!r}",
                field=f"{at}.dimension",
            )
        try:
            chosen[dimension] = _select_single(space.dimension_spaces[dimension], inner)
        except InvalidArgument as error:
            raise error.under(f"{at}.selector") from None
    return MultiPartitionSubset.rectangle(chosen[0], chosen[1])


def all_of(space: PartitionSpace) -> AnySubset:
    """Every partition of ``space``, as the subset kind that fits it."""
    if isinstance(space, MultiSpace):
        return MultiPartitionSubset.rectangle(
            PartitionSubset.of_range(0, space.first.count), PartitionSubset.of_range(0, space.second.count)
        )
    return PartitionSubset.of_range(0, space.count)


def none_of(space: PartitionSpace) -> AnySubset:
    """No partition of ``space``, as the subset kind that fits it."""
    return MultiPartitionSubset.empty() if isinstance(space, MultiSpace) else PartitionSubset.empty()


def subset_count(subset: AnySubset) -> int:
    """How many partitions ``subset`` holds."""
    return subset.count


def _iter_subset_keys(
    space: PartitionSpace, subset: AnySubset, start_pos: int = 0, stop_pos: int | None = None, descending: bool = False
) -> Iterator[str]:
    """Yields the keys at positions ``[start_pos, stop_pos)`` of ``subset``, lazily.

    Positions count in the definition's order, or from the last partition when
    ``descending``; they are clipped to ``[0, count]``.
    """
    if isinstance(subset, MultiPartitionSubset):
        if not isinstance(space, MultiSpace):
            raise TypeError("a multi-partition subset needs a MultiSpace to name its keys")
        pairs = subset.reversed_pairs if descending else subset.iter_pairs
        for i, j in pairs(start_pos, stop_pos):
            yield space.first.key_at(i) + MULTI_KEY_DELIMITER + space.second.key_at(j)
        return
    indices = subset.reversed_indices if descending else subset.indices
    for index in indices(start_pos, stop_pos):
        yield space.key_at(index)


def subset_keys(
    space: PartitionSpace, subset: AnySubset, start_pos: int, stop_pos: int, descending: bool = False
) -> list[str]:
    """The keys at positions ``[start_pos, stop_pos)`` of ``subset`` (one page).

    Positions count in the definition's order, or from the last partition when
    ``descending``; they are clipped to ``[0, count]``.

    Raises:
        IndexError: the subset holds an index outside ``space``.
    """
    return list(_iter_subset_keys(space, subset, start_pos, stop_pos, descending))


def selector_for_subset(space: PartitionSpace, subset: AnySubset) -> Selector | None:
    """A compact selector that selects exactly ``subset`` of ``space``, or None when there is none.

    All for the whole space, an inclusive key range for one run of indices
    (per dimension for a rectangle of a multi space), else the explicit keys
    when there are at most MAX_EXPLICIT_KEYS of them.
    """
    if subset.is_empty:
        return None
    if subset == all_of(space):
        return AllPartitions()
    if isinstance(space, MultiSpace):
        assert isinstance(subset, MultiPartitionSubset)
        if len(subset.bands) == 1 and len(subset.bands[0][2].ranges) == 1:
            (first_start, first_stop, second), = subset.bands
            (second_start, second_stop), = second.ranges
            names = [dimension.name for dimension in space.definition.dimensions]
            ranges = (
                KeyRange(space.first.key_at(first_start), space.first.key_at(first_stop - 1)),
                KeyRange(space.second.key_at(second_start), space.second.key_at(second_stop - 1)),
            )
            return MultiSelector(tuple(zip(names, ranges)))
    elif isinstance(subset, PartitionSubset) and len(subset.ranges) == 1:
        start, stop = subset.ranges[0]
        return KeyRange(space.key_at(start), space.key_at(stop - 1))
    if subset.count > MAX_EXPLICIT_KEYS:
        return None
    return KeyList(tuple(subset_keys(space, subset, 0, subset.count)))
