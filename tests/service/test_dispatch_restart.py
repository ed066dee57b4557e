"""Restarts: leases, waiting retries and dispatch positions survive a stop and start on the same database."""

from __future__ import annotations

from collections import Counter

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p, run_service_pb2 as rapi
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.test_worker_support import (
    FAILED,
    ManualClock,
    Workers,
    seconds,
    start_workers,
    stop_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

C = bf.Chunk
B = bf.Backfill
JANUARY = key_range("2024-01-01", "2024-01-20")  # chunks of 7, 7, 6


def indices(subset: p.PartitionSubset) -> set[int]:
    return {index for r in subset.ranges for index in range(r.start, r.end)}


async def restart(w: Workers) -> Workers:
    await stop_workers(w)
    return await start_workers(w.db, w.clock)


async def test_leases_held_across_a_restart_keep_working_and_lapse_after_a_grace(store_location: str) -> None:
    w = await start_workers(store_location, ManualClock())
    try:
        backfill_id = await w.create("c-1", target("orders", JANUARY))
        done, held = await w.lease("w1", 2, ttl=30)
        await w.complete("w1", done)
        w.clock.now += seconds(25).ToTimedelta()

        w = await restart(w)

        assert (await w.chunk(backfill_id, "orders", 0)).state == C.STATE_SUCCEEDED  # acknowledged: kept
        assert (await w.chunk(backfill_id, "orders", 1)).state == C.STATE_LEASED
        beat = await w.heartbeat("w1", [held])
        assert [e.lease.run_id for e in beat.extended] == [held.run_id]  # the live worker carries on
        [fresh] = await w.lease("w2")
        assert fresh.index == 2  # dispatch continues where it was
        await w.complete("w2", fresh)
        assert (await w.complete("w1", held)).chunk_state == C.STATE_SUCCEEDED
        assert (await w.backfill(backfill_id)).state == B.STATE_COMPLETED
    finally:
        await stop_workers(w)


async def test_a_lease_not_heartbeated_after_a_restart_lapses_one_ttl_after_startup(store_location: str) -> None:
    w = await start_workers(store_location, ManualClock())
    try:
        backfill_id = await w.create("c-1", target("orders", key_range("2024-01-01", "2024-01-07")))
        [chunk] = await w.lease("w1", ttl=30)
        w.clock.now += seconds(25).ToTimedelta()  # recorded expiry: t=30

        w = await restart(w)  # at t=25: grace until t=55

        assert await w.advance(15) == 0  # t=40: past the recorded expiry, within the grace
        assert await w.lease("w2") == []
        assert await w.advance(15) == 1  # t=55
        [again] = await w.lease("w2")
        assert (again.index, again.attempt) == (0, 2)
        assert again.run_key != chunk.run_key
    finally:
        await stop_workers(w)


async def test_restarts_lose_nothing_and_never_reuse_a_run_key(store_location: str) -> None:
    w = await start_workers(store_location, ManualClock())
    retry_now = bf.RetryPolicy(max_attempts=50, initial_backoff=seconds(10), max_backoff=seconds(10))
    try:
        backfill_id = await w.create("c-1", target("orders", key_range("2024-01-01", "2024-02-29")), chunk_size=3,
                                     retry_policy=retry_now)
        acknowledged: set[str] = set()
        for step in range(6):
            leased = await w.lease(f"w{step}", 4, ttl=20)
            for position, chunk in enumerate(leased):
                if position == 0:
                    continue  # held across the restart, left to lapse
                if position == 1:
                    await w.complete(f"w{step}", chunk, FAILED, failed=[chunk.first_key])
                else:
                    await w.complete(f"w{step}", chunk)
                    acknowledged.update(chunk.partition_keys)
            w = await restart(w)
            await w.advance(21)  # lapses what was held (the grace is one ttl after the restart)
        await w.drain("w-final", backfill_id)

        backfill = await w.backfill(backfill_id)
        assert backfill.state == B.STATE_COMPLETED
        assert (backfill.progress.partitions_succeeded, backfill.progress.partitions_failed) == (60, 0)
        runs = await w.all_runs(backfill_id)
        keys = [run.run_key for run in runs]
        assert len(keys) == len(set(keys))  # every attempt had its own run key
        assert {r.state for r in runs} >= {rapi.Run.STATE_LEASE_EXPIRED, rapi.Run.STATE_FAILED, rapi.Run.STATE_SUCCEEDED}
        # Every partition succeeded in exactly one run (a partial failure's run counts its other partitions).
        succeeded = Counter(
            index
            for run in runs if run.state in (rapi.Run.STATE_SUCCEEDED, rapi.Run.STATE_FAILED)
            for index in indices(run.partitions) - indices(run.failed_partitions)
        )
        assert sorted(succeeded) == list(range(60)) and set(succeeded.values()) == {1}
        assert len(acknowledged) > 10
    finally:
        await stop_workers(w)


async def test_a_cancel_in_progress_finishes_after_a_restart(store_location: str) -> None:
    w = await start_workers(store_location, ManualClock())
    try:
        backfill_id = await w.create("c-1", target("orders", JANUARY))
        [chunk] = await w.lease("w1", ttl=10)
        await w.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="x", backfill_id=backfill_id))

        w = await restart(w)

        assert [s.run_id for s in (await w.heartbeat("w1", [chunk])).stop] == [chunk.run_id]
        await w.advance(11)
        assert (await w.backfill(backfill_id)).state == B.STATE_CANCELLED
    finally:
        await stop_workers(w)
