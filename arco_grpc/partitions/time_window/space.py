"""The partitions of a time-window definition at one moment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.time_window._calendar import DayRule, matching_days
from arco_grpc.partitions.time_window._cron import SECONDS_PER_DAY
from arco_grpc.partitions.time_window._zone import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    ceil_instant,
    floor_instant,
    localize,
    to_datetime,
)

if TYPE_CHECKING:
    from arco_grpc.partitions.time_window.definition import TimeWindowPartitionsDefinition


class TimeWindowSpace(PartitionSpace):
    """Partition i is the window [tick_i, tick_i+1) counted from the first tick at or after
    the definition's start. The last partition is the last window that ended by ``as_of``,
    moved by ``end_offset`` windows, and never ending after ``end``. One Dagster rule on
    top: with a positive end_offset, if that last window lies before the first partition
    but the first window starts within end_offset windows after ``as_of``, the first
    partition exists (alone).
    """

    __slots__ = ("definition", "as_of", "_ticks", "_count", "_first", "_last_start", "_last_end")

    def __init__(self, definition: TimeWindowPartitionsDefinition, as_of: datetime) -> None:
        self.definition = definition
        self.as_of = as_of
        self._ticks = ticks = definition._ticks
        now = min(max(floor_instant(as_of), EARLIEST_INSTANT), LATEST_INSTANT)
        now_rounded_up = min(max(ceil_instant(as_of), EARLIEST_INSTANT), LATEST_INSTANT)
        end_offset = definition.end_offset
        last_tick = ticks.count_before(now + 1) - 1  # the last tick at or before now
        end_tick = None if definition.end is None else ticks.count_before(floor_instant(definition.end) + 1) - 1
        # The last window that ended by now, moved by end_offset windows ...
        last = last_tick - 1 + end_offset
        if end_offset > 0 and last < 0 and ticks.count_before(now_rounded_up) + end_offset >= 1:
            # ... except that Dagster keeps the first window when that target lies before it
            # but the first window starts within end_offset windows after now.
            last = 0
        if end_tick is not None:
            last = min(last, end_tick - 1)  # ... and never ending after end.
        if end_offset > 0 and self._may_pass_limit(now, end_offset):
            last = min(last, ticks.count_before(LATEST_INSTANT + 1) - 2)
        self._count = max(0, last + 1)
        self._first = ticks.instant(0)
        self._last_start = ticks.instant(self._count - 1) if self._count else self._first
        self._last_end = ticks.instant(self._count) if self._count else self._first

    def _may_pass_limit(self, now: int, end_offset: int) -> bool:
        """Whether end_offset windows after now could end past the supported limit."""
        days = matching_days(DayRule.of(self.definition._schedule))
        longest_window = (days.longest_gap_days + 2) * SECONDS_PER_DAY
        return now + (end_offset + 1) * longest_window >= LATEST_INSTANT

    @property
    def count(self) -> int:
        return self._count

    def key_at(self, index: int) -> str:
        self.check_index(index)
        return self.definition._key_of_instant(self._ticks.instant(index))

    def index_of(self, key: str) -> int | None:
        if not self._count or not isinstance(key, str):
            return None
        return self.definition._tick_index_of_key(key, lowest=self._first, highest=self._last_start)

    def window_at(self, index: int) -> tuple[datetime, datetime]:
        """The half-open window [start, end) of partition ``index``, in the definition's zone."""
        self.check_index(index)
        zone = self.definition._zone
        return (to_datetime(zone, self._ticks.instant(index)), to_datetime(zone, self._ticks.instant(index + 1)))

    def index_range_starting_in(self, start: datetime, end: datetime) -> tuple[int, int]:
        """``(lo, hi)``: the partitions lo .. hi-1 are those whose window starts in [start, end)."""
        if not self._count:
            return (0, 0)
        zone = self.definition._zone
        low = min(max(ceil_instant(localize(start, zone)), self._first), self._last_end)
        high = min(max(ceil_instant(localize(end, zone)), self._first), self._last_end)
        lo = self._ticks.count_before(low)
        return (lo, max(lo, self._ticks.count_before(high)))

    def index_containing(self, instant: datetime) -> int | None:
        """The partition whose window contains ``instant``, if that partition exists."""
        moment = floor_instant(localize(instant, self.definition._zone))
        if not self._count or not self._first <= moment < self._last_end:
            return None
        return self._ticks.count_before(moment + 1) - 1

    def keys(self, start: int, stop: int) -> list[str]:
        start, stop = max(start, 0), min(stop, self._count)
        return self.definition._keys_of_instants(self._ticks.instants(start, stop))
