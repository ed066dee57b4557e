"""Time-window partitions: the reference's observed examples, bounds, validation, and scale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition, TimeWindowSpace

UTC = timezone.utc
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")


def space(as_of: datetime, **kwargs: Any) -> TimeWindowSpace:
    return TimeWindowPartitionsDefinition.create(**kwargs).space(as_of)


def window_text(space: TimeWindowSpace, index: int) -> list[str]:
    return [moment.isoformat() for moment in space.window_at(index)]


def keys_around(space: TimeWindowSpace, key: str, before: int, after: int) -> list[str]:
    index = space.index_of(key)
    assert index is not None, key
    return space.keys(index - before, index + after + 1)


# --- Daylight saving: schedules that fire every hour -------------------------------------------


def test_hourly_spring_forward_skips_the_missing_hour_in_los_angeles() -> None:
    hourly = space(datetime(2023, 3, 13, tzinfo=UTC), start="2023-03-11", cadence=Cadence("hourly"),
                   timezone="America/Los_Angeles")
    assert keys_around(hourly, "2023-03-12-01:00", 0, 1) == ["2023-03-12-01:00", "2023-03-12-03:00"]
    assert hourly.index_of("2023-03-12-02:00") is None
    assert window_text(hourly, hourly.index_of("2023-03-12-01:00")) == [  # type: ignore[arg-type]
        "2023-03-12T01:00:00-08:00",
        "2023-03-12T03:00:00-07:00",
    ]


def test_hourly_fall_back_gives_the_repeated_hour_two_keys_in_los_angeles() -> None:
    hourly = space(datetime(2023, 11, 6, tzinfo=UTC), start="2023-11-04", cadence=Cadence("hourly"),
                   timezone="America/Los_Angeles")
    assert keys_around(hourly, "2023-11-05-00:00", 0, 3) == [
        "2023-11-05-00:00",
        "2023-11-05-01:00",
        "2023-11-05-01:00-0800",
        "2023-11-05-02:00",
    ]
    first = hourly.index_of("2023-11-05-01:00")
    assert first is not None and hourly.index_of("2023-11-05-01:00-0800") == first + 1
    assert window_text(hourly, first) == ["2023-11-05T01:00:00-07:00", "2023-11-05T01:00:00-08:00"]
    assert window_text(hourly, first + 1) == ["2023-11-05T01:00:00-08:00", "2023-11-05T02:00:00-08:00"]
    # An explicit offset is only part of the second occurrence's key.
    assert hourly.index_of("2023-11-05-01:00-0700") is None
    assert hourly.index_of("2023-11-05-02:00-0800") is None


def test_hourly_in_berlin_fall_and_spring() -> None:
    hourly = space(datetime(2024, 11, 1, tzinfo=UTC), start="2024-03-30", cadence=Cadence("hourly"),
                   timezone="Europe/Berlin")
    assert keys_around(hourly, "2024-03-31-01:00", 0, 1) == ["2024-03-31-01:00", "2024-03-31-03:00"]
    assert hourly.index_of("2024-03-31-02:00") is None
    assert keys_around(hourly, "2024-10-27-02:00", 0, 2) == [
        "2024-10-27-02:00",
        "2024-10-27-02:00+0100",
        "2024-10-27-03:00",
    ]


def test_keys_with_an_offset_format_never_get_a_suffix() -> None:
    hourly = space(datetime(2023, 11, 6, tzinfo=UTC), start="2023-11-05", cron_schedule="0 * * * *",
                   timezone="America/Los_Angeles", fmt="%Y-%m-%dT%H:%M%z")
    assert keys_around(hourly, "2023-11-05T01:00-0700", 0, 1) == ["2023-11-05T01:00-0700", "2023-11-05T01:00-0800"]


def test_thirty_minute_dst_in_lord_howe() -> None:
    # Clocks go from 02:00 (+11) back to 01:30 (+10:30): only wall times in [01:30, 02:00) repeat.
    on_the_hour = space(datetime(2024, 4, 8, tzinfo=UTC), start="2024-04-06", cron_schedule="0 * * * *",
                        timezone="Australia/Lord_Howe")
    assert keys_around(on_the_hour, "2024-04-07-01:00", 0, 1) == ["2024-04-07-01:00", "2024-04-07-02:00"]
    assert window_text(on_the_hour, on_the_hour.index_of("2024-04-07-01:00")) == [  # type: ignore[arg-type]
        "2024-04-07T01:00:00+11:00",
        "2024-04-07T02:00:00+10:30",
    ]
    quarter_to = space(datetime(2024, 4, 8, tzinfo=UTC), start="2024-04-06", cron_schedule="45 * * * *",
                       timezone="Australia/Lord_Howe")
    assert keys_around(quarter_to, "2024-04-07-01:45", 0, 1) == ["2024-04-07-01:45", "2024-04-07-01:45+1030"]


# --- Daylight saving: restricted-hour schedules -------------------------------------------------


def test_daily_in_a_gap_starts_at_the_end_of_the_gap() -> None:
    daily = space(datetime(2023, 3, 20, tzinfo=UTC), start="2023-03-10", cadence=Cadence("daily", 30, 2),
                  timezone="America/Los_Angeles")
    index = daily.index_of("2023-03-12")
    assert index is not None
    assert window_text(daily, index - 1) == ["2023-03-11T02:30:00-08:00", "2023-03-12T03:00:00-07:00"]
    assert window_text(daily, index) == ["2023-03-12T03:00:00-07:00", "2023-03-13T02:30:00-07:00"]


def test_daily_on_a_repeated_time_takes_the_later_occurrence() -> None:
    daily = space(datetime(2023, 11, 10, tzinfo=UTC), start="2023-11-01", cadence=Cadence("daily", 30, 1),
                  timezone="America/Los_Angeles")
    index = daily.index_of("2023-11-05")
    assert index is not None
    start, end = daily.window_at(index - 1)
    assert end.isoformat() == "2023-11-05T01:30:00-08:00"
    assert end.timestamp() - start.timestamp() == 25 * 3600
    assert "2023-11-05-01:30-0800" not in daily.keys(0, daily.count)


def test_daily_dst_in_berlin() -> None:
    daily = space(datetime(2024, 11, 1, tzinfo=UTC), start="2024-03-29", cron_schedule="30 2 * * *",
                  timezone="Europe/Berlin", fmt="%Y-%m-%d %H:%M")
    assert window_text(daily, daily.index_of("2024-03-31 03:00"))[0] == "2024-03-31T03:00:00+02:00"  # type: ignore[arg-type]
    assert daily.index_of("2024-03-31 02:30") is None
    assert window_text(daily, daily.index_of("2024-10-27 02:30"))[0] == "2024-10-27T02:30:00+01:00"  # type: ignore[arg-type]


def test_wall_times_swallowed_by_one_gap_share_one_window() -> None:
    twice = space(datetime(2023, 3, 14, tzinfo=UTC), start="2023-03-11", cron_schedule="0,30 2 * * *",
                  timezone="America/Los_Angeles")
    assert twice.keys(0, 10) == ["2023-03-11-02:00", "2023-03-11-02:30", "2023-03-12-03:00", "2023-03-13-02:00"]
    assert twice.index_of("2023-03-12-02:30") is None


def test_a_skipped_calendar_day_in_apia() -> None:
    # Samoa skipped 2011-12-30 (23:59:59 -10:00 was followed by 00:00 +14:00 on the 31st).
    daily = space(datetime(2012, 1, 3, tzinfo=UTC), start="2011-12-28", cadence=Cadence("daily"), timezone="Pacific/Apia")
    assert daily.keys(0, 5) == ["2011-12-28", "2011-12-29", "2011-12-31", "2012-01-01", "2012-01-02"]
    assert window_text(daily, 1) == ["2011-12-29T00:00:00-10:00", "2011-12-31T00:00:00+14:00"]
    hourly = space(datetime(2012, 1, 1, tzinfo=UTC), start="2011-12-29T22:00", cadence=Cadence("hourly"),
                   timezone="Pacific/Apia")
    assert hourly.keys(0, 3) == ["2011-12-29-22:00", "2011-12-29-23:00", "2011-12-31-00:00"]


# --- First and last partitions ------------------------------------------------------------------


def test_monthly_starting_mid_month_begins_next_month() -> None:
    monthly = space(datetime(2023, 5, 1, tzinfo=UTC), start="2023-01-15", cadence=Cadence("monthly"))
    assert monthly.keys(0, 10) == ["2023-02-01", "2023-03-01", "2023-04-01"]


def test_weekly_starting_on_a_tuesday_begins_on_the_next_sunday() -> None:
    weekly = space(datetime(2024, 2, 1, tzinfo=UTC), start="2024-01-02", cadence=Cadence("weekly"))
    assert weekly.first_key() == "2024-01-07"
    monday = space(datetime(2024, 2, 1, tzinfo=UTC), start="2024-01-02", cadence=Cadence("weekly", day_offset=1))
    assert monday.first_key() == "2024-01-08"


def test_monthly_on_the_31st_skips_short_months() -> None:
    monthly = space(datetime(2024, 9, 1, tzinfo=UTC), start="2024-01-01", cron_schedule="0 0 31 * *")
    assert monthly.keys(0, 10) == ["2024-01-31", "2024-03-31", "2024-05-31", "2024-07-31"]
    assert window_text(monthly, 0) == ["2024-01-31T00:00:00+00:00", "2024-03-31T00:00:00+00:00"]


def test_leap_day_schedule_fires_only_in_leap_years() -> None:
    leap = space(datetime(2110, 1, 1, tzinfo=UTC), start="2090-01-01", cron_schedule="0 0 29 2 *")
    assert leap.keys(0, 10) == ["2092-02-29", "2096-02-29", "2104-02-29"]


@pytest.mark.parametrize(
    ("end_offset", "count", "last"),
    [(0, 9, "2024-01-09"), (1, 10, "2024-01-10"), (2, 11, "2024-01-11"), (-1, 8, "2024-01-08")],
)
def test_end_offset_moves_the_last_partition(end_offset: int, count: int, last: str) -> None:
    daily = space(datetime(2024, 1, 10, 12, tzinfo=UTC), start="2024-01-01", cadence=Cadence("daily"),
                  end_offset=end_offset)
    assert (daily.count, daily.last_key()) == (count, last)


@pytest.mark.parametrize("end_offset", [-2, -1, 0, 1, 2])
def test_a_past_end_bounds_the_partitions_whatever_the_offset(end_offset: int) -> None:
    # end_offset counts from as_of, not from end: with end long past it changes nothing.
    daily = space(datetime(2024, 3, 1, tzinfo=UTC), start="2024-01-01", end="2024-01-05", cadence=Cadence("daily"),
                  end_offset=end_offset)
    assert (daily.count, daily.last_key()) == (4, "2024-01-04")


def test_end_is_exclusive() -> None:
    as_of = datetime(2024, 3, 1, tzinfo=UTC)
    assert space(as_of, start="2024-01-01", end="2024-01-05T00:00:00", cadence=Cadence("daily")).last_key() == "2024-01-04"
    assert space(as_of, start="2024-01-01", end="2024-01-04T23:59:59", cadence=Cadence("daily")).last_key() == "2024-01-03"


def test_no_partitions_when_end_is_not_after_start_or_as_of_is_before_the_first_window_ends() -> None:
    as_of = datetime(2024, 3, 1, tzinfo=UTC)
    assert space(as_of, start="2024-01-05", end="2024-01-05", cadence=Cadence("daily")).count == 0
    assert space(as_of, start="2024-01-05", end="2024-01-01", cadence=Cadence("daily")).count == 0
    early = space(datetime(2024, 1, 5, 23, tzinfo=UTC), start="2024-01-05", cadence=Cadence("daily"))
    assert (early.count, early.first_key(), early.index_of("2024-01-05")) == (0, None, None)
    with pytest.raises(IndexError):
        early.key_at(0)


def test_positive_end_offset_before_the_first_window_gives_the_first_partition() -> None:
    # as_of lies in the window just before the first partition; Dagster keeps the first window.
    weekly = space(datetime(2024, 3, 29, 14, tzinfo=UTC), start="2024-04-02", cron_schedule="0 0 * * 4",
                   timezone="Australia/Sydney", end_offset=2)
    assert weekly.keys(0, 10) == ["2024-04-04"]


# --- Lookups by time ---------------------------------------------------------------------------


def test_time_lookups_across_a_repeated_hour() -> None:
    hourly = space(datetime(2023, 11, 6, tzinfo=UTC), start="2023-11-05", cadence=Cadence("hourly"),
                   timezone="America/Los_Angeles")
    first = hourly.index_of("2023-11-05-01:00")
    assert first is not None
    second_half_hour = datetime(2023, 11, 5, 1, 30, fold=1, tzinfo=LA)
    assert hourly.index_containing(second_half_hour) == first + 1
    assert hourly.index_containing(datetime(2023, 11, 5, 1, 30, tzinfo=LA)) == first
    window = (datetime(2023, 11, 5, 8, tzinfo=UTC), datetime(2023, 11, 5, 10, tzinfo=UTC))
    assert hourly.index_range_starting_in(*window) == (first, first + 2)


def test_time_lookups_clip_to_the_partitions() -> None:
    daily = space(datetime(2024, 1, 11, tzinfo=UTC), start="2024-01-01", cadence=Cadence("daily"))
    assert daily.count == 10
    assert daily.index_range_starting_in(datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)) == (0, 10)
    assert daily.index_range_starting_in(datetime(2024, 1, 3, 12, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)) == (3, 4)
    assert daily.index_range_starting_in(datetime(2024, 1, 5, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)) == (4, 4)
    assert daily.index_containing(datetime(2023, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert daily.index_containing(datetime(2024, 1, 10, 23, 59, tzinfo=UTC)) == 9
    assert daily.index_containing(datetime(2024, 1, 11, tzinfo=UTC)) is None


# --- Reading start and end ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "fmt", "resolved"),
    [
        ("2023/01/15", "%Y/%m/%d", "2023-01-15T00:00:00-08:00"),  # read with fmt first
        ("2023-01-15", None, "2023-01-15T00:00:00-08:00"),
        ("2023-01-15T06:30:00", None, "2023-01-15T06:30:00-08:00"),  # naive: wall time
        ("2023-01-15T06:30:00+00:00", None, "2023-01-14T22:30:00-08:00"),  # offset: an instant
        ("2023-03-12T02:30:00", None, "2023-03-12T03:30:00-07:00"),  # in the gap: pre-gap offset
        ("2023-11-05T01:30:00", None, "2023-11-05T01:30:00-07:00"),  # repeated: first occurrence
        (datetime(2023, 11, 5, 1, 30), None, "2023-11-05T01:30:00-07:00"),
        (datetime(2023, 1, 15, tzinfo=UTC), None, "2023-01-14T16:00:00-08:00"),
    ],
)
def test_start_forms(start: str | datetime, fmt: str | None, resolved: str) -> None:
    definition = TimeWindowPartitionsDefinition.create(start=start, cadence=Cadence("daily"), fmt=fmt,
                                                       timezone="America/Los_Angeles")
    assert definition.start.isoformat() == resolved


@pytest.mark.parametrize(
    ("cron", "fmt"),
    [("0 * * * *", "%Y-%m-%d-%H:%M"), ("*/15 * * * *", "%Y-%m-%d-%H:%M"), ("0 */6 * * *", "%Y-%m-%d-%H:%M"),
     ("0 0 * * *", "%Y-%m-%d"), ("0 0 * * 1", "%Y-%m-%d"), ("0 0 1 * *", "%Y-%m-%d"), ("@daily", "%Y-%m-%d")],
)
def test_default_formats(cron: str, fmt: str) -> None:
    assert TimeWindowPartitionsDefinition.create(start="2024-01-01", cron_schedule=cron).fmt == fmt


@pytest.mark.parametrize(
    ("cadence", "cron"),
    [
        (Cadence("hourly", minute_offset=15), "15 * * * *"),
        (Cadence("daily", 30, 6), "30 6 * * *"),
        (Cadence("weekly"), "0 0 * * 0"),
        (Cadence("weekly", 0, 9, 3), "0 9 * * 3"),
        (Cadence("monthly"), "0 0 1 * *"),
        (Cadence("monthly", day_offset=0), "0 0 1 * *"),
        (Cadence("monthly", 5, 4, 31), "5 4 31 * *"),
    ],
)
def test_cadence_expands_like_dagster(cadence: Cadence, cron: str) -> None:
    assert cadence.cron_schedule() == cron
    assert TimeWindowPartitionsDefinition.create(start="2024-01-01", cadence=cadence).cron_schedule == cron


# --- Validation --------------------------------------------------------------------------------

DAILY = {"start": "2024-01-01", "cron_schedule": "0 0 * * *"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cron_schedule": "0 0 * *"}, "cron_schedule"),
        ({"cron_schedule": "0 0 0 * * *"}, "cron_schedule"),
        ({"cron_schedule": "0 0 0 * * * 2024"}, "cron_schedule"),
        ({"cron_schedule": "0 0 L * *"}, "cron_schedule"),
        ({"cron_schedule": "0 0 1W * *"}, "cron_schedule"),
        ({"cron_schedule": "0 0 * * 5#2"}, "cron_schedule"),
        ({"cron_schedule": "0 0 ? * *"}, "cron_schedule"),
        ({"cron_schedule": "H 0 * * *"}, "cron_schedule"),
        ({"cron_schedule": "61 * * * *"}, "cron_schedule"),
        ({"cron_schedule": "0 0 30 2 *"}, "cron_schedule"),
        ({"cron_schedule": "@reboot"}, "cron_schedule"),
        ({"cron_schedule": None}, "cron_schedule"),
        ({"cadence": Cadence("daily")}, "cadence"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../x"}, "timezone"),
        ({"timezone": "America"}, "timezone"),
        ({"start": "garbage"}, "start"),
        ({"start": ""}, "start"),
        ({"start": "0999-01-01"}, "start"),
        ({"end": "not a date"}, "end"),
        ({"fmt": "%Y-%m"}, "fmt"),
        ({"fmt": "%Q"}, "fmt"),
        ({"fmt": "%b %Y"}, "fmt"),
        ({"fmt": "%m-%d"}, "fmt"),
        ({"fmt": "%Y-%Y-%m-%d"}, "fmt"),
        ({"fmt": "%Y-%m-%d %"}, "fmt"),
        ({"cron_schedule": "0 * * * *", "fmt": "%Y-%m-%d"}, "fmt"),
        ({"cron_schedule": "*/15 * * * *", "fmt": "%Y-%m-%d %H"}, "fmt"),
        ({"cron_schedule": "30 2,3 * * *", "fmt": "%Y-%m-%d %H"}, "fmt"),
        ({"end_offset": "1"}, "end_offset"),
    ],
)
def test_invalid_definitions_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        TimeWindowPartitionsDefinition.create(**{**DAILY, **changes})
    assert [v.field for v in error.value.violations] == [field]
    assert error.value.message


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "yearly"}, "cadence.kind"),
        ({"kind": "hourly", "minute_offset": 60}, "cadence.minute_offset"),
        ({"kind": "daily", "hour_offset": 24}, "cadence.hour_offset"),
        ({"kind": "hourly", "hour_offset": 3}, "cadence.hour_offset"),
        ({"kind": "daily", "day_offset": 2}, "cadence.day_offset"),
        ({"kind": "weekly", "day_offset": 7}, "cadence.day_offset"),
        ({"kind": "monthly", "day_offset": 32}, "cadence.day_offset"),
        ({"kind": "monthly", "minute_offset": True}, "cadence.minute_offset"),
    ],
)
def test_invalid_cadences_name_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        Cadence(**arguments)
    assert [v.field for v in error.value.violations] == [field]


def test_accepted_formats_and_crons() -> None:
    for fmt in ("%Y-%m", "%m/%Y", "%Y"):
        TimeWindowPartitionsDefinition.create(start="2024-01-01", cron_schedule="0 0 1 * *" if fmt != "%Y" else "0 0 1 1 *", fmt=fmt)
    for cron in ("0 0 * * mon-fri", "0 0 1 jan *", "@hourly", "*/90 * * * *", "0 0 29 2 *"):
        TimeWindowPartitionsDefinition.create(start="2024-01-01", cron_schedule=cron)
    assert TimeWindowPartitionsDefinition.create(start="2024-01-01", cron_schedule="0 0 * * *", timezone="").timezone == "UTC"


# --- Scale: more than a million partitions, answered without enumeration -------------------------


def test_minutely_over_five_years() -> None:
    minutely = space(datetime(2025, 1, 1, tzinfo=UTC), start="2020-01-01", cron_schedule="* * * * *")
    expected_count = (datetime(2025, 1, 1) - datetime(2020, 1, 1)) // timedelta(minutes=1)
    assert minutely.count == expected_count == 2_630_880
    assert minutely.last_key() == "2024-12-31-23:59"
    moment = datetime(2024, 6, 15, 12, 34)
    index = (moment - datetime(2020, 1, 1)) // timedelta(minutes=1)
    assert minutely.key_at(index) == "2024-06-15-12:34"
    assert minutely.index_of("2024-06-15-12:34") == index


def test_hourly_over_two_centuries_in_los_angeles() -> None:
    # Since 1883 Los Angeles has whole-hour offsets, so its hourly ticks are exactly the UTC hours:
    # partition i starts i hours after the first, and its key is that instant's local wall time.
    start = datetime(1900, 1, 1, 8, tzinfo=UTC)  # 1900-01-01T00:00-08:00
    as_of = datetime(2100, 1, 1, tzinfo=UTC)
    hourly = space(as_of, start="1900-01-01", cadence=Cadence("hourly"), timezone="America/Los_Angeles")
    assert hourly.count == (as_of - start) // timedelta(hours=1) == 1_753_168
    for index in (hourly.count - 1, hourly.count - 4_000, 1_085_000, 1_000_003):
        moment = (start + timedelta(hours=index)).astimezone(LA)
        key = moment.strftime("%Y-%m-%d-%H:%M") + (moment.strftime("%z") if moment.fold else "")
        assert hourly.key_at(index) == key
        assert hourly.index_of(key) == index
        assert hourly.window_at(index)[0].timestamp() == moment.timestamp()
