"""The schedule lifecycle and its ticks as pure functions: ``decide(command, schedule) -> events``
and ``evolve(schedule, event) -> schedule``.

States: RUNNING <-> PAUSED. Ticks follow the protocol of
:mod:`arco_grpc.planning.schedule_ticks`: a :class:`TicksDecided` event moves
the cursor and makes launches pending, and a pending tick ends with exactly
one :class:`TickLaunched` or :class:`TickSkipped` (a second record of the same
tick decides nothing). Pause and resume are evaluation boundaries: the ticks
due before either are decided first, with the state they were due in. Every
event raises ``version`` by one; asking for the state a schedule is already in
decides no events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Union

from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.errors import AlreadyExists, FailedPrecondition
from arco_grpc.partitions.time_window.definition import TimeWindowPartitionsDefinition
from arco_grpc.planning.schedule_ticks import (
    CatchUpPolicy,
    Schedule,
    ScheduleTickState,
    TickDecisions,
    TickLaunch,
    decide_ticks,
    record_decisions,
    record_launched,
)

# How many of the latest launched (or launch-skipped) ticks a schedule shows.
LAST_TICKS_LIMIT = 20


class ScheduleState(IntEnum):
    """A schedule's lifecycle state; values equal the proto enum's numbers."""

    RUNNING = 1
    PAUSED = 2


# ---- events -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleCreated:
    """The first event of a schedule: its definition with every default filled in.

    ``start_time`` is the initial cursor: ticks after it are due.
    """

    name: str
    cron_schedule: str
    timezone: str
    asset_key: str
    asset_version: int
    catch_up_policy: CatchUpPolicy
    catch_up_window: timedelta
    max_catch_up_runs: int
    tags: tuple[tuple[str, str], ...]
    reprocess_policy: ReprocessPolicy
    start_time: datetime


@dataclass(frozen=True, slots=True)
class SchedulePaused:
    """RUNNING -> PAUSED."""

    note: str


@dataclass(frozen=True, slots=True)
class ScheduleResumed:
    """PAUSED -> RUNNING."""

    note: str


@dataclass(frozen=True, slots=True)
class TicksDecided:
    """Every tick in (evaluated_after, evaluated_through] decided: the cursor moves, launches go pending."""

    decisions: TickDecisions


@dataclass(frozen=True, slots=True)
class TickLaunched:
    """A pending tick's run was launched (``run_id`` empty when the launcher creates no run)."""

    tick: TickLaunch
    run_id: str


@dataclass(frozen=True, slots=True)
class TickSkipped:
    """At launch, the reprocess policy skipped a pending tick's partition."""

    tick: TickLaunch
    reason: SkipReason


ScheduleEvent = Union[ScheduleCreated, SchedulePaused, ScheduleResumed, TicksDecided, TickLaunched, TickSkipped]

# ---- commands -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateSchedule:
    """Create a schedule, RUNNING."""

    created: ScheduleCreated


@dataclass(frozen=True, slots=True)
class PauseSchedule:
    """Stop launching; ticks due until ``now`` are decided first, as running."""

    note: str
    now: datetime
    partitions: TimeWindowPartitionsDefinition


@dataclass(frozen=True, slots=True)
class ResumeSchedule:
    """Launch again; ticks due until ``now`` are decided first, as paused."""

    note: str
    now: datetime
    partitions: TimeWindowPartitionsDefinition


@dataclass(frozen=True, slots=True)
class DecideTicks:
    """Decide every tick after the cursor and at or before ``now``."""

    now: datetime
    partitions: TimeWindowPartitionsDefinition


@dataclass(frozen=True, slots=True)
class RecordLaunch:
    """Record what launching a pending tick gave: its run, or the reprocess policy's skip."""

    tick: TickLaunch
    run_id: str = ""
    skip_reason: SkipReason | None = None


ScheduleCommand = Union[CreateSchedule, PauseSchedule, ResumeSchedule, DecideTicks, RecordLaunch]

# ---- state --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TickRecord:
    """A tick as the schedule shows it: launched (``run_id``, maybe empty) or skipped at launch."""

    scheduled_time: datetime
    partition_key: str
    run_key: str
    run_id: str = ""
    skip_reason: SkipReason | None = None


@dataclass(frozen=True, slots=True)
class ScheduleAggregate:
    """What decisions need to know about a schedule, folded from its events.

    ``skipped`` counts the due ticks that launched nothing, by reason name
    (a :class:`~arco_grpc.planning.schedule_ticks.TickSkipReason` or a
    :class:`~arco_grpc.domain.partition_status.SkipReason`), sorted by name.
    """

    spec: ScheduleCreated
    state: ScheduleState
    version: int
    ticks: ScheduleTickState
    note: str = ""
    launched_count: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    last_ticks: tuple[TickRecord, ...] = ()

    @property
    def name(self) -> str:
        """The schedule's name."""
        return self.spec.name

    @property
    def paused(self) -> bool:
        """True while PAUSED."""
        return self.state is ScheduleState.PAUSED

    def tick_schedule(self, partitions: TimeWindowPartitionsDefinition, paused: bool | None = None) -> Schedule:
        """The pure schedule the tick functions evaluate (``paused`` overrides the current state)."""
        spec = self.spec
        return Schedule(
            spec.name, spec.cron_schedule, spec.timezone, spec.asset_key, partitions, spec.catch_up_policy,
            spec.catch_up_window, spec.max_catch_up_runs, self.paused if paused is None else paused,
        )


def tick_schedule_of(created: ScheduleCreated, partitions: TimeWindowPartitionsDefinition) -> Schedule:
    """The pure schedule a creation describes (checks every value of the definition).

    Raises:
        InvalidArgument: with the field name of the first bad value.
    """
    return Schedule(
        created.name, created.cron_schedule, created.timezone, created.asset_key, partitions,
        created.catch_up_policy, created.catch_up_window, created.max_catch_up_runs,
    )


def _decided(schedule: ScheduleAggregate, now: datetime, partitions: TimeWindowPartitionsDefinition) -> list[ScheduleEvent]:
    """TicksDecided for the ticks in (cursor, now] under the current state, or nothing when none is due."""
    after = schedule.ticks.evaluated_through
    if now <= after:
        return []
    decisions = decide_ticks(schedule.tick_schedule(partitions), after, now)
    return [TicksDecided(decisions)] if decisions.due_count else []


def decide(command: ScheduleCommand, schedule: ScheduleAggregate | None) -> list[ScheduleEvent]:
    """The events that carry out ``command`` on ``schedule`` (None before creation).

    Raises:
        AlreadyExists: a schedule with this name exists.
        FailedPrecondition: the schedule does not exist.
    """
    if isinstance(command, CreateSchedule):
        if schedule is not None:
            raise AlreadyExists(
                f"a schedule named {schedule.name!r} exists already; choose another name",
                reason="SCHEDULE_EXISTS",
                metadata={"name": schedule.name},
            )
        return [command.created]
    if schedule is None:
        raise FailedPrecondition("the schedule does not exist")
    if isinstance(command, DecideTicks):
        return _decided(schedule, command.now, command.partitions)
    if isinstance(command, PauseSchedule):
        if schedule.paused:
            return []
        return [*_decided(schedule, command.now, command.partitions), SchedulePaused(command.note)]
    if isinstance(command, ResumeSchedule):
        if not schedule.paused:
            return []
        return [*_decided(schedule, command.now, command.partitions), ScheduleResumed(command.note)]
    if isinstance(command, RecordLaunch):
        if all(pending.run_key != command.tick.run_key for pending in schedule.ticks.pending):
            return []  # recorded before (or never decided): recording it again changes nothing
        if command.skip_reason is not None:
            return [TickSkipped(command.tick, command.skip_reason)]
        return [TickLaunched(command.tick, command.run_id)]
    raise TypeError(f"not a schedule command: {command!r}")


def _count(counts: tuple[tuple[str, int], ...], more: dict[str, int]) -> tuple[tuple[str, int], ...]:
    merged = dict(counts)
    for reason, count in more.items():
        merged[reason] = merged.get(reason, 0) + count
    return tuple(sorted((reason, count) for reason, count in merged.items() if count))


def _ended(schedule: ScheduleAggregate, record: TickRecord) -> ScheduleAggregate:
    """``schedule`` with the pending tick ``record`` ended (a tick not pending changes nothing but the version)."""
    if all(pending.run_key != record.run_key for pending in schedule.ticks.pending):
        return schedule
    ticks = record_launched(schedule.ticks, record.run_key)
    last = (*schedule.last_ticks, record)[-LAST_TICKS_LIMIT:]
    if record.skip_reason is None:
        return replace(schedule, ticks=ticks, launched_count=schedule.launched_count + 1, last_ticks=last)
    skipped = _count(schedule.skipped, {record.skip_reason.name: 1})
    return replace(schedule, ticks=ticks, skipped=skipped, last_ticks=last)


def evolve(schedule: ScheduleAggregate | None, event: ScheduleEvent) -> ScheduleAggregate:
    """``schedule`` after ``event``; version rises by exactly one."""
    if isinstance(event, ScheduleCreated):
        if schedule is not None:
            raise ValueError("ScheduleCreated on an existing schedule")
        return ScheduleAggregate(event, ScheduleState.RUNNING, 1, ScheduleTickState(event.start_time))
    if schedule is None:
        raise ValueError(f"{type(event).__name__} before ScheduleCreated")
    bumped = replace(schedule, version=schedule.version + 1)
    if isinstance(event, SchedulePaused):
        return replace(bumped, state=ScheduleState.PAUSED, note=event.note)
    if isinstance(event, ScheduleResumed):
        return replace(bumped, state=ScheduleState.RUNNING, note=event.note)
    if isinstance(event, TicksDecided):
        skipped = {reason.name: count for reason, count in event.decisions.skipped.items()}
        return replace(
            bumped, ticks=record_decisions(bumped.ticks, event.decisions), skipped=_count(bumped.skipped, skipped)
        )
    if isinstance(event, TickLaunched):
        tick = event.tick
        return _ended(bumped, TickRecord(tick.scheduled_time, tick.partition_key, tick.run_key, event.run_id))
    if isinstance(event, TickSkipped):
        tick = event.tick
        return _ended(bumped, TickRecord(tick.scheduled_time, tick.partition_key, tick.run_key, "", event.reason))
    raise TypeError(f"not a schedule event: {event!r}")


def fold(events: list[ScheduleEvent]) -> ScheduleAggregate | None:
    """The schedule after ``events`` (None for none)."""
    schedule = None
    for event in events:
        schedule = evolve(schedule, event)
    return schedule
