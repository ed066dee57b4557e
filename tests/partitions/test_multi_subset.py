"""MultiPartitionSubset against a set-of-pairs model, on small two-dimension universes."""

from __future__ import annotations

from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.subset import PartitionSubset

ROWS, COLUMNS = 7, 6

pairs = st.tuples(st.integers(0, ROWS - 1), st.integers(0, COLUMNS - 1))
pair_sets = st.frozensets(pairs, max_size=ROWS * COLUMNS)
dimension_sets = st.frozensets(st.integers(0, ROWS - 1))
positions = st.integers(0, ROWS * COLUMNS + 3)


def assert_canonical(subset: MultiPartitionSubset) -> None:
    previous = None
    for start, stop, second in subset.bands:
        assert 0 <= start < stop
        assert not second.is_empty
        previous_stop = -1
        for low, high in second.ranges:
            assert previous_stop < low < high
            previous_stop = high
        if previous is not None:
            assert start >= previous[1], "bands overlap"
            if start == previous[1]:
                assert second != previous[2], "touching bands with equal second were not merged"
        previous = (start, stop, second)


def model_of(subset: MultiPartitionSubset) -> set[tuple[int, int]]:
    return {
        (i, j)
        for start, stop, second in subset.bands
        for i in range(start, stop)
        for low, high in second.ranges
        for j in range(low, high)
    }


@st.composite
def multi_subsets(draw: st.DrawFn) -> tuple[MultiPartitionSubset, frozenset[tuple[int, int]]]:
    if draw(st.booleans()):
        model = draw(pair_sets)
        return MultiPartitionSubset.from_pairs(model), model
    first, second = draw(dimension_sets), draw(st.frozensets(st.integers(0, COLUMNS - 1)))
    subset = MultiPartitionSubset.rectangle(PartitionSubset.from_indices(first), PartitionSubset.from_indices(second))
    return subset, frozenset((i, j) for i in first for j in second)


@given(multi_subsets())
def test_construction_matches_model_and_is_canonical(drawn: tuple[MultiPartitionSubset, frozenset]) -> None:
    subset, model = drawn
    assert_canonical(subset)
    assert model_of(subset) == model
    assert subset.count == len(subset) == len(model)
    assert subset.is_empty == (not model)


@given(multi_subsets(), multi_subsets())
def test_set_operations_match_model(left: tuple[MultiPartitionSubset, frozenset], right: tuple) -> None:
    a, model_a = left
    b, model_b = right
    for result, expected in ((a | b, model_a | model_b), (a & b, model_a & model_b), (a - b, model_a - model_b)):
        assert_canonical(result)
        assert model_of(result) == expected
        assert result.count == len(expected)
        # Canonical form is unique: the same set built pair by pair is equal.
        assert result == MultiPartitionSubset.from_pairs(expected)


@given(multi_subsets())
def test_contains_nth_rank_in_product_order(drawn: tuple[MultiPartitionSubset, frozenset]) -> None:
    subset, model = drawn
    ordered = sorted(model)  # tuple order = first dimension outer, second inner
    for i in range(-1, ROWS + 1):
        for j in range(-1, COLUMNS + 1):
            assert subset.contains((i, j)) == ((i, j) in model)
            assert ((i, j) in subset) == ((i, j) in model)
            assert subset.rank((i, j)) == (ordered.index((i, j)) if (i, j) in model else None)
    for k in range(-len(ordered), len(ordered)):
        assert subset.nth(k) == ordered[k]
    for k in (len(ordered), -len(ordered) - 1):
        with pytest.raises(IndexError):
            subset.nth(k)


@given(multi_subsets(), positions, st.one_of(st.none(), positions))
def test_pair_windows_ascending_and_descending(drawn: tuple[MultiPartitionSubset, frozenset], start: int, stop) -> None:
    subset, model = drawn
    ordered = sorted(model)
    assert list(subset.iter_pairs(start, stop)) == ordered[start:stop]
    assert list(subset.reversed_pairs(start, stop)) == ordered[::-1][start:stop]


@given(multi_subsets(), positions, st.one_of(st.none(), positions))
def test_slice_keeps_the_pairs_at_those_positions(drawn: tuple[MultiPartitionSubset, frozenset], start: int, stop) -> None:
    subset, model = drawn
    sliced = subset.slice(start, stop)
    assert_canonical(sliced)
    assert sorted(model_of(sliced)) == sorted(model)[start:stop]


def test_slice_across_bands_keeps_whole_middle_rows() -> None:
    # Bands (0, 3) and (4, 6); the slice starts mid-row 0 and ends mid-row 5.
    subset = MultiPartitionSubset.rectangle(PartitionSubset.from_indices([0, 1, 2, 4, 5]), PartitionSubset.from_indices([0, 2]))
    ordered = sorted((i, j) for i in (0, 1, 2, 4, 5) for j in (0, 2))
    for start in range(len(ordered)):
        for stop in range(start, len(ordered) + 1):
            sliced = subset.slice(start, stop)
            assert_canonical(sliced)
            assert sorted(model_of(sliced)) == ordered[start:stop]


@given(multi_subsets())
def test_projections_and_flat_ranges(drawn: tuple[MultiPartitionSubset, frozenset]) -> None:
    subset, model = drawn
    assert subset.first_dimension() == PartitionSubset.from_indices(i for i, _ in model)
    assert subset.second_dimension() == PartitionSubset.from_indices(j for _, j in model)
    assert subset.flat_ranges(COLUMNS) == PartitionSubset.from_indices(i * COLUMNS + j for i, j in model)


def test_rectangle_of_ranges_is_one_band_per_first_range() -> None:
    second = PartitionSubset.from_ranges([(0, 2), (4, 6)])
    subset = MultiPartitionSubset.rectangle(PartitionSubset.from_ranges([(1, 3), (5, 6)]), second)
    assert subset.bands == ((1, 3, second), (5, 6, second))
    assert MultiPartitionSubset.rectangle(PartitionSubset.of_range(0, 3), PartitionSubset.empty()).is_empty


def test_touching_rows_with_equal_columns_merge_into_one_band() -> None:
    subset = MultiPartitionSubset.from_pairs([(0, 1), (1, 1), (2, 1), (3, 2)])
    assert subset.bands == (
        (0, 3, PartitionSubset.of_range(1, 2)),
        (3, 4, PartitionSubset.of_range(2, 3)),
    )


@pytest.mark.parametrize(
    "bands",
    [
        ((0, 2, PartitionSubset.of_range(0, 1)), (2, 3, PartitionSubset.of_range(0, 1))),  # should merge
        ((0, 2, PartitionSubset.of_range(0, 1)), (1, 3, PartitionSubset.of_range(2, 3))),  # overlap
        ((3, 4, PartitionSubset.of_range(0, 1)), (0, 1, PartitionSubset.of_range(0, 1))),  # descending
        ((0, 1, PartitionSubset.empty()),),  # empty band
        ((2, 2, PartitionSubset.of_range(0, 1)),),  # empty first range
    ],
)
def test_constructor_rejects_non_canonical_bands(bands: tuple) -> None:
    with pytest.raises(ValueError):
        MultiPartitionSubset(bands)


def test_ten_to_the_eight_pairs_stay_a_few_bands() -> None:
    everything = MultiPartitionSubset.rectangle(PartitionSubset.of_range(0, 10_000), PartitionSubset.of_range(0, 10_000))
    punched = everything - MultiPartitionSubset.rectangle(
        PartitionSubset.of_range(5_000, 5_001), PartitionSubset.of_range(0, 9_999)
    )
    assert len(punched.bands) == 3
    assert punched.count == 10**8 - 9_999
    assert punched.nth(-1) == (9_999, 9_999)
    assert punched.nth(5_000 * 10_000) == (5_000, 9_999)
    assert punched.rank((9_999, 9_998)) == punched.count - 2
    assert list(islice(punched.reversed_pairs(), 2)) == [(9_999, 9_999), (9_999, 9_998)]
    assert list(punched.iter_pairs(5_000 * 10_000, 5_000 * 10_000 + 2)) == [(5_000, 9_999), (5_001, 0)]
    chunk = punched.slice(4_999 * 10_000 + 9_999, 5_001 * 10_000 + 1)
    # (4_999, 9_999), then row 5_000 (which holds only column 9_999), then all of row 5_001.
    assert chunk.count == 1 + 1 + 10_000
    assert chunk.bands == (
        (4_999, 5_001, PartitionSubset.of_range(9_999, 10_000)),
        (5_001, 5_002, PartitionSubset.of_range(0, 10_000)),
    )
