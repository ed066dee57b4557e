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
  open while serving. If that session ends under the server (PostgreSQL
  restarted, the connection cut, an administrator's pg_terminate_backend),
  the lock is gone and another server could take it: :attr:`ServingLock.lost`
  is set, and the server stops.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class ServingLock:
    """A serving lock while it is held."""

    database: str
    # Set when the lock went away while held (its PostgreSQL session ended); a file lock cannot.
    lost: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def serving_lock(location: str) -> AsyncIterator[ServingLock]:
    """Holds the serving lock of the database at ``location`` (opened already) while the body runs.

    Raises:
        StoreUnavailable: another server holds it, or it cannot be taken.
    """
    if is_postgres(location):
        async with _postgres_lock(location) as held:
            yield held
        return
    path = sqlite_path(location)
    if path is None or path == MEMORY:
        yield ServingLock(repr(location))
        return
    async with _file_lock(path):
        yield ServingLock(repr(path))


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
async def _postgres_lock(dsn: str) -> AsyncIterator[ServingLock]:
    database = describe(dsn)
    try:
        connection = await asyncpg.connect(dsn)
    except DRIVER_ERRORS as error:
        raise StoreUnavailable(f"cannot connect to the PostgreSQL database {database}: {reason(error)}") from error
    held = ServingLock(database)
    releasing = False

    def ended(_: object) -> None:
        if not releasing:
            held.lost.set()

    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", SERVING_LOCK):
            raise _refused(database)
        connection.add_termination_listener(ended)
        yield held
    finally:
        releasing = True
        try:
            await connection.close()  # ending the session releases the lock
        except DRIVER_ERRORS:
            pass  # the session is gone, and its lock with it
