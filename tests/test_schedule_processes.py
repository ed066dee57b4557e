"""Schedules across real restarts: `arco serve` down across several ticks, restarted "6 hours later" (the
test-only ARCO_CLOCK_OFFSET_SECONDS), killed by fault injection right after the first launch of its catch-up
is recorded, restarted again: the catch-up launches exactly the ticks its policy says, each once.

The proof is the schedule's stream in the SQLite file: one TicksDecided per evaluation, and one TickLaunched
per launched tick; and the run ledger (RunService.ListRuns): one SCHEDULE run per launched tick, no run key
twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2_grpc, events_pb2 as ev, schedule_service_pb2 as api
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2_grpc, schedules_pb2 as sc
from arco_grpc.server import CLOCK_OFFSET_ENV, FAULT_EXIT_AFTER_COMMIT_ENV, FAULT_EXIT_STATUS, clock_from_env, utc_now
from tests.service.builders import apply, asset, hourly
from tests.test_cli import running
from tests.worker.processes import wait_until

DOWNTIME = timedelta(hours=6)
HOUR = timedelta(hours=1)
NAME = "hourly-events"


def stream_events(db: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT event_type, payload FROM events WHERE stream_id = ? ORDER BY stream_version", (f"schedule/{NAME}",)
        ).fetchall()
    return [(str(kind), bytes(payload)) for kind, payload in rows]


def launched_ticks(db: Path) -> list[sc.ScheduleTick]:
    return [ev.TickLaunched.FromString(p).tick for kind, p in stream_events(db) if kind == "TickLaunched"]


def launched_run_keys(db: Path) -> list[str]:
    return [tick.run_key for tick in launched_ticks(db)]


def decisions(db: Path) -> list[ev.TicksDecided]:
    return [ev.TicksDecided.FromString(p) for kind, p in stream_events(db) if kind == "TicksDecided"]


def hour_marks(after: datetime, through: datetime) -> list[datetime]:
    """The ticks of "0 * * * *" in UTC in (after, through]."""
    mark = after.replace(minute=0, second=0, microsecond=0) + HOUR
    marks = []
    while mark <= through:
        marks.append(mark)
        mark += HOUR
    return marks


async def crash_run(tmp_path: Path, db: Path, env: dict[str, str]) -> int:
    """Runs `arco serve` until it exits by itself (the fault hook), without waiting for its banner."""
    with open(tmp_path / "server.log", "ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arco_grpc.cli", "serve", "--port", "0", "--db", str(db),
            stdout=asyncio.subprocess.DEVNULL, stderr=log, env={**os.environ, **env},
        )
    try:
        return await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize(("policy", "launches"), [(sc.CATCH_UP_POLICY_ALL_MISSED, 3), (sc.CATCH_UP_POLICY_LATEST_ONLY, 1)])
async def test_catch_up_after_downtime_launches_what_the_policy_says_once_even_when_killed(
    tmp_path: Path, policy: int, launches: int
) -> None:
    db = tmp_path / "arco.db"
    serve = ("--port", "0", "--db", str(db))
    async with running(tmp_path, *serve) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            await catalog_service_pb2_grpc.CatalogServiceStub(channel).ApplyAssets(
                apply("catalog", asset("events", hourly("2024-01-01-00:00")))
            )
            created = (await schedule_service_pb2_grpc.ScheduleServiceStub(channel).CreateSchedule(
                api.CreateScheduleRequest(
                    request_id="create", name=NAME, cron_schedule="0 * * * *", asset_key="events",
                    catch_up_policy=policy, max_catch_up_runs=3,  # type: ignore[arg-type]
                )
            )).schedule
        server.process.send_signal(signal.SIGKILL)  # down, with nothing to say
        await server.process.wait()
    start = created.evaluated_through.ToDatetime(tzinfo=timezone.utc)
    later = {CLOCK_OFFSET_ENV: str(DOWNTIME.total_seconds())}

    # Restarted 6 hours later; it dies right after recording its first launch of the catch-up.
    assert await crash_run(tmp_path, db, {**later, FAULT_EXIT_AFTER_COMMIT_ENV: "LaunchTick"}) == FAULT_EXIT_STATUS
    decided = decisions(db)
    [catch_up] = [d for d in decided if d.evaluated_through.ToDatetime(tzinfo=timezone.utc) >= start + DOWNTIME]
    before = sum(len(d.launches) for d in decided if d is not catch_up)  # only if the test crossed an hour
    assert len(launched_run_keys(db)) == before + 1  # the catch-up's first launch, and no other

    async with running(tmp_path, *serve, env=later) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = schedule_service_pb2_grpc.ScheduleServiceStub(channel)

            async def settled() -> sc.Schedule | None:
                schedule = (await stub.GetSchedule(api.GetScheduleRequest(name=NAME))).schedule
                return schedule if not schedule.pending_ticks else None

            schedule = await wait_until(settled, "the pending ticks to be launched after the restart")
            ledger = (await run_service_pb2_grpc.RunServiceStub(channel).ListRuns(rapi.ListRunsRequest(
                origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name=NAME, page_size=1000
            ))).runs
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0

    due = hour_marks(start, catch_up.evaluated_through.ToDatetime(tzinfo=timezone.utc))
    assert len(due) >= 6  # the downtime's ticks (one more if the test itself crossed an hour)
    assert [t.scheduled_time.ToDatetime(tzinfo=timezone.utc) for t in catch_up.launches] == due[-launches:]
    reason = "TICK_SKIP_REASON_OVER_CATCH_UP_LIMIT" if launches > 1 else "TICK_SKIP_REASON_SUPERSEDED"
    assert {sc.TickSkipReason.Name(s.reason): s.count for s in catch_up.skipped} == {reason: len(due) - launches}
    # Every decided launch launched exactly once, the catch-up's included, across the kill.
    decided_keys = [t.run_key for d in decisions(db) for t in d.launches]
    assert launched_run_keys(db) == decided_keys and len(set(decided_keys)) == len(decided_keys)
    assert [t.run_key for t in catch_up.launches] == decided_keys[-launches:]
    assert schedule.launched_tick_count == len(decided_keys)
    # The ledger holds one run per launched tick, the one its TickLaunched names, and no run key twice.
    assert len(ledger) == len(decided_keys) and len({r.run_key for r in ledger}) == len(ledger)
    assert {r.run_key: (r.run_id, r.origin_run_key, r.scheduled_time) for r in ledger} == {
        t.run_key: (t.run_id, t.partition_key, t.scheduled_time) for t in launched_ticks(db)
    }


def test_the_clock_offset_shifts_the_wall_clock_and_refuses_non_numbers() -> None:
    assert clock_from_env({}) is utc_now
    shifted = clock_from_env({CLOCK_OFFSET_ENV: "-7200.5"})
    difference = utc_now() - shifted()
    assert timedelta(hours=2) < difference < timedelta(hours=2, seconds=5)
    with pytest.raises(ValueError, match=CLOCK_OFFSET_ENV):
        clock_from_env({CLOCK_OFFSET_ENV: "six hours"})
