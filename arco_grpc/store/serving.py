"""One serving server per database: the lock `arco serve` holds while it serves.

A server keeps each live backfill in memory, and a heartbeat extends a lease
in that memory only (see service/worker_app.py). Two servers on one database
would stay correct, since every append checks its stream's version, but each
would lapse the leases the other's workers keep alive, and those chunks would
run again. So a server holds this lock from before it listens until it exits,
and a second server on the same database is refused at start. The operating
system or PostgreSQL releases the lock when the holder dies, even by kill -9,
so a restart takes it at once.

- SQLite file: an exclusive ``flock`` on ``PATH.serving-lock`` beside the
  database. An in-memory database is one process's own: nothing to lock.
- PostgreSQL: a session-level advisory lock on a connection of its own, kept
  open while serving.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from arco_grpc.store.errors import StoreUnavailable
from arco_grpc.store.opening import is_postgres, sqlite_path
from arco_grpc.store.postgres._connection import DRIVER_ERRORS, describe, reason
from arco_grpc.store.sqlite import MEMORY

# The advisory lock key of a serving server ("arco" and a number; see postgres/_schema.py for the others).
SERVING_LOCK = 0x6172_636F_0000_0003
LOCK_SUFFIX = ".serving-lock"


def _refused(database: str) -> StoreUnavailable:
    return StoreUnavailable(
        f"another arco server is serving {database}; stop it first (one server per database: a second "
        "one would lapse the leases the first keeps alive), or give this one another database"
    )


@asynccontextmanager
async def serving_lock(location: str) -> AsyncIterator[None]:
    """Holds the serving lock of the database at ``location`` (opened already) while the body runs.

    Raises:
        StoreUnavailable: another server holds it, or it cannot be taken.
    """
    if is_postgres(location):
        async with _postgres_lock(location):
            yield
        return
    path = sqlite_path(location)
    if path is None or path == MEMORY:
        yield
        return
    async with _file_lock(path):
        yield


@asynccontextmanager
async def _file_lock(path: str) -> AsyncIterator[None]:
    lock_path = path + LOCK_SUFFIX
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StoreUnavailable(f"cannot create the serving lock {lock_path!r}: {error.strerror}") from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refused(repr(path)) from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


@asynccontextmanager
async def _postgres_lock(dsn: str) -> AsyncIterator[None]:
    database = describe(dsn)
    try:
        connection = await asyncpg.connect(dsn)
    except DRIVER_ERRORS as error:
        raise StoreUnavailable(f"cannot connect to the PostgreSQL database {database}: {reason(error)}") from error
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", SERVING_LOCK):
            raise _refused(database)
        yield
    finally:
        try:
            await connection.close()  # ending the session releases the lock
        except DRIVER_ERRORS:
            pass  # the session is gone, and its lock with it
