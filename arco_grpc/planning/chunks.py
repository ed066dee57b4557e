"""The chunk plan: which partitions chunk k holds, and the run key of each attempt.

Chunks are computed, never stored, until something happens to them. Round 1
chunk k of a target holds positions ``[k * size, (k + 1) * size)`` of the
target's ordered selection; backward order counts positions from the end.
Retry rounds chunk the subset of partitions they retry the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.run_keys import backfill_run_key

Selection = Union[PartitionSubset, MultiPartitionSubset]


def chunk_count(partition_count: int, chunk_size: int) -> int:
    """How many chunks ``partition_count`` partitions make: ceil(count / size)."""
    if chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    return -(-partition_count // chunk_size)


def chunk_positions(index: int, chunk_size: int, partition_count: int, order: DispatchOrder) -> tuple[int, int]:
    """The ascending positions ``[start, stop)`` of chunk ``index`` in the selection.

    Raises:
        IndexError: there is no chunk ``index``.
    """
    if not 0 <= index < chunk_count(partition_count, chunk_size):
        raise IndexError(f"chunk {index} does not exist: the plan has {chunk_count(partition_count, chunk_size)}")
    start, stop = index * chunk_size, min((index + 1) * chunk_size, partition_count)
    if order is DispatchOrder.BACKWARD:
        return partition_count - stop, partition_count - start
    return start, stop


def chunk_dispatch_positions(index: int, chunk_size: int, partition_count: int, order: DispatchOrder) -> tuple[int, int]:
    """Positions ``[start, stop)`` of chunk ``index`` counted in dispatch order.

    Forward: ascending positions of the selection. Backward: positions counted
    from the last partition (position 0 is the last one), so the chunk's keys
    in dispatch order are the selection's keys read backwards from there.

    Raises:
        IndexError: there is no chunk ``index``.
    """
    if not 0 <= index < chunk_count(partition_count, chunk_size):
        raise IndexError(f"chunk {index} does not exist: the plan has {chunk_count(partition_count, chunk_size)}")
    return index * chunk_size, min((index + 1) * chunk_size, partition_count)


def chunk_selection(selection: Selection, chunk_size: int, index: int, order: DispatchOrder) -> Selection:
    """The partitions of chunk ``index`` of ``selection`` (same kind of subset)."""
    start, stop = chunk_positions(index, chunk_size, selection.count, order)
    if isinstance(selection, PartitionSubset) and len(selection.ranges) == 1:
        first = selection.ranges[0][0]  # one range: positions are offsets from its start
        return PartitionSubset(((first + start, first + stop),))
    return selection.slice(start, stop)


def chunk_selections(
    selection: Selection, chunk_size: int, start: int, stop: int, order: DispatchOrder
) -> list[Selection]:
    """``chunk_selection`` of each chunk index from ``start`` to ``stop - 1`` (a one-range selection without a
    call per chunk: dispatch plans a lease's chunks together)."""
    if start >= stop:
        return []
    if not (isinstance(selection, PartitionSubset) and len(selection.ranges) == 1):
        return [chunk_selection(selection, chunk_size, index, order) for index in range(start, stop)]
    count = selection.count
    if start < 0 or stop > chunk_count(count, chunk_size):
        chunk_positions(start if start < 0 else stop - 1, chunk_size, count, order)  # raises the IndexError
    first = selection.ranges[0][0]
    end = first + count
    if order is DispatchOrder.BACKWARD:
        return [
            PartitionSubset(((max(first, end - (index + 1) * chunk_size), end - index * chunk_size),))
            for index in range(start, stop)
        ]
    return [
        PartitionSubset(((first + index * chunk_size, min(first + (index + 1) * chunk_size, end)),))
        for index in range(start, stop)
    ]


def _position_runs(selection: Selection, partitions: Selection) -> list[tuple[int, int]]:
    """Ascending runs ``[start, stop)`` of positions in ``selection`` of the partitions also in ``partitions``."""
    runs: list[tuple[int, int]] = []
    if isinstance(selection, PartitionSubset):
        if not isinstance(partitions, PartitionSubset):
            return runs
        for first, stop in (partitions & selection).ranges:
            start = selection.rank(first)
            assert start is not None
            runs.append((start, start + stop - first))
    else:
        if not isinstance(partitions, MultiPartitionSubset):
            return runs
        for first_start, first_stop, second in (partitions & selection).bands:
            for i in range(first_start, first_stop):
                for low, high in second.ranges:
                    start = selection.rank((i, low))
                    assert start is not None
                    runs.append((start, start + high - low))
    return list(PartitionSubset.from_ranges(runs).ranges)


def chunks_within(selection: Selection, chunk_size: int, order: DispatchOrder, partitions: Selection) -> PartitionSubset:
    """The indices of the chunks of ``selection`` whose partitions are all in ``partitions``.

    Costs O(runs of ``partitions`` in ``selection``), never O(chunks).
    """
    total = selection.count
    last = chunk_count(total, chunk_size) - 1
    indices: list[tuple[int, int]] = []
    for start, stop in _position_runs(selection, partitions):
        if order is DispatchOrder.BACKWARD:
            start, stop = total - stop, total - start
        first, end = -(-start // chunk_size), stop // chunk_size
        if stop == total and last * chunk_size >= start:
            end = last + 1  # the last chunk may be short
        if first < end:
            indices.append((first, end))
    return PartitionSubset.from_ranges(indices)


def run_key(backfill_id: str, asset_key: str, round_number: int, chunk_index: int, attempt: int) -> str:
    """The run key of one attempt at one chunk: a pure function of its five inputs.

    The backfill case of :func:`arco_grpc.planning.run_keys.run_key_for`:
    ``"rk-"`` followed by the first 32 hex digits of
    ``sha256("arco/run-key/v1" US backfill_id US asset_key US round US index US attempt)``
    where US is the ASCII unit separator (0x1F) and numbers are decimal.
    The same inputs give the same key on any machine and after any restart;
    the store refuses a second run with a key it has seen. (Called straight,
    without building the request value: this is on the lease hot path, and
    the backfill's inputs were checked when it was created.)
    """
    return backfill_run_key(backfill_id, asset_key, round_number, chunk_index, attempt)


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """Names one chunk: target asset, round and index."""

    asset_key: str
    round: int
    index: int
