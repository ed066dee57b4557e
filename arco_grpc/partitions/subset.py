"""A set of partition indices stored as sorted, disjoint, non-adjacent ranges.

Every operation costs time proportional to the number of ranges, never to the
number of partitions: a subset of ten million contiguous partitions is one
range, and counting it, testing membership or taking its k-th element is as
cheap as for a subset of one partition.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate

IndexRange = tuple[int, int]


# Not frozen: several are made per chunk on the hot path, and a frozen dataclass's __init__ costs several times
# more. Never mutate one (subsets key caches; the hash is kept).
@dataclass(slots=True)
class PartitionSubset:
    """Partition indices as half-open ranges ``[start, stop)``.

    ``ranges`` is canonical: ascending, each non-empty, and no two ranges
    overlap or touch (``[0, 2)`` and ``[2, 5)`` are always stored as
    ``[0, 5)``), so equal sets have equal ``ranges``. Build subsets with the
    class methods; the constructor only checks that ``ranges`` is canonical.
    """

    ranges: tuple[IndexRange, ...]
    # prefix[i] = how many indices the ranges before ranges[i] hold; computed
    # on first use, so intermediate results of set operations never pay for it.
    _prefix: tuple[int, ...] | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    # The hash, computed on first use: subsets key the caches of their encodings, looked up per chunk.
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        previous_stop = -1
        for start, stop in self.ranges:
            if start < 0 or start >= stop or start <= previous_stop:
                raise ValueError(
                    f"ranges must be ascending, non-empty, disjoint, non-adjacent and non-negative; got {self.ranges!r}"
                )
            previous_stop = stop

    def __hash__(self) -> int:
        if self._hash is None:
            value = hash((self.ranges,))
            self._hash = value
            return value
        return self._hash

    # -- construction -------------------------------------------------------

    @classmethod
    def empty(cls) -> PartitionSubset:
        """The subset with no partitions."""
        return cls(())

    @classmethod
    def of_range(cls, start: int, stop: int) -> PartitionSubset:
        """Indices ``start`` to ``stop - 1`` (empty when ``stop <= start``)."""
        return cls(((start, stop),)) if stop > start else cls(())

    @classmethod
    def from_ranges(cls, ranges: Iterable[IndexRange]) -> PartitionSubset:
        """The union of half-open ranges in any order; empty and reversed ranges are ignored."""
        ordered = sorted((start, stop) for start, stop in ranges if stop > start)
        merged: list[IndexRange] = []
        for start, stop in ordered:
            if merged and start <= merged[-1][1]:
                if stop > merged[-1][1]:
                    merged[-1] = (merged[-1][0], stop)
            else:
                merged.append((start, stop))
        return cls(tuple(merged))

    @classmethod
    def from_indices(cls, indices: Iterable[int]) -> PartitionSubset:
        """The subset holding exactly ``indices`` (any order, duplicates allowed)."""
        ranges: list[IndexRange] = []
        for index in sorted(set(indices)):
            if ranges and ranges[-1][1] == index:
                ranges[-1] = (ranges[-1][0], index + 1)
            else:
                ranges.append((index, index + 1))
        return cls(tuple(ranges))

    # -- set algebra (linear merges over ranges) -----------------------------

    def __or__(self, other: PartitionSubset) -> PartitionSubset:
        if not other.ranges:
            return self
        if not self.ranges:
            return other
        merged: list[IndexRange] = []
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) or j < len(b):
            if j >= len(b) or (i < len(a) and a[i][0] <= b[j][0]):
                start, stop = a[i]
                i += 1
            else:
                start, stop = b[j]
                j += 1
            if merged and start <= merged[-1][1]:
                if stop > merged[-1][1]:
                    merged[-1] = (merged[-1][0], stop)
            else:
                merged.append((start, stop))
        return PartitionSubset(tuple(merged))

    def __and__(self, other: PartitionSubset) -> PartitionSubset:
        result: list[IndexRange] = []
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) and j < len(b):
            start = max(a[i][0], b[j][0])
            stop = min(a[i][1], b[j][1])
            if start < stop:
                result.append((start, stop))
            # Advance whichever range ends first; the other may overlap more.
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return PartitionSubset(tuple(result))

    def __sub__(self, other: PartitionSubset) -> PartitionSubset:
        if not other.ranges or not self.ranges:
            return self
        result: list[IndexRange] = []
        b = other.ranges
        j = 0
        for start, stop in self.ranges:
            # Skip removals that end before this range begins.
            while j < len(b) and b[j][1] <= start:
                j += 1
            k = j
            while k < len(b) and b[k][0] < stop:
                if b[k][0] > start:
                    result.append((start, b[k][0]))
                start = max(start, b[k][1])
                if start >= stop:
                    break
                k += 1
            if start < stop:
                result.append((start, stop))
        return PartitionSubset(tuple(result))

    def clip(self, count: int) -> PartitionSubset:
        """The indices below ``count`` (the intersection with ``[0, count)``)."""
        return self & PartitionSubset.of_range(0, count)

    # -- size and membership ----------------------------------------------

    @property
    def prefix_counts(self) -> tuple[int, ...]:
        """``prefix_counts[i]``: indices held by ``ranges[:i]``; one more entry than ranges."""
        if self._prefix is None:
            ranges = self.ranges
            if len(ranges) == 1:  # the usual chunk: no generator to run
                start, stop = ranges[0]
                prefix: tuple[int, ...] = (0, stop - start)
            else:
                prefix = tuple(accumulate((stop - start for start, stop in ranges), initial=0))
            self._prefix = prefix
            return prefix
        return self._prefix

    @property
    def count(self) -> int:
        """How many indices the subset holds."""
        prefix = self._prefix
        return (self.prefix_counts if prefix is None else prefix)[-1]

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return bool(self.ranges)

    @property
    def is_empty(self) -> bool:
        """True when the subset holds no index."""
        return not self.ranges

    def _range_at_or_before(self, index: int) -> int:
        """Position in ``ranges`` of the last range starting at or before ``index`` (-1 if none)."""
        return bisect_right(self.ranges, index, key=lambda r: r[0]) - 1

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        position = self._range_at_or_before(index)
        return position >= 0 and index < self.ranges[position][1]

    @property
    def first(self) -> int | None:
        """The smallest index, or None when empty."""
        return self.ranges[0][0] if self.ranges else None

    @property
    def last(self) -> int | None:
        """The largest index, or None when empty."""
        return self.ranges[-1][1] - 1 if self.ranges else None

    # -- positions ----------------------------------------------------------

    def nth(self, k: int) -> int:
        """The ``k``-th smallest index (0-based); negative ``k`` counts from the largest.

        Raises:
            IndexError: ``k`` is not in ``[-count, count)``.
        """
        count = self.count
        if k < 0:
            k += count
        if not 0 <= k < count:
            raise IndexError(f"position {k} is out of range for a subset of {count} partitions")
        prefix = self.prefix_counts
        position = bisect_right(prefix, k) - 1
        return self.ranges[position][0] + (k - prefix[position])

    def rank(self, index: int) -> int | None:
        """How many indices of the subset are smaller than ``index``, if ``index`` is in it; else None."""
        position = self._range_at_or_before(index)
        if position < 0 or index >= self.ranges[position][1]:
            return None
        return self.prefix_counts[position] + (index - self.ranges[position][0])

    def slice(self, start_pos: int, stop_pos: int | None = None) -> PartitionSubset:
        """The subset of the indices at positions ``[start_pos, stop_pos)`` (clipped to ``[0, count]``).

        Costs O(log r) plus the number of ranges in the result.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return PartitionSubset.empty()
        prefix = self.prefix_counts
        first = bisect_right(prefix, start) - 1
        last = bisect_right(prefix, stop - 1) - 1
        ranges = list(self.ranges[first : last + 1])
        # Trim the outer ranges (one and the same when first == last).
        ranges[0] = (self.ranges[first][0] + (start - prefix[first]), ranges[0][1])
        ranges[-1] = (ranges[-1][0], self.ranges[last][0] + (stop - prefix[last]))
        return PartitionSubset(tuple(ranges))

    def _clip_positions(self, start_pos: int, stop_pos: int | None) -> tuple[int, int]:
        count = self.count
        stop = count if stop_pos is None else min(stop_pos, count)
        return max(start_pos, 0), stop

    def indices(self, start_pos: int = 0, stop_pos: int | None = None) -> Iterator[int]:
        """Yields the indices at positions ``[start_pos, stop_pos)``, ascending.

        Positions are clipped to ``[0, count]``; only the indices yielded are visited.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return
        prefix = self.prefix_counts
        position = bisect_right(prefix, start) - 1
        remaining = stop - start
        offset = start - prefix[position]
        while remaining > 0:
            range_start, range_stop = self.ranges[position]
            first = range_start + offset
            last = min(range_stop, first + remaining)
            yield from range(first, last)
            remaining -= last - first
            position += 1
            offset = 0

    def reversed_indices(self, start_pos: int = 0, stop_pos: int | None = None) -> Iterator[int]:
        """Yields the indices at positions ``[start_pos, stop_pos)`` counted from the largest, descending.

        Position 0 is the largest index. Positions are clipped to ``[0, count]``.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return
        count = self.count
        prefix = self.prefix_counts
        # Ascending position of the first index to yield.
        ascending = count - 1 - start
        position = bisect_right(prefix, ascending) - 1
        remaining = stop - start
        current = self.ranges[position][0] + (ascending - prefix[position])
        while remaining > 0:
            range_start = self.ranges[position][0]
            lowest = max(range_start, current - remaining + 1)
            yield from range(current, lowest - 1, -1)
            remaining -= current - lowest + 1
            position -= 1
            if position >= 0:
                current = self.ranges[position][1] - 1
