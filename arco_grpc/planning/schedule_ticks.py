"""Schedule ticks: which are due, which to launch after downtime, what each targets.

A :class:`Schedule` fires on a cron expression in an IANA zone and materializes
one time-window partitioned asset. Its ticks are computed by the same engine as
time-window partitions (:class:`~arco_grpc.partitions.time_window.cron_ticks.CronTicks`),
so daylight-saving changes follow Dagster's rules: an hourly schedule has no tick
at a wall time a spring-forward skips and two ticks at one a fall-back repeats;
a daily (restricted-hour) schedule fires a skipped time at the end of the gap
and a repeated one once, at its later occurrence. A tick is identified by its
scheduled execution time as a UTC instant.

Evaluation. The server keeps a cursor per schedule: every tick at or before it
has been decided. :func:`decide_ticks` decides every tick in (cursor, now]:

* paused: none launches (reason PAUSED). Pause and resume are evaluation
  boundaries: the server decides the ticks due before a pause with the schedule
  running, and those due while paused with it paused, so resuming never catches
  up the paused time (as Dagster, which restarts a stopped schedule from now).
* LATEST_ONLY (Dagster): only the latest due tick launches; the earlier ones
  are SUPERSEDED. Dagster's scheduler launches only the latest tick of a
  schedule without a partition set, which in 1.13 is every schedule
  (dagster-semantics.md 5.2); historical gaps are for backfills.
* ALL_MISSED (Airflow's catchup=True, bounded as Temporal bounds it): every
  due tick whose scheduled time is within ``catch_up_window`` before now,
  launched oldest first, as Airflow creates catch-up runs in logical-date order
  so each run sees its predecessors' data. Older ticks are OUTSIDE_CATCH_UP_WINDOW
  (Temporal's ``missed_catchup_window``). If more than ``max_catch_up_runs`` remain,
  the most recent ones are kept and the older ones are OVER_CATCH_UP_LIMIT. Keeping
  the most recent ones is Dagster's ``max_catchup_runs`` rule (the last N ticks)
  and makes LATEST_ONLY the N = 1 case: the freshest partitions, the ones
  consumers read first, are never the ones dropped; older gaps are a backfill's job.

Each launched tick targets the partition Dagster's ``build_schedule_from_partitioned_job``
targets: the last partition as of the scheduled execution time, i.e. the latest
window that has ended by then (moved by the definition's ``end_offset``). A tick
before the definition's first partition has none and does not launch
(NO_PARTITION). Its run key is :func:`~arco_grpc.planning.run_keys.run_key_for`
of a SCHEDULE request scoped to (schedule name, scheduled time) with the
partition key as request key, Dagster's ``run_key = partition_key``.

Exactly once across restarts. Deciding and launching are separate steps joined
by a :class:`ScheduleTickState`: the server persists each :class:`TickDecisions`
(:func:`record_decisions`: the cursor moves to ``now`` and the launches become
pending) before launching anything, launches pending ticks oldest first, and
records each launch with its run (:func:`record_launched`). Killed anywhere, it
resumes from the recorded state: pending launches are launched (a run that was
created but not recorded is found again by its run key), then the ticks after
the cursor are decided. A decision is never remade, so a catch-up interrupted
by a restart launches exactly the ticks it decided, each once. Counts of ticks
not launched are kept per reason rather than listed: a long downtime of a
minutely schedule has millions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window.cron_ticks import CronTicks, check_cron_in_zone
from arco_grpc.partitions.time_window.definition import TimeWindowPartitionsDefinition
from arco_grpc.planning.run_keys import LogicalRunRequest, ScheduleScope, run_key_for

DEFAULT_CATCH_UP_WINDOW = timedelta(days=365)  # Temporal's DefaultCatchupWindow
DEFAULT_MAX_CATCH_UP_RUNS = 5  # Dagster's max_catchup_runs default


class CatchUpPolicy(enum.Enum):
    """Which missed ticks launch when several are due at once."""

    LATEST_ONLY = "LATEST_ONLY"
    ALL_MISSED = "ALL_MISSED"


class TickSkipReason(enum.Enum):
    """Why a due tick launched no run."""

    PAUSED = "PAUSED"
    SUPERSEDED = "SUPERSEDED"
    OUTSIDE_CATCH_UP_WINDOW = "OUTSIDE_CATCH_UP_WINDOW"
    OVER_CATCH_UP_LIMIT = "OVER_CATCH_UP_LIMIT"
    NO_PARTITION = "NO_PARTITION"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cron schedule in a zone that materializes a time-window partitioned asset.

    Raises:
        InvalidArgument: with the field name of the first bad value.
    """

    name: str
    cron_schedule: str
    timezone: str
    asset_key: str
    partitions: TimeWindowPartitionsDefinition
    catch_up_policy: CatchUpPolicy = CatchUpPolicy.LATEST_ONLY
    catch_up_window: timedelta = DEFAULT_CATCH_UP_WINDOW
    max_catch_up_runs: int = DEFAULT_MAX_CATCH_UP_RUNS
    paused: bool = False

    def __post_init__(self) -> None:
        for name in ("name", "asset_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "\x1f" in value:
                raise InvalidArgument(f"{name} must be a non-empty string without 0x1F, got {value!r}", field=name)
        check_cron_in_zone(self.cron_schedule, self.timezone)
        if not isinstance(self.partitions, TimeWindowPartitionsDefinition):
            raise InvalidArgument("a schedule's target asset must have time-window partitions", field="partitions")
        if not isinstance(self.catch_up_policy, CatchUpPolicy):
            raise InvalidArgument(f"unknown catch-up policy {self.catch_up_policy!r}", field="catch_up_policy")
        if not isinstance(self.catch_up_window, timedelta) or self.catch_up_window <= timedelta(0):
            raise InvalidArgument(
                f"catch_up_window must be a positive duration, got {self.catch_up_window!r}", field="catch_up_window"
            )
        runs = self.max_catch_up_runs
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise InvalidArgument(f"max_catch_up_runs must be at least 1, got {runs!r}", field="max_catch_up_runs")


@dataclass(frozen=True, slots=True)
class TickLaunch:
    """A tick that launches a run: its scheduled time (UTC), target partition and run key."""

    scheduled_time: datetime
    partition_key: str
    run_key: str


@dataclass(frozen=True, slots=True)
class TickDecisions:
    """The decision on every tick in (evaluated_after, evaluated_through].

    ``launches`` are oldest first; ``skipped`` counts the other due ticks by
    reason (reasons with no tick are absent).
    """

    evaluated_after: datetime
    evaluated_through: datetime
    launches: tuple[TickLaunch, ...]
    skipped: dict[TickSkipReason, int] = field(default_factory=dict)

    @property
    def due_count(self) -> int:
        """How many ticks were due in the evaluated interval."""
        return len(self.launches) + sum(self.skipped.values())


def due_tick_count(schedule: Schedule, after: datetime, until: datetime) -> int:
    """How many ticks of ``schedule`` fall in (after, until]."""
    return CronTicks(schedule.cron_schedule, schedule.timezone, after).count_through(until)


def due_ticks(schedule: Schedule, after: datetime, until: datetime) -> tuple[datetime, ...]:
    """The ticks of ``schedule`` in (after, until], oldest first, in UTC (all of them: bound the interval)."""
    ticks = CronTicks(schedule.cron_schedule, schedule.timezone, after)
    return tuple(ticks.at(i) for i in range(ticks.count_through(until)))


def tick_partition_key(schedule: Schedule, scheduled_time: datetime) -> str | None:
    """The partition a tick targets: the last one as of its scheduled time, or None before the first."""
    space = schedule.partitions.space(scheduled_time)
    return space.key_at(space.count - 1) if space.count else None


def tick_run_key(schedule: Schedule, scheduled_time: datetime, partition_key: str) -> str:
    """The run key of a tick's run: SCHEDULE scope (name, time), request key = partition key."""
    scope = ScheduleScope(schedule.name, scheduled_time.astimezone(timezone.utc), partition_key)
    return run_key_for(LogicalRunRequest(scope, schedule.asset_key))


def _chosen_indices(
    schedule: Schedule, ticks: CronTicks, due: int, now: datetime
) -> tuple[range, dict[TickSkipReason, int]]:
    """The indices of the due ticks that the policy launches, and the others counted by reason."""
    if schedule.paused:
        return range(0), {TickSkipReason.PAUSED: due}
    if schedule.catch_up_policy is CatchUpPolicy.LATEST_ONLY:
        return range(due - 1, due), {TickSkipReason.SUPERSEDED: due - 1}
    # Ticks are all after the cursor, so a window reaching further back changes nothing.
    oldest_in_window = max(now - schedule.catch_up_window, ticks.after)
    in_window = min(ticks.first_index_at_or_after(oldest_in_window), due)
    first = max(in_window, due - schedule.max_catch_up_runs)
    return range(first, due), {
        TickSkipReason.OUTSIDE_CATCH_UP_WINDOW: in_window,
        TickSkipReason.OVER_CATCH_UP_LIMIT: first - in_window,
    }


def decide_ticks(schedule: Schedule, after: datetime, now: datetime) -> TickDecisions:
    """Decides every tick in (after, now] under the schedule's policy; see the module docstring."""
    if now < after:
        raise ValueError(f"cannot evaluate backwards: now {now.isoformat()} is before {after.isoformat()}")
    ticks = CronTicks(schedule.cron_schedule, schedule.timezone, after)
    due = ticks.count_through(now)
    chosen, skipped = _chosen_indices(schedule, ticks, due, now) if due else (range(0), {})
    launches = []
    for index in chosen:
        scheduled = ticks.at(index)
        key = tick_partition_key(schedule, scheduled)
        if key is None:
            skipped[TickSkipReason.NO_PARTITION] = skipped.get(TickSkipReason.NO_PARTITION, 0) + 1
            continue
        launches.append(TickLaunch(scheduled, key, tick_run_key(schedule, scheduled, key)))
    return TickDecisions(after, now, tuple(launches), {r: n for r, n in skipped.items() if n})


@dataclass(frozen=True, slots=True)
class ScheduleTickState:
    """What the server has recorded for a schedule: its cursor and the decided, unlaunched ticks."""

    evaluated_through: datetime
    pending: tuple[TickLaunch, ...] = ()


def initial_tick_state(created_at: datetime) -> ScheduleTickState:
    """A new schedule's state: ticks after its creation time are due, none before."""
    return ScheduleTickState(created_at)


def record_decisions(state: ScheduleTickState, decisions: TickDecisions) -> ScheduleTickState:
    """The state after persisting ``decisions``: cursor moved, launches pending (oldest first).

    Raises:
        ValueError: the decisions do not start at the state's cursor (a stale or replayed evaluation).
    """
    if decisions.evaluated_after != state.evaluated_through:
        raise ValueError(
            f"decisions start at {decisions.evaluated_after.isoformat()}, "
            f"the cursor is at {state.evaluated_through.isoformat()}"
        )
    return ScheduleTickState(decisions.evaluated_through, state.pending + decisions.launches)


def record_launched(state: ScheduleTickState, run_key: str) -> ScheduleTickState:
    """The state after the run keyed ``run_key`` was created; recording it twice changes nothing."""
    return ScheduleTickState(state.evaluated_through, tuple(p for p in state.pending if p.run_key != run_key))
