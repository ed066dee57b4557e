"""Evaluating a mapping on a compact subset equals evaluating it key by key and taking the union.

The slow reference in each property maps every single partition of the subset on
its own and unions the answers. That identity holds exactly for identity, all,
last, specific partitions, static and every multi mapping (Dagster maps multi
dimensions key by key), and for the existing partitions of a time window mapping
whose start_offset <= end_offset. It does not hold for time-window
required-but-nonexistent windows or for start_offset > end_offset, where Dagster
maps each merged range as one window (see test_mapping_eval); there the property
checks the key-by-key union that multi mappings use (TimeWindowMapper.map_each).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arco_grpc.errors import InvalidArgument

from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.mapping import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
    downstream_partitions,
    upstream_partitions,
)
from arco_grpc.partitions.mapping._multi import single_dimension_of
from arco_grpc.partitions.mapping._result import merge_ranges
from arco_grpc.partitions.mapping._time_window import TimeWindowMapper
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition, TimeWindowSpace

AS_OF = datetime(2024, 3, 20, tzinfo=timezone.utc)
# Cron and how far back a start may lie, so that definitions stay small (<= ~80 partitions).
CADENCES = [
    ("0 * * * *", timedelta(hours=80)),
    ("0 */6 * * *", timedelta(days=15)),
    ("0 0 * * *", timedelta(days=70)),
    ("0 12 * * *", timedelta(days=70)),
    ("0 0 * * 0", timedelta(weeks=60)),
    ("0 0 1 * *", timedelta(days=900)),
]
ZONES = ["UTC", "America/New_York"]  # New York springs forward on 2024-03-10


@st.composite
def time_windows(draw: st.DrawFn, zone: str) -> TimeWindowPartitionsDefinition:
    schedule, reach = draw(st.sampled_from(CADENCES))
    back = draw(st.integers(0, int(reach.total_seconds() // 3600)))
    start = (AS_OF - timedelta(hours=back)).replace(tzinfo=None)
    end = None
    if draw(st.booleans()):
        end = start + timedelta(hours=draw(st.integers(0, int(reach.total_seconds() // 3600) + 24)))
    return TimeWindowPartitionsDefinition.create(
        start=start.isoformat(), end=None if end is None else end.isoformat(), cron_schedule=schedule, timezone=zone
    )


WORDS = ["a", "b", "c", "d", "e"]
statics = st.lists(st.sampled_from(WORDS), min_size=0, max_size=5, unique=True).map(
    lambda keys: StaticPartitionsDefinition(tuple(keys))
)


@st.composite
def subsets(draw: st.DrawFn, space: PartitionSpace) -> AnySubset:
    if isinstance(space, MultiSpace):
        pairs = draw(st.lists(st.tuples(st.integers(0, space.first.count - 1), st.integers(0, space.second.count - 1)),
                              max_size=12)) if space.count else []
        return MultiPartitionSubset.from_pairs(pairs)
    if not space.count:
        return PartitionSubset.empty()
    bounds = draw(st.lists(st.integers(0, space.count), max_size=6))
    return PartitionSubset.from_ranges(zip(bounds[::2], bounds[1::2]))


def singles(space: PartitionSpace, chosen: AnySubset) -> list[AnySubset]:
    """Each partition of ``chosen`` as a one-partition subset."""
    if isinstance(chosen, MultiPartitionSubset):
        return [MultiPartitionSubset.from_pairs([pair]) for pair in chosen.iter_pairs()]
    return [PartitionSubset.of_range(i, i + 1) for i in chosen.indices()]


def union(subsets_: list[AnySubset], like: PartitionSpace) -> AnySubset:
    result: AnySubset = MultiPartitionSubset.empty() if isinstance(like, MultiSpace) else PartitionSubset.empty()
    for each in subsets_:
        result = result | each  # type: ignore[operator]
    return result


def keys(space: PartitionSpace, chosen: AnySubset) -> list[str]:
    return subset_keys(space, chosen, 0, chosen.count)


def assert_key_by_key(
    mapping: PartitionMapping, down_space: PartitionSpace, up_space: PartitionSpace,
    down_subset: AnySubset, up_subset: AnySubset, *, with_nonexistent: bool = True,
) -> None:
    result = upstream_partitions(mapping, down_subset, down_space, up_space)
    one_by_one = [upstream_partitions(mapping, single, down_space, up_space) for single in singles(down_space, down_subset)]
    assert result.subset == union([r.subset for r in one_by_one], up_space)
    if with_nonexistent:
        expected_missing = {key for r in one_by_one for key in r.required_but_nonexistent.keys()}
        assert set(result.required_but_nonexistent.keys()) == expected_missing
    forward = downstream_partitions(mapping, up_subset, up_space, down_space)
    expected = [downstream_partitions(mapping, single, up_space, down_space) for single in singles(up_space, up_subset)]
    assert forward == union(expected, down_space)


# -- time windows ----------------------------------------------------------------------


@st.composite
def time_window_pairs(draw: st.DrawFn) -> tuple[TimeWindowSpace, TimeWindowSpace]:
    zone = draw(st.sampled_from(ZONES))
    first, second = draw(time_windows(zone)), draw(time_windows(zone))
    if draw(st.booleans()):
        second = first  # a self-dependency shape
    return first.space(AS_OF), second.space(AS_OF)


@settings(max_examples=300)
@given(st.data(), time_window_pairs(), st.integers(-3, 2), st.integers(-3, 2), st.booleans(), st.booleans())
def test_key_by_key_time_window_union_is_computed_by_runs(
    data: st.DataObject, pair: tuple[TimeWindowSpace, TimeWindowSpace],
    start_offset: int, end_offset: int, allow: bool, toward_upstream: bool,
) -> None:
    source, target = pair
    mapper = TimeWindowMapper(source, target, start_offset=start_offset, end_offset=end_offset,
                              allow_nonexistent=allow, toward_upstream=toward_upstream)
    chosen = data.draw(subsets(source))
    assert isinstance(chosen, PartitionSubset)
    partitions, nonexistent = mapper.map_each(chosen.ranges)
    singles_mapped = [mapper.map_ranges(((i, i + 1),)) for i in chosen.indices()]
    assert partitions == merge_ranges(r for mapped in singles_mapped for r in mapped[0])
    if toward_upstream:  # toward downstream Dagster discards what does not exist
        assert nonexistent == merge_ranges(r for mapped in singles_mapped for r in mapped[1])


@settings(max_examples=200)
@given(st.data(), time_window_pairs(), st.integers(-3, 2), st.integers(0, 3), st.booleans())
def test_time_window_partitions_equal_the_union_of_single_keys(
    data: st.DataObject, pair: tuple[TimeWindowSpace, TimeWindowSpace], start_offset: int, widen: int, allow: bool,
) -> None:
    down_space, up_space = pair
    mapping = TimeWindowMapping(start_offset, min(start_offset + widen, 2), allow)
    assert_key_by_key(mapping, down_space, up_space, data.draw(subsets(down_space)), data.draw(subsets(up_space)),
                      with_nonexistent=False)


# -- the kinds that map key by key -----------------------------------------------------


@st.composite
def keyed_cases(draw: st.DrawFn) -> tuple[PartitionMapping, PartitionSpace, PartitionSpace]:
    down_def = draw(statics | time_windows("UTC"))
    up_def = draw(statics | time_windows("UTC") | st.just(down_def))
    kind = draw(st.sampled_from(["identity", "all", "last", "specific", "static"]))
    mapping: PartitionMapping
    if kind == "identity":
        mapping = IdentityMapping()
    elif kind == "all":
        mapping = AllMapping()
    elif kind == "last":
        mapping = LastMapping()
    elif kind == "specific":
        mapping = SpecificPartitionsMapping(tuple(draw(st.lists(st.sampled_from(WORDS), max_size=3))))
    else:
        up_def, down_def = draw(statics), draw(statics)
        entries = {up: tuple(draw(st.lists(st.sampled_from(down_def.keys), max_size=3, unique=True)))
                   if down_def.keys else () for up in draw(st.lists(st.sampled_from(up_def.keys), unique=True))} \
            if up_def.keys else {}
        mapping = StaticMapping(tuple(entries.items()))
    return mapping, partition_space(down_def, as_of=AS_OF), partition_space(up_def, as_of=AS_OF)


@given(st.data(), keyed_cases())
def test_keyed_kinds_equal_the_union_of_single_keys(
    data: st.DataObject, case: tuple[PartitionMapping, PartitionSpace, PartitionSpace]
) -> None:
    mapping, down_space, up_space = case
    assert_key_by_key(mapping, down_space, up_space, data.draw(subsets(down_space)), data.draw(subsets(up_space)))


# -- multi mappings (Dagster maps them key by key) --------------------------------------


@st.composite
def multi_cases(draw: st.DrawFn) -> tuple[PartitionMapping, PartitionSpace, PartitionSpace]:
    date = draw(time_windows("UTC"))
    colors = draw(statics.filter(lambda d: bool(d.keys)))
    grid = MultiPartitionsDefinition((PartitionDimension("date", date), PartitionDimension("color", colors)))
    if draw(st.booleans()):
        single = draw(st.sampled_from([date, colors]) | time_windows("UTC"))
        pair = (grid, single) if draw(st.booleans()) else (single, grid)
        mapping: PartitionMapping = MultiToSingleDimensionMapping()
        down_def, up_def = pair
    else:
        other_date = draw(time_windows("UTC") | st.just(date))
        other_colors = draw(statics.filter(lambda d: bool(d.keys)) | st.just(colors))
        up_def = MultiPartitionsDefinition((PartitionDimension("date", other_date), PartitionDimension("color", other_colors)))
        down_def = grid
        entries = []
        if draw(st.booleans()):
            entries.append(DimensionMapping("date", "date", TimeWindowMapping(
                draw(st.integers(-3, 2)), draw(st.integers(-3, 2)), draw(st.booleans()))))
        if draw(st.booleans()):
            inner = draw(st.sampled_from([IdentityMapping(), AllMapping(), LastMapping(),
                                          SpecificPartitionsMapping(("a", "z"))]))
            entries.append(DimensionMapping("color", "color", inner))
        mapping = MultiPartitionMapping(tuple(entries))
    return mapping, partition_space(down_def, as_of=AS_OF), partition_space(up_def, as_of=AS_OF)


def _fits(mapping: PartitionMapping, down_space: PartitionSpace, up_space: PartitionSpace) -> bool:
    """Whether a multi-to-single mapping finds its dimension (the drawn single definition may fit none)."""
    if not isinstance(mapping, MultiToSingleDimensionMapping):
        return True
    multi, single = (down_space, up_space) if isinstance(down_space, MultiSpace) else (up_space, down_space)
    try:
        single_dimension_of(mapping, multi.definition, single.definition)  # type: ignore[attr-defined]
    except InvalidArgument:
        return False
    return True


@given(st.data(), multi_cases())
def test_multi_mappings_equal_the_union_of_single_keys(
    data: st.DataObject, case: tuple[PartitionMapping, PartitionSpace, PartitionSpace]
) -> None:
    mapping, down_space, up_space = case
    assume(_fits(mapping, down_space, up_space))
    assert_key_by_key(mapping, down_space, up_space, data.draw(subsets(down_space)), data.draw(subsets(up_space)))
