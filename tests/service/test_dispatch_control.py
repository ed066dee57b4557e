"""Dispatch: plan order, pause and resume, cancel draining, the concurrency limit, fairness, filters, long polls."""

from __future__ import annotations

import asyncio

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    Workers,
    eventually,
    no_backoff,
    served_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

C = bf.Chunk
B = bf.Backfill
JANUARY = key_range("2024-01-01", "2024-01-20")  # chunks of 7, 7, 6
# Backfills running at once over other partitions than JANUARY's (one partition is never in two runs at once).
FEBRUARY = key_range("2024-02-01", "2024-02-20")


async def waiting_leases(w: Workers, count: int) -> None:
    """Returns once ``count`` LeaseChunks calls wait for work on the server."""

    async def waiting() -> bool:
        return w.running.dispatcher.waiting == count

    await eventually(waiting)


async def test_chunks_go_out_in_plan_order_forward_and_backward(served_workers: Workers) -> None:
    w = served_workers
    await w.create("fwd", target("orders", JANUARY), target("regions"))
    assert [(c.asset_key, c.index) for c in await w.lease("w1", 10)] == [
        ("orders", 0), ("orders", 1), ("orders", 2), ("regions", 0), ("regions", 1), ("regions", 2)
    ]
    await w.create("bwd", target("orders", FEBRUARY), order=B.ORDER_BACKWARD)
    first = (await w.lease("w1"))[0]
    assert (first.index, first.first_key, first.last_key) == (0, "2024-02-20", "2024-02-14")
    assert list(first.partition_keys) == [f"2024-02-{d:02d}" for d in range(20, 13, -1)]


def days(month: int, *numbers: int) -> list[str]:
    return [f"2024-{month:02d}-{d:02d}" for d in numbers]


async def test_chunks_leased_together_each_carry_their_own_keys(served_workers: Workers) -> None:
    """The keys of one call's chunks are made together; a retried chunk among new ones keeps its own."""
    w = served_workers
    await w.create("fwd", target("orders", JANUARY), chunk_size=2, retry_policy=no_backoff())
    first = await w.lease("w1", 3)
    await w.complete("w1", first[1], FAILED)  # chunk 1 goes out again before chunk 3
    together = await w.lease("w1", 4)
    assert [(c.index, list(c.partition_keys), c.first_key, c.last_key) for c in together] == [
        (1, days(1, 3, 4), "2024-01-03", "2024-01-04"), (3, days(1, 7, 8), "2024-01-07", "2024-01-08"),
        (4, days(1, 9, 10), "2024-01-09", "2024-01-10"), (5, days(1, 11, 12), "2024-01-11", "2024-01-12"),
    ]

    await w.create("bwd", target("orders", FEBRUARY), chunk_size=3, order=B.ORDER_BACKWARD, retry_policy=no_backoff(),
                   tags={"order": "backward"})
    first = await w.lease("w2", 2, tags={"order": "backward"})
    await w.complete("w2", first[0], FAILED)
    together = await w.lease("w2", 3, tags={"order": "backward"})
    assert [(c.index, list(c.partition_keys), c.first_key, c.last_key) for c in together] == [
        (0, days(2, 20, 19, 18), "2024-02-20", "2024-02-18"), (2, days(2, 14, 13, 12), "2024-02-14", "2024-02-12"),
        (3, days(2, 11, 10, 9), "2024-02-11", "2024-02-09"),
    ]


async def test_pause_stops_new_leases_while_leased_chunks_finish_and_resume_continues(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    leased = await w.lease("w1", 2)
    await w.backfills.PauseBackfill(api.PauseBackfillRequest(request_id="p", backfill_id=backfill_id))

    assert await w.lease("w2", 5) == []
    assert [(await w.complete("w1", chunk)).chunk_state for chunk in leased] == [C.STATE_SUCCEEDED] * 2
    assert (await w.backfill(backfill_id)).state == B.STATE_PAUSED
    assert await w.lease("w2", 5) == []
    await w.backfills.ResumeBackfill(api.ResumeBackfillRequest(request_id="r", backfill_id=backfill_id))
    [resumed] = await w.lease("w2", 5)

    assert resumed.index == 2  # where it stopped
    await w.complete("w2", resumed)
    assert (await w.backfill(backfill_id)).state == B.STATE_COMPLETED


async def test_a_backfill_whose_chunks_all_finished_while_paused_completes_when_resumed(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-07")))
    [chunk] = await w.lease("w1")
    await w.backfills.PauseBackfill(api.PauseBackfillRequest(request_id="p", backfill_id=backfill_id))
    await w.complete("w1", chunk)
    assert (await w.backfill(backfill_id)).state == B.STATE_PAUSED

    resumed = await w.backfills.ResumeBackfill(api.ResumeBackfillRequest(request_id="r", backfill_id=backfill_id))

    assert resumed.backfill.state == B.STATE_COMPLETED
    assert (await w.event_types(backfill_id))[-2:] == ["BackfillResumed", "BackfillCompleted"]


async def test_cancel_drains_leased_chunks_and_cancels_the_rest(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    finishing, lapsing = await w.lease("w1", 2, ttl=30)

    cancelled = await w.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="x", backfill_id=backfill_id))

    assert cancelled.backfill.state == B.STATE_CANCELLING
    assert await w.lease("w2", 5) == []
    beat = await w.heartbeat("w1", [finishing, lapsing])
    assert {s.run_id for s in beat.stop} == {finishing.run_id, lapsing.run_id}
    assert [c.state for c in await w.chunks(backfill_id)] == [C.STATE_LEASED, C.STATE_LEASED, C.STATE_CANCELLED]
    assert (await w.complete("w1", finishing)).chunk_state == C.STATE_SUCCEEDED
    assert (await w.backfill(backfill_id)).state == B.STATE_CANCELLING  # one lease left
    await w.advance(31)  # the other lapses: the heartbeat above was at t=0
    backfill = await w.backfill(backfill_id)
    assert backfill.state == B.STATE_CANCELLED
    assert [c.state for c in await w.chunks(backfill_id)] == [C.STATE_SUCCEEDED, C.STATE_CANCELLED, C.STATE_CANCELLED]
    progress = backfill.progress
    assert (progress.partitions_succeeded, progress.partitions_cancelled, progress.partitions_pending) == (7, 13, 0)
    assert (await w.event_types(backfill_id))[-3:] == ["ChunkLeaseExpired", "ChunkCancelled", "BackfillCancelled"]
    assert (await w.events(backfill_id))[-1].payload.cancelled.partitions_cancelled == 13


async def test_twenty_racing_workers_never_hold_more_than_max_concurrency(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", key_range("2024-02-01", "2024-03-11")), chunk_size=1,
                                 max_concurrency=3)
    held = peak = 0

    async def worker(number: int) -> None:
        nonlocal held, peak
        name = f"w{number}"
        while True:
            leased = await w.lease(name, wait=1)
            if not leased:
                if (await w.backfill(backfill_id)).state == B.STATE_COMPLETED:
                    return
                continue
            held += 1
            peak = max(peak, held)
            await w.heartbeat(name, leased)  # a round trip while holding it, so the workers interleave
            held -= 1
            await w.complete(name, leased[0])

    await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(20))), timeout=60)

    leased_now = server_peak = 0
    for event in await w.events(backfill_id):
        if event.type == "ChunksLeased":
            leased_now += len(event.payload.chunks_leased.leases)
        elif event.type in ("ChunkSucceeded", "ChunkFailed", "ChunkLeaseExpired", "ChunkReleased"):
            leased_now -= 1
        server_peak = max(server_peak, leased_now)
    assert server_peak == 3  # reached, never exceeded
    assert 1 <= peak <= 3
    assert (await w.backfill(backfill_id)).progress.partitions_succeeded == 40


async def test_a_live_concurrency_change_applies_at_once(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), chunk_size=1, max_concurrency=3)
    leased = await w.lease("w1", 5)
    assert len(leased) == 3

    await w.backfills.UpdateBackfill(api.UpdateBackfillRequest(request_id="u1", backfill_id=backfill_id,
                                                               max_concurrency=1))
    assert await w.lease("w1") == []
    await w.complete("w1", leased[0])
    await w.complete("w1", leased[1])
    assert await w.lease("w1") == []  # one still held: at the new limit
    await w.complete("w1", leased[2])
    assert len(await w.lease("w1", 5)) == 1

    waiting = asyncio.ensure_future(w.lease("w2", 5, wait=30))
    await waiting_leases(w, 1)  # the long poll found nothing at the limit and waits
    await w.backfills.UpdateBackfill(api.UpdateBackfillRequest(request_id="u2", backfill_id=backfill_id,
                                                               max_concurrency=3))
    assert len(await asyncio.wait_for(waiting, timeout=10)) == 2


async def test_backfills_take_turns_oldest_first(served_workers: Workers) -> None:
    w = served_workers
    older = await w.create("older", target("orders", JANUARY), chunk_size=1)
    newer = await w.create("newer", target("orders", FEBRUARY), chunk_size=1)

    one_at_a_time = [(await w.lease("w1"))[0] for _ in range(4)]
    batch = await w.lease("w1", 4)

    assert [c.backfill_id for c in one_at_a_time] == [older, newer, older, newer]
    assert [c.backfill_id for c in batch] == [older, newer, older, newer]
    assert [c.index for c in one_at_a_time + batch if c.backfill_id == older] == [0, 1, 2, 3]


async def test_workers_can_ask_for_assets_and_tags(served_workers: Workers) -> None:
    w = served_workers
    red = await w.create("red", target("orders", JANUARY), target("regions"), tags={"team": "red"})
    blue = await w.create("blue", target("orders", JANUARY), tags={"team": "blue"})

    regions = await w.lease("w1", 10, assets=["regions"])
    blues = await w.lease("w1", 10, tags={"team": "blue"})
    nothing = await w.lease("w1", 10, tags={"team": "green"})

    assert [(c.backfill_id, c.asset_key, c.index) for c in regions] == [(red, "regions", i) for i in range(3)]
    assert [(c.backfill_id, c.index) for c in blues] == [(blue, i) for i in range(3)]
    assert nothing == []


async def test_a_long_poll_returns_as_soon_as_work_appears(served_workers: Workers) -> None:
    w = served_workers
    assert await w.lease("w1", wait=0.05) == []  # no work: answers empty once the wait is over

    waiting = asyncio.ensure_future(w.lease("w1", wait=30))
    await waiting_leases(w, 1)
    backfill_id = await w.create("c-1", target("orders", JANUARY))

    [chunk] = await asyncio.wait_for(waiting, timeout=10)
    assert chunk.backfill_id == backfill_id


async def test_a_stopping_server_answers_waiting_leases_at_once(served_workers: Workers) -> None:
    w = served_workers
    waiting = asyncio.ensure_future(w.workers.LeaseChunks(
        wapi.LeaseChunksRequest(worker_id="w1", wait_timeout={"seconds": 60})
    ))
    await waiting_leases(w, 1)
    stopping = asyncio.ensure_future(w.running.stop(grace=30))
    answer = await asyncio.wait_for(waiting, timeout=10)
    await asyncio.wait_for(stopping, timeout=10)
    w.stopped = True  # type: ignore[attr-defined]
    assert list(answer.chunks) == []
