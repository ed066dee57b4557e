"""Property tests: time-window index math against a slow, obviously correct enumeration.

The reference never uses the package's arithmetic. For schedules whose hour field is
'*' it walks every UTC minute and keeps those whose local wall time matches the cron;
for the others it walks every local day and matching time of day, and resolves each
wall time as the rules say (the later of two equal wall times; the end of a gap).
All zones here have offsets in whole minutes and change them on minute boundaries.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition

UTC = timezone.utc
ZONES = [
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
    "Australia/Lord_Howe",
    "America/St_Johns",
]
# Arbitrary crons next to the cadences: restricted hours, weekdays, lists, steps.
OTHER_CRONS = ["*/15 * * * *", "0,30 * * * *", "0 */6 * * *", "0 9-17 * * 1-5", "0 0 * * 1-5", "30 6 1,15 * *",
               "15 3 * * 0,3", "0,30 2 * * *", "0 1,2 * * *", "*/20 * * * 0"]


def parse_fields(cron: str) -> list[set[int] | None]:
    """Each field's allowed values (None for '*'), for the handful of forms used here."""
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
    fields: list[set[int] | None] = []
    for text, (low, high) in zip(cron.split(), ranges):
        if text == "*":
            fields.append(None)
            continue
        values: set[int] = set()
        for part in text.split(","):
            base, _, step = part.partition("/")
            first, last = (low, high) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
            values.update(range(first, last + 1, int(step or 1)))
        fields.append(values)
    return fields


def wall_matches(fields: list[set[int] | None], wall: datetime) -> bool:
    minutes, hours, days, months, weekdays = fields
    weekday = (wall.weekday() + 1) % 7
    if (minutes is not None and wall.minute not in minutes) or (hours is not None and wall.hour not in hours):
        return False
    if months is not None and wall.month not in months:
        return False
    if days is not None and weekdays is not None:
        return wall.day in days or weekday in weekdays
    return (days is None or wall.day in days) and (weekdays is None or weekday in weekdays)


def reference_ticks(cron: str, zone: ZoneInfo, low: datetime, high: datetime) -> list[datetime]:
    """Every tick in [low, high], slowly."""
    fields = parse_fields(cron)
    ticks: set[datetime] = set()
    if fields[1] is None:
        moment = low.astimezone(UTC).replace(second=0, microsecond=0)
        while moment <= high:
            local = moment.astimezone(zone)
            if moment >= low and wall_matches(fields, local.replace(tzinfo=None)):
                ticks.add(moment)
            moment += timedelta(minutes=1)
        return sorted(ticks)
    day = low.astimezone(zone).date() - timedelta(days=2)
    while day <= high.astimezone(zone).date() + timedelta(days=2):
        for hour in sorted(fields[1]):
            for minute in sorted(fields[0] or range(60)):
                wall = datetime(day.year, day.month, day.day, hour, minute)
                if wall_matches(fields, wall):
                    tick = resolve(wall, zone)
                    if low <= tick <= high:
                        ticks.add(tick)
        day += timedelta(days=1)
    return sorted(ticks)


def resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if first.utcoffset() > second.utcoffset():  # type: ignore[operator]
        return second.astimezone(UTC)  # repeated: the later occurrence
    # Skipped: walk minutes from the earliest reading until the offset after the gap applies.
    moment = second.astimezone(UTC)
    while moment.astimezone(zone).utcoffset() != second.utcoffset():
        moment += timedelta(minutes=1)
    return moment


def reference_key(tick: datetime, zone: ZoneInfo, fmt: str, every_hour: bool) -> str:
    local = tick.astimezone(zone)
    return local.strftime(fmt) + (local.strftime("%z") if every_hour and local.fold and "%z" not in fmt else "")


@lru_cache(maxsize=None)
def offset_changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """UTC instants (to the minute) at which the zone's offset changes during the year."""
    zone = ZoneInfo(zone_name)
    changes = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        offset = moment.astimezone(zone).utcoffset()
        later = moment + timedelta(hours=6)
        if later.astimezone(zone).utcoffset() != offset:
            probe = moment
            while probe.astimezone(zone).utcoffset() == offset:
                probe += timedelta(minutes=1)
            changes.append(probe)
        moment = later
    return tuple(changes)


@st.composite
def definitions(draw: st.DrawFn, crons: st.SearchStrategy[str]) -> tuple[str, str, datetime, datetime]:
    """(cron, zone, start, as_of); most ranges start up to 2.5 days before a DST change."""
    cron = draw(crons)
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(1996, 2035))
    start = datetime(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)), draw(st.integers(0, 23)),
                     draw(st.sampled_from([0, 15, 30, 45])))
    changes = offset_changes(zone, year)
    if changes and draw(st.integers(0, 3)):
        change = draw(st.sampled_from(changes)).astimezone(ZoneInfo(zone))
        before = timedelta(hours=draw(st.integers(0, 60)), minutes=draw(st.sampled_from([0, 15, 30])))
        start = (change - before).replace(tzinfo=None)
    every_hour = parse_fields(cron)[1] is None
    span = timedelta(hours=draw(st.integers(1, 96))) if every_hour else timedelta(days=draw(st.integers(3, 70)))
    return cron, zone, start, start.replace(tzinfo=ZoneInfo(zone)) + span


def cadences() -> st.SearchStrategy[str]:
    # Hours 0-3 are where DST changes happen in most zones; favour them and the round minutes.
    minute = st.sampled_from([0, 30]) | st.integers(0, 59)
    hour = st.integers(0, 3) | st.integers(0, 23)
    return st.one_of(
        st.builds(lambda m: Cadence("hourly", m).cron_schedule(), minute),
        st.builds(lambda m, h: Cadence("daily", m, h).cron_schedule(), minute, hour),
        st.builds(lambda m, h, d: Cadence("weekly", m, h, d).cron_schedule(), minute, hour, st.integers(0, 6)),
        st.builds(lambda m, h, d: Cadence("monthly", m, h, d).cron_schedule(), minute, hour, st.integers(1, 31)),
    )


def check_against_reference(cron: str, zone_name: str, start: datetime, as_of: datetime, fmt: str | None) -> None:
    definition = TimeWindowPartitionsDefinition.create(start=start, cron_schedule=cron, timezone=zone_name, fmt=fmt)
    zone = ZoneInfo(zone_name)
    space = definition.space(as_of)
    ticks = reference_ticks(cron, zone, definition.start, as_of)
    # A window exists once it has ended: n ticks by as_of close n - 1 windows.
    assert space.count == max(0, len(ticks) - 1)
    every_hour = parse_fields(cron)[1] is None
    expected_keys = [reference_key(tick, zone, definition.fmt, every_hour) for tick in ticks[:-1]]
    assert space.keys(0, space.count) == expected_keys
    for index in range(space.count):
        start_moment, end_moment = space.window_at(index)
        assert (start_moment.timestamp(), end_moment.timestamp()) == (ticks[index].timestamp(), ticks[index + 1].timestamp())
        assert space.index_of(expected_keys[index]) == index


@given(definitions(cadences()), st.sampled_from([None, "%Y-%m-%d %H:%M%z"]))
def test_cadences_agree_with_the_reference(drawn: tuple[str, str, datetime, datetime], fmt: str | None) -> None:
    check_against_reference(*drawn, fmt=fmt)


@given(definitions(st.sampled_from(OTHER_CRONS)))
def test_other_crons_agree_with_the_reference(drawn: tuple[str, str, datetime, datetime]) -> None:
    check_against_reference(*drawn, fmt=None)


@given(definitions(cadences()), st.integers(0, 10**9), st.integers(-2, 2))
def test_round_trips_and_adjacent_windows(
    drawn: tuple[str, str, datetime, datetime], seed: int, end_offset: int
) -> None:
    cron, zone, start, as_of = drawn
    definition = TimeWindowPartitionsDefinition.create(start=start, cron_schedule=cron, timezone=zone,
                                                       end_offset=end_offset)
    # Far from start too: years of windows, so the index math crosses many transitions.
    space = definition.space(as_of + timedelta(days=seed % 3000))
    if space.count == 0:
        return
    for index in {0, space.count - 1, seed % space.count, (seed // 7) % space.count}:
        key = space.key_at(index)
        assert space.index_of(key) == index
        window_start, window_end = space.window_at(index)
        assert window_start.timestamp() < window_end.timestamp()
        assert space.index_containing(window_start) == index
        # Step back in UTC: aware arithmetic in the zone is wall-clock arithmetic.
        assert space.index_containing(window_end.astimezone(UTC) - timedelta(microseconds=1)) == index
        assert space.index_range_starting_in(window_start, window_end) == (index, index + 1)
        if index + 1 < space.count:
            assert window_end == space.window_at(index + 1)[0]
            assert window_end.timestamp() == space.window_at(index + 1)[0].timestamp()


def test_reference_itself_sees_both_dst_rules() -> None:
    """Guards the reference: the skipped and repeated hours it produces in Los Angeles."""
    zone = ZoneInfo("America/Los_Angeles")
    spring = reference_ticks("0 * * * *", zone, datetime(2023, 3, 12, 8, tzinfo=UTC), datetime(2023, 3, 12, 11, tzinfo=UTC))
    assert [t.astimezone(zone).strftime("%H:%M%z") for t in spring] == ["00:00-0800", "01:00-0800", "03:00-0700", "04:00-0700"]
    fall = reference_ticks("30 1 * * *", zone, datetime(2023, 11, 5, tzinfo=UTC), datetime(2023, 11, 6, tzinfo=UTC))
    assert [t.astimezone(zone).isoformat() for t in fall] == ["2023-11-05T01:30:00-08:00"]
    gap = reference_ticks("30 2 * * *", zone, datetime(2023, 3, 12, tzinfo=UTC), datetime(2023, 3, 13, tzinfo=UTC))
    assert [t.astimezone(zone).isoformat() for t in gap] == ["2023-03-12T03:00:00-07:00"]
    assert date(2023, 3, 12).weekday() == 6


@given(
    st.sampled_from(["UTC", "Etc/GMT-5", "Etc/GMT+11", "Etc/GMT-14"]),
    st.sampled_from(["%Y-%m-%d-%H:%M", "%d.%m.%Y %H-%M", "%Y/%j %H:%M%%", "%Y-%m-%dT%H:%M:%S%z", "%Y%m%d%H%M%S"]),
    st.integers(0, 10**9),
)
def test_fixed_offset_keys_are_the_local_strftime(zone: str, fmt: str, minutes: int) -> None:
    """Fixed-offset zones format keys from the wall time alone; they must equal datetime.strftime of the window start."""
    definition = TimeWindowPartitionsDefinition.create(
        start=datetime(1005, 1, 1, tzinfo=UTC), cron_schedule="* * * * *", timezone=zone, fmt=fmt
    )
    space = definition.space(datetime(2995, 1, 1, tzinfo=UTC))
    index = minutes % space.count
    window_start, _ = space.window_at(index)
    assert space.key_at(index) == window_start.strftime(fmt)


@given(definitions(cadences() | st.sampled_from(OTHER_CRONS)), st.integers(0, 10**9), st.integers(1, 3000))
def test_keys_of_a_range_are_the_keys_at_each_index(
    drawn: tuple[str, str, datetime, datetime], seed: int, length: int
) -> None:
    """keys() makes a range's instants a stretch of constant offset at a time; each key must be key_at's."""
    cron, zone, start, as_of = drawn
    definition = TimeWindowPartitionsDefinition.create(start=start, cron_schedule=cron, timezone=zone)
    # Years of windows: ranges cross DST changes and year ends.
    space = definition.space(as_of + timedelta(days=seed % 1500))
    first = seed % (space.count + 1)
    keys = space.keys(first, first + length)
    assert keys == [space.key_at(index) for index in range(first, min(first + length, space.count))]
