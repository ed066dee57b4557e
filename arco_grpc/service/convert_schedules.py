"""Protobuf <-> pure values for schedules: definitions, ticks, events and the folded state.

Domain enums reuse the proto numbers (ScheduleState, ReprocessPolicy); skip
reasons cross by name (TickSkipReason.PAUSED <-> TICK_SKIP_REASON_PAUSED),
since a schedule counts both the tick decision's reasons and the reprocess
policy's. The schedules projection stores the folded state as a Schedule
message, so it is read back by :func:`aggregate_from_proto`.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import events_pb2 as ev, schedules_pb2 as sc
from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.domain.schedule import (
    ScheduleAggregate,
    ScheduleCreated,
    ScheduleEvent,
    SchedulePaused,
    ScheduleResumed,
    ScheduleState,
    TickLaunched,
    TickRecord,
    TicksDecided,
    TickSkipped,
)
from arco_grpc.planning.schedule_ticks import CatchUpPolicy, ScheduleTickState, TickDecisions, TickLaunch, TickSkipReason
from arco_grpc.service.convert_chunk_events import duration_to_proto
from arco_grpc.service.convert_partitions import datetime_from_proto, datetime_to_proto

SCHEDULE_EVENT_TYPES = frozenset(
    ("ScheduleCreated", "SchedulePaused", "ScheduleResumed", "TicksDecided", "TickLaunched", "TickSkipped")
)
_REASON_PREFIX = "TICK_SKIP_REASON_"
_POLICY_PREFIX = "CATCH_UP_POLICY_"


def skip_reason_to_proto(name: str) -> int:
    """The TickSkipReason number of a reason name ("PAUSED", "ALREADY_MATERIALIZED", ...)."""
    return sc.TickSkipReason.Value(_REASON_PREFIX + name)


def skip_reason_name(number: int) -> str:
    """The reason name of a TickSkipReason number."""
    return sc.TickSkipReason.Name(number).removeprefix(_REASON_PREFIX)  # type: ignore[arg-type]


def catch_up_policy_to_proto(policy: CatchUpPolicy) -> int:
    """The CatchUpPolicy number of a policy."""
    return sc.CatchUpPolicy.Value(_POLICY_PREFIX + policy.value)


def catch_up_policy_from_proto(number: int) -> CatchUpPolicy:
    """The policy of a CatchUpPolicy number; unspecified is LATEST_ONLY.

    Raises:
        ValueError: an unknown number.
    """
    if number == 0:
        return CatchUpPolicy.LATEST_ONLY
    return CatchUpPolicy(sc.CatchUpPolicy.Name(number).removeprefix(_POLICY_PREFIX))  # type: ignore[arg-type]


# -- ticks --------------------------------------------------------------------


def tick_to_proto(tick: TickLaunch | TickRecord) -> sc.ScheduleTick:
    """The ScheduleTick of a pending tick or of a launched (or launch-skipped) one."""
    message = sc.ScheduleTick(
        scheduled_time=datetime_to_proto(tick.scheduled_time), partition_key=tick.partition_key, run_key=tick.run_key
    )
    if isinstance(tick, TickRecord):
        message.run_id = tick.run_id
        if tick.skip_reason is not None:
            message.skip_reason = skip_reason_to_proto(tick.skip_reason.name)  # type: ignore[assignment]
    return message


def launch_from_proto(message: sc.ScheduleTick) -> TickLaunch:
    """The pending tick a ScheduleTick names."""
    return TickLaunch(datetime_from_proto(message.scheduled_time, "scheduled_time"), message.partition_key, message.run_key)


def _record_from_proto(message: sc.ScheduleTick) -> TickRecord:
    reason = SkipReason[skip_reason_name(message.skip_reason)] if message.skip_reason else None
    launch = launch_from_proto(message)
    return TickRecord(launch.scheduled_time, launch.partition_key, launch.run_key, message.run_id, reason)


def _counts_to_proto(counts: tuple[tuple[str, int], ...]) -> list[sc.TickSkipCount]:
    messages = [sc.TickSkipCount(reason=skip_reason_to_proto(name), count=n) for name, n in counts]  # type: ignore[arg-type]
    return sorted(messages, key=lambda message: message.reason)


# -- events -------------------------------------------------------------------


def created_to_proto(event: ScheduleCreated) -> ev.ScheduleCreated:
    """The ScheduleCreated payload of the event."""
    return ev.ScheduleCreated(
        name=event.name,
        cron_schedule=event.cron_schedule,
        timezone=event.timezone,
        asset_key=event.asset_key,
        asset_version=event.asset_version,
        catch_up_policy=catch_up_policy_to_proto(event.catch_up_policy),  # type: ignore[arg-type]
        catch_up_window=duration_to_proto(event.catch_up_window),
        max_catch_up_runs=event.max_catch_up_runs,
        tags=dict(event.tags),
        reprocess_policy=int(event.reprocess_policy),  # type: ignore[arg-type]
        start_time=datetime_to_proto(event.start_time),
    )


def created_from_proto(message: ev.ScheduleCreated) -> ScheduleCreated:
    """The domain event of a stored ScheduleCreated payload."""
    return ScheduleCreated(
        name=message.name,
        cron_schedule=message.cron_schedule,
        timezone=message.timezone,
        asset_key=message.asset_key,
        asset_version=message.asset_version,
        catch_up_policy=catch_up_policy_from_proto(message.catch_up_policy),
        catch_up_window=message.catch_up_window.ToTimedelta(),
        max_catch_up_runs=message.max_catch_up_runs,
        tags=tuple(sorted(message.tags.items())),
        reprocess_policy=ReprocessPolicy(message.reprocess_policy or ReprocessPolicy.ALL),
        start_time=datetime_from_proto(message.start_time, "start_time"),
    )


def event_to_payload(event: ScheduleEvent) -> Message:
    """The protobuf payload of a schedule event."""
    if isinstance(event, ScheduleCreated):
        return created_to_proto(event)
    if isinstance(event, SchedulePaused):
        return ev.SchedulePaused(note=event.note)
    if isinstance(event, ScheduleResumed):
        return ev.ScheduleResumed(note=event.note)
    if isinstance(event, TicksDecided):
        decisions = event.decisions
        return ev.TicksDecided(
            evaluated_after=datetime_to_proto(decisions.evaluated_after),
            evaluated_through=datetime_to_proto(decisions.evaluated_through),
            launches=[tick_to_proto(launch) for launch in decisions.launches],
            skipped=_counts_to_proto(tuple((reason.name, n) for reason, n in decisions.skipped.items())),
        )
    if isinstance(event, TickLaunched):
        tick = tick_to_proto(event.tick)
        tick.run_id = event.run_id
        return ev.TickLaunched(tick=tick)
    if isinstance(event, TickSkipped):
        tick = tick_to_proto(event.tick)
        tick.skip_reason = skip_reason_to_proto(event.reason.name)  # type: ignore[assignment]
        return ev.TickSkipped(tick=tick)
    raise TypeError(f"not a schedule event: {event!r}")


def event_from_payload(message: Message) -> ScheduleEvent:
    """The domain event of a stored schedule payload."""
    if isinstance(message, ev.ScheduleCreated):
        return created_from_proto(message)
    if isinstance(message, ev.SchedulePaused):
        return SchedulePaused(message.note)
    if isinstance(message, ev.ScheduleResumed):
        return ScheduleResumed(message.note)
    if isinstance(message, ev.TicksDecided):
        return TicksDecided(TickDecisions(
            datetime_from_proto(message.evaluated_after, "evaluated_after"),
            datetime_from_proto(message.evaluated_through, "evaluated_through"),
            tuple(launch_from_proto(launch) for launch in message.launches),
            {TickSkipReason[skip_reason_name(entry.reason)]: entry.count for entry in message.skipped},
        ))
    if isinstance(message, ev.TickLaunched):
        return TickLaunched(launch_from_proto(message.tick), message.tick.run_id)
    if isinstance(message, ev.TickSkipped):
        return TickSkipped(launch_from_proto(message.tick), SkipReason[skip_reason_name(message.tick.skip_reason)])
    raise TypeError(f"not a schedule event payload: {type(message).__name__}")


# -- the folded state -----------------------------------------------------------------


def aggregate_to_proto(
    schedule: ScheduleAggregate, created_at: datetime, updated_at: datetime, next_tick: datetime | None = None
) -> sc.Schedule:
    """The Schedule message of a folded schedule (``next_tick``: the first tick after the cursor, if running)."""
    spec = created_to_proto(schedule.spec)
    message = sc.Schedule(
        name=spec.name,
        cron_schedule=spec.cron_schedule,
        timezone=spec.timezone,
        asset_key=spec.asset_key,
        asset_version=spec.asset_version,
        catch_up_policy=spec.catch_up_policy,
        catch_up_window=spec.catch_up_window,
        max_catch_up_runs=spec.max_catch_up_runs,
        tags=spec.tags,
        reprocess_policy=spec.reprocess_policy,
        start_time=spec.start_time,
        state=int(schedule.state),  # type: ignore[arg-type]
        note=schedule.note,
        state_version=schedule.version,
        evaluated_through=datetime_to_proto(schedule.ticks.evaluated_through),
        pending_ticks=[tick_to_proto(tick) for tick in schedule.ticks.pending],
        launched_tick_count=schedule.launched_count,
        skipped_tick_counts=_counts_to_proto(schedule.skipped),
        last_ticks=[tick_to_proto(tick) for tick in schedule.last_ticks],
        create_time=datetime_to_proto(created_at),
        update_time=datetime_to_proto(updated_at),
    )
    if next_tick is not None:
        message.next_tick_time.CopyFrom(datetime_to_proto(next_tick))
    return message


def aggregate_from_proto(message: sc.Schedule) -> ScheduleAggregate:
    """The folded schedule a Schedule message (as the projection stores it) holds."""
    spec = created_from_proto(ev.ScheduleCreated(
        name=message.name,
        cron_schedule=message.cron_schedule,
        timezone=message.timezone,
        asset_key=message.asset_key,
        asset_version=message.asset_version,
        catch_up_policy=message.catch_up_policy,
        catch_up_window=message.catch_up_window,
        max_catch_up_runs=message.max_catch_up_runs,
        tags=message.tags,
        reprocess_policy=message.reprocess_policy,
        start_time=message.start_time,
    ))
    return ScheduleAggregate(
        spec=spec,
        state=ScheduleState(message.state),
        version=message.state_version,
        ticks=ScheduleTickState(
            datetime_from_proto(message.evaluated_through, "evaluated_through"),
            tuple(launch_from_proto(tick) for tick in message.pending_ticks),
        ),
        note=message.note,
        launched_count=message.launched_tick_count,
        skipped=tuple(sorted((skip_reason_name(entry.reason), entry.count) for entry in message.skipped_tick_counts)),
        last_ticks=tuple(_record_from_proto(tick) for tick in message.last_ticks),
    )
