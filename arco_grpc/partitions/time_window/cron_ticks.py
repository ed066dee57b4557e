"""The ticks of a cron expression in an IANA zone, for schedules.

The same tick engine as time-window partitions (``_ticks``), so schedules and
partitions meet daylight-saving changes by the same rules (Dagster's): with an
hour field of '*' a skipped wall time has no tick and a repeated one has two;
with a restricted hour field a skipped wall time fires at the first instant
after the gap and a repeated one once, at its later occurrence. A tick is an
instant; :meth:`CronTicks.at` returns it in UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window._cron import parse_cron
from arco_grpc.partitions.time_window._ticks import tick_sequence
from arco_grpc.partitions.time_window._zone import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    ceil_instant,
    floor_instant,
    load_zone,
)


def _aware(moment: object, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidArgument(f"{name} must be a timezone-aware datetime, got {moment!r}", field=name)
    if not EARLIEST_INSTANT <= floor_instant(moment) < LATEST_INSTANT:
        raise InvalidArgument(f"{name} {moment.isoformat()} is outside the years 1000-9997", field=name)
    return moment


def check_cron_in_zone(cron_schedule: str, timezone_name: str) -> None:
    """Validates a cron expression and an IANA zone name.

    Raises:
        InvalidArgument: on "cron_schedule" or "timezone".
    """
    parse_cron(cron_schedule)
    load_zone(timezone_name)


class CronTicks:
    """The ticks of ``cron_schedule`` in ``timezone`` strictly after ``after``, numbered from 0.

    Raises:
        InvalidArgument: on "cron_schedule", "timezone" or "after".
    """

    __slots__ = ("cron_schedule", "timezone", "after", "_ticks")

    def __init__(self, cron_schedule: str, timezone_name: str, after: datetime) -> None:
        schedule = parse_cron(cron_schedule)
        zone = load_zone(timezone_name)
        self.cron_schedule = cron_schedule
        self.timezone = timezone_name
        self.after = _aware(after, "after")
        # Ticks fall on whole seconds, so "after" means "at or after the next second".
        self._ticks = tick_sequence(zone, schedule, floor_instant(after) + 1)

    def count_through(self, until: datetime) -> int:
        """How many ticks lie in (after, until]."""
        return max(0, self._ticks.count_before(floor_instant(_aware(until, "until")) + 1))

    def first_index_at_or_after(self, moment: datetime) -> int:
        """The index of the first tick at or after ``moment`` (0 if that is every tick)."""
        return max(0, self._ticks.count_before(ceil_instant(_aware(moment, "moment"))))

    def at(self, index: int) -> datetime:
        """Tick ``index`` (0 = the first tick after ``after``), in UTC."""
        if index < 0:
            raise IndexError(f"tick {index} does not exist: ticks are numbered from 0")
        return datetime.fromtimestamp(self._ticks.instant(index), timezone.utc)
