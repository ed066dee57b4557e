"""Schedule ticks: DST-correct due ticks, catch-up policies, target partitions, exactly once across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition
from arco_grpc.planning.run_keys import LogicalRunRequest, ScheduleScope, run_key_for
from arco_grpc.planning.schedule_ticks import (
    CatchUpPolicy,
    Schedule,
    ScheduleTickState,
    TickSkipReason,
    decide_ticks,
    due_tick_count,
    due_ticks,
    initial_tick_state,
    record_decisions,
    record_launched,
    tick_partition_key,
    tick_run_key,
)

LA, BERLIN = "America/Los_Angeles", "Europe/Berlin"
ALL, LATEST = CatchUpPolicy.ALL_MISSED, CatchUpPolicy.LATEST_ONLY


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def schedule(cron: str, zone: str, cadence: str, start: str = "2024-01-01", **options) -> Schedule:
    partitions = TimeWindowPartitionsDefinition.create(start=start, cadence=Cadence(cadence), timezone=zone)
    return Schedule("nightly", cron, zone, "orders", partitions, **options)


def launched(decisions) -> list[tuple[datetime, str]]:
    return [(launch.scheduled_time, launch.partition_key) for launch in decisions.launches]


def test_hourly_ticks_skip_the_spring_forward_hour_in_los_angeles():
    hourly = schedule("0 * * * *", LA, "hourly", catch_up_policy=ALL, max_catch_up_runs=24)
    # 2024-03-10: 02:00 PST never happens; 01:00 PST is 09:00Z and 03:00 PDT is 10:00Z.
    assert due_ticks(hourly, utc(2024, 3, 10, 8, 30), utc(2024, 3, 10, 11)) == (
        utc(2024, 3, 10, 9), utc(2024, 3, 10, 10), utc(2024, 3, 10, 11),
    )
    decisions = decide_ticks(hourly, utc(2024, 3, 10, 8, 30), utc(2024, 3, 10, 11))
    assert launched(decisions) == [
        (utc(2024, 3, 10, 9), "2024-03-10-00:00"),
        (utc(2024, 3, 10, 10), "2024-03-10-01:00"),  # the window [01:00 PST, 03:00 PDT) is one hour
        (utc(2024, 3, 10, 11), "2024-03-10-03:00"),
    ]


def test_hourly_ticks_fire_twice_in_the_fall_back_hour_in_los_angeles():
    hourly = schedule("0 * * * *", LA, "hourly", catch_up_policy=ALL, max_catch_up_runs=24)
    decisions = decide_ticks(hourly, utc(2024, 11, 3, 7, 30), utc(2024, 11, 3, 10))
    assert launched(decisions) == [
        (utc(2024, 11, 3, 8), "2024-11-03-00:00"),  # 01:00 PDT
        (utc(2024, 11, 3, 9), "2024-11-03-01:00"),  # 01:00 PST, a second tick at the same wall time
        (utc(2024, 11, 3, 10), "2024-11-03-01:00-0800"),  # Dagster's key for the repeated hour
    ]
    assert len({launch.run_key for launch in decisions.launches}) == 3


def test_a_daily_tick_in_the_berlin_gap_fires_after_it_and_a_repeated_one_fires_once_late():
    daily = schedule("30 2 * * *", BERLIN, "daily", catch_up_policy=ALL, max_catch_up_runs=10)
    # 2024-03-31 02:30 does not exist: the tick is 03:00 CEST = 01:00Z.
    assert due_ticks(daily, utc(2024, 3, 29, 12), utc(2024, 4, 1, 12)) == (
        utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1), utc(2024, 4, 1, 0, 30),
    )
    # 2024-10-27 02:30 happens twice: once, at 02:30 CET = 01:30Z.
    assert due_ticks(daily, utc(2024, 10, 25, 12), utc(2024, 10, 28, 12)) == (
        utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 1, 30), utc(2024, 10, 28, 1, 30),
    )
    decisions = decide_ticks(daily, utc(2024, 3, 29, 12), utc(2024, 4, 1, 12))
    assert [key for _, key in launched(decisions)] == ["2024-03-29", "2024-03-30", "2024-03-31"]


def test_a_daily_midnight_tick_in_berlin_targets_the_day_that_just_ended_across_dst():
    daily = schedule("0 0 * * *", BERLIN, "daily", catch_up_policy=ALL)
    decisions = decide_ticks(daily, utc(2024, 3, 30, 12), utc(2024, 4, 1, 12))
    # Midnight CET is 23:00Z the day before; midnight CEST is 22:00Z.
    assert launched(decisions) == [(utc(2024, 3, 30, 23), "2024-03-30"), (utc(2024, 3, 31, 22), "2024-03-31")]


# Daily at midnight in Los Angeles; DST starts 2024-03-10, so the ticks move from 08:00Z to 07:00Z.
DOWNTIME = (utc(2024, 3, 8, 8), utc(2024, 3, 14, 12))  # the tick at exactly the cursor was decided before
DUE = [utc(2024, 3, 9, 8), utc(2024, 3, 10, 8)] + [utc(2024, 3, day, 7) for day in (11, 12, 13, 14)]
TARGETS = ["2024-03-08", "2024-03-09", "2024-03-10", "2024-03-11", "2024-03-12", "2024-03-13"]


@pytest.mark.parametrize(
    ("options", "launched_indices", "skipped"),
    [
        ({"catch_up_policy": LATEST}, [5], {TickSkipReason.SUPERSEDED: 5}),
        ({"catch_up_policy": ALL, "max_catch_up_runs": 10}, [0, 1, 2, 3, 4, 5], {}),
        ({"catch_up_policy": ALL, "max_catch_up_runs": 3}, [3, 4, 5], {TickSkipReason.OVER_CATCH_UP_LIMIT: 3}),
        (
            {"catch_up_policy": ALL, "max_catch_up_runs": 10, "catch_up_window": timedelta(days=2)},
            [4, 5],
            {TickSkipReason.OUTSIDE_CATCH_UP_WINDOW: 4},
        ),
        (
            {"catch_up_policy": ALL, "max_catch_up_runs": 1, "catch_up_window": timedelta(days=3)},
            [5],
            {TickSkipReason.OUTSIDE_CATCH_UP_WINDOW: 3, TickSkipReason.OVER_CATCH_UP_LIMIT: 2},
        ),
        ({"catch_up_policy": ALL, "paused": True}, [], {TickSkipReason.PAUSED: 6}),
        ({"catch_up_policy": LATEST, "paused": True}, [], {TickSkipReason.PAUSED: 6}),
    ],
)
def test_downtime_across_several_ticks(options, launched_indices, skipped):
    daily = schedule("0 0 * * *", LA, "daily", **options)
    assert due_ticks(daily, *DOWNTIME) == tuple(DUE) and due_tick_count(daily, *DOWNTIME) == 6
    decisions = decide_ticks(daily, *DOWNTIME)
    assert launched(decisions) == [(DUE[i], TARGETS[i]) for i in launched_indices]
    assert decisions.skipped == skipped and decisions.due_count == 6
    assert (decisions.evaluated_after, decisions.evaluated_through) == DOWNTIME


def test_ticks_before_the_first_partition_launch_nothing():
    late_start = dict(start="2024-03-12")
    daily = schedule("0 0 * * *", LA, "daily", catch_up_policy=ALL, max_catch_up_runs=10, **late_start)
    assert tick_partition_key(daily, utc(2024, 3, 12, 7)) is None  # the first window has not ended yet
    decisions = decide_ticks(daily, *DOWNTIME)
    assert launched(decisions) == [(utc(2024, 3, 13, 7), "2024-03-12"), (utc(2024, 3, 14, 7), "2024-03-13")]
    assert decisions.skipped == {TickSkipReason.NO_PARTITION: 4}
    latest = schedule("0 0 * * *", LA, "daily", catch_up_policy=LATEST, **late_start)
    early = decide_ticks(latest, utc(2024, 3, 8, 8), utc(2024, 3, 10, 12))
    assert early.launches == () and early.skipped == {TickSkipReason.SUPERSEDED: 1, TickSkipReason.NO_PARTITION: 1}


def test_a_tick_run_key_is_the_schedule_case_of_the_one_function():
    daily = schedule("0 0 * * *", LA, "daily")
    launch = decide_ticks(daily, *DOWNTIME).launches[0]
    scope = ScheduleScope("nightly", utc(2024, 3, 14, 7), "2024-03-13")
    assert launch.run_key == tick_run_key(daily, utc(2024, 3, 14, 7), "2024-03-13")
    assert launch.run_key == run_key_for(LogicalRunRequest(scope, "orders"))


def test_nothing_is_due_in_an_empty_interval_and_time_cannot_run_backwards():
    daily = schedule("0 0 * * *", LA, "daily")
    assert decide_ticks(daily, utc(2024, 3, 12, 8), utc(2024, 3, 13, 6)).due_count == 0
    with pytest.raises(ValueError):
        decide_ticks(daily, utc(2024, 3, 13), utc(2024, 3, 12))
    with pytest.raises(InvalidArgument) as raised:
        due_ticks(daily, datetime(2024, 3, 12), utc(2024, 3, 13))  # naive: which instant?
    assert raised.value.violations[0].field == "after"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"cron_schedule": "0 0 * *"}, "cron_schedule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"max_catch_up_runs": 0}, "max_catch_up_runs"),
        ({"catch_up_window": timedelta(0)}, "catch_up_window"),
        ({"name": ""}, "name"),
        ({"catch_up_policy": "ALL_MISSED"}, "catch_up_policy"),
    ],
)
def test_bad_schedules_are_refused_with_their_field(options, field):
    partitions = TimeWindowPartitionsDefinition.create(start="2024-01-01", cadence=Cadence("daily"))
    values = dict(name="s", cron_schedule="0 0 * * *", timezone="UTC", asset_key="a", partitions=partitions) | options
    with pytest.raises(InvalidArgument) as raised:
        Schedule(**values)
    assert raised.value.violations[0].field == field


def test_decisions_must_start_at_the_cursor_and_launches_are_recorded_once():
    daily = schedule("0 0 * * *", LA, "daily", catch_up_policy=ALL)
    state = initial_tick_state(DOWNTIME[0])
    decisions = decide_ticks(daily, *DOWNTIME)
    state = record_decisions(state, decisions)
    assert state == ScheduleTickState(DOWNTIME[1], decisions.launches)
    with pytest.raises(ValueError):
        record_decisions(state, decisions)  # a replayed evaluation
    first = decisions.launches[0].run_key
    once = record_launched(state, first)
    assert once.pending == decisions.launches[1:] and record_launched(once, first) == once


# Hourly in Los Angeles over the 2024 fall-back night: 72 hours around it.
WINDOW_START = utc(2024, 11, 2, 0)
offsets = st.integers(0, 72 * 60)  # minutes after WINDOW_START


def at(minutes: int) -> datetime:
    return WINDOW_START + timedelta(minutes=minutes)


@settings(max_examples=60, deadline=None)
@given(st.lists(offsets, max_size=8))
def test_all_missed_in_one_step_or_several_launches_the_same_ticks(cuts):
    hourly = schedule("0 * * * *", LA, "hourly", catch_up_policy=ALL, max_catch_up_runs=10_000)
    end = at(72 * 60)
    one_step = decide_ticks(hourly, WINDOW_START, end).launches
    bounds = [WINDOW_START, *sorted(at(c) for c in cuts), end]
    steps = [launch for a, b in zip(bounds, bounds[1:]) for launch in decide_ticks(hourly, a, b).launches]
    assert steps == list(one_step) and len(one_step) == 72  # one per UTC hour, 01:00 local twice


def simulate(plan: Schedule, wakes: list[datetime], kills: frozenset[int]) -> tuple[list[str], list[datetime], int]:
    """A server that evaluates at each wake time and is killed before action number k for k in kills.

    Actions are: persist decisions, create a run, record a launch. A kill loses the
    action and everything after it until the next wake. Returns the run keys of the
    runs created, in order, the wake times whose decisions were persisted, and
    how many submissions the ledger found to be repeats (by run key).
    """
    state = initial_tick_state(WINDOW_START)  # the persisted state
    created: list[str] = []
    persisted_at: list[datetime] = []
    repeats = 0
    counter = 0
    finishing = False

    def action() -> bool:
        nonlocal counter
        counter += 1
        return counter not in kills or finishing

    def drain() -> bool:
        nonlocal state, repeats
        for launch in state.pending:
            if not action():
                return False
            if launch.run_key in created:  # the ledger dedupes by run key
                repeats += 1
            else:
                created.append(launch.run_key)
            if not action():
                return False
            state = record_launched(state, launch.run_key)
        return True

    for wake in wakes:
        if not drain():
            continue
        decisions = decide_ticks(plan, state.evaluated_through, wake)
        if not action():
            continue
        state = record_decisions(state, decisions)
        persisted_at.append(wake)
        drain()
    finishing = True
    drain()
    assert state.pending == () and state.evaluated_through == (persisted_at[-1] if persisted_at else WINDOW_START)
    return created, persisted_at, repeats


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([LATEST, ALL]),
    st.integers(1, 6),
    st.integers(1, 30),
    st.lists(offsets, min_size=1, max_size=6),
    st.frozensets(st.integers(1, 60), max_size=6),
)
def test_killed_during_catch_up_every_decided_tick_launches_exactly_once(
    policy, cap, window_hours, wake_offsets, kills
):
    plan = schedule(
        "0 * * * *", LA, "hourly", catch_up_policy=policy, max_catch_up_runs=cap,
        catch_up_window=timedelta(hours=window_hours),
    )
    wakes = sorted(at(m) for m in wake_offsets)
    created, persisted_at, repeats = simulate(plan, wakes, kills)
    assert len(created) == len(set(created)), "a tick launched twice"
    # Only a kill between creating a run and recording it makes the server submit a tick again.
    assert repeats <= len(kills)
    # The same wake-ups without kills decide and launch exactly the same runs.
    reference, _, no_repeats = simulate(plan, persisted_at, frozenset())
    assert created == reference and no_repeats == 0
