"""The schedule lifecycle as pure functions: creation, pause/resume as idempotent evaluation boundaries,
tick decisions, and launches recorded once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.domain.schedule import (
    LAST_TICKS_LIMIT,
    CreateSchedule,
    DecideTicks,
    PauseSchedule,
    RecordLaunch,
    ResumeSchedule,
    ScheduleAggregate,
    ScheduleCreated,
    SchedulePaused,
    ScheduleResumed,
    ScheduleState,
    TickLaunched,
    TicksDecided,
    TickSkipped,
    decide,
    evolve,
    fold,
    tick_schedule_of,
)
from arco_grpc.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition
from arco_grpc.planning.schedule_ticks import CatchUpPolicy, TickSkipReason

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
HOURLY = TimeWindowPartitionsDefinition.create(start="2024-01-01-00:00", cadence=Cadence("hourly"), timezone="UTC")


def created(**changes: object) -> ScheduleCreated:
    event = ScheduleCreated(
        name="hourly", cron_schedule="0 * * * *", timezone="UTC", asset_key="events", asset_version=1,
        catch_up_policy=CatchUpPolicy.ALL_MISSED, catch_up_window=timedelta(days=365), max_catch_up_runs=3,
        tags=(), reprocess_policy=ReprocessPolicy.ALL, start_time=T0,
    )
    return replace(event, **changes)  # type: ignore[arg-type]


def new(**changes: object) -> ScheduleAggregate:
    schedule = fold([created(**changes)])
    assert schedule is not None
    return schedule


def apply(schedule: ScheduleAggregate, events: list) -> ScheduleAggregate:  # type: ignore[type-arg]
    for event in events:
        schedule = evolve(schedule, event)
    return schedule


def test_creation_runs_from_the_start_time_and_a_second_creation_is_refused() -> None:
    events = decide(CreateSchedule(created()), None)
    schedule = fold(events)

    assert events == [created()]
    assert schedule is not None and (schedule.state, schedule.version) == (ScheduleState.RUNNING, 1)
    assert schedule.ticks.evaluated_through == T0 and not schedule.ticks.pending
    with pytest.raises(AlreadyExists):
        decide(CreateSchedule(created()), schedule)
    with pytest.raises(FailedPrecondition):
        decide(DecideTicks(T0, HOURLY), None)


def test_the_definition_is_checked_field_by_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        tick_schedule_of(created(max_catch_up_runs=0), HOURLY)
    assert [v.field for v in caught.value.violations] == ["max_catch_up_runs"]


def test_deciding_moves_the_cursor_and_makes_the_launches_pending() -> None:
    schedule = new()
    assert decide(DecideTicks(T0 + timedelta(minutes=59), HOURLY), schedule) == []  # nothing due: no event

    events = decide(DecideTicks(T0 + 5 * HOUR, HOURLY), schedule)
    after = apply(schedule, events)

    [decided] = events
    assert isinstance(decided, TicksDecided) and decided.decisions.due_count == 5
    assert [t.scheduled_time for t in after.ticks.pending] == [T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR]
    assert after.ticks.evaluated_through == T0 + 5 * HOUR
    assert after.skipped == (("OVER_CATCH_UP_LIMIT", 2),) and after.version == 2
    assert decide(DecideTicks(T0 + 5 * HOUR, HOURLY), after) == []  # decided once, never again


def test_a_launch_is_recorded_once_and_counted() -> None:
    schedule = apply(new(), decide(DecideTicks(T0 + 2 * HOUR, HOURLY), new()))
    first, second = schedule.ticks.pending

    launched = apply(schedule, decide(RecordLaunch(first, "run-1"), schedule))
    assert decide(RecordLaunch(first, "run-1"), launched) == []  # a repeat changes nothing
    assert decide(RecordLaunch(first, "run-other"), launched) == []
    skipped = apply(launched, decide(RecordLaunch(second, skip_reason=SkipReason.ALREADY_MATERIALIZED), launched))

    assert not skipped.ticks.pending and skipped.launched_count == 1
    assert [(t.run_id, t.skip_reason) for t in skipped.last_ticks] == [("run-1", None), ("", SkipReason.ALREADY_MATERIALIZED)]
    assert skipped.skipped == (("ALREADY_MATERIALIZED", 1),)
    # Folding a repeated record (two servers racing) still counts the tick once.
    assert evolve(skipped, TickLaunched(first, "run-1")).launched_count == 1


def test_pause_decides_the_due_ticks_as_running_first_and_is_idempotent() -> None:
    events = decide(PauseSchedule("maintenance", T0 + HOUR, HOURLY), new())
    paused = apply(new(), events)

    assert [type(e) for e in events] == [TicksDecided, SchedulePaused]
    assert (paused.state, paused.note, len(paused.ticks.pending)) == (ScheduleState.PAUSED, "maintenance", 1)
    assert decide(PauseSchedule("again", T0 + 3 * HOUR, HOURLY), paused) == []

    while_paused = apply(paused, decide(DecideTicks(T0 + 3 * HOUR, HOURLY), paused))
    assert dict(while_paused.skipped) == {"PAUSED": 2} and len(while_paused.ticks.pending) == 1


def test_resume_decides_the_paused_time_as_paused_and_is_idempotent() -> None:
    paused = apply(new(), [SchedulePaused("stop")])
    events = decide(ResumeSchedule("go", T0 + 4 * HOUR, HOURLY), paused)
    resumed = apply(paused, events)

    assert [type(e) for e in events] == [TicksDecided, ScheduleResumed]
    assert (resumed.state, resumed.note) == (ScheduleState.RUNNING, "go")
    assert dict(resumed.skipped) == {"PAUSED": 4} and not resumed.ticks.pending
    assert decide(ResumeSchedule("again", T0 + 5 * HOUR, HOURLY), resumed) == []
    later = apply(resumed, decide(DecideTicks(T0 + 5 * HOUR, HOURLY), resumed))
    assert [t.scheduled_time for t in later.ticks.pending] == [T0 + 5 * HOUR]  # the paused time is never caught up


def test_latest_only_and_ticks_before_the_first_partition() -> None:
    latest = new(catch_up_policy=CatchUpPolicy.LATEST_ONLY)
    after = apply(latest, decide(DecideTicks(T0 + 3 * HOUR, HOURLY), latest))
    assert [t.scheduled_time for t in after.ticks.pending] == [T0 + 3 * HOUR] and after.skipped == (("SUPERSEDED", 2),)

    future = TimeWindowPartitionsDefinition.create(start="2025-01-01-02:00", cadence=Cadence("hourly"), timezone="UTC")
    early = apply(new(), decide(DecideTicks(T0 + 3 * HOUR, future), new()))
    assert [t.partition_key for t in early.ticks.pending] == ["2025-01-01-02:00"]
    assert dict(early.skipped) == {TickSkipReason.NO_PARTITION.name: 2}


def test_every_event_raises_the_version_by_one_and_last_ticks_are_bounded() -> None:
    schedule = new(max_catch_up_runs=30)
    schedule = apply(schedule, decide(DecideTicks(T0 + 25 * HOUR, HOURLY), schedule))
    version = schedule.version
    for number, tick in enumerate(schedule.ticks.pending):
        schedule = evolve(schedule, TickLaunched(tick, f"run-{number}"))
    assert schedule.version == version + 25 and schedule.launched_count == 25
    assert len(schedule.last_ticks) == LAST_TICKS_LIMIT and schedule.last_ticks[-1].run_id == "run-24"
    skipped = evolve(schedule, TickSkipped(schedule.last_ticks[0], SkipReason.FAILED))  # type: ignore[arg-type]
    assert skipped.version == schedule.version + 1 and skipped.skipped == schedule.skipped  # not pending: not counted
