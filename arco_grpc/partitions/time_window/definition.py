"""The time-window partitions definition and the cadences that expand to its cron."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from time import gmtime, strftime
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window._calendar import DayRule, matching_days
from arco_grpc.partitions.time_window._cron import SECONDS_PER_DAY, CronSchedule, parse_cron
from arco_grpc.partitions.time_window._format import KeyFormat, check_fine_enough, default_fmt
from arco_grpc.partitions.time_window._ticks import TickSequence, tick_sequence
from arco_grpc.partitions.time_window._zone import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    ceil_instant,
    floor_instant,
    has_fixed_offset,
    instant_of_wall,
    load_zone,
    localize,
    offset_at,
    to_datetime,
    wall_of_naive,
)

if TYPE_CHECKING:
    from arco_grpc.partitions.time_window.space import TimeWindowSpace


def _int_in(value: object, low: int, high: int, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name} is {value!r}; expected {what} ({low}-{high})", field=name)
    return value


@dataclass(frozen=True, slots=True)
class Cadence:
    """Dagster's Hourly/Daily/Weekly/MonthlyPartitionsDefinition as a kind and its offsets.

    ``day_offset`` is the weekday for weekly (0-6, 0 = Sunday, default 0) and the day of
    the month for monthly (1-31, default 1; 0 also means 1, as in the proto).
    """

    KINDS: ClassVar[tuple[str, ...]] = ("hourly", "daily", "weekly", "monthly")

    kind: str
    minute_offset: int = 0
    hour_offset: int = 0
    day_offset: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise InvalidArgument(
                f"cadence kind {self.kind!r} is not one of {', '.join(self.KINDS)}", field="cadence.kind"
            )
        _int_in(self.minute_offset, 0, 59, "cadence.minute_offset", "a minute of the hour")
        _int_in(self.hour_offset, 0, 23, "cadence.hour_offset", "an hour of the day")
        if self.kind == "hourly" and self.hour_offset:
            raise InvalidArgument(
                "hour_offset applies to daily, weekly and monthly cadences, not hourly", field="cadence.hour_offset"
            )
        if self.kind in ("hourly", "daily") and self.day_offset:
            raise InvalidArgument(
                f"day_offset applies to weekly and monthly cadences, not {self.kind}", field="cadence.day_offset"
            )
        if self.kind == "weekly" and self.day_offset is not None:
            _int_in(self.day_offset, 0, 6, "cadence.day_offset", "a weekday, 0 = Sunday")
        if self.kind == "monthly" and self.day_offset is not None:
            _int_in(self.day_offset, 0, 31, "cadence.day_offset", "a day of the month, 0 meaning 1")

    def cron_schedule(self) -> str:
        """The cron expression Dagster's matching definition uses."""
        m, h = self.minute_offset, self.hour_offset
        if self.kind == "hourly":
            return f"{m} * * * *"
        if self.kind == "daily":
            return f"{m} {h} * * *"
        if self.kind == "weekly":
            return f"{m} {h} * * {self.day_offset or 0}"
        return f"{m} {h} {self.day_offset or 1} * *"


def _read_moment(value: object, *, name: str, zone: ZoneInfo, key_format: KeyFormat) -> datetime:
    """A start or end as an aware datetime in ``zone``: a datetime, or a string in fmt or ISO 8601."""
    if isinstance(value, datetime):
        return localize(value, zone)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be a date-time or a non-empty string, got {value!r}", field=name)
    text = value.strip()
    formats = [key_format.fmt] if key_format.has_offset else [key_format.fmt, key_format.fmt + "%z"]
    for attempt in formats:  # Dagster reads a string start with fmt first
        try:
            return localize(datetime.strptime(text, attempt), zone)
        except ValueError:
            pass
    try:
        return localize(datetime.fromisoformat(text), zone)
    except ValueError:
        raise InvalidArgument(
            f"{name} {value!r} is neither in fmt {key_format.fmt!r} nor an ISO 8601 date or date-time "
            "(for example '2024-01-01' or '2024-01-01T06:00:00+02:00')",
            field=name,
        ) from None


@dataclass(frozen=True, slots=True)
class TimeWindowPartitionsDefinition:
    """Partitions that are the windows [tick_i, tick_i+1) of a cron schedule in a zone.

    Build one with :meth:`create`, which reads strings and cadences; the constructor
    takes already-typed values. ``start`` is the resolved start instant in the zone
    (the first partition starts at the first tick at or after it); ``end`` is an
    exclusive bound (the last partition must end at or before it). An ``end`` at or
    before ``start`` is allowed and gives no partitions, as in Dagster.
    """

    cron_schedule: str
    start: datetime
    timezone: str
    fmt: str
    end: datetime | None = None
    end_offset: int = 0
    _schedule: CronSchedule = field(init=False, repr=False, compare=False, hash=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _format: KeyFormat = field(init=False, repr=False, compare=False, hash=False)
    _ticks: TickSequence = field(init=False, repr=False, compare=False, hash=False)
    # The zone's offset when it never changes and fmt has no %z: keys are then formatted from the wall time
    # alone (time.strftime of gmtime is several times cheaper than datetime.strftime); else None.
    _fixed_shift: int | None = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        schedule = parse_cron(self.cron_schedule)
        zone = load_zone(self.timezone)
        key_format = KeyFormat(self.fmt)
        check_fine_enough(key_format, schedule)
        start = self._checked_moment(self.start, "start", zone)
        end = None if self.end is None else self._checked_moment(self.end, "end", zone)
        if isinstance(self.end_offset, bool) or not isinstance(self.end_offset, int):
            raise InvalidArgument(f"end_offset must be an integer, got {self.end_offset!r}", field="end_offset")
        for name, value in (("start", start), ("end", end), ("_schedule", schedule), ("_zone", zone)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_format", key_format)
        object.__setattr__(self, "_ticks", tick_sequence(zone, schedule, ceil_instant(start)))
        fixed = has_fixed_offset(zone) and not key_format.has_offset
        object.__setattr__(self, "_fixed_shift", offset_at(zone, 0) if fixed else None)
        self._check_keys_read_back()

    @staticmethod
    def _checked_moment(moment: object, name: str, zone: ZoneInfo) -> datetime:
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidArgument(f"{name} must be a timezone-aware datetime, got {moment!r}", field=name)
        if not EARLIEST_INSTANT <= floor_instant(moment) < LATEST_INSTANT:
            raise InvalidArgument(f"{name} {moment.isoformat()} is outside the years 1000-9997", field=name)
        return localize(moment, zone)

    def _check_keys_read_back(self) -> None:
        first = self._ticks.instant(0)
        key = self._key_of_instant(first)
        if self._tick_index_of_key(key, lowest=first, highest=first) != 0:
            raise InvalidArgument(
                f"keys written with fmt {self.fmt!r} cannot be read back to their windows (first key {key!r})",
                field="fmt",
            )

    @classmethod
    def create(
        cls,
        *,
        start: str | datetime,
        cron_schedule: str | None = None,
        cadence: Cadence | None = None,
        timezone: str = "UTC",
        fmt: str | None = None,
        end: str | datetime | None = None,
        end_offset: int = 0,
    ) -> TimeWindowPartitionsDefinition:
        """Validates and builds a definition from request-shaped values.

        Exactly one of ``cron_schedule`` and ``cadence`` must be set (an empty string counts
        as unset). ``timezone`` "" means UTC and ``fmt`` None or "" means Dagster's default.
        String starts and ends are read with ``fmt`` first, then as ISO 8601; values
        without an offset are wall-clock time in the zone (first occurrence if repeated;
        inside a gap, read with the offset before the gap), values with one are instants.

        Raises:
            InvalidArgument: with the proto field name of the first bad value.
        """
        if cron_schedule and cadence is not None:
            raise InvalidArgument("set either cron_schedule or cadence, not both", field="cadence")
        if cadence is not None:
            if not isinstance(cadence, Cadence):
                raise InvalidArgument(f"cadence must be a Cadence, got {cadence!r}", field="cadence")
            cron = cadence.cron_schedule()
        elif cron_schedule:
            cron = cron_schedule
        else:
            raise InvalidArgument("set cron_schedule or cadence", field="cron_schedule")
        schedule = parse_cron(cron)
        zone_name = timezone or "UTC"
        if not isinstance(zone_name, str):
            raise InvalidArgument(f"timezone must be a string, got {zone_name!r}", field="timezone")
        zone = load_zone(zone_name)
        key_format = KeyFormat(fmt or default_fmt(schedule))
        check_fine_enough(key_format, schedule)
        start_moment = _read_moment(start, name="start", zone=zone, key_format=key_format)
        end_moment = None
        if end is not None and end != "":
            end_moment = _read_moment(end, name="end", zone=zone, key_format=key_format)
        return cls(
            cron_schedule=cron,
            start=start_moment,
            timezone=zone_name,
            fmt=key_format.fmt,
            end=end_moment,
            end_offset=end_offset,
        )

    def space(self, as_of: datetime) -> TimeWindowSpace:
        """The partitions that exist at ``as_of`` (aware; a naive value is wall time in the zone)."""
        from arco_grpc.partitions.time_window.space import TimeWindowSpace

        return TimeWindowSpace(self, localize(as_of, self._zone))

    # Tick-level helpers for the space (tick indices count from the first partition).

    def _key_of_instant(self, instant: int) -> str:
        """The key of the window starting at tick ``instant``.

        Hour-wildcard schedules give the second of two equal wall times its UTC offset
        in %z form, unless fmt has %z already (Dagster's dst_safe_strftime).
        """
        shift = self._fixed_shift
        if shift is not None:  # no fold in a fixed-offset zone
            return strftime(self.fmt, gmtime(instant + shift))
        moment = to_datetime(self._zone, instant)
        key = moment.strftime(self.fmt)
        if moment.fold and self._schedule.every_hour and not self._format.has_offset:
            key += moment.strftime("%z")
        return key

    def _keys_of_instants(self, instants: list[int]) -> list[str]:
        """``_key_of_instant`` of each of ``instants`` (one loop: keys are made for every leased partition)."""
        shift = self._fixed_shift
        if shift is not None:
            fmt = self.fmt
            return [strftime(fmt, gmtime(instant + shift)) for instant in instants]
        key_of = self._key_of_instant
        return [key_of(instant) for instant in instants]

    def _tick_index_of_key(self, key: str, *, lowest: int, highest: int) -> int | None:
        """The tick index whose key is ``key``, looking only at ticks in [lowest, highest]."""
        parsed = self._format.parse(key)
        if parsed is None:
            return None
        wall = wall_of_naive(parsed.wall)
        # A key names a time after the tick before its window, so far-off keys are refused
        # before any zone arithmetic (which also keeps years like 9999 out of it).
        slack = (matching_days(DayRule.of(self._schedule)).longest_gap_days + 2) * SECONDS_PER_DAY
        if not lowest - slack <= wall <= highest + 2 * SECONDS_PER_DAY:
            return None
        for candidate in self._instants_named(wall, parsed.offset_seconds):
            # The key holds the window start truncated to fmt's resolution, so the window is
            # the first tick at or after the time it names.
            if candidate > highest:
                continue
            index = self._ticks.count_before(candidate)
            instant = self._ticks.instant(index)
            if lowest <= instant <= highest and self._key_of_instant(instant) == key:
                return index
        return None

    def _instants_named(self, wall: int, offset_seconds: int | None) -> Iterator[int]:
        """The instants a key's wall time can mean: exact when the key states an offset, else
        the first occurrence (Dagster reads naive keys with fold=0) and then the second, which
        is where ticks of restricted-hour schedules fire on repeated wall times."""
        if offset_seconds is not None:
            yield wall - offset_seconds
            return
        first = instant_of_wall(self._zone, wall, 0)
        yield first
        second = instant_of_wall(self._zone, wall, 1)
        if second != first:
            yield second
