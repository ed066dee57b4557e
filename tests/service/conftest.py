"""A real server on a loopback port over a temporary SQLite file, and a client channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2_grpc
from arco_grpc.server import RunningServer, start_server
from arco_grpc.store import open_store

# The server's clock in these tests: requests without as_of are evaluated here.
FIXED_NOW = datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc)


@dataclass
class Served:
    """A running server, a channel to it and the generated stub."""

    running: RunningServer
    channel: grpc.aio.Channel
    catalog: catalog_service_pb2_grpc.CatalogServiceStub

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"


ServerStarter = Callable[[], Awaitable[Served]]


@pytest.fixture
def db_path(store_location: str) -> Path:
    """The SQLite file of a server test, for tests that read it directly (SQLite only)."""
    assert "://" not in store_location, "this test reads the SQLite file directly: do not run it on another backend"
    return Path(store_location)


@pytest.fixture
async def start(store_location: str) -> AsyncIterator[ServerStarter]:
    """Starts servers on ``store_location`` (one at a time, as a restart would); stops them at the end."""
    started: list[Served] = []

    async def starter() -> Served:
        store = await open_store(store_location)
        running = await start_server(store, host="127.0.0.1", port=0, clock=lambda: FIXED_NOW)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        served = Served(running, channel, catalog_service_pb2_grpc.CatalogServiceStub(channel))
        started.append(served)
        return served

    yield starter
    for served in started:
        await stop(served)


async def stop(served: Served) -> None:
    """Closes the channel and stops the server (idempotent)."""
    await served.channel.close()
    if not getattr(served, "stopped", False):
        served.stopped = True  # type: ignore[attr-defined]
        await served.running.stop(grace=5)


@pytest.fixture
async def served(start: ServerStarter) -> Served:
    return await start()


@dataclass(frozen=True)
class RpcFailure:
    """What a client sees of a failed call: code, message and the google.rpc details."""

    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]
    violations: list[tuple[str, str]]


def failure_of(error: grpc.aio.AioRpcError) -> RpcFailure:
    """Decodes the rich status the server attached to ``error``."""
    status = None
    for key, value in error.trailing_metadata() or ():
        if key == rpc_status.GRPC_DETAILS_METADATA_KEY:
            status = status_pb2.Status.FromString(value)
    assert status is not None, f"no google.rpc.Status details on {error.code()}: {error.details()}"
    assert status.code == error.code().value[0]
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    for detail in status.details:
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(bad_request.DESCRIPTOR):
            detail.Unpack(bad_request)
    return RpcFailure(
        code=error.code(),
        message=status.message,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        violations=[(v.field, v.description) for v in bad_request.field_violations],
    )


async def call_failure(call: Awaitable[object]) -> RpcFailure:
    """Awaits a call that must fail and returns its decoded failure."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return failure_of(caught.value)
