"""No partition of an asset is ever in two runs at once, whatever their origins.

A chunk (of a backfill or a submitted run) whose partitions another stream's
run holds waits for that run, later chunks of its target wait behind it, and
the run it becomes records whom it waited for; reprocess policies MISSING and
FAILED_AND_MISSING skip in-flight partitions instead (reason IN_FLIGHT).
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rapi
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as sapi, schedule_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as sc, worker_service_pb2 as wapi
from tests.service.backfill_helpers import target
from tests.service.builders import key_range, ts
from tests.service.conftest import FIXED_NOW
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    ManualClock,
    Workers,
    served_workers,
    start_workers,
    stop_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

R = rapi.Run


def manual(request_id: str, first: str, last: str, policy: int = 0) -> rapi.SubmitRunRequest:
    return rapi.SubmitRunRequest(
        request_id=request_id, origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders", selector=key_range(first, last),
        reprocess_policy=policy,  # type: ignore[arg-type]
    )


async def get_run(w: Workers, run_id: str) -> rapi.Run:
    return (await w.runs.GetRun(rapi.GetRunRequest(run_id=run_id))).run


async def test_a_submitted_run_waits_for_the_backfill_run_holding_its_partitions(served_workers: Workers) -> None:
    w = served_workers
    await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-14")))
    [first] = await w.lease("w1")  # 01-01 .. 01-07
    run = (await w.runs.SubmitRun(manual("m-1", "2024-01-03", "2024-01-04"))).run

    meanwhile = await w.lease("w2", 4)
    await w.complete("w1", first)
    [leased] = await w.lease("w2", 4)
    started = await get_run(w, run.run_id)

    assert [c.first_key for c in meanwhile] == ["2024-01-08"]  # the backfill's next chunk; not the run
    assert leased.run_id == run.run_id
    assert list(started.waited_for_run_ids) == [first.run_id]


async def test_a_backfill_chunk_waits_for_a_submitted_run_and_its_later_chunks_wait_behind_it(
    served_workers: Workers,
) -> None:
    w = served_workers
    run = (await w.runs.SubmitRun(manual("m-1", "2024-01-10", "2024-01-10"))).run
    [held] = await w.lease("w1")
    backfill_id = await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-21")))

    meanwhile = await w.lease("w2", 5)
    await w.complete("w1", held)
    after = await w.lease("w2", 5)
    runs = {r.chunk_index: r for r in await w.all_runs(backfill_id)}

    assert held.run_id == run.run_id
    assert [c.index for c in meanwhile] == [0]  # chunk 1 holds 01-10; chunk 2 waits behind it (plan order)
    assert [c.index for c in after] == [1, 2]
    assert list(runs[1].waited_for_run_ids) == [run.run_id]
    assert list(runs[0].waited_for_run_ids) == list(runs[2].waited_for_run_ids) == []


async def test_missing_policies_skip_partitions_in_flight_instead_of_waiting(served_workers: Workers) -> None:
    w = served_workers
    await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-07")))
    [held] = await w.lease("w1")
    answer = await w.runs.SubmitRun(manual("m-1", "2024-01-06", "2024-01-09", policy=bf.REPROCESS_POLICY_MISSING))
    [leased] = await w.lease("w2")

    assert [(s.reason, s.partition_count) for s in answer.skipped] == [(bf.SKIP_REASON_IN_FLIGHT, 2)]
    assert list(answer.run.skipped) == list(answer.skipped) == list((await get_run(w, answer.run.run_id)).skipped)
    assert answer.run.partition_count == 2
    assert list(leased.partition_keys) == ["2024-01-08", "2024-01-09"] and held.run_id != leased.run_id


async def test_a_waiting_lease_call_is_answered_when_the_holding_run_ends(served_workers: Workers) -> None:
    w = served_workers
    await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-07")))
    [held] = await w.lease("w1")
    run = (await w.runs.SubmitRun(manual("m-1", "2024-01-02", "2024-01-02"))).run
    waiting = asyncio.create_task(w.lease("w2", wait=10))
    async with asyncio.timeout(5):
        while w.running.dispatcher.waiting == 0:  # the call is parked on the dispatcher's signal
            await asyncio.sleep(0.001)
        await w.complete("w1", held)
        [leased] = await waiting

    assert leased.run_id == run.run_id


async def test_held_partitions_are_known_again_after_a_restart(store_location: str) -> None:
    clock = ManualClock()
    w = await start_workers(store_location, clock)
    try:
        await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-07")))
        [held] = await w.lease("w1", ttl=600)
    finally:
        await stop_workers(w)
    w = await start_workers(store_location, clock)
    try:
        run = (await w.runs.SubmitRun(manual("m-1", "2024-01-05", "2024-01-05"))).run
        meanwhile = await w.lease("w2")
        await w.complete("w1", held)
        [leased] = await w.lease("w2")
    finally:
        await stop_workers(w)

    assert meanwhile == [] and leased.run_id == run.run_id


async def test_a_schedule_and_a_backfill_over_the_same_partitions_never_run_one_twice_at_once(
    served_workers: Workers,
) -> None:
    """Eight workers race over a backfill and a schedule's catch-up of the same days; every partition is held
    by one run at a time, ends materialized, and the ledger names whom each waiting run waited for."""
    w = served_workers
    rng = random.Random(5)
    backfill_id = await w.create("c-1", target("orders", key_range("2024-12-20", "2024-12-31")), chunk_size=2,
                                 max_concurrency=4)
    schedules = schedule_service_pb2_grpc.ScheduleServiceStub(w.channel)
    await schedules.CreateSchedule(sapi.CreateScheduleRequest(
        request_id="s-1", name="nightly", cron_schedule="0 0 * * *", asset_key="orders",
        catch_up_policy=sc.CATCH_UP_POLICY_ALL_MISSED, max_catch_up_runs=10,
        start_time=ts(FIXED_NOW - timedelta(days=8)),  # ticks 12-25 .. 01-01 target 12-24 .. 12-31
    ))
    await w.running.schedule_ticker.tick()

    holder: dict[str, str] = {}  # partition key -> the run holding it now
    held_by: dict[str, list[str]] = {}  # run id -> its keys
    history: dict[str, list[str]] = {}  # partition key -> runs that held it, in order

    async def worker(name: str) -> None:
        idle = 0
        while idle < 3:
            leased = await w.lease(name, rng.randint(1, 2))
            if not leased:
                idle += 1
                await asyncio.sleep(0)  # let the other workers report
                continue
            idle = 0
            for chunk in leased:
                for key in chunk.partition_keys:
                    assert key not in holder, f"{key} is held by {holder.get(key)} and leased to {chunk.run_id}"
                    holder[key] = chunk.run_id
                    history.setdefault(key, []).append(chunk.run_id)
                held_by[chunk.run_id] = list(chunk.partition_keys)
            await asyncio.sleep(0)
            for chunk in leased:
                for key in held_by.pop(chunk.run_id):  # released before the report leaves
                    del holder[key]
                await w.complete(name, chunk)

    await asyncio.gather(*(worker(f"w{n}") for n in range(8)))
    runs = await w.all_runs("")
    by_id = {r.run_id: r for r in runs}
    scheduled = [r for r in runs if r.origin == rapi.RUN_ORIGIN_SCHEDULE]
    waited = [r for r in runs if r.waited_for_run_ids]
    backfill = await w.backfill(backfill_id)

    assert len(scheduled) == 8 and all(r.state == R.STATE_SUCCEEDED for r in runs)
    assert backfill.state == bf.Backfill.STATE_COMPLETED and backfill.progress.partitions_succeeded == 12
    assert {key for key in history if key >= "2024-12-24"} == {f"2024-12-{d}" for d in range(24, 32)}
    assert all(len(history[f"2024-12-{d}"]) == 2 for d in range(24, 32))  # a backfill run and a tick run each
    for run in waited:  # whom a run waited for held some of its partitions, in another stream
        assert all(by_id[other].backfill_id != run.backfill_id for other in run.waited_for_run_ids)
    assert waited, "with eight workers racing, some run had to wait"
