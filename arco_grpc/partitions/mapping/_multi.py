"""MultiToSingleDimension and MultiPartition mappings, per dimension and per band.

Dagster maps every distinct key of each mapped dimension on its own, then takes
for each source key the product of its dimensions' results, with every key of
an unmapped target dimension. Over a band ``I x J`` of a multi subset that
product is ``M1(I) x M2(J)`` (the union of products of a rectangle is the
product of the unions), so the work is one per-key-union mapping per band and
dimension, cached per distinct set; the answer is a union of rectangles.
Required-but-nonexistent keys are the dimension mappings' own (dimension keys,
not multi keys), tagged with the upstream dimension's name, as Dagster reports
them.

Deliberate difference: Dagster 1.13.29 ignores ``partition_dimension_name`` and
always re-infers the dimension; it is honoured here (a wrong name is refused,
a name resolves two matching dimensions).
"""

from __future__ import annotations

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping._kinds import (
    IdentityMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.mapping._result import NOTHING_MISSING, RequiredButNonexistent
from arco_grpc.partitions.mapping._single import Mapped, all_of, map_partitions
from arco_grpc.partitions.mapping._validate import _single_to_multi_problem
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

_M2S = "multi_to_single_dimension"


def single_dimension_of(
    mapping: MultiToSingleDimensionMapping, multi: MultiPartitionsDefinition, single: object
) -> tuple[int, PartitionMapping]:
    """The multi definition's dimension that ``single`` maps onto, and the mapping between them.

    Identity when the dimension's definition equals ``single``; otherwise the default
    time window mapping when both are time windows and the multi definition has
    exactly one time dimension (among the named one, when a name is given).

    Raises:
        InvalidArgument: no dimension (or more than one) fits.
    """
    name = mapping.partition_dimension_name
    positions = [0, 1]
    if name is not None:
        named = multi.dimension_index(name)
        positions = [] if named is None else [named]
    matching = [p for p in positions if multi.dimensions[p].definition == single]
    if len(matching) == 1:
        return matching[0], IdentityMapping()
    timed = [p for p in positions if isinstance(multi.dimensions[p].definition, TimeWindowPartitionsDefinition)]
    if not matching and len(timed) == 1 and isinstance(single, TimeWindowPartitionsDefinition):
        return timed[0], TimeWindowMapping()
    field = _M2S if name is None else f"{_M2S}.partition_dimension_name"
    problem = _single_to_multi_problem(multi, single, name)  # type: ignore[arg-type]
    raise InvalidArgument(problem or "no dimension of the multi definition fits the other definition", field=field)


def _with_dimension(space: MultiSpace, dimension: int, chosen: AnySubset) -> MultiPartitionSubset:
    """The rectangle with ``chosen`` in ``dimension`` and everything in the other one."""
    assert isinstance(chosen, PartitionSubset)
    every = [PartitionSubset.of_range(0, space.first.count), PartitionSubset.of_range(0, space.second.count)]
    every[dimension] = chosen
    return MultiPartitionSubset.rectangle(every[0], every[1])


def _projection(subset: MultiPartitionSubset, dimension: int) -> PartitionSubset:
    return subset.first_dimension() if dimension == 0 else subset.second_dimension()


def map_multi_to_single(
    mapping: MultiToSingleDimensionMapping,
    source: PartitionSpace,
    target: PartitionSpace,
    subset: AnySubset,
    *,
    toward_upstream: bool,
) -> Mapped:
    """A multi-to-single-dimension mapping in either direction, whichever side is multi."""
    if isinstance(source, MultiSpace) == isinstance(target, MultiSpace):
        upstream, downstream = (target, source) if toward_upstream else (source, target)
        raise InvalidArgument(
            _single_to_multi_problem(upstream.definition, downstream.definition, None)  # type: ignore[attr-defined]
            or "a multi-to-single-dimension mapping needs exactly one multi definition",
            field=_M2S,
        )
    multi_space = source if isinstance(source, MultiSpace) else target
    single_space = target if multi_space is source else source
    assert isinstance(multi_space, MultiSpace)
    dimension, inner = single_dimension_of(mapping, multi_space.definition, single_space.definition)  # type: ignore[attr-defined]
    dimension_space = multi_space.dimension_spaces[dimension]
    name = multi_space.definition.dimension_names[dimension]
    try:
        if multi_space is source:
            assert isinstance(subset, MultiPartitionSubset)
            # Only the matching dimension of each source key matters.
            return map_partitions(
                inner, dimension_space, target, _projection(subset, dimension),
                toward_upstream=toward_upstream, per_key=True, dimension=None,
            )
        mapped, nonexistent = map_partitions(
            inner, source, dimension_space, subset,
            toward_upstream=toward_upstream, per_key=True, dimension=name,
        )
    except InvalidArgument as error:
        # The inner mapping is implied, so the mapping as a whole is what does not fit.
        raise InvalidArgument(f"dimension {name!r}: {error.message}", field=_M2S) from None
    return _with_dimension(multi_space, dimension, mapped), nonexistent


def _dimension_pairs(
    mapping: MultiPartitionMapping, upstream: MultiPartitionsDefinition, downstream: MultiPartitionsDefinition
) -> list[tuple[int, int, PartitionMapping]]:
    """``(upstream dimension, downstream dimension, mapping)`` per entry; names checked as Dagster does."""
    pairs: list[tuple[int, int, PartitionMapping]] = []
    used: set[tuple[str, int]] = set()
    for position, entry in enumerate(mapping.dimensions):
        at = f"multi_partition.dimensions[{position}]"
        indices = []
        for side, definition, name in (
            ("upstream", upstream, entry.upstream_dimension),
            ("downstream", downstream, entry.downstream_dimension),
        ):
            index = definition.dimension_index(name)
            if index is None:
                raise InvalidArgument(
                    f"the {side} asset has no dimension {name!r}; its dimensions are {list(definition.dimension_names)}",
                    field=f"{at}.{side}_dimension",
                )
            if (side, index) in used:
                raise InvalidArgument(f"{side} dimension {name!r} is mapped twice", field=f"{at}.{side}_dimension")
            used.add((side, index))
            indices.append(index)
        inner = entry.mapping or IdentityMapping()
        if isinstance(inner, (MultiPartitionMapping, MultiToSingleDimensionMapping)):
            raise InvalidArgument(
                "a dimension's mapping relates two single dimensions; it cannot be a multi mapping",
                field=f"{at}.mapping",
            )
        pairs.append((indices[0], indices[1], inner))
    return pairs


def map_multi_partition(
    mapping: MultiPartitionMapping,
    source: PartitionSpace,
    target: PartitionSpace,
    subset: AnySubset,
    *,
    toward_upstream: bool,
) -> Mapped:
    """A multi-partition mapping: each mapped dimension on its own, unmapped target dimensions whole."""
    if not isinstance(source, MultiSpace) or not isinstance(target, MultiSpace):
        raise InvalidArgument(
            "a multi-partition mapping relates two multi definitions", field="multi_partition"
        )
    assert isinstance(subset, MultiPartitionSubset)
    upstream, downstream = (target, source) if toward_upstream else (source, target)
    # (source dimension, target dimension, mapping)
    routes = [
        (down, up, inner) if toward_upstream else (up, down, inner)
        for up, down, inner in _dimension_pairs(mapping, upstream.definition, downstream.definition)
    ]
    cache: dict[tuple[int, PartitionSubset], Mapped] = {}

    def mapped_dimension(route: int, chosen: PartitionSubset) -> Mapped:
        key = (route, chosen)
        if key not in cache:
            from_dimension, to_dimension, inner = routes[route]
            try:
                cache[key] = map_partitions(
                    inner, source.dimension_spaces[from_dimension], target.dimension_spaces[to_dimension], chosen,
                    toward_upstream=toward_upstream, per_key=True,
                    dimension=upstream.definition.dimension_names[to_dimension if toward_upstream else from_dimension],
                )
            except InvalidArgument as error:
                raise error.under(f"multi_partition.dimensions[{route}].mapping") from None
        return cache[key]

    result = MultiPartitionSubset.empty()
    for start, stop, second in subset.bands:
        sides = (PartitionSubset.of_range(start, stop), second)
        chosen = [PartitionSubset.of_range(0, target.first.count), PartitionSubset.of_range(0, target.second.count)]
        for route, (from_dimension, to_dimension, _) in enumerate(routes):
            mapped = mapped_dimension(route, sides[from_dimension])[0]
            assert isinstance(mapped, PartitionSubset)
            chosen[to_dimension] = mapped
        result = result | MultiPartitionSubset.rectangle(chosen[0], chosen[1])
    nonexistent: RequiredButNonexistent = NOTHING_MISSING
    if toward_upstream:
        # Dagster collects the missing keys of every distinct key of each mapped dimension.
        for route, (from_dimension, _, _) in enumerate(routes):
            nonexistent = nonexistent | mapped_dimension(route, _projection(subset, from_dimension))[1]
    return result, nonexistent

