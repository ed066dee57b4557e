"""A set of ``(i, j)`` index pairs of a two-dimension (multi) partition space.

The set is stored as bands: a band ``(first_start, first_stop, second)`` holds
every pair ``(i, j)`` with ``first_start <= i < first_stop`` and ``j`` in
``second``. A rectangle (the usual selection) is one band per range of the
first dimension, so size and cost grow with the number of bands and ranges,
never with the number of partitions.

Pairs are ordered as the multi space orders its partitions: first dimension
outer, second inner, both ascending.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from itertools import accumulate

from arco_grpc.partitions.subset import PartitionSubset

# (first_start, first_stop, second): every i in [first_start, first_stop) with every j in second.
Band = tuple[int, int, PartitionSubset]
IndexPair = tuple[int, int]


def _canonical(bands: Iterable[Band]) -> tuple[Band, ...]:
    """Drops empty bands and merges touching bands with equal ``second``.

    ``bands`` must already be ascending and disjoint in the first dimension.
    """
    result: list[Band] = []
    for start, stop, second in bands:
        if start >= stop or second.is_empty:
            continue
        if result and result[-1][1] == start and result[-1][2] == second:
            result[-1] = (result[-1][0], stop, second)
        else:
            result.append((start, stop, second))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class MultiPartitionSubset:
    """Index pairs of a multi space, as canonical bands (see the module docstring).

    Canonical: bands ascending and disjoint in the first dimension, none empty,
    and two bands that touch (one's ``first_stop`` is the other's
    ``first_start``) have different ``second`` subsets. Equal sets therefore
    have equal ``bands``.
    """

    bands: tuple[Band, ...]
    # prefix[b] = how many pairs the bands before bands[b] hold (computed on first use).
    _prefix: tuple[int, ...] | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        previous: Band | None = None
        for band in self.bands:
            start, stop, second = band
            bad = start < 0 or start >= stop or second.is_empty
            if previous is not None:
                bad = bad or start < previous[1] or (start == previous[1] and second == previous[2])
            if bad:
                raise ValueError(f"bands are not canonical: {self.bands!r}")
            previous = band

    # -- construction -------------------------------------------------------

    @classmethod
    def empty(cls) -> MultiPartitionSubset:
        """The subset with no pairs."""
        return cls(())

    @classmethod
    def rectangle(cls, first: PartitionSubset, second: PartitionSubset) -> MultiPartitionSubset:
        """Every pair ``(i, j)`` with ``i`` in ``first`` and ``j`` in ``second``."""
        if second.is_empty:
            return cls(())
        # first's ranges never touch, so no two bands need merging.
        return cls(tuple((start, stop, second) for start, stop in first.ranges))

    @classmethod
    def from_pairs(cls, pairs: Iterable[IndexPair]) -> MultiPartitionSubset:
        """The subset holding exactly ``pairs`` (any order, duplicates allowed)."""
        rows: defaultdict[int, list[int]] = defaultdict(list)
        for i, j in pairs:
            rows[i].append(j)
        return cls(_canonical((i, i + 1, PartitionSubset.from_indices(js)) for i, js in sorted(rows.items())))

    # -- set algebra ----------------------------------------------------------

    def _combine(
        self,
        other: MultiPartitionSubset,
        operation: Callable[[PartitionSubset, PartitionSubset], PartitionSubset],
    ) -> MultiPartitionSubset:
        """Applies ``operation`` to the second subsets over every stretch of the first dimension.

        The stretches are cut at every band boundary of either operand, so on each
        stretch both operands are constant (a band's ``second`` or empty).
        """
        empty = PartitionSubset.empty()
        cuts = sorted({b[0] for b in self.bands} | {b[1] for b in self.bands}
                      | {b[0] for b in other.bands} | {b[1] for b in other.bands})
        out: list[Band] = []
        a, b = self.bands, other.bands
        i = j = 0
        for low, high in zip(cuts, cuts[1:]):
            while i < len(a) and a[i][1] <= low:
                i += 1
            while j < len(b) and b[j][1] <= low:
                j += 1
            left = a[i][2] if i < len(a) and a[i][0] <= low else empty
            right = b[j][2] if j < len(b) and b[j][0] <= low else empty
            out.append((low, high, operation(left, right)))
        return MultiPartitionSubset(_canonical(out))

    def __or__(self, other: MultiPartitionSubset) -> MultiPartitionSubset:
        return self._combine(other, PartitionSubset.__or__)

    def __and__(self, other: MultiPartitionSubset) -> MultiPartitionSubset:
        return self._combine(other, PartitionSubset.__and__)

    def __sub__(self, other: MultiPartitionSubset) -> MultiPartitionSubset:
        return self._combine(other, PartitionSubset.__sub__)

    # -- size and membership ----------------------------------------------------

    @property
    def prefix_counts(self) -> tuple[int, ...]:
        """``prefix_counts[b]``: pairs held by ``bands[:b]``; one more entry than bands."""
        if self._prefix is None:
            prefix = tuple(accumulate(((stop - start) * second.count for start, stop, second in self.bands), initial=0))
            object.__setattr__(self, "_prefix", prefix)
            return prefix
        return self._prefix

    @property
    def count(self) -> int:
        """How many pairs the subset holds."""
        return self.prefix_counts[-1]

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return bool(self.bands)

    @property
    def is_empty(self) -> bool:
        """True when the subset holds no pair."""
        return not self.bands

    def _band_of(self, i: int) -> int | None:
        """Position in ``bands`` of the band whose first-dimension range holds ``i``."""
        position = bisect_right(self.bands, i, key=lambda band: band[0]) - 1
        if position < 0 or i >= self.bands[position][1]:
            return None
        return position

    def contains(self, pair: IndexPair) -> bool:
        """True when ``pair`` (``(i, j)``) is in the subset."""
        i, j = pair
        position = self._band_of(i)
        return position is not None and j in self.bands[position][2]

    def __contains__(self, pair: object) -> bool:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return False
        return self.contains(pair)

    # -- positions (product order) -----------------------------------------------

    def nth(self, k: int) -> IndexPair:
        """The ``k``-th pair in product order; negative ``k`` counts from the last pair.

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
        start, _, second = self.bands[position]
        row, column = divmod(k - prefix[position], second.count)
        return (start + row, second.nth(column))

    def rank(self, pair: IndexPair) -> int | None:
        """The position of ``pair`` in product order, or None when it is not in the subset."""
        i, j = pair
        position = self._band_of(i)
        if position is None:
            return None
        start, _, second = self.bands[position]
        column = second.rank(j)
        if column is None:
            return None
        return self.prefix_counts[position] + (i - start) * second.count + column

    def slice(self, start_pos: int, stop_pos: int | None = None) -> MultiPartitionSubset:
        """The subset of the pairs at positions ``[start_pos, stop_pos)`` in product order.

        Positions are clipped to ``[0, count]``. The result is at most a partial
        first row, whole rows, and a partial last row, so it costs O(log b) plus
        the size of the bands it keeps.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return MultiPartitionSubset.empty()
        prefix = self.prefix_counts
        first = bisect_right(prefix, start) - 1
        last = bisect_right(prefix, stop - 1) - 1
        first_start, first_stop, first_second = self.bands[first]
        last_start, _, last_second = self.bands[last]
        row, column = divmod(start - prefix[first], first_second.count)
        end_row, end_column = divmod(stop - 1 - prefix[last], last_second.count)
        i, end_i = first_start + row, last_start + end_row
        if first == last and i == end_i:
            return MultiPartitionSubset(((i, i + 1, first_second.slice(column, end_column + 1)),))
        pieces: list[Band] = [(i, i + 1, first_second.slice(column))]
        if first == last:
            pieces.append((i + 1, end_i, first_second))
        else:
            pieces.append((i + 1, first_stop, first_second))
            pieces.extend(self.bands[first + 1 : last])
            pieces.append((last_start, end_i, last_second))
        pieces.append((end_i, end_i + 1, last_second.slice(0, end_column + 1)))
        return MultiPartitionSubset(_canonical(pieces))

    def _clip_positions(self, start_pos: int, stop_pos: int | None) -> tuple[int, int]:
        count = self.count
        stop = count if stop_pos is None else min(stop_pos, count)
        return max(start_pos, 0), stop

    def iter_pairs(self, start_pos: int = 0, stop_pos: int | None = None) -> Iterator[IndexPair]:
        """Yields the pairs at positions ``[start_pos, stop_pos)`` in product order.

        Positions are clipped to ``[0, count]``; only the pairs yielded are visited.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return
        prefix = self.prefix_counts
        position = bisect_right(prefix, start) - 1
        remaining = stop - start
        band_start, band_stop, second = self.bands[position]
        row, column = divmod(start - prefix[position], second.count)
        i = band_start + row
        while remaining > 0:
            for j in second.indices(column, column + remaining):
                yield (i, j)
                remaining -= 1
            column = 0
            i += 1
            if i >= band_stop and remaining > 0:
                position += 1
                band_start, band_stop, second = self.bands[position]
                i = band_start

    def reversed_pairs(self, start_pos: int = 0, stop_pos: int | None = None) -> Iterator[IndexPair]:
        """Yields the pairs at positions ``[start_pos, stop_pos)`` counted from the last pair.

        Position 0 is the last pair in product order; pairs come out descending.
        Positions are clipped to ``[0, count]``.
        """
        start, stop = self._clip_positions(start_pos, stop_pos)
        if start >= stop:
            return
        prefix = self.prefix_counts
        ascending = self.count - 1 - start
        position = bisect_right(prefix, ascending) - 1
        remaining = stop - start
        band_start, _, second = self.bands[position]
        row, column = divmod(ascending - prefix[position], second.count)
        i = band_start + row
        # Within a row, reversed position p is ascending column (count - 1 - p).
        reversed_column = second.count - 1 - column
        while remaining > 0:
            for j in second.reversed_indices(reversed_column, reversed_column + remaining):
                yield (i, j)
                remaining -= 1
            reversed_column = 0
            i -= 1
            if i < band_start and remaining > 0:
                position -= 1
                band_start, band_stop, second = self.bands[position]
                i = band_stop - 1

    # -- projections and flattening -------------------------------------------

    def first_dimension(self) -> PartitionSubset:
        """The first-dimension indices that appear in some pair."""
        return PartitionSubset.from_ranges((start, stop) for start, stop, _ in self.bands)

    def second_dimension(self) -> PartitionSubset:
        """The second-dimension indices that appear in some pair."""
        return reduce(PartitionSubset.__or__, (second for _, _, second in self.bands), PartitionSubset.empty())

    def flat_ranges(self, second_count: int) -> PartitionSubset:
        """The pairs as flat indices ``i * second_count + j`` of the multi space.

        Only for small results (tests, small spaces): a band whose ``second`` is
        not the whole dimension yields one range per row, so the result can hold
        as many ranges as the band has rows. Use the bands themselves for large
        subsets.
        """
        whole = PartitionSubset.of_range(0, second_count)
        flat: list[tuple[int, int]] = []
        for start, stop, second in self.bands:
            if second == whole:
                flat.append((start * second_count, stop * second_count))
                continue
            for i in range(start, stop):
                base = i * second_count
                flat.extend((base + low, base + high) for low, high in second.ranges)
        return PartitionSubset.from_ranges(flat)
