"""Cron expressions: validation (through croniter) and the parsed field sets the tick math uses."""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass

from croniter import croniter

from arco_grpc.errors import InvalidArgument

SECONDS_PER_HOUR = 3_600
SECONDS_PER_DAY = 86_400

_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_MONTH_NAMES = frozenset(name.lower() for name in calendar.month_abbr if name)
_DAY_NAMES = frozenset(name.lower() for name in calendar.day_abbr)
# Digits, '*', ranges, steps and lists; letters are checked separately so that only month
# and weekday names get through (L, W, H, '#' and '?' extensions are refused).
_FIELD_SHAPE = re.compile(r"[0-9A-Za-z*/,\-]+")
_WORD = re.compile(r"[A-Za-z]+")
# The longest a month can be, by month; February counts its leap day.
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A five-field cron expression, expanded to the values each field allows.

    ``None`` stands for a field that allows everything ('*'). Day-of-week uses 0 for
    Sunday. As in croniter (and so in Dagster), when both day-of-month and
    day-of-week are restricted a day matches if either does.
    """

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...] | None
    days_of_month: frozenset[int] | None
    months: frozenset[int] | None
    days_of_week: frozenset[int] | None

    @property
    def every_hour(self) -> bool:
        """True when the hour field is '*': the schedule fires in every hour of a matching day.

        These schedules follow wall-clock time literally through DST changes: a wall
        time that does not exist is skipped and a repeated one fires twice.
        """
        return self.hours is None

    @property
    def times_of_day(self) -> tuple[int, ...]:
        """The wall-clock times of day it fires at, in seconds after midnight, ascending."""
        hours = range(24) if self.hours is None else self.hours
        return tuple(h * SECONDS_PER_HOUR + m * 60 for h in hours for m in self.minutes)

    @property
    def fires_more_than_once_a_day(self) -> bool:
        """True when a matching day has more than one tick."""
        return len(self.times_of_day) > 1

    @property
    def shortest_wall_gap(self) -> int:
        """A lower bound, in seconds, on the wall-clock distance between consecutive ticks."""
        times = self.times_of_day
        within_day = min((b - a for a, b in zip(times, times[1:])), default=SECONDS_PER_DAY)
        across_midnight = SECONDS_PER_DAY - (times[-1] - times[0])
        return min(within_day, across_midnight)


def _check_field_syntax(expression: str, position: int, field: str) -> None:
    if not _FIELD_SHAPE.fullmatch(field):
        raise InvalidArgument(
            f"cron field {_FIELD_NAMES[position]} {field!r} in {expression!r} uses unsupported syntax; "
            "use numbers, '*', ranges (a-b), steps (/n) and lists (a,b)",
            field="cron_schedule",
        )
    allowed = _MONTH_NAMES if position == 3 else _DAY_NAMES if position == 4 else frozenset()
    for word in _WORD.findall(field):
        if word.lower() not in allowed:
            raise InvalidArgument(
                f"cron field {_FIELD_NAMES[position]} {field!r} in {expression!r} contains {word!r}; "
                "extensions such as L, W, H, '#' and '?' are not supported",
                field="cron_schedule",
            )


def _values(expanded: list[object]) -> tuple[int, ...] | None:
    if expanded == ["*"]:
        return None
    return tuple(sorted({int(v) for v in expanded}))  # type: ignore[call-overload]


@functools.lru_cache(maxsize=1024)
def parse_cron(expression: str) -> CronSchedule:
    """Parses and validates a five-field cron expression (or an @daily-style alias).

    Raises:
        InvalidArgument: on field "cron_schedule" when the expression is malformed, has
            seconds or year fields, uses unsupported syntax, or never fires.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidArgument("cron_schedule is empty; expected five fields such as '0 0 * * *'", field="cron_schedule")
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in _ALIASES:
            raise InvalidArgument(
                f"unsupported cron alias {text!r}; use one of {', '.join(sorted(_ALIASES))} or five fields",
                field="cron_schedule",
            )
        text = _ALIASES[text.lower()]
    fields = text.split()
    if len(fields) != 5:
        raise InvalidArgument(
            f"cron_schedule {expression!r} has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week); seconds and year fields are not supported",
            field="cron_schedule",
        )
    for position, field in enumerate(fields):
        _check_field_syntax(expression, position, field)
    try:
        expanded, nth_weekday, *_ = croniter.expand(" ".join(fields))
    except Exception as error:  # croniter raises several unrelated classes for bad input
        raise InvalidArgument(f"invalid cron_schedule {expression!r}: {error}", field="cron_schedule") from None
    if len(expanded) != 5 or nth_weekday or "l" in expanded[2]:
        raise InvalidArgument(f"unsupported cron_schedule {expression!r}", field="cron_schedule")
    minutes = _values(expanded[0]) or tuple(range(60))
    schedule = CronSchedule(
        expression=expression,
        minutes=minutes,
        hours=_values(expanded[1]),
        days_of_month=_frozen(_values(expanded[2])),
        months=_frozen(_values(expanded[3])),
        days_of_week=_frozen(_values(expanded[4])),
    )
    if schedule.days_of_month is not None and schedule.days_of_week is None:
        months = schedule.months or range(1, 13)
        if not any(day <= _LONGEST_MONTH[month - 1] for month in months for day in schedule.days_of_month):
            raise InvalidArgument(
                f"cron_schedule {expression!r} never fires: none of its months has any of its days",
                field="cron_schedule",
            )
    return schedule


def _frozen(values: tuple[int, ...] | None) -> frozenset[int] | None:
    return None if values is None else frozenset(values)
