"""The SQLite backend (aiosqlite): the default store, embedded in the server process."""

from arco_grpc.store.sqlite._store import MEMORY, SqliteEventStore

__all__ = ["MEMORY", "SqliteEventStore"]
