"""An in-process server with the real clock (leases lapse), restartable on the same port and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from arco_grpc.server import RunningServer, start_server
from arco_grpc.store import open_store
from tests.worker.processes import Client


class LiveServer:
    """A server on ``db``; :meth:`stop` and :meth:`start` again keep its port, as a restart would."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = 0
        self.running: RunningServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        store = await open_store(str(self.db))
        self.running = await start_server(store, host="127.0.0.1", port=self.port)
        self.port = self.running.port

    async def stop(self, grace: float = 0.0) -> None:
        if self.running is not None:
            running, self.running = self.running, None
            await running.stop(grace)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = LiveServer(tmp_path / "arco.db")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(live: LiveServer) -> AsyncIterator[Client]:
    connected = Client(live.address)
    yield connected
    await connected.close()
