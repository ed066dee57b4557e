"""RunService.SubmitRun, ReexecuteRun and CancelRun: one ledger of runs for schedules, sensors and people.

Submitted runs are leased through WorkerService like backfill chunks, dedupe by
their origin's scope, re-execute with lineage, and survive a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p, run_service_pb2 as rapi
from arco_grpc.planning.run_keys import (
    LogicalRunRequest,
    ManualScope,
    ReexecutionMode,
    ReexecutionScope,
    ScheduleScope,
    SensorScope,
    run_key_for,
)
from tests.service.builders import apply, asset, key_range, keys_selector, static, ts
from tests.service.conftest import call_failure
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    ManualClock,
    Workers,
    served_workers,
    start_workers,
    stop_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

R = rapi.Run
TICK = datetime(2024, 12, 31, tzinfo=timezone.utc)


def sensor(request_id: str, run_key: str = "", asset: str = "orders", selector: p.PartitionSelector | None = None,
           name: str = "new_files") -> rapi.SubmitRunRequest:
    return rapi.SubmitRunRequest(
        request_id=request_id, origin=rapi.RUN_ORIGIN_SENSOR, origin_name=name, asset_key=asset,
        selector=selector or keys_selector("2024-03-01"), run_key=run_key,
    )


def tick(request_id: str, at: datetime = TICK, run_key: str = "", selector: p.PartitionSelector | None = None,
         policy: int = 0) -> rapi.SubmitRunRequest:
    request = rapi.SubmitRunRequest(
        request_id=request_id, origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name="nightly", asset_key="orders",
        selector=selector or keys_selector("2024-12-30"), run_key=run_key, reprocess_policy=policy,  # type: ignore[arg-type]
    )
    request.scheduled_time.CopyFrom(ts(at))
    return request


def manual(request_id: str, selector: p.PartitionSelector | None = None) -> rapi.SubmitRunRequest:
    return rapi.SubmitRunRequest(
        request_id=request_id, origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders",
        selector=selector or key_range("2024-02-01", "2024-02-05"),
    )


async def ledger(w: Workers, **filters: object) -> list[rapi.Run]:
    found: list[rapi.Run] = []
    token = ""
    while True:
        page = await w.runs.ListRuns(rapi.ListRunsRequest(page_size=2, page_token=token, **filters))  # type: ignore[arg-type]
        found.extend(page.runs)
        token = page.next_page_token
        if not token:
            return found


async def test_a_sensor_run_is_queued_leased_like_a_chunk_and_ends_in_the_ledger(served_workers: Workers) -> None:
    w = served_workers
    submitted = await w.runs.SubmitRun(sensor("s-1", run_key="file-17", selector=key_range("2024-03-01", "2024-03-03")))
    run = submitted.run
    expected_key = run_key_for(LogicalRunRequest(SensorScope("new_files", "file-17"), "orders", 1))

    [leased] = await w.lease("w1", 8)
    queued_then = (await w.runs.GetRun(rapi.GetRunRequest(run_id=run.run_id))).run
    await w.complete("w1", leased)
    ended = (await w.runs.GetRun(rapi.GetRunRequest(run_id=run.run_id))).run

    assert not submitted.deduplicated
    assert (run.state, run.run_key, run.origin, run.origin_name, run.origin_run_key) == (
        R.STATE_QUEUED, expected_key, rapi.RUN_ORIGIN_SENSOR, "new_files", "file-17"
    )
    assert (run.partition_count, run.attempt, run.root_run_id, run.parent_run_id) == (3, 1, run.run_id, "")
    assert not run.HasField("start_time") and run.HasField("submit_time")
    assert (leased.run_id, leased.run_key, leased.backfill_id) == (run.run_id, expected_key, run.run_id)
    assert (leased.origin, leased.origin_name) == (rapi.RUN_ORIGIN_SENSOR, "new_files")
    assert list(leased.partition_keys) == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert (queued_then.state, queued_then.worker_id) == (R.STATE_RUNNING, "w1")
    assert (ended.state, ended.run_key, ended.origin) == (R.STATE_SUCCEEDED, expected_key, rapi.RUN_ORIGIN_SENSOR)
    assert [r.run_id for r in await ledger(w)] == [run.run_id]
    events = (await w.backfills.ListBackfillEvents(api.ListBackfillEventsRequest(backfill_id=run.run_id))).events
    assert [e.type for e in events] == ["BackfillCreated", "BackfillStarted", "ChunksLeased", "ChunkSucceeded",
                                        "BackfillCompleted"]


async def test_sensor_run_keys_dedupe_for_all_history_across_assets(served_workers: Workers) -> None:
    w = served_workers
    first = (await w.runs.SubmitRun(sensor("s-1", run_key="k"))).run
    [leased] = await w.lease("w1")
    await w.complete("w1", leased)

    again = await w.runs.SubmitRun(sensor("s-2", run_key="k"))
    other_asset = await w.runs.SubmitRun(sensor("s-3", run_key="k", asset="regions", selector=keys_selector("us")))
    other_sensor = await w.runs.SubmitRun(sensor("s-4", run_key="k", name="other_sensor"))
    no_key = [await w.runs.SubmitRun(sensor(f"s-{n}")) for n in (5, 6)]

    assert again.deduplicated and again.run.run_id == first.run_id and again.run.state == R.STATE_SUCCEEDED
    assert other_asset.deduplicated and other_asset.run.run_id == first.run_id
    assert not other_sensor.deduplicated and other_sensor.run.run_id != first.run_id
    assert [r.deduplicated for r in no_key] == [False, False] and no_key[0].run.run_id != no_key[1].run.run_id
    assert len(await ledger(w, origin=rapi.RUN_ORIGIN_SENSOR)) == 4
    assert len(await ledger(w, origin=rapi.RUN_ORIGIN_SENSOR, origin_name="new_files")) == 3


async def test_a_schedule_dedupes_within_one_tick(served_workers: Workers) -> None:
    w = served_workers
    keyed = (await w.runs.SubmitRun(tick("t-1", run_key="2024-12-30"))).run
    same_key = await w.runs.SubmitRun(tick("t-2", run_key="2024-12-30"))
    any_of_tick = await w.runs.SubmitRun(tick("t-3"))
    other_key = await w.runs.SubmitRun(tick("t-4", run_key="second", selector=keys_selector("2024-12-29")))
    next_tick = await w.runs.SubmitRun(tick("t-5", at=TICK + timedelta(days=1), run_key="2024-12-30"))
    # One instant, however it is written: 01:00+01:00 is the same tick as 00:00Z.
    same_instant = tick("t-6", run_key="2024-12-30")
    same_instant.scheduled_time.CopyFrom(ts(TICK.astimezone(timezone(timedelta(hours=1)))))

    assert keyed.run_key == run_key_for(LogicalRunRequest(ScheduleScope("nightly", TICK, "2024-12-30"), "orders"))
    assert keyed.scheduled_time.ToDatetime(timezone.utc) == TICK
    assert same_key.deduplicated and same_key.run.run_id == keyed.run_id
    assert any_of_tick.deduplicated and any_of_tick.run.run_id == keyed.run_id
    assert not other_key.deduplicated and not next_tick.deduplicated
    assert (await w.runs.SubmitRun(same_instant)).run.run_id == keyed.run_id
    assert len(await ledger(w, origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name="nightly")) == 3


async def test_manual_launches_are_repeated_only_by_a_retry_of_their_request(served_workers: Workers) -> None:
    w = served_workers
    first = await w.runs.SubmitRun(manual("m-1"))
    retried = await w.runs.SubmitRun(manual("m-1"))
    second = await w.runs.SubmitRun(manual("m-2"))
    reused = await call_failure(w.runs.SubmitRun(manual("m-1", key_range("2024-02-01", "2024-02-09"))))

    assert retried == first
    assert first.run.run_key == run_key_for(LogicalRunRequest(ManualScope("m-1"), "orders"))
    assert second.run.run_id != first.run.run_id and second.run.run_key != first.run.run_key
    assert reused.code == grpc.StatusCode.INVALID_ARGUMENT  # the request id names another request
    assert len(await ledger(w, origin=rapi.RUN_ORIGIN_MANUAL)) == 2


async def test_reexecution_from_failure_runs_only_the_failed_partitions_with_lineage(served_workers: Workers) -> None:
    w = served_workers
    root = (await w.runs.SubmitRun(manual("m-1"))).run  # 2024-02-01 .. 2024-02-05
    [leased] = await w.lease("w1")
    await w.complete("w1", leased, FAILED, ["2024-02-02", "2024-02-04"], "bad rows")
    failed = (await w.runs.GetRun(rapi.GetRunRequest(run_id=root.run_id))).run

    child = (await w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-1", run_id=root.run_id, mode=rapi.ReexecuteRunRequest.MODE_FROM_FAILURE
    ))).run
    retried = await w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-1", run_id=root.run_id, mode=rapi.ReexecuteRunRequest.MODE_FROM_FAILURE
    ))
    [again] = await w.lease("w1")
    await w.complete("w1", again, FAILED, ["2024-02-04"])
    grandchild = (await w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-2", run_id=child.run_id, mode=rapi.ReexecuteRunRequest.MODE_ALL
    ))).run

    assert failed.state == R.STATE_FAILED and failed.failed_partition_count == 2
    assert retried.run == child
    assert (child.parent_run_id, child.root_run_id, child.origin) == (root.run_id, root.run_id, rapi.RUN_ORIGIN_MANUAL)
    assert child.run_key == run_key_for(LogicalRunRequest(
        ReexecutionScope(root.run_key, ReexecutionMode.FROM_FAILURE, "re-1"), "orders"
    ))
    assert list(again.partition_keys) == ["2024-02-02", "2024-02-04"] and again.run_id == child.run_id
    assert (grandchild.parent_run_id, grandchild.root_run_id) == (child.run_id, root.run_id)
    assert grandchild.partition_count == 2  # ALL: every partition of its parent
    assert len({root.run_key, child.run_key, grandchild.run_key}) == 3


async def test_reexecution_refuses_runs_that_have_not_ended_or_did_not_fail(served_workers: Workers) -> None:
    w = served_workers
    queued = (await w.runs.SubmitRun(manual("m-1"))).run
    not_ended = await call_failure(w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-1", run_id=queued.run_id, mode=rapi.ReexecuteRunRequest.MODE_ALL
    )))
    [leased] = await w.lease("w1")
    await w.complete("w1", leased)
    nothing_failed = await call_failure(w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-2", run_id=queued.run_id, mode=rapi.ReexecuteRunRequest.MODE_FROM_FAILURE
    )))
    unknown = await call_failure(w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-3", run_id="run-0000", mode=rapi.ReexecuteRunRequest.MODE_ALL
    )))
    no_mode = await call_failure(w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(request_id="re-4", run_id=queued.run_id)))

    assert (not_ended.code, not_ended.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RUN_NOT_ENDED")
    assert (nothing_failed.code, nothing_failed.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTHING_FAILED")
    assert unknown.code == grpc.StatusCode.NOT_FOUND
    assert (no_mode.code, no_mode.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, "mode")
    assert [r.run_id for r in await ledger(w)] == [queued.run_id]


async def test_a_backfill_run_can_be_reexecuted_from_failure(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", api.BackfillTargetSpec(asset_key="orders", selector=key_range("2024-01-01", "2024-01-07")),
                                 retry_policy=None)
    [chunk] = await w.lease("w1")
    await w.complete("w1", chunk, FAILED, ["2024-01-03"])
    [parent] = [r for r in await w.all_runs(backfill_id) if r.state == R.STATE_FAILED]

    child = (await w.runs.ReexecuteRun(rapi.ReexecuteRunRequest(
        request_id="re-1", run_id=parent.run_id, mode=rapi.ReexecuteRunRequest.MODE_FROM_FAILURE
    ))).run
    leased = [c for c in await w.lease("w2", 8) if c.run_id == child.run_id]

    assert (child.parent_run_id, child.root_run_id, child.partition_count) == (parent.run_id, parent.run_id, 1)
    assert [list(c.partition_keys) for c in leased] == [["2024-01-03"]]


async def test_cancel_a_queued_run_and_a_running_one(served_workers: Workers) -> None:
    w = served_workers
    queued = (await w.runs.SubmitRun(manual("m-1"))).run
    cancelled = (await w.runs.CancelRun(rapi.CancelRunRequest(request_id="x-1", run_id=queued.run_id))).run
    replayed = (await w.runs.CancelRun(rapi.CancelRunRequest(request_id="x-1", run_id=queued.run_id))).run
    running = (await w.runs.SubmitRun(manual("m-2"))).run
    [leased] = await w.lease("w1", 4)
    still = (await w.runs.CancelRun(rapi.CancelRunRequest(request_id="x-2", run_id=running.run_id))).run
    told = await w.heartbeat("w1", [leased])
    await w.complete("w1", leased)
    backfill_run = await call_failure(w.runs.CancelRun(rapi.CancelRunRequest(request_id="x-3", run_id="run-nope")))

    assert cancelled.state == R.STATE_CANCELLED and cancelled.HasField("end_time")
    assert replayed == cancelled
    assert (await w.runs.GetRun(rapi.GetRunRequest(run_id=queued.run_id))).run.state == R.STATE_CANCELLED
    assert leased.run_id == running.run_id and still.state == R.STATE_RUNNING
    assert [lease.run_id for lease in told.stop] == [running.run_id]
    assert backfill_run.code == grpc.StatusCode.NOT_FOUND
    # The running run's worker reported after the stop: its outcome stands.
    assert [r.run_id for r in await ledger(w, states=[R.STATE_CANCELLED])] == [queued.run_id]
    assert [r.run_id for r in await ledger(w, states=[R.STATE_SUCCEEDED])] == [running.run_id]


async def test_a_lapsed_attempt_is_retried_as_a_new_run_of_the_lineage(served_workers: Workers) -> None:
    w = served_workers
    run = (await w.runs.SubmitRun(sensor("s-1", run_key="k"))).run
    await w.lease("w1", ttl=5)
    await w.advance(5)
    [second] = await w.lease("w2")
    attempts = await ledger(w, backfill_id=run.run_id)

    assert [(r.attempt, r.state) for r in attempts] == [(1, R.STATE_LEASE_EXPIRED), (2, R.STATE_RUNNING)]
    assert (attempts[1].run_id, attempts[1].parent_run_id, attempts[1].root_run_id) == (second.run_id, run.run_id, run.run_id)
    assert second.run_key == run_key_for(LogicalRunRequest(SensorScope("new_files", "k"), "orders", 2))
    assert attempts[1].origin == rapi.RUN_ORIGIN_SENSOR


async def test_listing_filters_by_asset_partition_and_state_and_backfills_leave_runs_out(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", api.BackfillTargetSpec(asset_key="orders", selector=key_range("2024-02-01", "2024-02-14")))
    await w.lease("w0", 2)  # both chunks of the backfill: 02-01..02-07 and 02-08..02-14
    on_us = (await w.runs.SubmitRun(sensor("s-1", asset="regions", selector=keys_selector("us")))).run
    holding = (await w.runs.SubmitRun(manual("m-1", key_range("2024-02-03", "2024-02-04")))).run

    of_orders = await ledger(w, asset_key="orders")
    of_key = await ledger(w, asset_key="orders", partition_key="2024-02-03")
    of_us = await ledger(w, asset_key="regions", partition_key="us")
    of_eu = await ledger(w, asset_key="regions", partition_key="eu")
    queued = await ledger(w, states=[R.STATE_QUEUED])
    backfills = (await w.backfills.ListBackfills(api.ListBackfillsRequest())).backfills

    assert len(of_orders) == 3 and [r.origin for r in of_orders[:2]] == [rapi.RUN_ORIGIN_BACKFILL] * 2
    assert [(r.backfill_id, r.chunk_index) for r in of_key] == [(backfill_id, 0), (holding.run_id, 0)]
    assert [r.run_id for r in of_us] == [on_us.run_id] and of_eu == []
    assert {r.run_id for r in queued} == {on_us.run_id, holding.run_id}
    assert [b.id for b in backfills] == [backfill_id]


async def test_listing_by_partition_reads_each_run_in_its_own_asset_version(served_workers: Workers) -> None:
    w = served_workers
    # Version 1 of regions: us, eu, ap. "eu" is index 1; a started run (stored partitions) and a queued one.
    started = (await w.runs.SubmitRun(sensor("s-1", "f-1", asset="regions", selector=keys_selector("eu")))).run
    [leased] = await w.lease("w1", assets=["regions"])
    queued_v1 = (await w.runs.SubmitRun(sensor("s-2", "f-2", asset="regions", selector=keys_selector("eu", "ap")))).run
    # Version 2 reorders the keys and adds one: "eu" is index 0, and index 1 ("eu" before) is now "us".
    await w.catalog.ApplyAssets(apply("catalog-2", asset("regions", static("eu", "us", "ap", "sa"))))
    on_eu = (await w.runs.SubmitRun(sensor("s-3", "f-3", asset="regions", selector=keys_selector("eu")))).run
    on_us = (await w.runs.SubmitRun(sensor("s-4", "f-4", asset="regions", selector=keys_selector("us")))).run
    on_sa = (await w.runs.SubmitRun(sensor("s-5", "f-5", asset="regions", selector=keys_selector("sa")))).run

    of_eu = await ledger(w, asset_key="regions", partition_key="eu")
    of_us = await ledger(w, asset_key="regions", partition_key="us")
    of_sa = await ledger(w, asset_key="regions", partition_key="sa")  # not a key of version 1: its runs hold none

    assert leased.run_id == started.run_id
    assert [r.run_id for r in of_eu] == [started.run_id, queued_v1.run_id, on_eu.run_id]
    assert [r.run_id for r in of_us] == [on_us.run_id]
    assert [r.run_id for r in of_sa] == [on_sa.run_id]
    # Each listed run carries what it holds in its own version (indices differ between versions).
    assert [(r.state, [(x.start, x.end) for x in r.partitions.ranges]) for r in of_eu] == [
        (R.STATE_RUNNING, [(1, 2)]), (R.STATE_QUEUED, [(1, 3)]), (R.STATE_QUEUED, [(0, 1)]),
    ]


async def test_submitted_runs_survive_a_restart_and_keep_their_identity(store_location: str) -> None:
    clock = ManualClock()
    w = await start_workers(store_location, clock)
    try:
        run = (await w.runs.SubmitRun(sensor("s-1", run_key="k"))).run
    finally:
        await stop_workers(w)
    w = await start_workers(store_location, clock)
    try:
        again = await w.runs.SubmitRun(sensor("s-2", run_key="k"))
        [leased] = await w.lease("w1")
        await w.complete("w1", leased)
        ended = (await w.runs.GetRun(rapi.GetRunRequest(run_id=run.run_id))).run
    finally:
        await stop_workers(w)

    assert again.deduplicated and again.run.run_id == run.run_id
    assert (leased.run_id, leased.run_key) == (run.run_id, run.run_key)
    assert ended.state == R.STATE_SUCCEEDED


async def test_bad_submissions_change_nothing(served_workers: Workers) -> None:
    w = served_workers
    no_time = tick("t-1")
    no_time.ClearField("scheduled_time")
    cases = [
        (rapi.SubmitRunRequest(origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders", selector=keys_selector("2024-01-01")),
         "request_id"),
        (rapi.SubmitRunRequest(request_id="b-1", asset_key="orders", selector=keys_selector("2024-01-01")), "origin"),
        (rapi.SubmitRunRequest(request_id="b-2", origin=rapi.RUN_ORIGIN_BACKFILL, asset_key="orders"), "origin"),
        (sensor("b-3", name=""), "origin_name"),
        (no_time, "scheduled_time"),
        (rapi.SubmitRunRequest(request_id="b-5", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders", run_key="x",
                               selector=keys_selector("2024-01-01")), "run_key"),
        (rapi.SubmitRunRequest(request_id="b-6", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders"), "selector"),
        (manual("b-7", keys_selector("2031-01-01")), "selector.keys.keys[0]"),
        (manual("b-8", key_range("2024-03-01", "2024-02-01")), "selector"),
        (rapi.SubmitRunRequest(request_id="b-9", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="nope",
                               selector=keys_selector("a")), "asset_key"),
        (rapi.SubmitRunRequest(request_id="b-10", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="scorecards",
                               selector=keys_selector("a")), "asset_key"),
        (rapi.SubmitRunRequest(request_id="b-11", origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders",
                               selector=keys_selector("2024-01-01"), reprocess_policy=99), "reprocess_policy"),  # type: ignore[arg-type]
    ]
    for request, field in cases:
        failure = await call_failure(w.runs.SubmitRun(request))
        assert failure.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), (field, failure)
        named = failure.violations[0][0] if failure.violations else failure.metadata.get("field", "")
        assert named.startswith(field), (field, failure)
    list_cases = [
        rapi.ListRunsRequest(partition_key="2024-01-01"),
        rapi.ListRunsRequest(origin_name="nightly"),
        rapi.ListRunsRequest(states=[99]),
        rapi.ListRunsRequest(origin=99),  # type: ignore[arg-type]
        rapi.ListRunsRequest(backfill_id="not an id"),
    ]
    for request in list_cases:
        assert (await call_failure(w.runs.ListRuns(request))).code == grpc.StatusCode.INVALID_ARGUMENT, request
    assert await ledger(w) == []
