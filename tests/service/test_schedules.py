"""ScheduleService through the real server and the generated stubs: create, get, list, pause, resume, bad input,
and the tick loop launching ticks as a manual clock moves (each pass run with ``schedule_ticker.tick()``).

Ticks launch real SCHEDULE runs through the server's own launcher: the runs are read back from the ledger
(RunService.ListRuns) and run by a worker (WorkerService)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf import duration_pb2

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as api, schedule_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as sc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi, worker_service_pb2_grpc
from arco_grpc.server import RunningServer, start_server
from arco_grpc.service.appending import AfterCommit
from arco_grpc.store import open_store
from tests.service.builders import apply, asset, dep, hourly, keys_selector, static, ts
from tests.service.conftest import FIXED_NOW, call_failure
from tests.service.test_worker_support import ManualClock
from tests.worker.processes import wait_until

pytestmark = pytest.mark.backends("sqlite", "postgres")

HOUR = timedelta(hours=1)
S = sc.Schedule
ALL_MISSED, LATEST_ONLY = sc.CATCH_UP_POLICY_ALL_MISSED, sc.CATCH_UP_POLICY_LATEST_ONLY


@dataclass
class Schedules:
    """A server on a manual clock with its schedule and catalog stubs."""

    running: RunningServer
    channel: grpc.aio.Channel
    clock: ManualClock
    stub: schedule_service_pb2_grpc.ScheduleServiceStub = field(init=False)
    catalog: catalog_service_pb2_grpc.CatalogServiceStub = field(init=False)
    runs: run_service_pb2_grpc.RunServiceStub = field(init=False)
    workers: worker_service_pb2_grpc.WorkerServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.stub = schedule_service_pb2_grpc.ScheduleServiceStub(self.channel)
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(self.channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(self.channel)

    async def create(self, name: str, **fields: object) -> sc.Schedule:
        fields.setdefault("cron_schedule", "0 * * * *")
        fields.setdefault("asset_key", "events")
        request = api.CreateScheduleRequest(request_id=f"create-{name}", name=name, **fields)  # type: ignore[arg-type]
        return (await self.stub.CreateSchedule(request)).schedule

    async def get(self, name: str) -> sc.Schedule:
        return (await self.stub.GetSchedule(api.GetScheduleRequest(name=name))).schedule

    async def advance(self, by: timedelta) -> None:
        """Moves the clock and runs a pass of the tick loop at the new time.

        When it returns, every tick due by then is decided and launched (by this pass, or by one the loop
        ran meanwhile: passes never overlap).
        """
        self.clock.now += by
        await self.running.schedule_ticker.tick()

    async def schedule_runs(self, name: str = "") -> list[rapi.Run]:
        """The ledger's SCHEDULE runs (of schedule ``name`` when given), oldest first."""
        request = rapi.ListRunsRequest(origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name=name, page_size=1000)
        return list((await self.runs.ListRuns(request)).runs)

    async def run_to_success(self, max_runs: int = 8) -> list[wapi.LeasedChunk]:
        """Leases what is ready as worker w1 and reports each run succeeded; returns what it leased."""
        leased = (await self.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w1", max_chunks=max_runs))).chunks
        for chunk in leased:
            await self.workers.CompleteChunk(wapi.CompleteChunkRequest(completion=wapi.ChunkCompletion(
                lease=chunk.lease, worker_id="w1", outcome=wapi.ChunkCompletion.OUTCOME_SUCCEEDED,
            )))
        return list(leased)


Starter = Callable[..., Awaitable[Schedules]]


@pytest.fixture
async def start_schedules(store_location: str) -> AsyncIterator[Starter]:
    """Starts servers on a manual clock (``after_commit``: the server's fault hook); stops them at the end."""
    started: list[Schedules] = []

    async def starter(after_commit: AfterCommit | None = None) -> Schedules:
        clock = ManualClock(FIXED_NOW)
        store = await open_store(store_location)
        running = await start_server(store, clock=clock, after_commit=after_commit)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        served = Schedules(running, channel, clock)
        await served.catalog.ApplyAssets(apply(
            "catalog", asset("events", hourly("2024-01-01-00:00")), asset("letters", static("a", "b")), asset("plain"),
        ))
        started.append(served)
        return served

    yield starter
    for served in started:
        await served.channel.close()
        await served.running.stop(grace=1)


@pytest.fixture
async def schedules(start_schedules: Starter) -> Schedules:
    return await start_schedules()


def window(hours: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(hours=hours))
    return duration


def tick_times(ticks: object) -> list[datetime]:
    return [t.scheduled_time.ToDatetime(tzinfo=timezone.utc) for t in ticks]  # type: ignore[attr-defined]


def skipped(schedule: sc.Schedule) -> dict[str, int]:
    return {sc.TickSkipReason.Name(entry.reason): entry.count for entry in schedule.skipped_tick_counts}


# -- create, get, list ----------------------------------------------------------------


async def test_a_created_schedule_runs_from_now_with_the_defaults_filled_in(schedules: Schedules) -> None:
    created = await schedules.create("hourly-events", tags={"team": "data"})

    assert (created.name, created.state, created.state_version) == ("hourly-events", S.STATE_RUNNING, 1)
    assert (created.timezone, created.catch_up_policy, created.max_catch_up_runs) == ("UTC", LATEST_ONLY, 5)
    assert created.catch_up_window.ToTimedelta() == timedelta(days=365)
    assert created.reprocess_policy == bf.REPROCESS_POLICY_ALL and dict(created.tags) == {"team": "data"}
    assert created.evaluated_through == ts(FIXED_NOW) and created.start_time == ts(FIXED_NOW)
    assert created.next_tick_time == ts(FIXED_NOW + HOUR)
    assert created.asset_version == 1 and not created.pending_ticks and created.launched_tick_count == 0
    assert await schedules.get("hourly-events") == created


async def test_list_pages_through_schedules_in_creation_order(schedules: Schedules) -> None:
    for name in ("c", "a", "b"):
        await schedules.create(name)
    first = await schedules.stub.ListSchedules(api.ListSchedulesRequest(page_size=2))
    second = await schedules.stub.ListSchedules(api.ListSchedulesRequest(page_size=2, page_token=first.next_page_token))

    assert [s.name for s in first.schedules] == ["c", "a"] and first.next_page_token
    assert [s.name for s in second.schedules] == ["b"] and not second.next_page_token


async def test_create_is_idempotent_by_request_id_and_names_are_unique(schedules: Schedules) -> None:
    request = api.CreateScheduleRequest(request_id="r1", name="n", cron_schedule="0 * * * *", asset_key="events")
    first = await schedules.stub.CreateSchedule(request)
    schedules.clock.now += timedelta(minutes=10)  # a retry later still gets the first answer
    assert await schedules.stub.CreateSchedule(request) == first

    reused = await call_failure(schedules.stub.CreateSchedule(
        api.CreateScheduleRequest(request_id="r1", name="other", cron_schedule="0 * * * *", asset_key="events")))
    taken = await call_failure(schedules.stub.CreateSchedule(
        api.CreateScheduleRequest(request_id="r2", name="n", cron_schedule="0 0 * * *", asset_key="events")))

    assert (reused.code, reused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert (taken.code, taken.reason) == (grpc.StatusCode.ALREADY_EXISTS, "SCHEDULE_EXISTS")
    assert (await schedules.get("n")).state_version == 1
    listed = await schedules.stub.ListSchedules(api.ListSchedulesRequest())
    assert [s.name for s in listed.schedules] == ["n"]


BAD_CREATES = [
    ({"name": ""}, grpc.StatusCode.INVALID_ARGUMENT, "name"),
    ({"name": "a\nb"}, grpc.StatusCode.INVALID_ARGUMENT, "name"),
    ({"cron_schedule": "0 * *"}, grpc.StatusCode.INVALID_ARGUMENT, "cron_schedule"),
    ({"timezone": "Mars/Olympus"}, grpc.StatusCode.INVALID_ARGUMENT, "timezone"),
    ({"asset_key": ""}, grpc.StatusCode.INVALID_ARGUMENT, "asset_key"),
    ({"catch_up_policy": 9}, grpc.StatusCode.INVALID_ARGUMENT, "catch_up_policy"),
    ({"catch_up_window": window(0)}, grpc.StatusCode.INVALID_ARGUMENT, "catch_up_window"),
    ({"max_catch_up_runs": -1}, grpc.StatusCode.INVALID_ARGUMENT, "max_catch_up_runs"),
    ({"reprocess_policy": 7}, grpc.StatusCode.INVALID_ARGUMENT, "reprocess_policy"),
    ({"start_time": ts(FIXED_NOW + timedelta(days=400))}, grpc.StatusCode.INVALID_ARGUMENT, "start_time"),
    ({"tags": {"": "x"}}, grpc.StatusCode.INVALID_ARGUMENT, "tags"),
    ({"request_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "request_id"),
    ({"asset_key": "missing"}, grpc.StatusCode.NOT_FOUND, None),
    ({"asset_key": "letters"}, grpc.StatusCode.FAILED_PRECONDITION, None),
    ({"asset_key": "plain"}, grpc.StatusCode.FAILED_PRECONDITION, None),
]


@pytest.mark.parametrize(("change", "code", "violation"), BAD_CREATES)
async def test_bad_creates_are_refused_precisely_and_write_nothing(
    schedules: Schedules, change: dict[str, object], code: grpc.StatusCode, violation: str | None
) -> None:
    fields: dict[str, object] = {"request_id": "bad", "name": "s", "cron_schedule": "0 * * * *", "asset_key": "events"}
    fields.update(change)
    failure = await call_failure(schedules.stub.CreateSchedule(api.CreateScheduleRequest(**fields)))  # type: ignore[arg-type]

    assert failure.code == code, failure.message
    if violation is not None:
        assert [name for name, _ in failure.violations] == [violation]
    else:
        assert failure.metadata["asset_key"] == fields["asset_key"]
    assert not (await schedules.stub.ListSchedules(api.ListSchedulesRequest())).schedules


async def test_unknown_schedules_are_not_found(schedules: Schedules) -> None:
    for call in (
        schedules.stub.GetSchedule(api.GetScheduleRequest(name="nope")),
        schedules.stub.PauseSchedule(api.PauseScheduleRequest(request_id="p", name="nope")),
        schedules.stub.ResumeSchedule(api.ResumeScheduleRequest(request_id="r", name="nope")),
    ):
        failure = await call_failure(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "SCHEDULE_NOT_FOUND")


# -- ticks ------------------------------------------------------------------------------


async def test_all_missed_launches_each_due_tick_once_up_to_the_limit(schedules: Schedules) -> None:
    await schedules.create("hourly", catch_up_policy=ALL_MISSED, max_catch_up_runs=3)

    await schedules.advance(HOUR)
    one = await schedules.get("hourly")
    assert [(t.partition_key, t.run_key != "") for t in one.last_ticks] == [("2025-01-01-00:00", True)]

    await schedules.advance(5 * HOUR)  # 5 due: the latest 3 launch
    await schedules.advance(timedelta(0))  # a pass at the same time decides and launches nothing more
    after = await schedules.get("hourly")
    assert tick_times(after.last_ticks) == [FIXED_NOW + h * HOUR for h in (1, 4, 5, 6)]
    assert [t.partition_key for t in after.last_ticks][1:] == ["2025-01-01-03:00", "2025-01-01-04:00", "2025-01-01-05:00"]
    assert len({t.run_key for t in after.last_ticks}) == 4
    assert after.launched_tick_count == 4 and not after.pending_ticks
    assert skipped(after) == {"TICK_SKIP_REASON_OVER_CATCH_UP_LIMIT": 2}
    assert after.evaluated_through == ts(FIXED_NOW + 6 * HOUR)
    assert after.next_tick_time == ts(FIXED_NOW + 7 * HOUR)


async def test_latest_only_launches_the_latest_due_tick(schedules: Schedules) -> None:
    await schedules.create("latest")
    await schedules.advance(3 * HOUR + timedelta(minutes=10))
    after = await schedules.get("latest")
    assert tick_times(after.last_ticks) == [FIXED_NOW + 3 * HOUR]
    assert skipped(after) == {"TICK_SKIP_REASON_SUPERSEDED": 2}


async def test_a_past_start_time_is_caught_up_by_the_woken_loop(schedules: Schedules) -> None:
    # No explicit pass: creating the schedule wakes the loop, which catches up at once.
    await schedules.create(
        "backdated", catch_up_policy=ALL_MISSED, max_catch_up_runs=10, catch_up_window=window(4),
        start_time=ts(FIXED_NOW - 10 * HOUR),
    )
    caught_up = await wait_until(
        lambda: _launched(schedules, "backdated", 5), "the woken loop to launch the ticks within the window"
    )
    assert tick_times(caught_up.last_ticks) == [FIXED_NOW - h * HOUR for h in (4, 3, 2, 1, 0)]
    assert skipped(caught_up) == {"TICK_SKIP_REASON_OUTSIDE_CATCH_UP_WINDOW": 5}


async def _launched(schedules: Schedules, name: str, count: int) -> sc.Schedule | None:
    schedule = await schedules.get(name)
    return schedule if schedule.launched_tick_count >= count and not schedule.pending_ticks else None


async def test_pause_and_resume_are_idempotent_boundaries(schedules: Schedules) -> None:
    await schedules.create("steered", catch_up_policy=ALL_MISSED)
    schedules.clock.now += HOUR  # due, not yet evaluated: the pause decides it, as running

    paused = (await schedules.stub.PauseSchedule(
        api.PauseScheduleRequest(request_id="p1", name="steered", note="maintenance"))).schedule
    assert (paused.state, paused.note, paused.state_version) == (S.STATE_PAUSED, "maintenance", 3)
    assert tick_times(paused.pending_ticks) == [FIXED_NOW + HOUR] and not paused.HasField("next_tick_time")
    await schedules.advance(2 * HOUR)  # the pending tick launches; the two due while paused do not
    settled = await schedules.get("steered")
    assert settled.launched_tick_count == 1 and not settled.pending_ticks
    again = (await schedules.stub.PauseSchedule(
        api.PauseScheduleRequest(request_id="p2", name="steered", note="again"))).schedule
    assert (again.state_version, again.note) == (settled.state_version, "maintenance")  # already paused: no event

    resumed = (await schedules.stub.ResumeSchedule(
        api.ResumeScheduleRequest(request_id="r1", name="steered", note="done"))).schedule
    assert (resumed.state, resumed.note) == (S.STATE_RUNNING, "done")
    assert skipped(resumed) == {"TICK_SKIP_REASON_PAUSED": 2} and resumed.launched_tick_count == 1
    version = resumed.state_version
    repeat = (await schedules.stub.ResumeSchedule(
        api.ResumeScheduleRequest(request_id="r2", name="steered", note="x"))).schedule
    assert repeat.state_version == version

    await schedules.advance(HOUR)
    final = await schedules.get("steered")
    assert tick_times(final.last_ticks) == [FIXED_NOW + HOUR, FIXED_NOW + 4 * HOUR]


# -- ticks are runs of the ledger --------------------------------------------------------


async def test_a_tick_is_a_schedule_run_in_the_ledger_that_a_worker_leases_and_completes(schedules: Schedules) -> None:
    await schedules.create("hourly")
    await schedules.create("other", cron_schedule="30 * * * *")
    await schedules.advance(HOUR)
    [tick] = (await schedules.get("hourly")).last_ticks
    [run] = await schedules.schedule_runs("hourly")

    assert (run.run_id, run.run_key, run.state) == (tick.run_id, tick.run_key, rapi.Run.STATE_QUEUED)
    assert (run.origin, run.origin_name, run.origin_run_key) == (rapi.RUN_ORIGIN_SCHEDULE, "hourly", "2025-01-01-00:00")
    assert (run.asset_key, run.partition_count, run.scheduled_time) == ("events", 1, ts(FIXED_NOW + HOUR))
    assert len(await schedules.schedule_runs()) == 2  # "other" ticked at 00:30, a run of its own

    leased = {chunk.run_id: chunk for chunk in await schedules.run_to_success()}
    ended = (await schedules.runs.GetRun(rapi.GetRunRequest(run_id=run.run_id))).run
    assert list(leased[run.run_id].partition_keys) == ["2025-01-01-00:00"]
    assert (leased[run.run_id].origin, leased[run.run_id].origin_name) == (rapi.RUN_ORIGIN_SCHEDULE, "hourly")
    assert (ended.state, ended.worker_id) == (rapi.Run.STATE_SUCCEEDED, "w1")


async def test_reprocess_missing_skips_a_materialized_partition_without_a_run(schedules: Schedules) -> None:
    materialized = "2024-12-31-22:00"
    manual = await schedules.runs.SubmitRun(rapi.SubmitRunRequest(
        request_id="m-1", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="events", selector=keys_selector(materialized),
    ))
    [done] = await schedules.run_to_success()
    assert done.run_id == manual.run.run_id
    # Ticks at 22:00, 23:00 and 00:00 target the hours before: 21:00, 22:00 (materialized) and 23:00.
    await schedules.create("missing-only", catch_up_policy=ALL_MISSED, reprocess_policy=bf.REPROCESS_POLICY_MISSING,
                           start_time=ts(FIXED_NOW - 3 * HOUR))
    await schedules.advance(timedelta(0))  # after the woken loop's pass, if it came first: nothing is left
    after = await schedules.get("missing-only")
    runs = await schedules.schedule_runs()

    assert [(t.partition_key, t.skip_reason, t.run_id != "") for t in after.last_ticks] == [
        ("2024-12-31-21:00", 0, True),
        (materialized, sc.TICK_SKIP_REASON_ALREADY_MATERIALIZED, False),
        ("2024-12-31-23:00", 0, True),
    ]
    assert after.launched_tick_count == 2 and skipped(after) == {"TICK_SKIP_REASON_ALREADY_MATERIALIZED": 1}
    assert [(r.run_id, r.origin_run_key) for r in runs] == [
        (t.run_id, t.partition_key) for t in after.last_ticks if t.run_id
    ]
    everything = (await schedules.runs.ListRuns(rapi.ListRunsRequest())).runs
    assert len(everything) == 3  # the manual run and two tick runs: none for the skipped tick


class LosesOneLaunchAnswer:
    """The server's after-commit fault hook: the second tick launch commits its run, then fails once, as if the
    answer were lost on the way back (the tick is then launched, but not recorded)."""

    def __init__(self) -> None:
        self.committed = 0
        self.failed = False

    def __call__(self, method: str) -> None:
        if method != "LaunchScheduleRun":
            return
        self.committed += 1
        if self.committed == 2 and not self.failed:
            self.failed = True
            raise ConnectionError("the launch's answer was lost")


async def test_a_launch_that_failed_stays_pending_and_finds_its_run_at_the_next_pass(start_schedules: Starter) -> None:
    fault = LosesOneLaunchAnswer()
    schedules = await start_schedules(fault)
    await schedules.create("flaky", catch_up_policy=ALL_MISSED)
    # One pass records the first launch and fails at the second (its tick stays pending); a later pass launches
    # it again and the rest. Two passes in a row guarantee a pass after the failing one, whichever one failed.
    await schedules.advance(3 * HOUR)
    await schedules.advance(timedelta(0))
    after = await schedules.get("flaky")
    runs = await schedules.schedule_runs("flaky")
    leased = await schedules.run_to_success()

    assert fault.failed and fault.committed == 3  # the second launch again found its run: no fourth run
    assert after.launched_tick_count == 3 and not after.pending_ticks
    assert [t.partition_key for t in after.last_ticks] == ["2025-01-01-00:00", "2025-01-01-01:00", "2025-01-01-02:00"]
    assert [(r.run_id, r.run_key) for r in runs] == [(t.run_id, t.run_key) for t in after.last_ticks]
    assert sorted(c.run_id for c in leased) == sorted(r.run_id for r in runs)  # each one dispatched


async def test_a_tick_whose_partition_needs_missing_upstream_partitions_is_skipped(schedules: Schedules) -> None:
    # "late" reads "early" hour by hour, and "early" has no partition after 2024-12-31 23:00.
    await schedules.catalog.ApplyAssets(apply(
        "upstream-catalog", asset("early", hourly("2024-12-01-00:00", end="2025-01-01-00:00")),
        asset("late", hourly("2024-12-01-00:00"), dep("early")),
    ))
    await schedules.create("late-hourly", asset_key="late", catch_up_policy=ALL_MISSED,
                           start_time=ts(FIXED_NOW - HOUR))
    await schedules.advance(HOUR)  # ticks at 00:00 (targets 23:00, which exists upstream) and 01:00 (00:00)
    after = await schedules.get("late-hourly")

    assert [(t.partition_key, t.skip_reason, t.run_id != "") for t in after.last_ticks] == [
        ("2024-12-31-23:00", 0, True),
        ("2025-01-01-00:00", sc.TICK_SKIP_REASON_MISSING_UPSTREAM, False),
    ]
    assert after.pending_ticks == [] and len(await schedules.schedule_runs("late-hourly")) == 1
