"""Milestone-2 parity gates, the proof of the seed's parity gates (run in CI with the rest of the suite).

1. Backfill pause/resume/cancel transitions stay monotonic under concurrent clients.
2. Retrying failed partitions targets exactly them, deterministically.
3. Backfills, schedules, sensors and manual re-execution share one run key function and one ledger.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2 as sapi, schedule_service_pb2_grpc
from arco_grpc.planning.run_keys import (
    BackfillScope,
    LogicalRunRequest,
    ManualScope,
    ReexecutionMode,
    ReexecutionScope,
    RunScope,
    ScheduleScope,
    SensorScope,
    run_key_for,
)
from tests.service.backfill_helpers import create, serve_backfills, target
from tests.service.builders import key_range, keys_selector, ts
from tests.service.conftest import ServerStarter, db_path, start  # noqa: F401 - fixtures
from tests.service.test_worker_support import FAILED, ManualClock, start_workers, stop_workers

S = bf.Backfill
CLIENTS = 12
OPERATIONS_PER_CLIENT = 40
# (state before, event type) -> state after; events absent from a state's row are illegal there.
LEGAL_MOVES: dict[tuple[int, str], int] = {
    (S.STATE_UNSPECIFIED, "BackfillCreated"): S.STATE_CREATED,
    (S.STATE_CREATED, "BackfillStarted"): S.STATE_RUNNING,
    (S.STATE_RUNNING, "BackfillPaused"): S.STATE_PAUSED,
    (S.STATE_PAUSED, "BackfillResumed"): S.STATE_RUNNING,
    (S.STATE_CREATED, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_RUNNING, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_PAUSED, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_CANCELLING, "BackfillCancelled"): S.STATE_CANCELLED,
}
Mutation = api.PauseBackfillRequest | api.ResumeBackfillRequest | api.CancelBackfillRequest


@dataclass
class Outcomes:
    """What the clients saw: every acknowledged request with its first answer, and the refusals."""

    acknowledged: dict[str, tuple[Mutation, bf.Backfill]] = field(default_factory=dict)
    refused: dict[grpc.StatusCode, int] = field(default_factory=dict)


async def client(number: int, address: str, backfill_id: str, outcomes: Outcomes) -> None:
    rng = random.Random(number)
    seen_version = 2
    mine: list[str] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
        for n in range(OPERATIONS_PER_CLIENT):
            if mine and rng.random() < 0.2:
                request, _ = outcomes.acknowledged[rng.choice(mine)]  # a client retry: replay exactly
            else:
                roll = rng.random()
                # Cancels only near the end, so that most of the race is pause against resume.
                late = n >= OPERATIONS_PER_CLIENT - 4
                kind = "Cancel" if late and roll < 0.1 else ("Pause" if roll < 0.5 else "Resume")
                request = getattr(api, f"{kind}BackfillRequest")(
                    request_id=f"c{number}-{n}", backfill_id=backfill_id, reason=f"client {number} op {n}",
                    expected_state_version=seen_version if rng.random() < 0.3 else 0,
                )
            method = type(request).__name__.removesuffix("Request")
            try:
                response = await getattr(stub, method)(request)
            except grpc.aio.AioRpcError as error:
                allowed = {grpc.StatusCode.FAILED_PRECONDITION}
                if request.expected_state_version:
                    allowed.add(grpc.StatusCode.ABORTED)
                assert error.code() in allowed, (request, error.code(), error.details())
                outcomes.refused[error.code()] = outcomes.refused.get(error.code(), 0) + 1
                continue
            first = outcomes.acknowledged.setdefault(request.request_id, (request, response.backfill))
            assert first == (request, response.backfill), "a replay must return the first answer"
            mine.append(request.request_id)
            seen_version = max(seen_version, response.backfill.state_version)
            await asyncio.sleep(0)  # let the others interleave


async def all_events(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str) -> list[api.BackfillEvent]:
    events: list[api.BackfillEvent] = []
    token = ""
    while True:
        page = await stub.ListBackfillEvents(
            api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=50, page_token=token)
        )
        events.extend(page.events)
        token = page.next_page_token
        if not token:
            return events


async def test_parity_m2_backfill_pause_resume_cancel_transitions_are_monotonic(start: ServerStarter) -> None:
    backfills = await serve_backfills(await start())
    created = await backfills.stub.CreateBackfill(create("create-1", target("orders")))
    backfill_id = created.backfill.id
    outcomes = Outcomes()

    await asyncio.gather(*(
        client(number, backfills.served.address, backfill_id, outcomes) for number in range(CLIENTS)
    ))

    events = await all_events(backfills.stub, backfill_id)
    # state_version strictly increasing, no gaps.
    assert [e.state_version for e in events] == list(range(1, len(events) + 1))
    # Every accepted transition is legal; remember the state after each version.
    state_at = {0: S.STATE_UNSPECIFIED}
    state = S.STATE_UNSPECIFIED
    for event in events:
        if event.type == "BackfillConcurrencyChanged":
            assert state not in (S.STATE_CANCELLED, S.STATE_COMPLETED)
        else:
            assert (state, event.type) in LEGAL_MOVES, f"illegal {event.type} in {S.State.Name(state)}"
            state = LEGAL_MOVES[(state, event.type)]
        state_at[event.state_version] = state
    # The final state is the last event's.
    final = (await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert (final.state, final.state_version) == (state, events[-1].state_version)
    # Nothing acknowledged was lost, nothing refused was written.
    by_request: dict[str, list[api.BackfillEvent]] = {}
    for event in events:
        by_request.setdefault(event.request_id, []).append(event)
    assert set(by_request) <= set(outcomes.acknowledged) | {"create-1"}
    for request_id, (request, answer) in outcomes.acknowledged.items():
        written = by_request.get(request_id, [])
        if written:  # its events are one contiguous batch ending at the answer's version
            versions = [e.state_version for e in written]
            assert versions == list(range(versions[0], versions[0] + len(versions)))
            assert versions[-1] == answer.state_version
        assert state_at[answer.state_version] == answer.state, request_id
        if request.expected_state_version:
            first_version = written[0].state_version - 1 if written else answer.state_version
            assert first_version == request.expected_state_version
    # The race really raced: changes were made, refused and replayed.
    assert len(events) > 20
    assert outcomes.refused.get(grpc.StatusCode.ABORTED, 0) > 0
    assert sum(1 for e in events if e.type == "BackfillPaused") > 5


async def test_parity_m2_retry_failed_only_targets_failed_partitions_deterministically(tmp_path) -> None:  # noqa: ANN001
    """RetryFailedPartitions retries exactly the failed partitions, deterministically.

    "Deterministically" means: a retry round's chunks are a pure function of
    the failed partitions, the chunk size and the dispatch order, and its run
    keys a pure function of (backfill id, asset, round, index, attempt). So
    two backfills over the same selection with the same failures get the same
    round-2 chunks (index by index, the same keys) and the same run keys up to
    their backfill id; and one backfill shows the same round-2 chunks and run
    keys after a server restart. Its history (RetryRoundOpened) records the
    retried subset, which equals the failed subset.
    """
    from arco_grpc.planning.chunks import run_key
    from tests.service.test_worker_support import no_backoff

    failing = ["2024-03-02", "2024-03-03", "2024-03-11", "2024-03-29", "2024-03-30", "2024-03-31"]
    selection = target("orders", key_range("2024-03-01", "2024-03-31"))
    w = await start_workers(tmp_path / "arco.db", ManualClock())
    try:
        ids = [await w.create(f"twin-{n}", selection, chunk_size=5, retry_policy=no_backoff(max_attempts=1))
               for n in range(2)]
        for backfill_id in ids:
            await w.drain("w1", backfill_id, failing=failing)
        failed = {}
        for backfill_id in ids:
            done = await w.backfill(backfill_id)
            assert done.state == S.STATE_COMPLETED
            failed[backfill_id] = [(r.start, r.end) for r in done.outcomes[0].failed.ranges]

        retried = {}
        for backfill_id in ids:
            answer = await w.backfills.RetryFailedPartitions(
                api.RetryFailedPartitionsRequest(request_id=f"retry-{backfill_id}", backfill_id=backfill_id)
            )
            retried[backfill_id] = [(r.start, r.end) for r in answer.retried[0].partitions.ranges]
            history = (await w.events(backfill_id))[-1]
            assert history.type == "RetryRoundOpened"
            recorded = history.payload.retry_round_opened.targets[0]
            assert [(r.start, r.end) for r in recorded.partitions.ranges] == failed[backfill_id]
        assert retried[ids[0]] == failed[ids[0]] == retried[ids[1]] == failed[ids[1]]  # exactly the failures

        def structure(chunks: list[bf.Chunk], backfill_id: str) -> list[tuple[int, list[str], bool]]:
            return [
                (c.index, list(c.partition_keys), c.run_key == run_key(backfill_id, "orders", 2, c.index, 1))
                for c in chunks
            ]

        before = {backfill_id: structure(await w.chunks(backfill_id, round=2), backfill_id) for backfill_id in ids}
        assert before[ids[0]] == before[ids[1]]
        assert [keys for _, keys, _ in before[ids[0]]] == [failing[:5], failing[5:]]
        assert all(matches for _, _, matches in before[ids[0]])

        await stop_workers(w)
        w = await start_workers(w.db, w.clock)
        after = {backfill_id: structure(await w.chunks(backfill_id, round=2), backfill_id) for backfill_id in ids}
        assert after == before
        leased = [c for c in await w.lease("w2", 10) if c.backfill_id == ids[0]]
        assert [(c.round, c.index, list(c.partition_keys), c.run_key) for c in leased] == [
            (2, index, keys, run_key(ids[0], "orders", 2, index, 1)) for index, keys, _ in before[ids[0]]
        ]
    finally:
        await stop_workers(w)


def orders_key(scope: RunScope) -> str:
    """The run key of the first attempt at materializing ``orders`` for a request in ``scope``."""
    return run_key_for(LogicalRunRequest(scope, "orders"))


async def whole_ledger(runs: run_service_pb2_grpc.RunServiceStub) -> list[rapi.Run]:
    """Every run of the ledger, through ListRuns in small pages."""
    ledger: list[rapi.Run] = []
    token = ""
    while True:
        page = await runs.ListRuns(rapi.ListRunsRequest(page_size=3, page_token=token))
        ledger.extend(page.runs)
        token = page.next_page_token
        if not token:
            return ledger


async def test_parity_m2_schedule_sensor_backfill_and_manual_reexecution_share_run_key_consistency(tmp_path: Path) -> None:
    """Every origin names its runs with the one function, dedupes in its own scope, and lands in one ledger.

    Through the real server: a backfill chunk, a schedule tick launched by the
    server's own tick loop, a sensor request, manual launches and a
    re-execution. Each run's key equals ``run_key_for`` of its logical request,
    on the leased chunk and in ListRuns; a replay in the origin's scope (the
    same tick, the same sensor run key, the same request id) returns the run
    already there; a manual launch with another request id and a re-execution
    get runs and keys of their own, the re-execution linked to its parent.
    """
    w = await start_workers(tmp_path / "arco.db", ManualClock())
    try:
        # BACKFILL: one chunk of 2024-01-01..07.
        backfill_id = await w.create("bf-1", target("orders", key_range("2024-01-01", "2024-01-07")))
        [chunk] = await w.lease("w1", 8)
        await w.complete("w1", chunk)
        backfill_key = orders_key(BackfillScope(backfill_id, 1, 0))
        assert (chunk.backfill_id, chunk.run_key, chunk.origin) == (backfill_id, backfill_key, rapi.RUN_ORIGIN_BACKFILL)

        # SCHEDULE: created through ScheduleService; the server's tick loop launches the tick at the next midnight.
        schedules = schedule_service_pb2_grpc.ScheduleServiceStub(w.channel)
        await schedules.CreateSchedule(sapi.CreateScheduleRequest(
            request_id="nightly-1", name="nightly", cron_schedule="0 0 * * *", asset_key="orders"
        ))
        w.clock.now += timedelta(days=1)
        await w.running.schedule_ticker.tick()
        assert await w.running.schedule_ticker.tick() == 0  # a second pass at the same time launches nothing
        [launched] = (await schedules.GetSchedule(sapi.GetScheduleRequest(name="nightly"))).schedule.last_ticks
        tick_time = launched.scheduled_time.ToDatetime(tzinfo=timezone.utc)
        assert (tick_time, launched.partition_key) == (datetime(2025, 1, 2, tzinfo=timezone.utc), "2025-01-01")
        schedule_key = orders_key(ScheduleScope("nightly", tick_time, "2025-01-01"))
        assert launched.run_key == schedule_key and launched.run_id
        # The same tick submitted through RunService: the one function's key, and the run already there.
        same_tick = rapi.SubmitRunRequest(
            request_id="sched-replay", origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name="nightly", asset_key="orders",
            selector=keys_selector("2025-01-01"), run_key="2025-01-01", scheduled_time=ts(tick_time),
        )
        replayed_tick = await w.runs.SubmitRun(same_tick)
        assert replayed_tick.deduplicated
        assert (replayed_tick.run.run_id, replayed_tick.run.run_key) == (launched.run_id, schedule_key)
        [tick_chunk] = await w.lease("w1", 8)
        await w.complete("w1", tick_chunk)
        assert (tick_chunk.run_id, tick_chunk.run_key, tick_chunk.origin) == (
            launched.run_id, schedule_key, rapi.RUN_ORIGIN_SCHEDULE
        )

        # SENSOR: a run key dedupes a replay that has another request id.
        first_sensor = await w.runs.SubmitRun(rapi.SubmitRunRequest(
            request_id="s-1", origin=rapi.RUN_ORIGIN_SENSOR, origin_name="new_files", asset_key="orders",
            selector=keys_selector("2024-03-01"), run_key="file-17",
        ))
        replayed_sensor = await w.runs.SubmitRun(rapi.SubmitRunRequest(
            request_id="s-2", origin=rapi.RUN_ORIGIN_SENSOR, origin_name="new_files", asset_key="orders",
            selector=keys_selector("2024-03-01"), run_key="file-17",
        ))
        sensor_key = orders_key(SensorScope("new_files", "file-17"))
        assert not first_sensor.deduplicated and first_sensor.run.run_key == sensor_key
        assert replayed_sensor.deduplicated and replayed_sensor.run.run_id == first_sensor.run.run_id

        # MANUAL: only a retry of the same request id repeats a launch; the same partitions again are a new run.
        def manual(request_id: str) -> rapi.SubmitRunRequest:
            return rapi.SubmitRunRequest(request_id=request_id, origin=rapi.RUN_ORIGIN_MANUAL, asset_key="orders",
                                         selector=key_range("2024-02-01", "2024-02-05"))

        first_manual = await w.runs.SubmitRun(manual("m-1"))
        assert await w.runs.SubmitRun(manual("m-1")) == first_manual
        second_manual = await w.runs.SubmitRun(manual("m-2"))
        manual_run = first_manual.run
        manual_keys = (orders_key(ManualScope("m-1")), orders_key(ManualScope("m-2")))
        assert (manual_run.run_key, second_manual.run.run_key) == manual_keys
        assert not second_manual.deduplicated and second_manual.run.run_id != manual_run.run_id

        # RE-EXECUTION of the failed manual run, from failure: lineage, and a key of its own per request id.
        leased = {c.run_id: c for c in await w.lease("w1", 8)}
        assert leased[manual_run.run_id].run_key == manual_run.run_key
        await w.complete("w1", leased[manual_run.run_id], FAILED, ["2024-02-02"], "bad rows")

        def reexecute(request_id: str) -> rapi.ReexecuteRunRequest:
            return rapi.ReexecuteRunRequest(
                request_id=request_id, run_id=manual_run.run_id, mode=rapi.ReexecuteRunRequest.MODE_FROM_FAILURE
            )

        child = (await w.runs.ReexecuteRun(reexecute("re-1"))).run
        assert (await w.runs.ReexecuteRun(reexecute("re-1"))).run == child
        sibling = (await w.runs.ReexecuteRun(reexecute("re-2"))).run
        assert (child.parent_run_id, child.root_run_id, child.origin) == (
            manual_run.run_id, manual_run.run_id, rapi.RUN_ORIGIN_MANUAL
        )
        assert (child.partition_count, child.state) == (1, rapi.Run.STATE_QUEUED)
        child_key = orders_key(ReexecutionScope(manual_run.run_key, ReexecutionMode.FROM_FAILURE, "re-1"))
        sibling_key = orders_key(ReexecutionScope(manual_run.run_key, ReexecutionMode.FROM_FAILURE, "re-2"))
        assert (child.run_key, sibling.run_key) == (child_key, sibling_key)

        # The ledger: each run once, with its origin and the key the one function gives it.
        ledger = await whole_ledger(w.runs)
        in_ledger = {r.run_id: (r.run_key, r.origin, r.origin_name, r.parent_run_id) for r in ledger}
        assert len(in_ledger) == len(ledger)
        assert in_ledger == {
            chunk.run_id: (backfill_key, rapi.RUN_ORIGIN_BACKFILL, "", ""),
            launched.run_id: (schedule_key, rapi.RUN_ORIGIN_SCHEDULE, "nightly", ""),
            first_sensor.run.run_id: (sensor_key, rapi.RUN_ORIGIN_SENSOR, "new_files", ""),
            manual_run.run_id: (manual_keys[0], rapi.RUN_ORIGIN_MANUAL, "", ""),
            second_manual.run.run_id: (manual_keys[1], rapi.RUN_ORIGIN_MANUAL, "", ""),
            child.run_id: (child_key, rapi.RUN_ORIGIN_MANUAL, "", manual_run.run_id),
            sibling.run_id: (sibling_key, rapi.RUN_ORIGIN_MANUAL, "", manual_run.run_id),
        }
        assert len({run_key for run_key, *_ in in_ledger.values()}) == len(ledger)  # every key its own
        of_backfill = (await w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id))).runs
        assert [(r.run_key, r.state) for r in of_backfill] == [(backfill_key, rapi.Run.STATE_SUCCEEDED)]
        of_schedule = (await w.runs.ListRuns(rapi.ListRunsRequest(
            origin=rapi.RUN_ORIGIN_SCHEDULE, origin_name="nightly"
        ))).runs
        assert [(r.run_id, r.run_key, r.origin_run_key, r.state) for r in of_schedule] == [
            (launched.run_id, schedule_key, "2025-01-01", rapi.Run.STATE_SUCCEEDED)
        ]
        assert of_schedule[0].scheduled_time == ts(tick_time)
    finally:
        await stop_workers(w)
