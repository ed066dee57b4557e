"""Choosing a backend from an explicit location: the one place that knows them all."""

from __future__ import annotations

from arco_grpc.store.port import EventStore
from arco_grpc.store.postgres import PostgresEventStore
from arco_grpc.store.postgres._connection import describe
from arco_grpc.store.sqlite import MEMORY, SqliteEventStore

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_PREFIXES = ("postgres://", "postgresql://")


def is_postgres(location: str) -> bool:
    """Whether ``location`` is a PostgreSQL DSN."""
    return location.startswith(_POSTGRES_PREFIXES)


def shown(location: str) -> str:
    """``location`` as messages show it: a PostgreSQL DSN without its password."""
    return describe(location) if is_postgres(location) else location


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
    """Opens the store at ``location``: ``sqlite:///path``, a bare file path, ``:memory:``, or a PostgreSQL
    DSN (``postgresql://user@host:port/database``, ``postgres://...``).

    Raises:
        ValueError: the location names no supported backend.
        StoreUnavailable: the database cannot be opened.
    """
    if is_postgres(location):
        return await PostgresEventStore.open(location)
    path = sqlite_path(location)
    if path is None:
        raise ValueError(
            f"unsupported store location {location!r}; expected sqlite:///PATH, a file path, {MEMORY} "
            "or postgresql://USER@HOST:PORT/DATABASE"
        )
    return await SqliteEventStore.open(path)
