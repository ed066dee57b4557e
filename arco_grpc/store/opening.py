"""Choosing a backend from an explicit location: the one place that knows them all."""

from __future__ import annotations

from arco_grpc.store.port import EventStore
from arco_grpc.store.sqlite import MEMORY, SqliteEventStore

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_PREFIXES = ("postgres://", "postgresql://")


def sqlite_path(location: str) -> str | None:
    """The SQLite path a location names ("sqlite:///path", a bare path, ":memory:"), or None."""
    if location.startswith(_SQLITE_PREFIX):
        path = location[len(_SQLITE_PREFIX) :]
    elif "://" in location:
        return None
    else:
        path = location
    return path or None


async def open_store(location: str) -> EventStore:
    """Opens the store at ``location``: ``sqlite:///path``, a bare file path or ``:memory:``.

    Raises:
        ValueError: the location names no supported backend.
        StoreUnavailable: the database cannot be opened.
    """
    if location.startswith(_POSTGRES_PREFIXES):
        raise ValueError("the PostgreSQL backend is not available yet; use a SQLite path")
    path = sqlite_path(location)
    if path is None:
        raise ValueError(f"unsupported store location {location!r}; expected sqlite:///PATH, a file path or {MEMORY}")
    return await SqliteEventStore.open(path)
