"""The schedule application: decide, append, answer; the reads; and the appends of the tick loop.

No business rule lives here (the lifecycle and ticks are ``domain/schedule.py``
over ``planning/schedule_ticks.py``). A schedule's events live in one stream,
``schedule/{name}``; every decision is made against the ``schedules`` row
(its folded state) at the row's stream version, under the stream's lock, so a
concurrent write is decided again, never merged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as api, schedules_pb2 as sc
from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.domain.schedule import (
    CreateSchedule,
    DecideTicks,
    PauseSchedule,
    RecordLaunch,
    ResumeSchedule,
    ScheduleAggregate,
    ScheduleCommand,
    ScheduleCreated,
    ScheduleEvent,
    decide,
    evolve,
    tick_schedule_of,
)
from arco_grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from arco_grpc.partitions.time_window.cron_ticks import CronTicks
from arco_grpc.partitions.time_window.definition import TimeWindowPartitionsDefinition
from arco_grpc.planning.schedule_ticks import CatchUpPolicy, TickLaunch
from arco_grpc.service.appending import AfterCommit, Clock, DecisionRunner
from arco_grpc.service.backfill_plans import PlanResolver
from arco_grpc.service.convert_schedules import (
    SCHEDULE_EVENT_TYPES,
    aggregate_from_proto,
    aggregate_to_proto,
    event_from_payload,
    event_to_payload,
)
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.store import EventStore, NewEvent, ScheduleRecord, StoredEvent, Transaction
from arco_grpc.store.payloads import decode_payload, encode_event

M = TypeVar("M", bound=Message)
STREAM_PREFIX = "schedule/"
# How far ahead a start_time may lie: a schedule starting next year is a plan; one starting later is a typo.
MAX_START_AHEAD = timedelta(days=366)


def schedule_stream(name: str) -> str:
    """The stream of schedule ``name``'s events."""
    return STREAM_PREFIX + name


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A checked CreateSchedule request (defaults filled in; ``start_time`` None means now)."""

    name: str
    cron_schedule: str
    timezone: str
    asset_key: str
    catch_up_policy: CatchUpPolicy
    catch_up_window: timedelta
    max_catch_up_runs: int
    tags: tuple[tuple[str, str], ...]
    reprocess_policy: ReprocessPolicy
    start_time: datetime | None


def next_tick_after(schedule: ScheduleAggregate) -> datetime | None:
    """The first tick after the cursor of a running schedule (None while paused)."""
    if schedule.paused:
        return None
    spec = schedule.spec
    return CronTicks(spec.cron_schedule, spec.timezone, schedule.ticks.evaluated_through).at(0)


def _to_proto(schedule: ScheduleAggregate, created_at: datetime, updated_at: datetime) -> sc.Schedule:
    return aggregate_to_proto(schedule, created_at, updated_at, next_tick_after(schedule))


def _aggregate(record: ScheduleRecord | None) -> ScheduleAggregate | None:
    return None if record is None else aggregate_from_proto(sc.Schedule.FromString(record.snapshot))


async def project_schedules(transaction: Transaction, events: Sequence[StoredEvent]) -> None:
    """Keeps the schedules table: each schedule event folded into its row; other events are not its business."""
    for event in events:
        if event.event_type not in SCHEDULE_EVENT_TYPES:
            continue
        name = event.stream_id.removeprefix(STREAM_PREFIX)
        domain_event = event_from_payload(decode_payload(event.event_type, event.payload))
        if isinstance(domain_event, ScheduleCreated):
            record, schedule = None, evolve(None, domain_event)
            created_sequence, created_at = event.sequence, event.recorded_at
        else:
            record = await transaction.get_schedule(name)
            assert record is not None, f"{event.event_type} of schedule {name!r} before its ScheduleCreated"
            schedule = evolve(_aggregate(record), domain_event)
            created_sequence, created_at = record.created_sequence, record.created_at
        snapshot = aggregate_to_proto(schedule, created_at, event.recorded_at)
        await transaction.put_schedule(ScheduleRecord(
            name=name, state=int(schedule.state), asset_key=schedule.spec.asset_key,
            stream_version=event.stream_version, created_sequence=created_sequence, created_at=created_at,
            updated_at=event.recorded_at, snapshot=snapshot.SerializeToString(deterministic=True),
        ))


def not_found(name: str) -> NotFound:
    """The error for a schedule name that names nothing."""
    return NotFound(f"no schedule is named {name!r}", reason="SCHEDULE_NOT_FOUND", metadata={"name": name})


def _encoded(events: Sequence[ScheduleEvent]) -> list[NewEvent]:
    return [encode_event(event_to_payload(event)) for event in events]


class ScheduleApplication:
    """Use cases of ScheduleService, and the appends of the tick loop, over an event store."""

    def __init__(
        self, store: EventStore, plans: PlanResolver, clock: Clock, after_commit: AfterCommit | None = None
    ) -> None:
        self._store = store
        self._plans = plans
        self._runner = DecisionRunner(store, clock, after_commit)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        """The current time, from the injected clock."""
        return self._runner.now()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` after a schedule was created, paused or resumed (the tick loop wakes)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    async def partitions_of(self, spec: ScheduleCreated) -> TimeWindowPartitionsDefinition:
        """The partitions definition the schedule's ticks target (the asset version it was created against).

        Raises:
            FailedPrecondition: that version is not in the asset history.
        """
        asset = await self._plans.asset_at(spec.asset_key, spec.asset_version)
        assert isinstance(asset.definition, TimeWindowPartitionsDefinition)  # checked at creation
        return asset.definition

    # -- mutations --------------------------------------------------------------

    async def create(self, identity: RequestIdentity, request: NewSchedule) -> api.CreateScheduleResponse:
        """Creates a schedule, RUNNING.

        Raises:
            NotFound: the asset does not exist.
            FailedPrecondition: the asset has no time-window partitions.
            InvalidArgument: a value of the definition is bad (with its field).
            AlreadyExists: a schedule has this name.
        """

        async def decision(now: datetime) -> tuple[int, list[NewEvent], api.CreateScheduleResponse]:
            existing = _aggregate(await self._store.get_schedule(request.name))
            asset = await self._plans.current_asset(request.asset_key, "asset_key")
            if not isinstance(asset.definition, TimeWindowPartitionsDefinition):
                kind = "no partitions" if asset.definition is None else type(asset.definition).__name__
                raise FailedPrecondition(
                    f"asset {request.asset_key!r} has {kind}; a schedule targets an asset with time-window partitions",
                    reason="ASSET_NOT_TIME_PARTITIONED",
                    metadata={"asset_key": request.asset_key, "field": "asset_key"},
                )
            start = now if request.start_time is None else request.start_time
            if start > now + MAX_START_AHEAD:
                raise InvalidArgument(
                    f"start_time {start.isoformat()} is more than {MAX_START_AHEAD.days} days ahead", field="start_time"
                )
            created = ScheduleCreated(
                request.name, request.cron_schedule, request.timezone, request.asset_key, asset.version,
                request.catch_up_policy, request.catch_up_window, request.max_catch_up_runs, request.tags,
                request.reprocess_policy, start,
            )
            tick_schedule_of(created, asset.definition)  # checks the cron, zone and catch-up values
            events = decide(CreateSchedule(created), existing)
            response = api.CreateScheduleResponse(schedule=_to_proto(evolve(None, created), now, now))
            return 0, _encoded(events), response

        response = await self._runner.run(
            identity, schedule_stream(request.name), decision, api.CreateScheduleResponse, project_schedules
        )
        self._changed()
        return response

    async def _steer(
        self,
        identity: RequestIdentity,
        name: str,
        command: Callable[[datetime, TimeWindowPartitionsDefinition], ScheduleCommand],
        response_type: type[M],
    ) -> M:
        """Pauses or resumes (``command`` of the time and the partitions); answers with the schedule after.

        Raises:
            NotFound: no schedule has this name.
        """

        async def decision(now: datetime) -> tuple[int, list[NewEvent], M]:
            record = await self._store.get_schedule(name)
            schedule = _aggregate(record)
            if record is None or schedule is None:
                raise not_found(name)
            events = decide(command(now, await self.partitions_of(schedule.spec)), schedule)
            for event in events:
                schedule = evolve(schedule, event)
            updated_at = now if events else record.updated_at
            response = response_type(schedule=_to_proto(schedule, record.created_at, updated_at))
            return record.stream_version, _encoded(events), response

        response = await self._runner.run(identity, schedule_stream(name), decision, response_type, project_schedules)
        self._changed()
        return response

    async def pause(self, identity: RequestIdentity, name: str, note: str) -> api.PauseScheduleResponse:
        """RUNNING -> PAUSED, after deciding the ticks due until now as running."""
        return await self._steer(
            identity, name, lambda now, partitions: PauseSchedule(note, now, partitions), api.PauseScheduleResponse
        )

    async def resume(self, identity: RequestIdentity, name: str, note: str) -> api.ResumeScheduleResponse:
        """PAUSED -> RUNNING, after deciding the ticks due until now as paused."""
        return await self._steer(
            identity, name, lambda now, partitions: ResumeSchedule(note, now, partitions), api.ResumeScheduleResponse
        )

    # -- reads ------------------------------------------------------------------

    async def load(self, name: str) -> ScheduleAggregate | None:
        """The folded schedule, or None when no schedule has this name."""
        return _aggregate(await self._store.get_schedule(name))

    async def get(self, name: str) -> sc.Schedule:
        """One schedule.

        Raises:
            NotFound: no schedule has this name.
        """
        record = await self._store.get_schedule(name)
        schedule = _aggregate(record)
        if record is None or schedule is None:
            raise not_found(name)
        return _to_proto(schedule, record.created_at, record.updated_at)

    async def list(self, after_sequence: int, limit: int) -> tuple[list[sc.Schedule], int | None]:
        """Up to ``limit`` schedules in creation order, and the sequence to continue after (None at the end)."""
        records = await self._store.list_schedules(after_sequence, limit + 1)
        page = []
        for record in records[:limit]:
            message = _to_proto(_aggregate(record), record.created_at, record.updated_at)  # type: ignore[arg-type]
            del message.last_ticks[:]
            page.append(message)
        return page, (records[limit - 1].created_sequence if len(records) > limit else None)

    async def all_schedules(self) -> list[ScheduleAggregate]:
        """Every schedule, in creation order."""
        found: list[ScheduleAggregate] = []
        after = 0
        while True:
            records = await self._store.list_schedules(after, 500)
            found.extend(_aggregate(record) for record in records)  # type: ignore[misc]
            if len(records) < 500:
                return found
            after = records[-1].created_sequence

    # -- the tick loop's appends ------------------------------------------------

    async def _decide_unrequested(self, name: str, method: str, command: Callable[[datetime], ScheduleCommand]) -> None:
        async def decision(now: datetime) -> tuple[int, list[NewEvent]]:
            record = await self._store.get_schedule(name)
            schedule = _aggregate(record)
            if record is None or schedule is None:
                raise not_found(name)
            return record.stream_version, _encoded(decide(command(now), schedule))

        await self._runner.run_unrequested(schedule_stream(name), decision, method, project_schedules)

    async def decide_due(self, schedule: ScheduleAggregate) -> None:
        """Decides the schedule's ticks due until now (TicksDecided; nothing when none is due).

        Raises:
            FailedPrecondition: the asset version the schedule targets is not in the asset history.
        """
        partitions = await self.partitions_of(schedule.spec)
        await self._decide_unrequested(schedule.name, "DecideTicks", lambda now: DecideTicks(now, partitions))

    async def record_launch(
        self, name: str, tick: TickLaunch, run_id: str = "", skip_reason: SkipReason | None = None
    ) -> None:
        """Records a pending tick's launch (its run, or the reprocess policy's skip); a repeat records nothing."""
        await self._decide_unrequested(name, "LaunchTick", lambda now: RecordLaunch(tick, run_id, skip_reason))
