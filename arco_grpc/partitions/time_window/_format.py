"""Partition key formats: the strftime subset keys may use, and a strict reader for keys.

Keys are read back only to find the one partition that could carry them; whether a
string is a key is then decided by formatting that partition and comparing. So the
reader accepts exactly the zero-padded shapes strftime writes, and nothing looser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window._cron import CronSchedule

DEFAULT_SUB_DAILY_FMT = "%Y-%m-%d-%H:%M"
DEFAULT_DAILY_FMT = "%Y-%m-%d"

# Directive -> regex of what strftime writes for years 1000-9999.
_DIRECTIVES = {
    "Y": r"(\d{4})",
    "m": r"(\d{2})",
    "d": r"(\d{2})",
    "H": r"(\d{2})",
    "M": r"(\d{2})",
    "S": r"(\d{2})",
    "j": r"(\d{3})",
    "z": r"([+-]\d{4}(?:\d{2})?)",
}


class Resolution(IntEnum):
    """The finest calendar unit a key format (or a schedule) distinguishes."""

    YEAR = 0
    MONTH = 1
    DAY = 2
    HOUR = 3
    MINUTE = 4
    SECOND = 5


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A key read back: its wall time (fields the format lacks are at their minimum) and the
    UTC offset it states, if any."""

    wall: datetime
    offset_seconds: int | None


def _tokens(fmt: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            tokens.append(("literal", fmt[i]))
            i += 1
            continue
        directive = fmt[i + 1 : i + 2]
        if directive == "%":
            tokens.append(("literal", "%"))
        elif directive in _DIRECTIVES:
            tokens.append(("directive", directive))
        else:
            shown = "%" + directive if directive else "a trailing '%'"
            raise InvalidArgument(
                f"fmt {fmt!r} uses {shown}, which is not supported; "
                "use %Y %m %d %H %M %S %j %z %% and literal text",
                field="fmt",
            )
        i += 2
    return tokens


class KeyFormat:
    """A validated key format with a strict reader for the keys it writes."""

    __slots__ = ("fmt", "has_offset", "resolution", "_plain", "_with_offset", "_fields", "_offset_fields")

    def __init__(self, fmt: str) -> None:
        if not isinstance(fmt, str) or not fmt:
            raise InvalidArgument(
                f"fmt must be a non-empty strftime format such as '%Y-%m-%d', got {fmt!r}", field="fmt"
            )
        tokens = _tokens(fmt)
        directives = [value for kind, value in tokens if kind == "directive"]
        repeated = sorted({d for d in directives if directives.count(d) > 1})
        if repeated:
            raise InvalidArgument(f"fmt {fmt!r} repeats %{repeated[0]}; each directive may appear once", field="fmt")
        present = set(directives)
        self.fmt = fmt
        self.has_offset = "z" in present
        self.resolution = _resolution(fmt, present)
        self._fields = directives
        self._offset_fields = directives if self.has_offset else [*directives, "z"]
        pattern = "".join(_DIRECTIVES[v] if kind == "directive" else re.escape(v) for kind, v in tokens)
        self._plain = re.compile(pattern)
        self._with_offset = self._plain if self.has_offset else re.compile(pattern + _DIRECTIVES["z"])

    def parse(self, key: str) -> ParsedKey | None:
        """The wall time and stated offset of ``key``, read with fmt and then fmt + "%z"
        (Dagster's order), or None when it has neither shape or names no real date."""
        match = self._plain.fullmatch(key)
        fields = self._fields
        if match is None and self._with_offset is not self._plain:
            match = self._with_offset.fullmatch(key)
            fields = self._offset_fields
        if match is None:
            return None
        values = dict(zip(fields, match.groups()))
        try:
            year = int(values["Y"])
            if "j" in values and "m" not in values:
                day = date.fromordinal(date(year, 1, 1).toordinal() + int(values["j"]) - 1)
                if day.year != year:
                    return None
                month, day_of_month = day.month, day.day
            else:
                month, day_of_month = int(values.get("m", 1)), int(values.get("d", 1))
            wall = datetime(
                year, month, day_of_month,
                int(values.get("H", 0)), int(values.get("M", 0)), int(values.get("S", 0)),
            )
        except ValueError:
            return None
        if "z" not in values:
            return ParsedKey(wall, None)
        offset = _offset_seconds(values["z"])
        return None if offset is None else ParsedKey(wall, offset)


def _offset_seconds(text: str) -> int | None:
    sign = -1 if text[0] == "-" else 1
    hours, minutes, seconds = int(text[1:3]), int(text[3:5]), int(text[5:7] or 0)
    if minutes >= 60 or seconds >= 60 or hours >= 24:
        return None
    return sign * (hours * 3_600 + minutes * 60 + seconds)


def _resolution(fmt: str, present: set[str]) -> Resolution:
    def refuse(why: str) -> InvalidArgument:
        return InvalidArgument(f"fmt {fmt!r} {why}", field="fmt")

    if "Y" not in present:
        raise refuse("has no %Y; keys must name the year")
    if "j" in present and ("m" in present or "d" in present):
        raise refuse("mixes %j with %m/%d; name the day one way")
    if "d" in present and "m" not in present:
        raise refuse("has %d without %m")
    if "M" in present and "H" not in present:
        raise refuse("has %M without %H")
    if "S" in present and "M" not in present:
        raise refuse("has %S without %M")
    day = "j" in present or "d" in present
    if "H" in present and not day:
        raise refuse("has %H but does not name the day (%m and %d, or %j)")
    if "S" in present:
        return Resolution.SECOND
    if "M" in present:
        return Resolution.MINUTE
    if "H" in present:
        return Resolution.HOUR
    if day:
        return Resolution.DAY
    return Resolution.MONTH if "m" in present else Resolution.YEAR


def required_resolution(schedule: CronSchedule) -> Resolution:
    """The coarsest key resolution that still gives every window of ``schedule`` its own key.

    Ticks on one day differ by hour when each hour has one tick; but a restricted hour
    list with neighbouring hours and a non-zero minute can see a spring-forward gap push
    one tick into the next listed hour, so minutes are then needed. Second occurrences
    of repeated hours carry an offset suffix, so they never need more.
    """
    if len(schedule.minutes) > 1:
        return Resolution.MINUTE
    hours = schedule.hours
    if hours is None:
        return Resolution.HOUR
    if len(hours) > 1:
        neighbours = any((h + 1) % 24 in hours for h in hours)
        return Resolution.MINUTE if neighbours and schedule.minutes[0] != 0 else Resolution.HOUR
    if schedule.days_of_week is not None or schedule.days_of_month is None:
        return Resolution.DAY
    if len(schedule.days_of_month) > 1:
        return Resolution.DAY
    if schedule.months is None or len(schedule.months) > 1:
        return Resolution.MONTH
    return Resolution.YEAR


def default_fmt(schedule: CronSchedule) -> str:
    """Dagster's default: minutes when the schedule fires more than once a day, else the date."""
    return DEFAULT_SUB_DAILY_FMT if schedule.fires_more_than_once_a_day else DEFAULT_DAILY_FMT


def check_fine_enough(key_format: KeyFormat, schedule: CronSchedule) -> None:
    """Raises InvalidArgument (field "fmt") when two windows of the schedule could share a key."""
    needed = required_resolution(schedule)
    if key_format.resolution < needed:
        examples = {
            Resolution.MINUTE: "%Y-%m-%d-%H:%M",
            Resolution.HOUR: "%Y-%m-%d-%H",
            Resolution.DAY: "%Y-%m-%d",
            Resolution.MONTH: "%Y-%m",
        }
        raise InvalidArgument(
            f"fmt {key_format.fmt!r} is too coarse for cron {schedule.expression!r}: two windows would share "
            f"a key; name the {needed.name.lower()} as well (for example {examples[needed]!r})",
            field="fmt",
        )
