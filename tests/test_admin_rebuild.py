"""`arco admin rebuild-projections`: after a random workload through the real server (backfills steered,
catalog changes, and workers leasing, succeeding, failing, releasing, lapsing and retrying), the rebuilt
tables equal the live ones; and the events written by the workload's first half are never changed by its
second."""

from __future__ import annotations

import asyncio
import io
import random
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, catalog_service_pb2 as capi
from arco_grpc._gen.arco.orchestration.v1 import events_pb2, run_service_pb2 as rapi, worker_service_pb2 as wapi
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as sapi, schedule_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as sc
from arco_grpc.cli import main
from arco_grpc.store.sqlite._schema import PROJECTION_TABLES
from tests.service.backfill_helpers import Backfills, create, target
from tests.service.builders import apply, asset, daily, dep, key_range, ts
from tests.service.conftest import db_path  # noqa: F401 - fixtures
from tests.service.test_worker_support import FAILED, ManualClock, Workers, no_backoff, start_workers, stop_workers

ASSETS = ("orders", "regions", "grid", "customers/profiles", "minutely")


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every projection table, in a stable order."""
    with sqlite3.connect(db) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in PROJECTION_TABLES
        }


def events(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT * FROM events ORDER BY sequence").fetchall()


async def workload(backfills: Backfills, rng: random.Random, prefix: str, steps: int) -> None:
    """Random creates, pauses, resumes, cancels, updates, catalog changes and dynamic keys."""
    ids: list[str] = []
    for step in range(steps):
        request_id = f"{prefix}-{step}"
        roll = rng.random()
        try:
            if roll < 0.25 or not ids:
                chosen = rng.sample(ASSETS, rng.randint(1, 2))
                response = await backfills.stub.CreateBackfill(create(
                    request_id, *(target(a) for a in chosen), tags={"n": str(step % 3)},
                    chunk_size=rng.choice([0, 1, 5]), order=rng.choice([1, 2]),
                    reprocess_policy=rng.choice([0, 1, 2, 3]),  # skips judged from the partition status
                ))
                ids.append(response.backfill.id)
            elif roll < 0.45:
                await backfills.stub.PauseBackfill(api.PauseBackfillRequest(
                    request_id=request_id, backfill_id=rng.choice(ids), reason=f"pause {step}"))
            elif roll < 0.65:
                await backfills.stub.ResumeBackfill(api.ResumeBackfillRequest(
                    request_id=request_id, backfill_id=rng.choice(ids), reason=f"resume {step}"))
            elif roll < 0.75:
                await backfills.stub.CancelBackfill(api.CancelBackfillRequest(
                    request_id=request_id, backfill_id=rng.choice(ids), reason=f"cancel {step}"))
            elif roll < 0.85:
                await backfills.stub.UpdateBackfill(api.UpdateBackfillRequest(
                    request_id=request_id, backfill_id=rng.choice(ids), max_concurrency=rng.randint(1, 20)))
            elif roll < 0.93:
                await backfills.catalog.AddDynamicPartitions(capi.AddDynamicPartitionsRequest(
                    request_id=request_id, name="customers", keys=[f"c{rng.randint(0, 9)}"]))
            else:
                start_day = f"2024-0{rng.randint(1, 9)}-01"
                await backfills.catalog.ApplyAssets(apply(request_id, asset("orders", daily(start_day), chunk=7)))
        except grpc.aio.AioRpcError as error:
            # Transitions a cancelled backfill refuses; nothing else may fail.
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    if ids:
        await backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=ids[0], asset_key="", page_size=5))
        await backfills.stub.CreateBackfill(create(f"{prefix}-range", target("orders", key_range("2024-09-01", "2024-09-03"))))


async def worker_steps(w: Workers, rng: random.Random, prefix: str, steps: int) -> None:
    """Random leases, successes, failures (whole and partial), releases, lapses and retry rounds."""
    held: list[wapi.LeasedChunk] = []
    for step in range(steps):
        roll = rng.random()
        if roll < 0.3 or not held:
            held.extend(await w.lease(f"{prefix}-w{step % 3}", rng.choice([1, 2, 4, 12]), ttl=rng.choice([5, 30])))
            continue
        if roll < 0.42:  # several outcomes in one CompleteChunks (a ChunksCompleted per backfill)
            # Mostly chunks of one backfill (one event with several outcomes), sometimes of two.
            first = held[rng.randrange(len(held))]
            batch = [c for c in held if c.backfill_id == first.backfill_id][: rng.randint(1, 5)]
            if rng.random() < 0.3:
                batch += [c for c in held if c.backfill_id != first.backfill_id][:1]
            held = [c for c in held if c not in batch]
            completions = []
            for number, chunk in enumerate(batch):
                kind = rng.random()
                if kind < 0.6:
                    completions.append(w.completion(chunk_worker(chunk), chunk, metadata={"n": str(number)}))
                elif kind < 0.8:
                    completions.append(w.completion(chunk_worker(chunk), chunk, FAILED,
                                                    failed=list(chunk.partition_keys[:1]), error=f"b{step}"))
                else:
                    completions.append(w.completion(chunk_worker(chunk), chunk, FAILED, error="batch"))
            if completions and rng.random() < 0.3:
                completions.append(completions[0])  # a repeat in the same call writes nothing more
            answer = await w.workers.CompleteChunks(wapi.CompleteChunksRequest(completions=completions))
            # Refusals are stale leases (lapsed, or of a backfill cancelled since), as for single completions.
            assert all(r.error_code in (0, grpc.StatusCode.FAILED_PRECONDITION.value[0],
                                        grpc.StatusCode.NOT_FOUND.value[0]) for r in answer.results), answer
            continue
        chunk = held.pop(rng.randrange(len(held)))
        worker = chunk_worker(chunk)
        try:
            if roll < 0.55:
                await w.complete(worker, chunk, metadata={"step": str(step)})
            elif roll < 0.7:
                await w.complete(worker, chunk, FAILED, failed=list(chunk.partition_keys[:1]), error=f"e{step}")
            elif roll < 0.78:
                await w.complete(worker, chunk, FAILED, error="all of it")
            elif roll < 0.85:
                await w.workers.ReleaseChunks(wapi.ReleaseChunksRequest(worker_id=worker, leases=[chunk.lease]))
            else:
                await w.advance(rng.choice([6, 31]))  # lapses what was not heartbeated in time
        except grpc.aio.AioRpcError as error:
            # A chunk leased before a lapse, or of a backfill cancelled since: refused as stale.
            assert error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND), error.details()
    for backfill in (await w.backfills.ListBackfills(api.ListBackfillsRequest(page_size=500))).backfills:
        if backfill.progress.partitions_failed and rng.random() < 0.7:
            try:
                await w.backfills.RetryFailedPartitions(api.RetryFailedPartitionsRequest(
                    request_id=f"{prefix}-retry-{backfill.id}", backfill_id=backfill.id,
                    include_unattempted=rng.random() < 0.5,
                ))
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()  # still running


async def run_requests(w: Workers, rng: random.Random, prefix: str, steps: int) -> None:
    """Random SubmitRun (every origin, some repeating a sensor's run key), CancelRun and ReexecuteRun."""
    submitted: list[str] = []
    for step in range(steps):
        request_id = f"{prefix}-run-{step}"
        roll = rng.random()
        try:
            if roll < 0.6 or not submitted:
                origin = rng.choice([rapi.RUN_ORIGIN_SENSOR, rapi.RUN_ORIGIN_MANUAL, rapi.RUN_ORIGIN_SCHEDULE])
                request = rapi.SubmitRunRequest(
                    request_id=request_id, origin=origin, asset_key="orders",
                    selector=key_range("2024-03-01", f"2024-03-0{rng.randint(1, 9)}"),
                )
                if origin == rapi.RUN_ORIGIN_SENSOR:
                    request.origin_name, request.run_key = "files", f"k{rng.randint(1, 4)}"
                elif origin == rapi.RUN_ORIGIN_SCHEDULE:
                    request.origin_name = "nightly"
                    request.scheduled_time.CopyFrom(ts(datetime(2024, 12, rng.randint(1, 3), tzinfo=timezone.utc)))
                submitted.append((await w.runs.SubmitRun(request)).run.run_id)
            elif roll < 0.8:
                await w.runs.CancelRun(rapi.CancelRunRequest(request_id=request_id, run_id=rng.choice(submitted)))
            else:
                await w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
                    request_id=request_id, run_id=rng.choice(submitted), mode=rng.choice([1, 2])))  # type: ignore[arg-type]
        except grpc.aio.AioRpcError as error:
            # Re-executing a run that has not ended, or that did not fail; a key the catalog changes dropped.
            assert error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT), error.details()


async def schedule_steps(w: Workers) -> None:
    """Two schedules over days of downtime, one paused and resumed: decisions, launches and skips."""
    stub = schedule_service_pb2_grpc.ScheduleServiceStub(w.channel)
    for name, cron, policy in (("nightly", "0 0 * * *", sc.CATCH_UP_POLICY_ALL_MISSED),
                               ("hourly", "0 * * * *", sc.CATCH_UP_POLICY_LATEST_ONLY)):
        await stub.CreateSchedule(sapi.CreateScheduleRequest(
            request_id=f"schedule-{name}", name=name, cron_schedule=cron, asset_key="orders",
            catch_up_policy=policy, max_catch_up_runs=2, tags={"team": "data"},  # type: ignore[arg-type]
        ))
    for days, change in ((3, "pause"), (1, "resume"), (2, None)):
        w.clock.now += timedelta(days=days)
        await w.running.schedule_ticker.tick()
        if change == "pause":
            await stub.PauseSchedule(sapi.PauseScheduleRequest(request_id="pause-nightly", name="nightly", note="x"))
        elif change == "resume":
            await stub.ResumeSchedule(sapi.ResumeScheduleRequest(request_id="resume-nightly", name="nightly"))
    await w.running.schedule_ticker.tick()


def chunk_worker(chunk: wapi.LeasedChunk) -> str:
    return WORKER_OF[chunk.run_id]


WORKER_OF: dict[str, str] = {}


async def run_workload(
    location: str, seed: int, steps: tuple[int, int, int], read_events: Callable[[], Awaitable[list[Any]]]
) -> list[Any]:
    """Serves ``location`` and drives a random workload through it in two halves (each ``steps``: backfill,
    run-request and worker steps), then schedules; returns the events as they were after the first half."""
    rng = random.Random(seed)
    w = await start_workers(location, ManualClock())  # type: ignore[arg-type]
    original_lease = w.lease

    async def remembering_lease(worker: str, *args: object, **kwargs: object) -> list[wapi.LeasedChunk]:
        leased = await original_lease(worker, *args, **kwargs)  # type: ignore[arg-type]
        WORKER_OF.update((chunk.run_id, worker) for chunk in leased)
        return leased

    w.lease = remembering_lease  # type: ignore[method-assign]
    backfills = Backfills(w, w.backfills)  # type: ignore[arg-type]
    await w.catalog.AddDynamicPartitions(
        capi.AddDynamicPartitionsRequest(request_id="customers-1", name="customers", keys=["acme", "globex"])
    )
    # Two dependent assets, failures for good at once: downstream partitions end UPSTREAM_FAILED.
    await w.catalog.ApplyAssets(apply(
        "gated-catalog", asset("gated/up", daily("2024-01-01"), chunk=2),
        asset("gated/down", daily("2024-01-01"), dep("gated/up"), chunk=3),
    ))
    month = key_range("2024-01-01", "2024-01-31")
    await w.create("gated", target("gated/up", month), target("gated/down", month), retry_policy=no_backoff(1))
    backfill_steps, run_steps, step_count = steps
    await workload(backfills, rng, "first", backfill_steps)
    await run_requests(w, rng, "first", run_steps)
    await worker_steps(w, rng, "first", step_count)
    first_half = await read_events()
    await workload(backfills, rng, "second", backfill_steps)
    await run_requests(w, rng, "second", run_steps)
    await worker_steps(w, rng, "second", step_count)
    await schedule_steps(w)
    await stop_workers(w)
    return first_half


async def test_rebuilt_projections_equal_the_live_ones(db_path: Path) -> None:  # noqa: F811
    async def read_events() -> list[Any]:
        return events(db_path)

    first_half = await run_workload(str(db_path), 7, (40, 15, 120), read_events)

    written = events(db_path)
    assert written[: len(first_half)] == first_half  # rows are never updated or deleted
    live = dump(db_path)
    assert len(live["backfills"]) > 5 and len(live["backfill_transitions"]) > 20
    assert len(live["runs"]) > 40 and len(live["chunks"]) > 20 and live["backfill_rounds"]
    run_states = {(row[0], row[1]) for row in sqlite3.connect(db_path).execute("SELECT origin, state FROM runs")}
    assert {(2, 7), (3, 7), (4, 6)} & run_states and {o for o, _ in run_states} == {1, 2, 3, 4}  # queued, cancelled
    assert len(live["partition_status"]) >= 3  # statuses of several assets, rebuilt from chunk events alone
    assert len(live["schedules"]) == 2
    with sqlite3.connect(db_path) as connection:
        specs = [events_pb2.BackfillCreated.FromString(row[0]) for row in connection.execute("SELECT spec FROM backfills")]
    assert any(t.skipped for spec in specs for t in spec.targets)  # some reprocess policy skipped partitions
    kinds = {row[3] for row in written}
    assert {"ChunksLeased", "ChunkSucceeded", "ChunkFailed", "ChunksCompleted", "ChunkLeaseExpired", "ChunkReleased",
            "RetryRoundOpened", "PartitionsUpstreamFailed", "ScheduleCreated", "SchedulePaused", "ScheduleResumed",
            "TicksDecided", "TickLaunched"} <= kinds

    out = io.StringIO()
    code = await asyncio.to_thread(main, ["admin", "rebuild-projections", "--db", str(db_path)], out)

    assert code == 0
    assert f"from {len(written)} events" in out.getvalue()
    assert dump(db_path) == live
    assert events(db_path) == written


async def test_rebuild_of_a_missing_database_is_a_one_line_error(tmp_path: Path) -> None:
    err = io.StringIO()
    code = await asyncio.to_thread(main, ["admin", "rebuild-projections", "--db", str(tmp_path / "none.db")], None, err)
    assert code == 1
    assert err.getvalue().startswith("arco admin rebuild-projections: no database at")
    assert not (tmp_path / "none.db").exists()
