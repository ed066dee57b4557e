"""Shared fixtures for the WorkerService, RunService and dispatch tests (this module holds no test).

A real server on loopback over a temporary SQLite file, with a manual clock:
tests move time with :meth:`Workers.advance`, which also runs the server's
lease reaper at the new time, so that expiries and retry timers are exact
and no test sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi, worker_service_pb2_grpc
from arco_grpc.server import RunningServer, start_server
from arco_grpc.store import open_store
from tests.service.backfill_helpers import CATALOG
from tests.service.conftest import FIXED_NOW

C = bf.Chunk
OK = wapi.ChunkCompletion.OUTCOME_SUCCEEDED
FAILED = wapi.ChunkCompletion.OUTCOME_FAILED


class ManualClock:
    """The server's clock in these tests: it moves only when told."""

    def __init__(self, start: datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(seconds=value))
    return duration


def no_backoff(max_attempts: int = 3) -> bf.RetryPolicy:
    """A retry policy that retries failures at once."""
    return bf.RetryPolicy(max_attempts=max_attempts, initial_backoff=seconds(0), max_backoff=seconds(0))


@dataclass
class Workers:
    """A running server with its stubs, its manual clock and short helpers."""

    running: RunningServer
    channel: grpc.aio.Channel
    clock: ManualClock
    db: Path | str  # the store location the server was started on
    catalog: catalog_service_pb2_grpc.CatalogServiceStub = field(init=False)
    backfills: backfill_service_pb2_grpc.BackfillServiceStub = field(init=False)
    workers: worker_service_pb2_grpc.WorkerServiceStub = field(init=False)
    runs: run_service_pb2_grpc.RunServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(self.channel)
        self.backfills = backfill_service_pb2_grpc.BackfillServiceStub(self.channel)
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(self.channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(self.channel)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    async def create(self, request_id: str, *targets: api.BackfillTargetSpec, **fields: object) -> str:
        request = api.CreateBackfillRequest(request_id=request_id, targets=targets, **fields)  # type: ignore[arg-type]
        return (await self.backfills.CreateBackfill(request)).backfill.id

    async def lease(
        self, worker: str, max_chunks: int = 1, *, wait: float = 0, ttl: float = 0, assets: Sequence[str] = (),
        tags: dict[str, str] | None = None, request_id: str = "",
    ) -> list[wapi.LeasedChunk]:
        request = wapi.LeaseChunksRequest(
            worker_id=worker, max_chunks=max_chunks, asset_keys=assets, tags=tags or {}, request_id=request_id
        )
        if wait:
            request.wait_timeout.CopyFrom(seconds(wait))
        if ttl:
            request.lease_ttl.CopyFrom(seconds(ttl))
        return list((await self.workers.LeaseChunks(request)).chunks)

    def completion(
        self, worker: str, chunk: wapi.LeasedChunk, outcome: int = OK, failed: Sequence[str] = (), error: str = "",
        metadata: dict[str, str] | None = None,
    ) -> wapi.ChunkCompletion:
        return wapi.ChunkCompletion(
            lease=chunk.lease, worker_id=worker, outcome=outcome, failed_partition_keys=failed, error_message=error,
            metadata=metadata or {},
        )

    async def complete(
        self, worker: str, chunk: wapi.LeasedChunk, outcome: int = OK, failed: Sequence[str] = (), error: str = "",
        metadata: dict[str, str] | None = None,
    ) -> wapi.CompleteChunkResponse:
        completion = self.completion(worker, chunk, outcome, failed, error, metadata)
        return await self.workers.CompleteChunk(wapi.CompleteChunkRequest(completion=completion))

    async def heartbeat(self, worker: str, chunks: Sequence[wapi.LeasedChunk], ttl: float = 0) -> wapi.HeartbeatResponse:
        request = wapi.HeartbeatRequest(worker_id=worker, leases=[c.lease for c in chunks])
        if ttl:
            request.lease_ttl.CopyFrom(seconds(ttl))
        return await self.workers.Heartbeat(request)

    async def advance(self, by_seconds: float) -> int:
        """Moves the clock and lapses what is due then; returns the leases lapsed."""
        self.clock.now += timedelta(seconds=by_seconds)
        return await self.running.dispatcher.tick()

    async def backfill(self, backfill_id: str) -> bf.Backfill:
        return (await self.backfills.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill

    async def chunk(self, backfill_id: str, asset: str, index: int, round_number: int = 1) -> bf.Chunk:
        request = api.GetChunkRequest(backfill_id=backfill_id, asset_key=asset, round=round_number, index=index)
        return (await self.backfills.GetChunk(request)).chunk

    async def chunks(self, backfill_id: str, **filters: object) -> list[bf.Chunk]:
        found: list[bf.Chunk] = []
        token = ""
        while True:
            page = await self.backfills.ListChunks(
                api.ListChunksRequest(backfill_id=backfill_id, page_size=100, page_token=token, **filters)  # type: ignore[arg-type]
            )
            found.extend(page.chunks)
            token = page.next_page_token
            if not token:
                return found

    async def events(self, backfill_id: str) -> list[api.BackfillEvent]:
        found: list[api.BackfillEvent] = []
        token = ""
        while True:
            page = await self.backfills.ListBackfillEvents(
                api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=500, page_token=token)
            )
            found.extend(page.events)
            token = page.next_page_token
            if not token:
                return found

    async def event_types(self, backfill_id: str) -> list[str]:
        return [event.type for event in await self.events(backfill_id)]

    async def all_runs(self, backfill_id: str, **filters: object) -> list[rapi.Run]:
        found: list[rapi.Run] = []
        token = ""
        while True:
            page = await self.runs.ListRuns(
                rapi.ListRunsRequest(backfill_id=backfill_id, page_size=50, page_token=token, **filters)  # type: ignore[arg-type]
            )
            found.extend(page.runs)
            token = page.next_page_token
            if not token:
                return found

    async def drain(self, worker: str, backfill_id: str, failing: Sequence[str] = ()) -> int:
        """Leases and completes until nothing is left; keys in ``failing`` fail. Returns the chunks run."""
        ran = 0
        while True:
            leased = await self.lease(worker, 16)
            if not leased:
                return ran
            for chunk in leased:
                bad = [key for key in chunk.partition_keys if key in failing]
                outcome = FAILED if bad else OK
                await self.complete(worker, chunk, outcome, bad, "boom" if bad else "")
                ran += 1


async def start_workers(db: Path | str, clock: ManualClock) -> Workers:
    """Starts a server over the store at ``db`` with ``clock`` and applies the test catalog (idempotent)."""
    store = await open_store(str(db))
    running = await start_server(store, host="127.0.0.1", port=0, clock=clock)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    workers = Workers(running, channel, clock, db)
    await workers.catalog.ApplyAssets(CATALOG)
    return workers


async def stop_workers(workers: Workers) -> None:
    """Closes the channel and stops the server (idempotent)."""
    await workers.channel.close()
    if not getattr(workers, "stopped", False):
        workers.stopped = True  # type: ignore[attr-defined]
        await workers.running.stop(grace=2)


@pytest.fixture
async def served_workers(store_location: str) -> AsyncIterator[Workers]:
    workers = await start_workers(store_location, ManualClock())
    yield workers
    await stop_workers(workers)


async def eventually(predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Waits until ``predicate()`` (a coroutine function) is true, yielding to the loop between tries."""

    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0)  # yield to the server on this loop; the wait is bounded below

    await asyncio.wait_for(poll(), timeout)
