"""The chunk plan and run keys."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.chunks import (
    chunk_count,
    chunk_positions,
    chunk_selection,
    chunk_selections,
    chunks_within,
    run_key,
)


def test_chunk_count_rounds_up():
    assert [chunk_count(n, 7) for n in (0, 1, 7, 8, 365)] == [0, 1, 1, 2, 53]
    with pytest.raises(ValueError):
        chunk_count(10, 0)


def test_forward_and_backward_positions():
    assert chunk_positions(0, 7, 20, DispatchOrder.FORWARD) == (0, 7)
    assert chunk_positions(2, 7, 20, DispatchOrder.FORWARD) == (14, 20)
    assert chunk_positions(0, 7, 20, DispatchOrder.BACKWARD) == (13, 20)
    assert chunk_positions(2, 7, 20, DispatchOrder.BACKWARD) == (0, 6)
    with pytest.raises(IndexError):
        chunk_positions(3, 7, 20, DispatchOrder.FORWARD)


@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(1, 20)), max_size=8),
    st.integers(1, 9),
    st.sampled_from(list(DispatchOrder)),
)
def test_chunks_partition_the_selection_in_order(ranges, size, order):
    selection = PartitionSubset.from_ranges((a, a + n) for a, n in ranges)
    chunks = [chunk_selection(selection, size, k, order) for k in range(chunk_count(selection.count, size))]
    flattened = [i for chunk in chunks for i in (chunk.reversed_indices() if order is DispatchOrder.BACKWARD else chunk.indices())]
    expected = list(selection.indices())
    assert flattened == (expected[::-1] if order is DispatchOrder.BACKWARD else expected)
    assert all(chunk.count == size for chunk in chunks[:-1])


@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), min_size=1, max_size=3),
    st.integers(1, 9),
    st.sampled_from(list(DispatchOrder)),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_chunk_selections_are_each_chunks_selection(ranges, size, order, start, length):
    selection = PartitionSubset.from_ranges((a, a + n) for a, n in ranges)
    stop = min(start + length, chunk_count(selection.count, size))
    assert chunk_selections(selection, size, start, stop, order) == [
        chunk_selection(selection, size, index, order) for index in range(start, stop)
    ]


def test_chunk_selections_refuse_chunks_past_the_plan():
    with pytest.raises(IndexError):
        chunk_selections(PartitionSubset.of_range(10, 30), 7, 2, 4, DispatchOrder.FORWARD)


def test_run_key_is_a_pure_function_of_its_inputs():
    key = run_key("bf-abc", "orders", 1, 5, 1)
    assert key == run_key("bf-abc", "orders", 1, 5, 1)
    assert key.startswith("rk-") and len(key) == 35
    others = {
        run_key("bf-abd", "orders", 1, 5, 1),
        run_key("bf-abc", "orders2", 1, 5, 1),
        run_key("bf-abc", "orders", 2, 5, 1),
        run_key("bf-abc", "orders", 1, 6, 1),
        run_key("bf-abc", "orders", 1, 5, 2),
    }
    assert key not in others and len(others) == 5
    # Pinned: the documented formula must not drift between releases.
    assert key == "rk-" + __import__("hashlib").sha256(
        "\x1f".join(["arco/run-key/v1", "bf-abc", "orders", "1", "5", "1"]).encode()
    ).hexdigest()[:32]


def test_dispatch_positions_count_from_the_end_for_backward_order():
    from arco_grpc.planning.chunks import chunk_dispatch_positions

    assert chunk_dispatch_positions(0, 7, 20, DispatchOrder.FORWARD) == (0, 7)
    assert chunk_dispatch_positions(2, 7, 20, DispatchOrder.BACKWARD) == (14, 20)
    selection = PartitionSubset.of_range(100, 120)
    for order in DispatchOrder:
        start, stop = chunk_dispatch_positions(1, 7, 20, order)
        walk = selection.reversed_indices if order is DispatchOrder.BACKWARD else selection.indices
        chunk = chunk_selection(selection, 7, 1, order)
        assert sorted(walk(start, stop)) == list(chunk.indices())
    with pytest.raises(IndexError):
        chunk_dispatch_positions(3, 7, 20, DispatchOrder.BACKWARD)


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.integers(0, 60), min_size=1).map(PartitionSubset.from_indices),
    st.sets(st.integers(0, 60)).map(PartitionSubset.from_indices),
    st.integers(1, 7),
    st.sampled_from(list(DispatchOrder)),
)
def test_chunks_within_agrees_with_checking_every_chunk(
    selection: PartitionSubset, partitions: PartitionSubset, size: int, order: DispatchOrder
) -> None:
    expected = {
        index
        for index in range(chunk_count(selection.count, size))
        if set(chunk_selection(selection, size, index, order).indices()) <= set(partitions.indices())
    }
    assert set(chunks_within(selection, size, order, partitions).indices()) == expected


def test_chunks_within_a_multi_selection_agrees_with_checking_every_chunk() -> None:
    selection = MultiPartitionSubset.rectangle(PartitionSubset.of_range(0, 5), PartitionSubset.from_indices([0, 2, 3]))
    partitions = MultiPartitionSubset.from_pairs([(1, 0), (1, 2), (1, 3), (2, 0), (4, 3)])
    for order in DispatchOrder:
        expected = {
            index
            for index in range(chunk_count(selection.count, 2))
            if set(chunk_selection(selection, 2, index, order).iter_pairs()) <= set(partitions.iter_pairs())
        }
        assert set(chunks_within(selection, 2, order, partitions).indices()) == expected
