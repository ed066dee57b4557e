"""Counting a cron's wall-clock times by arithmetic, without walking the calendar.

Wall times are integer seconds on the naive wall clock counted from 1970-01-01T00:00
(the same scale as Unix time, but with no zone attached). The Gregorian calendar
repeats every 400 years (146,097 days, a whole number of weeks), so the number of
matching days before any date is a multiple of a per-cycle total plus a table lookup.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from arco_grpc.partitions.time_window._cron import SECONDS_PER_DAY, CronSchedule

UNIX_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
_CYCLE_DAYS = 146_097
_CYCLE_MONTHS = 4_800


@dataclass(frozen=True, slots=True)
class DayRule:
    """Which calendar days a cron fires on (None = no restriction)."""

    days_of_month: frozenset[int] | None
    months: frozenset[int] | None
    days_of_week: frozenset[int] | None

    @classmethod
    def of(cls, schedule: CronSchedule) -> DayRule:
        """The day rule of a parsed cron."""
        return cls(schedule.days_of_month, schedule.months, schedule.days_of_week)

    def matches_day(self, month: int, day: int, cron_weekday: int) -> bool:
        """Whether a day with these fields matches (croniter's OR rule when both day fields are set)."""
        if self.months is not None and month not in self.months:
            return False
        if self.days_of_month is None:
            return self.days_of_week is None or cron_weekday in self.days_of_week
        if self.days_of_week is None:
            return day in self.days_of_month
        return day in self.days_of_month or cron_weekday in self.days_of_week


def cron_weekday(ordinal: int) -> int:
    """The cron day of week (0 = Sunday) of a proleptic Gregorian ordinal (1 = Monday 0001-01-01)."""
    return ordinal % 7


class MatchingDays:
    """The days a rule matches: counted before an ordinal, and found by rank."""

    __slots__ = ("_rule", "_per_cycle", "_month_prefix", "_month_cumulative", "_every_day", "longest_gap_days")

    def __init__(self, rule: DayRule) -> None:
        self._rule = rule
        self._every_day = rule == DayRule(None, None, None)
        self._month_prefix: list[int] = [0]
        self._month_cumulative: list[tuple[int, ...]] = []
        self._per_cycle = _CYCLE_DAYS
        self.longest_gap_days = 1  # at least the most days from one matching day to the next
        if self._every_day:
            return
        tables: dict[tuple[int, int, int], tuple[int, ...]] = {}
        for year in range(1, 401):
            for month in range(1, 13):
                first_weekday = cron_weekday(date(year, month, 1).toordinal())
                length = monthrange(year, month)[1]
                shape = (month, first_weekday, length)
                cumulative = tables.get(shape)
                if cumulative is None:
                    counts = [0]
                    for day in range(1, length + 1):
                        hit = rule.matches_day(month, day, (first_weekday + day - 1) % 7)
                        counts.append(counts[-1] + hit)
                    cumulative = tables[shape] = tuple(counts)
                self._month_cumulative.append(cumulative)
                self._month_prefix.append(self._month_prefix[-1] + cumulative[-1])
        self._per_cycle = self._month_prefix[-1]
        self.longest_gap_days = self._longest_gap()

    def _longest_gap(self) -> int:
        # A bound, not the exact figure: months apart (wrapping into the next cycle) times 31 days.
        busy = [i for i, cumulative in enumerate(self._month_cumulative) if cumulative[-1]]
        months_apart = max(b - a for a, b in zip(busy, [*busy[1:], busy[0] + _CYCLE_MONTHS]))
        return (months_apart + 1) * 31

    def matches(self, ordinal: int) -> bool:
        """Whether the day with this ordinal matches."""
        if self._every_day:
            return True
        day = date.fromordinal(ordinal)
        return self._rule.matches_day(day.month, day.day, cron_weekday(ordinal))

    def count_before(self, ordinal: int) -> int:
        """How many matching days have an ordinal in [1, ordinal)."""
        if self._every_day:
            return ordinal - 1
        cycles, rest = divmod(ordinal - 1, _CYCLE_DAYS)
        day = date.fromordinal(rest + 1)
        month_index = (day.year - 1) * 12 + day.month - 1
        within = self._month_cumulative[month_index][day.day - 1]
        return cycles * self._per_cycle + self._month_prefix[month_index] + within

    def nth(self, rank: int) -> int:
        """The ordinal of the matching day with ``rank`` matching days before it (rank >= 0)."""
        if self._every_day:
            return rank + 1
        cycles, rest = divmod(rank, self._per_cycle)
        month_index = bisect_right(self._month_prefix, rest) - 1
        day = bisect_right(self._month_cumulative[month_index], rest - self._month_prefix[month_index])
        year, month = divmod(month_index, 12)
        return cycles * _CYCLE_DAYS + date(year + 1, month + 1, day).toordinal()


@functools.lru_cache(maxsize=256)
def matching_days(rule: DayRule) -> MatchingDays:
    """A shared counter per rule (building one walks a 400-year table of months once)."""
    return MatchingDays(rule)


class WallGrid:
    """Every wall time a cron matches, numbered in wall-clock order from 0001-01-01."""

    __slots__ = ("days", "times", "_per_day")

    def __init__(self, schedule: CronSchedule) -> None:
        self.days = matching_days(DayRule.of(schedule))
        self.times = schedule.times_of_day
        self._per_day = len(self.times)

    def count_before(self, wall: int) -> int:
        """How many matching wall times are earlier than ``wall``."""
        days, second = divmod(wall, SECONDS_PER_DAY)
        ordinal = UNIX_EPOCH_ORDINAL + days
        count = self.days.count_before(ordinal) * self._per_day
        if second and self.days.matches(ordinal):
            count += bisect_left(self.times, second)
        return count

    def point(self, number: int) -> int:
        """The matching wall time with ``number`` matching wall times before it."""
        rank, slot = divmod(number, self._per_day)
        return (self.days.nth(rank) - UNIX_EPOCH_ORDINAL) * SECONDS_PER_DAY + self.times[slot]

    def points(self, start: int, stop: int) -> list[int]:
        """``point`` of each number from ``start`` to ``stop - 1``, a day at a time."""
        per_day, times = self._per_day, self.times
        found: list[int] = []
        number = start
        while number < stop:
            rank, slot = divmod(number, per_day)
            day = (self.days.nth(rank) - UNIX_EPOCH_ORDINAL) * SECONDS_PER_DAY
            end = min(per_day, slot + stop - number)
            found.extend([day + time for time in times[slot:end]])
            number += end - slot
        return found
