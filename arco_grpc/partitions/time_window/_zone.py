"""IANA zones: loading, UTC offsets, wall-time resolution, and where offsets change.

zoneinfo does not publish a zone's transitions, so they are found by reading the
UTC offset once a day and bisecting to the second wherever two readings differ,
one calendar year at a time, cached per (zone, year). This finds every transition
unless two of them cancel out within a single day, which no IANA zone does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window._calendar import UNIX_EPOCH_ORDINAL
from arco_grpc.partitions.time_window._cron import SECONDS_PER_DAY

_NAIVE_EPOCH = datetime(1970, 1, 1)
_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a zone's UTC offset: from ``instant`` on, the offset is ``offset_after``."""

    instant: int
    offset_before: int
    offset_after: int


@functools.lru_cache(maxsize=None)
def load_zone(name: str) -> ZoneInfo:
    """The zone for an IANA name.

    Raises:
        InvalidArgument: on field "timezone" for any name zoneinfo cannot load.
    """
    try:
        return ZoneInfo(name)
    except Exception:  # ValueError, ZoneInfoNotFoundError, IsADirectoryError, ... all mean "unknown"
        raise InvalidArgument(
            f"unknown timezone {name!r}; expected an IANA name such as 'UTC' or 'America/Los_Angeles'",
            field="timezone",
        ) from None


def _seconds(delta: timedelta | None) -> int:
    assert delta is not None
    return delta.days * SECONDS_PER_DAY + delta.seconds


def offset_at(zone: ZoneInfo, instant: int) -> int:
    """The zone's UTC offset in seconds at a Unix instant."""
    return _seconds(datetime.fromtimestamp(instant, zone).utcoffset())


def to_datetime(zone: ZoneInfo, instant: int) -> datetime:
    """The aware local datetime of a Unix instant (fold=1 on the second of two equal wall times)."""
    return datetime.fromtimestamp(instant, zone)


def naive_of_wall(wall: int) -> datetime:
    """The naive datetime of a wall time given in seconds from 1970-01-01T00:00."""
    return _NAIVE_EPOCH + timedelta(seconds=wall)


def wall_of_naive(naive: datetime) -> int:
    """Seconds from 1970-01-01T00:00 of a naive datetime, rounded down to the second."""
    return (naive - _NAIVE_EPOCH) // _ONE_SECOND


def instant_of_wall(zone: ZoneInfo, wall: int, fold: int) -> int:
    """The instant zoneinfo gives a wall time with this fold (PEP 495: in a gap, fold=0 reads
    the time with the offset before the gap)."""
    # ZoneInfo.utcoffset reads the wall fields and fold of any datetime, naive included.
    return wall - _seconds(zone.utcoffset(naive_of_wall(wall).replace(fold=fold) if fold else naive_of_wall(wall)))


def resolve_restricted_wall(zone: ZoneInfo, wall: int) -> int:
    """The instant a cron with a restricted hour field fires for a matching wall time.

    A repeated wall time fires at its later occurrence; a wall time inside a gap fires
    at the first instant after the gap (Dagster's rule for daily and slower schedules).
    """
    naive = naive_of_wall(wall)
    offset_first = _seconds(zone.utcoffset(naive))
    offset_second = _seconds(zone.utcoffset(naive.replace(fold=1)))
    if offset_first == offset_second:
        return wall - offset_first
    if offset_first > offset_second:
        return wall - offset_second
    # Inside a gap the transition lies in (wall - offset_after, wall - offset_before].
    return _first_change_after(zone, wall - offset_second, wall - offset_first, offset_first)


def _first_change_after(zone: ZoneInfo, low: int, high: int, offset_low: int) -> int:
    """The first second in (low, high] whose offset differs from ``offset_low`` (one change assumed)."""
    while high - low > 1:
        middle = (low + high) // 2
        if offset_at(zone, middle) == offset_low:
            low = middle
        else:
            high = middle
    return high


def year_start(year: int) -> int:
    """The Unix instant of January 1st, 00:00 UTC, of ``year``."""
    return (date(year, 1, 1).toordinal() - UNIX_EPOCH_ORDINAL) * SECONDS_PER_DAY


def owning_year(instant: int) -> int:
    """The year whose transitions include ``instant``: the year with instant in (Jan 1, next Jan 1]."""
    return date.fromordinal(UNIX_EPOCH_ORDINAL + (instant - 1) // SECONDS_PER_DAY).year


def wall_year(wall: int) -> int:
    """The calendar year of a wall time."""
    return date.fromordinal(UNIX_EPOCH_ORDINAL + wall // SECONDS_PER_DAY).year


def has_fixed_offset(zone: ZoneInfo) -> bool:
    """True for zones that never change offset by construction (UTC and the Etc/ zones)."""
    key = zone.key
    return key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu") or key.startswith("Etc/GMT")


# Years whose offsets are read: every instant in them and in the next January fits a datetime.
# The engine only works in years 1000-9997 (see below), so the bounds are never reached in use.
_SAMPLED_YEARS = (2, 9998)


@functools.lru_cache(maxsize=1 << 16)
def transitions_in_year(zone: ZoneInfo, year: int) -> tuple[Transition, ...]:
    """The zone's offset changes with instant in (Jan 1 of ``year``, Jan 1 of ``year + 1``], UTC."""
    if has_fixed_offset(zone) or not _SAMPLED_YEARS[0] <= year <= _SAMPLED_YEARS[1]:
        return ()
    start, end = year_start(year), year_start(year + 1)
    found: list[Transition] = []
    sample = start
    offset = offset_at(zone, sample)
    while sample < end:
        following = sample + SECONDS_PER_DAY
        following_offset = offset_at(zone, following)
        low, low_offset = sample, offset
        while low_offset != following_offset:
            change = _first_change_after(zone, low, following, low_offset)
            change_offset = offset_at(zone, change)
            found.append(Transition(change, low_offset, change_offset))
            low, low_offset = change, change_offset
        sample, offset = following, following_offset
    return tuple(found)


def net_offset_change(zone: ZoneInfo, year: int) -> int:
    """Offset at the start of the next year minus offset at the start of ``year`` (UTC)."""
    if has_fixed_offset(zone) or not _SAMPLED_YEARS[0] <= year <= _SAMPLED_YEARS[1]:
        return 0
    return offset_at(zone, year_start(year + 1)) - offset_at(zone, year_start(year))


# Instants the engine supports: partitions start on or after year 1000 (keys write %Y as four
# digits) and end before year 9998 (datetime stops at 9999).
EARLIEST_INSTANT = year_start(1000)
LATEST_INSTANT = year_start(9998)
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def floor_instant(moment: datetime) -> int:
    """The Unix second containing an aware datetime."""
    return (moment - _UTC_EPOCH) // _ONE_SECOND


def ceil_instant(moment: datetime) -> int:
    """The first Unix second at or after an aware datetime."""
    return -((_UTC_EPOCH - moment) // _ONE_SECOND)


def localize(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime in ``zone``: naive values are wall time there, first occurrence (fold=0)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone, fold=0)
    # Through UTC: astimezone() to the datetime's own zone would not normalize a gap time.
    return moment.astimezone(timezone.utc).astimezone(zone)
