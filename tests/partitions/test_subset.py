"""PartitionSubset against a Python set model, on small universes."""

from __future__ import annotations

from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.partitions.subset import PartitionSubset

UNIVERSE = 40

index_sets = st.frozensets(st.integers(0, UNIVERSE - 1), max_size=UNIVERSE)
raw_ranges = st.lists(st.tuples(st.integers(0, UNIVERSE), st.integers(0, UNIVERSE)), max_size=8)
positions = st.integers(0, UNIVERSE + 3)


def assert_canonical(subset: PartitionSubset) -> None:
    previous_stop = -1
    for start, stop in subset.ranges:
        assert 0 <= start < stop, subset
        assert start > previous_stop, f"ranges overlap or touch: {subset}"
        previous_stop = stop


def model_of(subset: PartitionSubset) -> set[int]:
    return {i for start, stop in subset.ranges for i in range(start, stop)}


@st.composite
def subsets(draw: st.DrawFn) -> tuple[PartitionSubset, frozenset[int]]:
    if draw(st.booleans()):
        indices = draw(index_sets)
        return PartitionSubset.from_indices(indices), indices
    ranges = draw(raw_ranges)
    return PartitionSubset.from_ranges(ranges), frozenset(i for a, b in ranges for i in range(a, b))


@given(subsets())
def test_construction_matches_model_and_is_canonical(drawn: tuple[PartitionSubset, frozenset[int]]) -> None:
    subset, model = drawn
    assert_canonical(subset)
    assert model_of(subset) == model
    assert subset.count == len(subset) == len(model)
    assert subset.is_empty == (not model) == (not subset)


@given(subsets(), subsets())
def test_set_operations_match_model(
    left: tuple[PartitionSubset, frozenset[int]], right: tuple[PartitionSubset, frozenset[int]]
) -> None:
    a, model_a = left
    b, model_b = right
    for result, expected in ((a | b, model_a | model_b), (a & b, model_a & model_b), (a - b, model_a - model_b)):
        assert_canonical(result)
        assert model_of(result) == expected
        assert result.count == len(expected)


@given(subsets())
def test_membership_first_last(drawn: tuple[PartitionSubset, frozenset[int]]) -> None:
    subset, model = drawn
    for index in range(-2, UNIVERSE + 2):
        assert (index in subset) == (index in model)
    assert subset.first == (min(model) if model else None)
    assert subset.last == (max(model) if model else None)
    assert "3" not in subset


@given(subsets())
def test_nth_and_rank_follow_sorted_order(drawn: tuple[PartitionSubset, frozenset[int]]) -> None:
    subset, model = drawn
    ordered = sorted(model)
    for k in range(-len(ordered), len(ordered)):
        assert subset.nth(k) == ordered[k]
    for k in (len(ordered), -len(ordered) - 1):
        with pytest.raises(IndexError):
            subset.nth(k)
    for index in range(-1, UNIVERSE + 1):
        assert subset.rank(index) == (ordered.index(index) if index in model else None)


@given(subsets(), positions, st.one_of(st.none(), positions))
def test_index_windows_ascending_and_descending(
    drawn: tuple[PartitionSubset, frozenset[int]], start: int, stop: int | None
) -> None:
    subset, model = drawn
    ordered = sorted(model)
    assert list(subset.indices(start, stop)) == ordered[start:stop]
    assert list(subset.reversed_indices(start, stop)) == ordered[::-1][start:stop]


@given(subsets(), positions, st.one_of(st.none(), positions))
def test_slice_keeps_the_indices_at_those_positions(
    drawn: tuple[PartitionSubset, frozenset[int]], start: int, stop: int | None
) -> None:
    subset, model = drawn
    sliced = subset.slice(start, stop)
    assert_canonical(sliced)
    assert sorted(model_of(sliced)) == sorted(model)[start:stop]


def test_negative_positions_are_clipped_to_zero() -> None:
    subset = PartitionSubset.from_ranges([(2, 4), (7, 9)])
    assert list(subset.indices(-5, 2)) == [2, 3]
    assert list(subset.reversed_indices(-5, 3)) == [8, 7, 3]


@given(subsets(), st.integers(0, UNIVERSE + 2))
def test_clip_keeps_indices_below_count(drawn: tuple[PartitionSubset, frozenset[int]], count: int) -> None:
    subset, model = drawn
    clipped = subset.clip(count)
    assert_canonical(clipped)
    assert model_of(clipped) == {i for i in model if i < count}


@given(index_sets)
def test_equal_sets_are_equal_and_hash_equal_whatever_the_construction(model: frozenset[int]) -> None:
    by_indices = PartitionSubset.from_indices(sorted(model, reverse=True))
    by_ranges = PartitionSubset.from_ranges([(i, i + 1) for i in model])
    assert by_indices == by_ranges
    assert hash(by_indices) == hash(by_ranges)


def test_from_ranges_merges_overlapping_and_adjacent_and_drops_empty() -> None:
    subset = PartitionSubset.from_ranges([(8, 10), (0, 2), (2, 4), (3, 5), (6, 6), (9, 7)])
    assert subset.ranges == ((0, 5), (8, 10))


@pytest.mark.parametrize("ranges", [((0, 2), (2, 4)), ((3, 5), (0, 2)), ((1, 1),), ((0, 4), (2, 6)), ((-1, 2),)])
def test_constructor_rejects_non_canonical_ranges(ranges: tuple[tuple[int, int], ...]) -> None:
    with pytest.raises(ValueError):
        PartitionSubset(ranges)


def test_empty_and_of_range() -> None:
    assert PartitionSubset.empty().count == 0
    assert PartitionSubset.of_range(5, 5) == PartitionSubset.empty()
    assert PartitionSubset.of_range(5, 3) == PartitionSubset.empty()
    assert PartitionSubset.of_range(2, 6).ranges == ((2, 6),)


def test_huge_subsets_cost_grows_with_ranges_only() -> None:
    # 10^15 indices in three ranges: every answer comes from range arithmetic.
    huge = PartitionSubset.from_ranges([(0, 10**14), (2 * 10**14, 5 * 10**14), (9 * 10**14, 10**15)])
    assert huge.count == 10**14 + 3 * 10**14 + 10**14
    assert huge.nth(-1) == 10**15 - 1
    assert huge.nth(10**14) == 2 * 10**14
    assert huge.rank(9 * 10**14) == 4 * 10**14
    assert (5 * 10**14) not in huge
    assert list(islice(huge.reversed_indices(0, None), 3)) == [10**15 - 1, 10**15 - 2, 10**15 - 3]
    assert list(huge.indices(10**14 - 1, 10**14 + 2)) == [10**14 - 1, 2 * 10**14, 2 * 10**14 + 1]
    assert huge.slice(10**14 - 1, 10**14 + 2).ranges == ((10**14 - 1, 10**14), (2 * 10**14, 2 * 10**14 + 2))
    holes = huge - PartitionSubset.of_range(10, 10**15 - 10)
    assert holes.ranges == ((0, 10), (10**15 - 10, 10**15))
