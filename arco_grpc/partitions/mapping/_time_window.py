"""TimeWindowPartitionMapping on index ranges, with Dagster 1.13.29's exact rules.

A contiguous range of partitions is one time window ``[start, end)``, so a
subset is mapped range by range (Dagster maps the merged windows of its subset
the same way) and nothing is enumerated: each range costs a few tick lookups.

Toward upstream (a downstream window ``[s, e)`` → upstream windows):

1. Shift ``s`` by ``start_offset`` and ``e`` by ``end_offset`` windows of the
   downstream definition; then clamp a shifted end to the upstream partitions'
   bounds ``[first.start, last.end]`` *in the direction of its offset* (a
   negative offset can not go below first.start, a positive one not above
   last.end). Dependencies pushed out of range by offsets therefore vanish.
2. Snap outward onto the upstream grid: the window containing ``s`` and the one
   whose ``(start, end]`` contains ``e``. Definitions with the same cron (or a
   basic daily one mapped onto a basic hourly one) share boundaries and skip it.
3. The existing part ``[max(s, first.start), min(e, last.end))`` is the result;
   the part outside is required but nonexistent (unless
   ``allow_nonexistent_upstream_partitions``). A window sticking out on *both*
   sides is reported whole, existing middle included, as Dagster does.

Toward downstream Dagster runs the same procedure from the upstream side with
the offsets negated and swapped, shifting after snapping, on the downstream
grid and bounds. One shortcut of Dagster's changes answers and is kept: with
zero offsets, a subset that ends before the target definition's ``start``
maps to nothing, and its nonexistent windows are the target windows that
*start* inside it (not snapped outward).

Inside multi mappings Dagster maps each dimension key on its own and unions the
results, which differs from mapping the merged range near the bounds and when
``start_offset > end_offset``. :meth:`TimeWindowMapper.map_each` gives that
per-key union: the ranges are cut into runs whose keys all lie before, inside
or after the target bounds, where the merged answer provably equals the union,
and only the few keys straddling a bound (at most ``end_offset - start_offset
+ 2`` target windows' worth) are mapped one by one. With ``start_offset >
end_offset`` every key is mapped on its own (cost O(keys), as in Dagster).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping._result import merge_ranges
from arco_grpc.partitions.subset import IndexRange
from arco_grpc.partitions.time_window import TimeWindowSpace

BASIC_DAILY = "0 0 * * *"
BASIC_HOURLY = "0 * * * *"

# Where a key's shifted window lies against the target bounds [Fs, Fe]; the rank
# never decreases along the keys, so each kind is one contiguous run.
_CHEAP, _BEFORE, _LOW, _INSIDE, _HIGH, _AFTER = range(6)
_ONE_BY_ONE = (_LOW, _HIGH)

MappedRanges = tuple[tuple[IndexRange, ...], tuple[IndexRange, ...]]


class TimeWindowMapper:
    """Maps index ranges of one time-window space onto another.

    ``toward_upstream`` maps downstream partitions (``source``) to the upstream
    ones they read (``target``) with the offsets as given; otherwise it maps
    upstream partitions to the downstream ones that read them, and the offsets
    are negated and swapped, as Dagster does.

    Results are ``(partitions, nonexistent)``: index ranges of ``target``, and
    tick ranges of ``target``'s unclipped cron grid (see MissingWindows).

    Raises:
        InvalidArgument: the two definitions are in different timezones.
    """

    __slots__ = (
        "_source", "_target", "_start_offset", "_end_offset", "_allow", "_toward_upstream",
        "_no_snap", "_count", "_bounds", "_target_start",
    )

    def __init__(
        self,
        source: TimeWindowSpace,
        target: TimeWindowSpace,
        *,
        start_offset: int,
        end_offset: int,
        allow_nonexistent: bool,
        toward_upstream: bool,
    ) -> None:
        source_def, target_def = source.definition, target.definition
        if source_def.timezone != target_def.timezone:
            raise InvalidArgument(
                f"a time window mapping needs both definitions in one timezone, but one is in "
                f"{source_def.timezone!r} and the other in {target_def.timezone!r}",
                field="time_window",
            )
        self._source, self._target = source, target
        if toward_upstream:
            self._start_offset, self._end_offset = start_offset, end_offset
        else:
            self._start_offset, self._end_offset = -end_offset, -start_offset
        self._allow = allow_nonexistent
        self._toward_upstream = toward_upstream
        self._no_snap = source_def.cron_schedule == target_def.cron_schedule or (
            source_def.cron_schedule == BASIC_DAILY and target_def.cron_schedule == BASIC_HOURLY
        )
        self._count = target.count
        ticks = target_def._ticks
        self._bounds = (ticks.instant(0), ticks.instant(self._count)) if self._count else None
        self._target_start = target_def.start.timestamp()

    # -- grid arithmetic ----------------------------------------------------

    def _source_instant(self, index: int) -> int:
        return self._source.definition._ticks.instant(index)

    def _target_instant(self, index: int) -> int:
        return self._target.definition._ticks.instant(index)

    def _target_ticks_before(self, instant: int) -> int:
        """How many target ticks lie in [first partition start, instant): the index of the first tick >= instant."""
        return self._target.definition._ticks.count_before(instant)

    def _clamped(self, instant: int, offset: int) -> int:
        """Dagster's _offsetted_datetime_with_bounds: a shifted end stays within the target bounds."""
        if self._bounds is None or offset == 0:
            return instant
        return max(self._bounds[0], instant) if offset < 0 else min(self._bounds[1], instant)

    def _snapped(self, start: int, end: int) -> tuple[int, int]:
        """The target windows containing ``start`` and ending the window (start, end] holding ``end``."""
        if self._no_snap:
            return start, end
        first = self._target_ticks_before(start + 1) - 1  # last tick at or before start
        return self._target_instant(first), self._target_instant(self._target_ticks_before(end))

    def _window(self, low: int, high: int) -> tuple[int, int]:
        """The target-side window of source partitions ``low .. high-1``, before bounds are applied."""
        so, eo = self._start_offset, self._end_offset
        if self._toward_upstream:
            start = self._clamped(self._source_instant(low + so), so)
            end = self._clamped(self._source_instant(high + eo), eo)
            return self._snapped(start, end)
        start, end = self._snapped(self._source_instant(low), self._source_instant(high))
        if so:
            start = self._clamped(self._target_instant(self._target_ticks_before(start) + so), so)
        if eo:
            end = self._clamped(self._target_instant(self._target_ticks_before(end) + eo), eo)
        return start, end

    # -- whole ranges (Dagster's subset mapping) ------------------------------

    def map_ranges(self, ranges: Sequence[IndexRange]) -> MappedRanges:
        """The mapping of the source partitions in ``ranges`` (ascending, disjoint), range by range."""
        if not ranges:
            return (), ()
        if self._start_offset == 0 and self._end_offset == 0:
            if self._source_instant(ranges[-1][1]) <= self._target_start:
                return (), self._starting_inside(ranges)
        windows = []
        for low, high in ranges:
            start, end = self._window(low, high)
            if start < end:
                windows.append((start, end))
        return self._bounded(windows)

    def _starting_inside(self, ranges: Iterable[IndexRange]) -> tuple[IndexRange, ...]:
        """Dagster's shortcut for a subset before the target's start: target windows starting in it."""
        if self._allow:
            return ()
        ticks_before = self._target_ticks_before
        return merge_ranges(
            (ticks_before(self._source_instant(low)), ticks_before(self._source_instant(high))) for low, high in ranges
        )

    def _bounded(self, windows: Iterable[tuple[int, int]]) -> MappedRanges:
        """Splits target-side windows into existing partitions and nonexistent ticks."""
        ticks_before = self._target_ticks_before
        partitions: list[IndexRange] = []
        nonexistent: list[IndexRange] = []
        bounds = self._bounds
        if bounds is not None:
            last_start, first_end = self._target_instant(self._count - 1), self._target_instant(1)
        for start, end in windows:
            if bounds is not None and start <= last_start and end >= first_end:
                partitions.append((ticks_before(max(start, bounds[0])), ticks_before(min(end, bounds[1]))))
            if self._allow:
                continue
            outside: tuple[int, int] | None = None
            if bounds is None or (start < bounds[0] and end > bounds[1]):
                outside = (start, end)  # reported whole, as Dagster does
            elif start < bounds[0]:
                outside = (start, min(end, bounds[0]))
            elif end > bounds[1]:
                outside = (max(start, bounds[1]), end)
            if outside is not None:
                nonexistent.append((ticks_before(outside[0]), ticks_before(outside[1])))
        return merge_ranges(partitions), merge_ranges(nonexistent)

    # -- key by key (Dagster's per-dimension-key mapping in multi mappings) ----

    def map_each(self, ranges: Sequence[IndexRange]) -> MappedRanges:
        """The union of the mappings of every single source partition in ``ranges``.

        Toward downstream only the partitions are computed (Dagster discards the rest).
        """
        if not self._toward_upstream and self._count == 0:
            return (), ()
        partitions: list[IndexRange] = []
        nonexistent: list[IndexRange] = []

        def add(mapped: MappedRanges) -> None:
            partitions.extend(mapped[0])
            nonexistent.extend(mapped[1])

        for low, high in ranges:
            if self._start_offset > self._end_offset:
                for index in range(low, high):  # every key's window is odd; no runs to merge
                    add(self.map_ranges(((index, index + 1),)))
                continue
            for run_low, run_high, kind in self._runs(low, high):
                if kind in _ONE_BY_ONE:
                    for index in range(run_low, run_high):
                        add(self.map_ranges(((index, index + 1),)))
                elif self._toward_upstream or kind == _INSIDE:
                    # Toward downstream, keys wholly before or after the bounds map to nothing.
                    add(self.map_ranges(((run_low, run_high),)))
        return merge_ranges(partitions), merge_ranges(nonexistent)

    def _runs(self, low: int, high: int) -> Iterable[tuple[int, int, int]]:
        """Cuts ``[low, high)`` into maximal runs of keys of one rank (O(log n) lookups per run)."""
        while low < high:
            kind = self._rank(low)
            end = low + bisect_right(range(low, high), kind, key=self._rank)
            yield low, end, kind
            low = end

    def _rank(self, index: int) -> int:
        """Where the window of source key ``index`` lies, shifted but neither clamped nor bounded."""
        so, eo = self._start_offset, self._end_offset
        if self._toward_upstream:
            if so == 0 and eo == 0 and self._source_instant(index + 1) <= self._target_start:
                return _CHEAP
            start, end = self._source_instant(index + so), self._source_instant(index + 1 + eo)
        else:
            start, end = self._snapped(self._source_instant(index), self._source_instant(index + 1))
            ticks_before = self._target_ticks_before
            start = self._target_instant(ticks_before(start) + so)
            end = self._target_instant(ticks_before(end) + eo)
        if self._bounds is None:
            return _INSIDE  # no target partitions: nothing is clamped, so whole runs map as one
        first, last = self._bounds
        if end <= first:
            return _BEFORE
        if start < first:
            return _LOW
        if start >= last:
            return _AFTER
        return _INSIDE if end <= last else _HIGH
