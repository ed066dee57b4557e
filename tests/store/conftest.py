"""The store fixture: every conformance test runs on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from arco_grpc.store import EventStore, open_store


@dataclass(frozen=True, slots=True)
class Backend:
    """How to open one backend's store, and whether it keeps data across a reopen."""

    name: str
    location: Callable[[Path], str]
    persistent: bool


BACKENDS = [
    Backend("sqlite-memory", lambda tmp: ":memory:", persistent=False),
    Backend("sqlite-file", lambda tmp: f"sqlite:///{tmp / 'events.db'}", persistent=True),
]
# A postgres backend joins this list (skipped without a DSN) when it exists.


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture(params=[b for b in BACKENDS if b.persistent], ids=lambda backend: backend.name)
def persistent_backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


StoreOpener = Callable[[], Awaitable[EventStore]]


@pytest.fixture
async def open_backend(backend: Backend, tmp_path: Path) -> AsyncIterator[StoreOpener]:
    """Opens stores of the current backend; closes them all at the end of the test."""
    opened: list[EventStore] = []

    async def opener() -> EventStore:
        store = await open_store(backend.location(tmp_path))
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_backend: StoreOpener) -> EventStore:
    return await open_backend()
