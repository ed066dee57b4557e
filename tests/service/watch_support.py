"""Shared pieces of the watch-stream tests: servers with short watch limits, mutations, reading helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2_grpc
from arco_grpc.server import RunningServer, start_server
from arco_grpc.service.watch_hub import WatchConfig, WatchHub
from arco_grpc.store import open_store
from tests.service.backfill_helpers import Backfills, create, serve_backfills, target
from tests.service.conftest import FIXED_NOW, Served, failure_of

# Short cadences and small bounds, so the tests exercise every path quickly.
WATCH = WatchConfig(
    queue_bound=16, heartbeat_seconds=0.2, catch_up_page=25, poll_seconds=0.5, progress_updates_per_second=20
)
# A client that reads nothing holds the server's writes back after about 1 KiB
# (no window growth), so a stalled watcher really stalls its server-side stream.
STALLING_CLIENT_OPTIONS = (("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0))
# Large enough that a few events fill a stalled stream's flow-control window.
LONG_REASON = "r" * 1000
READ_TIMEOUT = 30.0


@dataclass
class WatchServer:
    """A served catalog whose server has the given watch limits."""

    running: RunningServer
    backfills: Backfills
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    stopped: bool = False

    @property
    def stub(self) -> backfill_service_pb2_grpc.BackfillServiceStub:
        return self.backfills.stub

    @property
    def hub(self) -> WatchHub:
        return self.running.watch_hub

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    def channel(self, options: tuple[tuple[str, Any], ...] = ()) -> grpc.aio.Channel:
        """A new channel to the server, closed with it."""
        channel = grpc.aio.insecure_channel(self.address, options=options)
        self.channels.append(channel)
        return channel

    def stub_on(self, channel: grpc.aio.Channel) -> backfill_service_pb2_grpc.BackfillServiceStub:
        return backfill_service_pb2_grpc.BackfillServiceStub(channel)

    async def stop(self, grace: float = 5) -> None:
        if self.stopped:
            return
        self.stopped = True
        await self.running.stop(grace)
        for channel in [self.backfills.served.channel, *self.channels]:
            await channel.close()


WatchStarter = Callable[..., Awaitable[WatchServer]]


@pytest.fixture
async def start_watching(store_location: str) -> AsyncIterator[WatchStarter]:
    """Starts servers on one database (one at a time, as restarts do) with :data:`WATCH` or given limits."""
    started: list[WatchServer] = []

    async def starter(config: WatchConfig = WATCH) -> WatchServer:
        store = await open_store(store_location)
        running = await start_server(store, host="127.0.0.1", port=0, clock=lambda: FIXED_NOW, watch=config)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        served = Served(running, channel, catalog_service_pb2_grpc.CatalogServiceStub(channel))
        server = WatchServer(running, await serve_backfills(served))
        started.append(server)
        return server

    yield starter
    for server in started:
        await server.stop()


async def new_backfill(stub: backfill_service_pb2_grpc.BackfillServiceStub, request_id: str, asset: str = "orders",
                       **fields: Any) -> str:
    """Creates a backfill (RUNNING, state_version 2) and returns its id."""
    response = await stub.CreateBackfill(create(request_id, target(asset), **fields))
    return response.backfill.id


async def churn(
    stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str, count: int, *, label: str = "",
    reason: str = "",
) -> None:
    """``count`` mutations that each append one event: pause and resume in turn (from the current state).

    Request ids are unique per (backfill, label, step): use a new label for each churn of one backfill.
    """
    current = await stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))
    paused = current.backfill.state == current.backfill.STATE_PAUSED
    for step in range(count):
        request_id = f"{backfill_id}-churn-{label}-{step}"
        if paused:
            await stub.ResumeBackfill(api.ResumeBackfillRequest(request_id=request_id, backfill_id=backfill_id,
                                                                reason=reason))
        else:
            await stub.PauseBackfill(api.PauseBackfillRequest(request_id=request_id, backfill_id=backfill_id,
                                                              reason=reason))
        paused = not paused


async def event_log(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str) -> list[api.BackfillEvent]:
    """Every event of the backfill, through ListBackfillEvents (all pages)."""
    events: list[api.BackfillEvent] = []
    token = ""
    while True:
        page = await stub.ListBackfillEvents(
            api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=1000, page_token=token)
        )
        events.extend(page.events)
        token = page.next_page_token
        if not token:
            return events


async def read_until(call: Any, done: Callable[[Any], bool], timeout: float = READ_TIMEOUT) -> list[Any]:
    """Messages of ``call`` up to and including the first for which ``done`` holds."""
    received = []
    while True:
        message = await asyncio.wait_for(call.read(), timeout)
        assert message is not grpc.aio.EOF, f"the stream ended after {len(received)} messages without the awaited one"
        received.append(message)
        if done(message):
            return received


async def read_to_end(call: Any, timeout: float = READ_TIMEOUT) -> list[Any]:
    """Every message until the stream ends with OK."""
    received = []
    while True:
        message = await asyncio.wait_for(call.read(), timeout)
        if message is grpc.aio.EOF:
            return received
        received.append(message)


async def read_until_error(call: Any, timeout: float = READ_TIMEOUT) -> tuple[list[Any], grpc.aio.AioRpcError]:
    """Every message until the stream fails, and the failure."""
    received = []
    try:
        while True:
            message = await asyncio.wait_for(call.read(), timeout)
            assert message is not grpc.aio.EOF, "the stream ended OK; a failure was expected"
            received.append(message)
    except grpc.aio.AioRpcError as error:
        return received, error


def kinds(messages: list[Any]) -> list[str]:
    return [message.WhichOneof("kind") for message in messages]


def events_of(messages: list[Any]) -> list[api.BackfillEvent]:
    return [message.event for message in messages if message.WhichOneof("kind") == "event"]


def resume_point(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, int]:
    """(code, ErrorInfo reason, resume_after_sequence) of a watch stream's failure."""
    failure = failure_of(error)
    return failure.code, failure.reason, int(failure.metadata["resume_after_sequence"])


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Waits until ``condition()`` holds (polling the server's own state), failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.01)
