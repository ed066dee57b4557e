"""The worker SDK against a real server: outcomes, heartbeats, stop, lost leases, reports across a restart, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rs
from arco_grpc.worker import Backoff, ChunkTask, PartialFailure, Worker
from tests.worker.conftest import LiveServer
from tests.worker.processes import Client, static_keys, wait_until
from tests.worker.proxy import Proxy

ASSET = "letters"
FAST = Backoff(initial=0.05, maximum=0.3)

Starter = Callable[..., Worker]


@pytest.fixture
async def start_worker() -> AsyncIterator[Starter]:
    """Starts SDK workers in the background; shuts every one down at the end."""
    running: list[tuple[Worker, asyncio.Task[None]]] = []

    def start(target: str, worker_id: str, handler: Any, **options: Any) -> Worker:
        options.setdefault("poll_timeout", 0.5)
        options.setdefault("backoff", FAST)
        worker = Worker(target, worker_id, handler, **options)
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    await asyncio.wait_for(asyncio.gather(*(worker.shutdown(0) for worker, _ in running)), 30)
    await asyncio.wait_for(asyncio.gather(*(task for _, task in running)), 30)


async def backfill_of(client: Client, keys: int, chunk_size: int, **options: Any) -> str:
    await client.apply_static(ASSET, static_keys(keys))
    return await client.create_backfill(ASSET, chunk_size=chunk_size, max_concurrency=options.pop("max_concurrency", 3),
                                        **options)


async def completed(client: Client, backfill_id: str) -> bf.Backfill:
    return await wait_until(lambda: client.state_is(backfill_id, bf.Backfill.STATE_COMPLETED), "COMPLETED")


def by_index(runs: list[rs.Run]) -> dict[int, list[rs.Run]]:
    found: dict[int, list[rs.Run]] = {}
    for run in runs:
        found.setdefault(run.chunk_index, []).append(run)
    return found


async def test_return_raise_and_partial_failure_become_the_runs_outcomes(
    live: LiveServer, client: Client, start_worker: Starter
) -> None:
    backfill_id = await backfill_of(client, keys=12, chunk_size=3, max_attempts=1)

    async def handler(task: ChunkTask) -> dict[str, str] | None:
        keys = await task.partition_keys()
        if task.index == 1:
            raise PartialFailure([keys[1]], "p004 had no input")
        if task.index == 2:
            raise ValueError("boom")
        if task.index == 3:
            raise PartialFailure(["not-a-key"], "oops")
        return {"rows": str(len(keys))}

    start_worker(live.address, "w1", handler, max_concurrent_chunks=2)
    backfill = await completed(client, backfill_id)
    assert (backfill.progress.partitions_succeeded, backfill.progress.partitions_failed) == (3 + 2, 1 + 3 + 3)
    runs = by_index(await client.all_runs(backfill_id))
    assert {i: len(r) for i, r in runs.items()} == {0: 1, 1: 1, 2: 1, 3: 1}
    assert runs[0][0].state == rs.Run.STATE_SUCCEEDED and dict(runs[0][0].metadata) == {"rows": "3"}
    assert (runs[1][0].state, runs[1][0].failed_partition_count, runs[1][0].error_message) == (
        rs.Run.STATE_FAILED, 1, "p004 had no input")
    assert (runs[2][0].failed_partition_count, runs[2][0].error_message) == (3, "ValueError: boom")
    # Keys outside the chunk cannot be a partial failure: the whole chunk failed, and the message says why.
    assert runs[3][0].failed_partition_count == 3
    assert "not in the chunk: 'not-a-key'" in runs[3][0].error_message
    assert {r[0].worker_id for r in runs.values()} == {"w1"}


async def test_heartbeats_keep_a_chunk_leased_longer_than_its_ttl(
    live: LiveServer, client: Client, start_worker: Starter
) -> None:
    backfill_id = await backfill_of(client, keys=2, chunk_size=2)
    may_finish = asyncio.Event()

    async def handler(task: ChunkTask) -> None:
        task.report_progress(0.5, "halfway")
        await may_finish.wait()

    start_worker(live.address, "w1", handler, lease_ttl=1.0)
    get = api.GetChunkRequest(backfill_id=backfill_id, asset_key=ASSET, round=1, index=0)

    async def leased() -> bf.Chunk | None:
        chunk = (await client.backfills.GetChunk(get)).chunk
        return chunk if chunk.state == bf.Chunk.STATE_LEASED else None

    first = (await wait_until(leased, "the chunk to be leased")).lease_expire_time.ToDatetime()

    async def extended_twice_over() -> bool:
        # An expiry two ttls past the first one was set after the first one had passed.
        expiry = (await client.backfills.GetChunk(get)).chunk.lease_expire_time.ToDatetime()
        return (expiry - first).total_seconds() >= 2.0

    await wait_until(extended_twice_over, "heartbeats to extend the lease past its first expiry")
    may_finish.set()
    await completed(client, backfill_id)
    runs = await client.all_runs(backfill_id)
    assert [(r.attempt, r.state) for r in runs] == [(1, rs.Run.STATE_SUCCEEDED)]


async def test_progress_reaches_watchers_with_the_next_heartbeat(
    live: LiveServer, client: Client, start_worker: Starter
) -> None:
    backfill_id = await backfill_of(client, keys=2, chunk_size=2)
    may_finish = asyncio.Event()

    async def handler(task: ChunkTask) -> None:
        task.report_progress(0.25, "table 1 of 4")
        await may_finish.wait()

    start_worker(live.address, "w1", handler, lease_ttl=1.5)
    stream = client.backfills.WatchBackfill(api.WatchBackfillRequest(backfill_id=backfill_id, follow=True))
    try:
        async def first_progress() -> api.ChunkProgressUpdate:
            async for message in stream:
                if message.WhichOneof("kind") == "progress":
                    return message.progress
            raise AssertionError("the stream ended without progress")

        progress = await asyncio.wait_for(first_progress(), 30)
    finally:
        stream.cancel()
    may_finish.set()
    assert (progress.index, progress.fraction, progress.message) == (0, 0.25, "table 1 of 4")
    await completed(client, backfill_id)


async def test_a_stop_sets_cancelled_and_the_chunk_is_reported_cancelled(
    live: LiveServer, client: Client, start_worker: Starter
) -> None:
    backfill_id = await backfill_of(client, keys=4, chunk_size=2, max_concurrency=1)
    seen_cancel: list[int] = []

    async def handler(task: ChunkTask) -> None:
        await task.cancelled.wait()
        seen_cancel.append(task.index)

    start_worker(live.address, "w1", handler, lease_ttl=1.5)
    await wait_until(lambda: client.all_runs(backfill_id), "a run to start")
    await client.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="cancel-1", backfill_id=backfill_id))
    await wait_until(lambda: client.state_is(backfill_id, bf.Backfill.STATE_CANCELLED), "CANCELLED")
    assert seen_cancel == [0]
    runs = await client.all_runs(backfill_id)
    assert len(runs) == 1 and runs[0].error_message == "cancelled"
    assert runs[0].state in (rs.Run.STATE_FAILED, rs.Run.STATE_CANCELLED)


async def test_a_lost_lease_is_abandoned_without_a_report(
    live: LiveServer, client: Client, start_worker: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arco_grpc.worker")
    backfill_id = await backfill_of(client, keys=2, chunk_size=2)
    proxy = Proxy(live.port)
    await proxy.start()
    abandoned: list[str] = []

    async def stuck(task: ChunkTask) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            abandoned.append(task.run_key)
            raise

    async def quick(task: ChunkTask) -> None:
        return None

    try:
        cut_off = start_worker(proxy.address, "cut-off", stuck, lease_ttl=1.0)
        await wait_until(lambda: cut_off.held_run_ids, "the first worker to hold the chunk")
        proxy.cut()  # its heartbeats stop reaching the server: the lease lapses
        start_worker(live.address, "healthy", quick, lease_ttl=5.0)
        await completed(client, backfill_id)
        proxy.restore()
        await wait_until(lambda: abandoned and not cut_off.held_run_ids, "the first worker to abandon the chunk")
    finally:
        await proxy.close()
    runs = await client.all_runs(backfill_id)
    assert [(r.worker_id, r.attempt, r.state) for r in runs] == [
        ("cut-off", 1, rs.Run.STATE_LEASE_EXPIRED), ("healthy", 2, rs.Run.STATE_SUCCEEDED)]
    assert abandoned == [runs[0].run_key]
    assert not [r for r in caplog.records if "refused the outcome" in r.getMessage()]  # it reported nothing


async def test_a_finished_chunk_is_reported_across_a_server_restart(
    live: LiveServer, client: Client, start_worker: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arco_grpc.worker")
    backfill_id = await backfill_of(client, keys=2, chunk_size=2)
    may_finish = asyncio.Event()

    async def handler(task: ChunkTask) -> None:
        await may_finish.wait()

    worker = start_worker(live.address, "w1", handler, lease_ttl=30.0)
    await wait_until(lambda: worker.held_run_ids, "the chunk to be leased")
    await live.stop()
    may_finish.set()  # the report now meets a dead server
    await wait_until(lambda: [r for r in caplog.records if "CompleteChunk" in r.getMessage()],
                     "the report to fail and be retried")
    await live.start()
    await completed(client, backfill_id)
    runs = await client.all_runs(backfill_id)
    assert [(r.attempt, r.state) for r in runs] == [(1, rs.Run.STATE_SUCCEEDED)]


async def test_shutdown_lets_running_chunks_finish_and_releases_the_rest(
    live: LiveServer, client: Client, start_worker: Starter
) -> None:
    backfill_id = await backfill_of(client, keys=4, chunk_size=2)
    finish_first = asyncio.Event()
    cancelled: list[int] = []

    async def handler(task: ChunkTask) -> None:
        try:
            if task.index == 0:
                await finish_first.wait()
            else:
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(task.index)
            raise

    worker = start_worker(live.address, "w1", handler, max_concurrent_chunks=2, lease_ttl=30.0)
    await wait_until(lambda: len(worker.held_run_ids) == 2, "both chunks to be leased")
    stopping = asyncio.create_task(worker.shutdown(grace=1.0))
    finish_first.set()
    await asyncio.wait_for(stopping, 30)
    assert cancelled == [1]
    runs = by_index(await client.all_runs(backfill_id))
    assert [r.state for r in runs[0]] == [rs.Run.STATE_SUCCEEDED]
    assert [r.state for r in runs[1]] == [rs.Run.STATE_RELEASED]
    chunks = await client.all_chunks(backfill_id)
    # Released: back to the queue at once, its attempt not used up.
    assert [(c.index, c.state) for c in chunks] == [(0, bf.Chunk.STATE_SUCCEEDED), (1, bf.Chunk.STATE_PENDING)]
    assert chunks[1].failed_attempts == 0


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
async def test_keys_of_a_large_chunk_are_listed_from_the_server(
    live: LiveServer, client: Client, start_worker: Starter, backward: bool
) -> None:
    keys = static_keys(1500)  # chunks of 1200 carry no keys in the lease (at most 1,000 do)
    await client.apply_static(ASSET, keys)
    backfill_id = await client.create_backfill(ASSET, chunk_size=1200, max_concurrency=2, backward=backward)
    seen: dict[int, tuple[str, ...]] = {}

    async def handler(task: ChunkTask) -> None:
        got = await task.partition_keys()
        assert (got[0], got[-1], len(got)) == (task.first_key, task.last_key, task.partition_count)
        seen[task.index] = got

    start_worker(live.address, "w1", handler, max_concurrent_chunks=2)
    await completed(client, backfill_id)
    order = keys[::-1] if backward else keys
    assert seen == {0: tuple(order[:1200]), 1: tuple(order[1200:])}


async def test_the_worker_checks_its_arguments() -> None:
    async def handler(task: ChunkTask) -> None:
        return None

    for options, message in [
        ({"max_concurrent_chunks": 0}, "max_concurrent_chunks"),
        ({"lease_ttl": 0.5}, "lease_ttl"),
        ({"lease_ttl": 3, "heartbeat_interval": 3}, "heartbeat_interval"),
        ({"poll_timeout": 61}, "poll_timeout"),
    ]:
        with pytest.raises(ValueError, match=message):
            Worker("127.0.0.1:1", "w", handler, **options)
    with pytest.raises(ValueError, match="worker_id"):
        Worker("127.0.0.1:1", "", handler)


async def test_a_server_without_the_worker_service_is_an_error_not_a_retry_loop(start_worker: Starter) -> None:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        worker = Worker(f"127.0.0.1:{port}", "w1", lambda task: asyncio.sleep(0), backoff=FAST)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(worker.run(), 30)
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)
