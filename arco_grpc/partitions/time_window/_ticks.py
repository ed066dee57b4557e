"""Tick sequences: cron ticks in a zone, numbered by arithmetic on the wall-clock grid.

Both sequences number ticks relative to an anchor instant: ``count_before(u)`` is how
many ticks lie in [anchor, u) (negative: minus how many lie in [u, anchor)), so the
first tick at or after the anchor has index 0, and ``instant(i)`` inverts it.
Instants are integer Unix seconds: cron ticks always fall on whole seconds.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo

from arco_grpc.partitions.time_window._calendar import WallGrid
from arco_grpc.partitions.time_window._cron import CronSchedule
from arco_grpc.partitions.time_window._zone import (
    net_offset_change,
    offset_at,
    owning_year,
    resolve_restricted_wall,
    transitions_in_year,
    wall_year,
    year_start,
)

# A collapse (two wall times firing at one instant) needs a gap at least as long as the
# distance between them. For schedules whose ticks are at least this far apart, only
# years whose net offset change is large are searched for such gaps.
_SCREENED_SPACING = 12 * 3_600


class TickSequence(Protocol):
    """Ticks of a cron in a zone, indexed from an anchor instant."""

    def count_before(self, instant: int) -> int:
        """Ticks in [anchor, instant), or minus the ticks in [instant, anchor)."""
        ...

    def instant(self, index: int) -> int:
        """The Unix instant of tick ``index`` (0 = first tick at or after the anchor)."""
        ...

    def instants(self, start: int, stop: int) -> list[int]:
        """The instants of ticks ``start`` to ``stop - 1``, in order."""
        ...


class _YearSums:
    """Signed sums of a per-year total from a reference year, extended lazily both ways."""

    __slots__ = ("_reference", "_total", "_forward", "_backward", "_lock")

    def __init__(self, reference: int, total: Callable[[int], int]) -> None:
        self._reference = reference
        self._total = total
        self._forward = [0]  # [i] = totals of years reference .. reference + i - 1
        self._backward = [0]  # [i] = totals of years reference - i .. reference - 1
        self._lock = threading.Lock()

    def before(self, year: int) -> int:
        """Sum over [reference, year) if year >= reference, else minus the sum over [year, reference)."""
        if year >= self._reference:
            steps, sums, sign = year - self._reference, self._forward, 1
        else:
            steps, sums, sign = self._reference - year, self._backward, -1
        if steps >= len(sums):
            with self._lock:
                while steps >= len(sums):
                    covered = len(sums) - 1
                    nxt = self._reference + covered if sign > 0 else self._reference - covered - 1
                    sums.append(sums[-1] + self._total(nxt))
        return sign * sums[steps]


class EveryHourTicks:
    """Ticks of a cron whose hour field is '*': every instant whose wall time matches.

    Between two offset changes the wall clock runs with UTC, so the ticks there are
    the grid's wall times shifted by the offset. Across a change at instant T the
    count shifts by the grid times in the skipped or repeated wall interval:
    grid(T + before) - grid(T + after), negative for a gap, positive for an overlap.
    Hence ticks before u = grid(wall(u)) + sum of those shifts up to u.
    """

    __slots__ = ("_zone", "_grid", "_shifts", "_reference", "_year_base", "_year_segments")

    def __init__(self, zone: ZoneInfo, schedule: CronSchedule, anchor: int) -> None:
        self._zone = zone
        self._grid = WallGrid(schedule)
        self._shifts = _YearSums(owning_year(anchor), self._year_shift)
        self._year_base: dict[int, int] = {}
        self._year_segments: dict[int, list[tuple[int, int, int, int]]] = {}
        self._reference = 0
        self._reference = self._absolute(anchor)

    def _shift(self, instant: int, before: int, after: int) -> int:
        return self._grid.count_before(instant + before) - self._grid.count_before(instant + after)

    def _year_shift(self, year: int) -> int:
        return sum(self._shift(t.instant, t.offset_before, t.offset_after) for t in transitions_in_year(self._zone, year))

    def _absolute(self, instant: int) -> int:
        year = owning_year(instant)
        shift = self._shifts.before(year)
        for t in transitions_in_year(self._zone, year):
            if t.instant > instant:
                break
            shift += self._shift(t.instant, t.offset_before, t.offset_after)
        return self._grid.count_before(instant + offset_at(self._zone, instant)) + shift - self._reference

    def count_before(self, instant: int) -> int:
        return self._absolute(instant)

    def _before_year(self, year: int) -> int:
        base = self._year_base.get(year)
        if base is None:
            base = self._year_base[year] = self._absolute(year_start(year))
        return base

    def _year_of(self, index: int) -> int:
        """The year that holds tick ``index``."""
        # Guess the year from the grid alone, then step until the year holds the tick.
        year = wall_year(self._grid.point(index + self._reference))
        while True:
            if index < self._before_year(year):
                year -= 1
            elif index >= self._before_year(year + 1):
                year += 1
            else:
                return year

    def instant(self, index: int) -> int:
        grid = self._grid
        for before, first, in_segment, offset in self._segments_of(self._year_of(index)):
            if index < before + in_segment:
                return grid.point(first + index - before) - offset
        raise AssertionError("tick not found in the year that holds it")

    def instants(self, start: int, stop: int) -> list[int]:
        # A stretch of constant offset at a time: the same instants as instant() of each (keys are made for
        # every partition of every leased chunk, and locating the year per tick cost more than the rest).
        found: list[int] = []
        if start >= stop:
            return found
        grid = self._grid
        index, year = start, self._year_of(start)
        while index < stop:
            for before, first, in_segment, offset in self._segments_of(year):
                end = min(stop, before + in_segment)
                if index < end:
                    points = grid.points(first + index - before, first + end - before)
                    found.extend([point - offset for point in points])
                    index = end
            year += 1
        return found

    def _segments_of(self, year: int) -> list[tuple[int, int, int, int]]:
        """The year's stretches of constant offset, as (ticks before it, first grid number, ticks in it, offset).

        Remembered per year: keys are made one at a time for each leased chunk.
        """
        segments = self._year_segments.get(year)
        if segments is not None:
            return segments
        grid, zone = self._grid, self._zone
        start, end = year_start(year), year_start(year + 1)
        before, offset = self._before_year(year), offset_at(zone, start)
        boundaries = [(t.instant, t.offset_after) for t in transitions_in_year(zone, year) if t.instant < end]
        segments = []
        for boundary, next_offset in [*boundaries, (end, offset)]:
            first = grid.count_before(start + offset)
            in_segment = grid.count_before(boundary + offset) - first
            segments.append((before, first, in_segment, offset))
            before, start, offset = before + in_segment, boundary, next_offset
        self._year_segments[year] = segments
        return segments


class RestrictedHourTicks:
    """Ticks of a cron with a restricted hour field: one per matching wall time.

    Each matching wall time fires once (the later occurrence of a repeated time, the
    end of a gap for a skipped one), and that map is monotone, so ticks are the grid's
    wall times in order. Only when a gap swallows two matching wall times do they fire
    at the same instant; those "collapses" are found from the transitions.
    """

    __slots__ = ("_zone", "_grid", "_spacing", "_state", "_anchor_number", "_lock")

    def __init__(self, zone: ZoneInfo, schedule: CronSchedule, anchor: int) -> None:
        self._zone = zone
        self._grid = WallGrid(schedule)
        self._spacing = schedule.shortest_wall_gap
        self._lock = threading.Lock()
        # (first covered year, last covered year, first grid numbers of collapses, their sizes,
        # prefix sums of sizes); a size is how many later wall times fire with the first one.
        self._state: tuple[int, int, list[int], list[int], list[int]] | None = None
        self._anchor_number = self._fires_before(anchor)
        self._cover(wall_year(self._grid.point(self._anchor_number)))

    def _collapses_in_year(self, year: int) -> list[tuple[int, int]]:
        if self._spacing >= _SCREENED_SPACING and abs(net_offset_change(self._zone, year)) * 2 < self._spacing:
            return []
        found = []
        for t in transitions_in_year(self._zone, year):
            if t.offset_after <= t.offset_before:
                continue
            first = self._grid.count_before(t.instant + t.offset_before)
            swallowed = self._grid.count_before(t.instant + t.offset_after + 1) - first
            if swallowed >= 2:
                found.append((first, swallowed - 1))
        return found

    def _cover(self, year: int) -> tuple[int, int, list[int], list[int], list[int]]:
        low, high = year - 1, year + 1
        state = self._state
        if state is not None and state[0] <= low and high <= state[1]:
            return state
        with self._lock:
            state = self._state
            old_low, old_high = (state[0], state[1]) if state else (low, low - 1)
            new_low, new_high = min(old_low, low), max(old_high, high)
            pairs = list(zip(state[2], state[3])) if state else []
            for y in [*range(new_low, old_low), *range(old_high + 1, new_high + 1)]:
                pairs.extend(self._collapses_in_year(y))
            pairs.sort()
            prefix = [0]
            for _, size in pairs:
                prefix.append(prefix[-1] + size)
            state = (new_low, new_high, [p[0] for p in pairs], [p[1] for p in pairs], prefix)
            self._state = state
            return state

    @staticmethod
    def _collapsed_in(state: tuple[int, int, list[int], list[int], list[int]], number: int) -> int:
        _, _, leaders, sizes, prefix = state
        j = bisect_left(leaders, number)
        if j == 0:
            return 0
        return prefix[j - 1] + min(number - leaders[j - 1] - 1, sizes[j - 1])

    def _collapsed_since_anchor(self, number: int) -> int:
        """Collapsed wall times with grid number in [anchor, number) (negative below the anchor)."""
        # The covered years always include the anchor's, so both counts see the same collapses.
        state = self._cover(wall_year(self._grid.point(number)))
        if not state[2]:
            return 0
        return self._collapsed_in(state, number) - self._collapsed_in(state, self._anchor_number)

    def _fire(self, number: int) -> int:
        return resolve_restricted_wall(self._zone, self._grid.point(number))

    def _fires_before(self, instant: int) -> int:
        """How many grid wall times fire before ``instant`` (absolute grid number)."""
        number = self._grid.count_before(instant + offset_at(self._zone, instant))
        # The wall clock and the firing instants disagree near a transition; fix locally.
        while self._fire(number - 1) >= instant:
            number -= 1
        while self._fire(number) < instant:
            number += 1
        return number

    def count_before(self, instant: int) -> int:
        number = self._fires_before(instant)
        return number - self._anchor_number - self._collapsed_since_anchor(number)

    def instant(self, index: int) -> int:
        # The least n with n - anchor - collapsed(anchor <= m <= n) == index is the wall time that
        # fires first at tick ``index``; iterate n = anchor + index + collapsed(...) up to it.
        number = self._anchor_number + index
        while True:
            following = self._anchor_number + index + self._collapsed_since_anchor(number + 1)
            if following == number:
                return self._fire(number)
            number = following

    def instants(self, start: int, stop: int) -> list[int]:
        return [self.instant(index) for index in range(start, stop)]


def tick_sequence(zone: ZoneInfo, schedule: CronSchedule, anchor: int) -> TickSequence:
    """The tick sequence for a cron in a zone, anchored at a Unix instant."""
    if schedule.every_hour:
        return EveryHourTicks(zone, schedule, anchor)
    return RestrictedHourTicks(zone, schedule, anchor)

