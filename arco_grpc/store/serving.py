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
  is set, and the server stops. The server also checks that session every few
  seconds, and asks PostgreSQL to probe it with TCP keepalives, so that a
  server whose host died loses the lock within about half a minute.

A standby (``arco serve --standby``) waits for the lock instead of being
refused, trying again every second, and serves once it has it: the server
that held it stopped, or died.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import asyncpg

from arco_grpc.store.errors import StoreUnavailable
from arco_grpc.store.opening import is_postgres, sqlite_path
from arco_grpc.store.postgres._connection import DRIVER_ERRORS, describe, reason
from arco_grpc.store.sqlite import MEMORY

# The advisory lock key of a serving server ("arco" and a number; see postgres/_schema.py for the others).
SERVING_LOCK = 0x6172_636F_0000_0003
LOCK_SUFFIX = ".serving-lock"
# A standby tries to take the lock this often.
STANDBY_POLL_SECONDS = 1.0
# A serving server checks its lock's PostgreSQL session this often (and gives each check as long).
SESSION_CHECK_SECONDS = 5.0
# PostgreSQL ends the lock's session when its peer stops answering TCP keepalives: idle, interval, count.
_KEEPALIVES = (("tcp_keepalives_idle", 10), ("tcp_keepalives_interval", 5), ("tcp_keepalives_count", 3))


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
async def serving_lock(
    location: str, *, standby_until: asyncio.Event | None = None, on_standby: Callable[[str], None] | None = None
) -> AsyncIterator[ServingLock | None]:
    """Holds the serving lock of the database at ``location`` (opened already) while the body runs.

    Without ``standby_until``, another server's lock is refused at once. With it, this waits as a
    standby until the lock is free (calling ``on_standby`` once when it starts waiting, with the database
    named as messages name it: a DSN without its password), or until
    ``standby_until`` is set: then the body gets None and runs without the lock.

    Raises:
        StoreUnavailable: another server holds it (not a standby), or it cannot be taken.
    """
    if is_postgres(location):
        async with _postgres_lock(location, standby_until, on_standby) as held:
            yield held
        return
    path = sqlite_path(location)
    if path is None or path == MEMORY:
        yield ServingLock(repr(location))
        return
    async with _file_lock(path, standby_until, on_standby) as taken:
        yield ServingLock(repr(path)) if taken else None


async def _take(
    try_lock: Callable[[], Awaitable[bool]],
    database: str,
    standby_until: asyncio.Event | None,
    on_standby: Callable[[str], None] | None,
) -> bool:
    """Whether the lock was taken; False when the standby was told to give up first."""
    if await try_lock():
        return True
    if standby_until is None:
        raise _refused(database)
    if on_standby is not None:
        on_standby(database)
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(standby_until.wait(), STANDBY_POLL_SECONDS)
            return False
        if await try_lock():
            return True


@asynccontextmanager
async def _file_lock(
    path: str, standby_until: asyncio.Event | None, on_standby: Callable[[str], None] | None
) -> AsyncIterator[bool]:
    lock_path = path + LOCK_SUFFIX
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise StoreUnavailable(f"cannot create the serving lock {lock_path!r}: {error.strerror}") from error

    async def try_lock() -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    try:
        yield await _take(try_lock, repr(path), standby_until, on_standby)
    finally:
        os.close(descriptor)  # closing releases the lock


@asynccontextmanager
async def _postgres_lock(
    dsn: str, standby_until: asyncio.Event | None, on_standby: Callable[[str], None] | None
) -> AsyncIterator[ServingLock | None]:
    database = describe(dsn)
    try:
        connection = await asyncpg.connect(dsn, server_settings={name: str(value) for name, value in _KEEPALIVES})
    except DRIVER_ERRORS as error:
        raise StoreUnavailable(f"cannot connect to the PostgreSQL database {database}: {reason(error)}") from error
    held = ServingLock(database)
    releasing = False

    def ended(_: object) -> None:
        if not releasing:
            held.lost.set()

    async def try_lock() -> bool:
        try:
            return bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", SERVING_LOCK))
        except DRIVER_ERRORS as error:
            raise StoreUnavailable(f"cannot take the serving lock of {database}: {reason(error)}") from error

    async def check_session() -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)  # a periodic probe, not a synchronisation
            try:
                await connection.fetchval("SELECT 1", timeout=SESSION_CHECK_SECONDS)
            except (*DRIVER_ERRORS, TimeoutError):
                held.lost.set()
                return

    checking: asyncio.Task[None] | None = None
    try:
        if not await _take(try_lock, database, standby_until, on_standby):
            yield None
            return
        connection.add_termination_listener(ended)
        checking = asyncio.create_task(check_session())
        yield held
    finally:
        releasing = True
        if checking is not None:
            checking.cancel()
            with suppress(asyncio.CancelledError):
                await checking
        try:
            await connection.close()  # ending the session releases the lock
        except DRIVER_ERRORS:
            pass  # the session is gone, and its lock with it
