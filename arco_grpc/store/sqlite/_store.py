"""The SQLite event store: one writer connection behind a lock, a small pool of readers."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiosqlite

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import StoreUnavailable
from arco_grpc.store.model import AppendResult, AppendUnit
from arco_grpc.store.sql.appending import append_units, plan_fast
from arco_grpc.store.sql.store import SqlEventStore
from arco_grpc.store.sqlite._appending import SqliteUnitWriter, commit_fast, last_sequence
from arco_grpc.store.sqlite._schema import migrate
from arco_grpc.store.sqlite._transaction import SqliteTransaction
from arco_grpc.store.sqlite._writer import WriterConnection

T = TypeVar("T")

MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 10_000


def _pragmas(path: str, *, read_only: bool) -> list[str]:
    pragmas = [f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}"]
    if path != MEMORY and not read_only:
        # Kept in the file: readers, opened after the writer, find it set.
        pragmas.append("PRAGMA journal_mode = WAL")
    # FULL: a commit the server acknowledged survives power loss and kill -9.
    pragmas.append("PRAGMA synchronous = FULL")
    if read_only:
        pragmas.append("PRAGMA query_only = ON")
    return pragmas


async def _connect_reader(path: str) -> aiosqlite.Connection:
    # isolation_level=None: the driver never opens transactions behind our back.
    connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in _pragmas(path, read_only=True):
            await connection.execute(pragma)
    except BaseException:
        await connection.close()
        raise
    return connection


class SqliteEventStore(SqlEventStore):
    """An :class:`~arco_grpc.store.port.EventStore` in one SQLite database file (or in memory).

    Appends are serialized by an ``asyncio.Lock`` on the single writer
    connection (its own thread, see ``_writer``) and run as ``BEGIN IMMEDIATE
    ... COMMIT``, so commit order is sequence order. A batch whose units name
    their expected versions and whose projectors only write commits in one
    hop to the writer thread; any other takes the general path. File
    databases use WAL, so readers (their own aiosqlite connections) never
    block the writer. An in-memory database has one connection, and its
    reads take the writer's lock so that they never see an append's
    uncommitted rows.
    """

    def __init__(self, path: str, writer: WriterConnection, readers: Sequence[aiosqlite.Connection]) -> None:
        self.path = path
        self._writer = writer
        self._write_lock = asyncio.Lock()
        # The last event sequence, known after a fast commit (None: read it before the next one).
        self._last_sequence: int | None = None
        self._reader_count = len(readers)
        self._idle_readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self._idle_readers.put_nowait(reader)
        self._closed = False

    @classmethod
    async def open(cls, path: str, *, reader_count: int = 2) -> SqliteEventStore:
        """Opens (creating and migrating if needed) the database at ``path`` or ``":memory:"``.

        Raises:
            StoreUnavailable: the file cannot be opened or migrated.
        """
        if path != MEMORY and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise StoreUnavailable(
                f"cannot open the SQLite database {path!r}: its directory does not exist; create it first"
            )
        try:
            writer = await WriterConnection.open(path, _pragmas(path, read_only=False), _BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open the SQLite database {path!r}: {error}") from error
        readers: list[aiosqlite.Connection] = []
        try:
            await migrate(writer, now_us=time.time_ns() // 1000)
            if path != MEMORY:
                for _ in range(reader_count):
                    readers.append(await _connect_reader(path))
        except BaseException as error:
            await writer.close()
            for reader in readers:
                await reader.close()
            if isinstance(error, sqlite3.Error):
                raise StoreUnavailable(f"cannot prepare the SQLite database {path!r}: {error}") from error
            raise
        return cls(path, writer, readers)

    # -- writes ---------------------------------------------------------------

    async def _append_batch(self, batch: list[AppendUnit]) -> list[AppendResult | ArcoError]:
        async with self._write_lock:
            self._check_open()
            try:
                if self._last_sequence is None:
                    self._last_sequence = await self._writer.run(last_sequence)
                fast = await plan_fast(batch, self._last_sequence, SqliteTransaction(None))
                if fast is not None and await self._writer.run(lambda connection: commit_fast(connection, fast)):
                    self._last_sequence = fast.last_sequence
                    return fast.results
            except sqlite3.Error as error:
                raise StoreUnavailable(f"a batch of {len(batch)} appends failed: {error}") from error
            self._last_sequence = None
            return await self._write_locked(
                lambda connection: self._append_units(connection, batch), f"a batch of {len(batch)} appends"
            )

    async def _append_units(
        self, connection: WriterConnection, units: list[AppendUnit]
    ) -> list[AppendResult | ArcoError]:
        """Every unit in one transaction; a unit that fails is rolled back alone (its savepoint)."""
        return await append_units(SqliteUnitWriter(connection), units)

    def _projection_transaction(self, connection: WriterConnection) -> SqliteTransaction:
        return SqliteTransaction(connection)

    async def _write(self, work: Callable[[WriterConnection], Awaitable[T]], what: str) -> T:
        """Runs ``work`` on the writer in one ``BEGIN IMMEDIATE ... COMMIT`` transaction."""
        async with self._write_lock:
            self._check_open()
            return await self._write_locked(work, what)

    async def _write_locked(self, work: Callable[[WriterConnection], Awaitable[T]], what: str) -> T:
        try:
            await self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot start a write transaction: {error}") from error
        try:
            result = await work(self._writer)
            await self._writer.execute("COMMIT")
            return result
        except BaseException as error:
            await self._rollback_quietly()
            if isinstance(error, sqlite3.Error):
                raise StoreUnavailable(f"{what} failed: {error}") from error
            raise

    async def _rollback_quietly(self) -> None:
        try:
            await self._writer.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction left to roll back (SQLite may have ended it itself)

    # -- reads ----------------------------------------------------------------

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Any]:
        self._check_open()
        if self._reader_count == 0:
            async with self._write_lock:
                self._check_open()
                yield self._writer
            return
        connection = await self._idle_readers.get()
        try:
            yield connection
        finally:
            self._idle_readers.put_nowait(connection)

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Any]:
        """A read transaction: every query inside sees the same committed state."""
        async with self._reading() as connection:
            try:
                await connection.execute("BEGIN")
            except sqlite3.Error as error:
                raise StoreUnavailable(f"cannot start a read transaction: {error}") from error
            try:
                yield connection
            except sqlite3.Error as error:
                raise StoreUnavailable(f"a read failed: {error}") from error
            finally:
                try:
                    await connection.execute("COMMIT")
                except sqlite3.Error:
                    pass  # the read transaction had already ended

    async def _fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        async with self._reading() as connection:
            try:
                return list(await connection.execute_fetchall(sql, parameters))
            except sqlite3.Error as error:
                raise StoreUnavailable(f"a read failed: {error}") from error

    # -- lifecycle ------------------------------------------------------------

    async def close(self) -> None:
        """See :meth:`arco_grpc.store.port.EventStore.close`."""
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:
            await self._writer.close()
        for _ in range(self._reader_count):
            reader = await self._idle_readers.get()
            await reader.close()
