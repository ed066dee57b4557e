"""The store fixture: every conformance test runs on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from arco_grpc.store import EventStore, open_store
from tests.postgres_server import fresh_database


@dataclass(frozen=True, slots=True)
class Backend:
    """One backend, and whether it keeps data across a reopen."""

    name: str
    persistent: bool


BACKENDS = [
    Backend("sqlite-memory", persistent=False),
    Backend("sqlite-file", persistent=True),
    Backend("postgres", persistent=True),
]


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture(params=[b for b in BACKENDS if b.persistent], ids=lambda backend: backend.name)
def persistent_backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
async def location(backend: Backend, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the current backend's store lives for this test (an empty database)."""
    return await _location(backend, tmp_path, request)


@pytest.fixture
async def persistent_location(persistent_backend: Backend, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a persistent backend's store lives for this test (an empty database)."""
    return await _location(persistent_backend, tmp_path, request)


async def _location(backend: Backend, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend.name == "sqlite-memory":
        return ":memory:"
    if backend.name == "sqlite-file":
        return f"sqlite:///{tmp_path / 'events.db'}"
    return await fresh_database(request.getfixturevalue("postgres_admin_dsn"))


StoreOpener = Callable[[], Awaitable[EventStore]]


@pytest.fixture
async def open_backend(location: str) -> AsyncIterator[StoreOpener]:
    """Opens stores of the current backend; closes them all at the end of the test."""
    opened: list[EventStore] = []

    async def opener() -> EventStore:
        store = await open_store(location)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_backend: StoreOpener) -> EventStore:
    return await open_backend()
