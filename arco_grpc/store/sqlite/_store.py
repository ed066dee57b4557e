"""The SQLite event store: one writer connection behind a lock, a small pool of readers."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import aiosqlite

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import StoreUnavailable, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AppendUnit,
    AssetRecord,
    CatalogSnapshot,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    StoredEvent,
    StreamAppend,
    from_microseconds,
)
from arco_grpc.store.sqlite._appending import (
    EVENT_COLUMNS,
    commit_fast,
    event_from_row,
    last_sequence,
    plan_fast,
    write_units,
)
from arco_grpc.store.sqlite._backfill_queries import BackfillQueries
from arco_grpc.store.sqlite._schedules import ScheduleQueries
from arco_grpc.store.sqlite._schema import PROJECTION_TABLES, migrate
from arco_grpc.store.sqlite._transaction import SqliteTransaction
from arco_grpc.store.sqlite._writer import WriterConnection

T = TypeVar("T")

MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 10_000


def _pragmas(path: str, *, read_only: bool) -> list[str]:
    pragmas = [f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}"]
    if path != MEMORY:
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


def _conflict(unit: AppendUnit) -> WrongExpectedVersion:
    first = unit.appends[0] if unit.appends else StreamAppend("", None, ())
    return WrongExpectedVersion(first.stream_id, first.expected_version or 0)


def _asset_from_row(row: Sequence[Any]) -> AssetRecord:
    return AssetRecord(
        key=str(row[0]), version=int(row[1]), definition=bytes(row[2]), updated_at=from_microseconds(int(row[3]))
    )


class SqliteEventStore(BackfillQueries, ScheduleQueries):
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
            writer = await WriterConnection.open(path, _pragmas(path, read_only=False))
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

    async def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        *,
        request: RequestRecord | None,
        recorded_at: datetime,
        project: Projector | None = None,
    ) -> AppendResult:
        """See :meth:`arco_grpc.store.port.EventStore.append`."""
        unit = AppendUnit((StreamAppend(stream_id, expected_version, tuple(events)),), request, recorded_at, project)
        result = (await self.append_batch([unit]))[0]
        if isinstance(result, ArcoError):
            raise result
        return result

    async def append_batch(self, units: Sequence[AppendUnit]) -> list[AppendResult | ArcoError]:
        """See :meth:`arco_grpc.store.port.EventStore.append_batch`."""
        batch = list(units)
        if not batch:
            return []
        # Shielded: a caller that goes away (client cancel, deadline) must not
        # interrupt a transaction half-way; its retry will find the answer.
        return await asyncio.shield(self._append_batch(batch))

    async def _append_batch(self, batch: list[AppendUnit]) -> list[AppendResult | ArcoError]:
        async with self._write_lock:
            self._check_open()
            try:
                if self._last_sequence is None:
                    self._last_sequence = await self._writer.run(last_sequence)
                fast = await plan_fast(batch, self._last_sequence)
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
        if len(units) > 1:
            await connection.execute("SAVEPOINT batch")
            try:
                results = await write_units(connection, units)
                await connection.execute("RELEASE batch")
                return results
            except (ArcoError, sqlite3.IntegrityError):
                # A unit broke a constraint: redo the units one by one, each in its savepoint.
                await connection.execute("ROLLBACK TO batch")
                await connection.execute("RELEASE batch")
        results: list[AppendResult | ArcoError] = []
        for unit in units:
            await connection.execute("SAVEPOINT unit")
            try:
                results.extend(await write_units(connection, [unit]))
                await connection.execute("RELEASE unit")
            except (ArcoError, sqlite3.IntegrityError) as error:
                await connection.execute("ROLLBACK TO unit")
                await connection.execute("RELEASE unit")
                results.append(error if isinstance(error, ArcoError) else _conflict(unit))
        return results

    async def rebuild_projections(self, project: Projector, batch_size: int = 1000) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.rebuild_projections`."""

        async def rebuild(connection: WriterConnection) -> int:
            for table in PROJECTION_TABLES:
                await connection.execute(f"DELETE FROM {table}")  # noqa: S608 - names from a constant
            replayed, after = 0, 0
            while True:
                rows = await connection.execute_fetchall(
                    f"SELECT {EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                    (after, batch_size),
                )
                batch = [event_from_row(row) for row in rows]
                if not batch:
                    return replayed
                transaction = SqliteTransaction(connection)
                await project(transaction, batch)
                await transaction.flush()
                replayed += len(batch)
                after = batch[-1].sequence

        return await asyncio.shield(self._write(rebuild, "rebuilding the projections"))

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

    @staticmethod
    async def _stream_version(connection: Any, stream_id: str) -> int:
        rows = list(await connection.execute_fetchall(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (stream_id,)
        ))
        return int(rows[0][0]) if rows else 0

    async def read_stream(self, stream_id: str, after_version: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_stream`."""
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version > ? "
            "ORDER BY stream_version LIMIT ?",
            (stream_id, after_version, -1 if limit is None else limit),
        )
        return [event_from_row(row) for row in rows]

    async def read_all(self, after_sequence: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_all`."""
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
            (after_sequence, -1 if limit is None else limit),
        )
        return [event_from_row(row) for row in rows]

    async def max_sequence(self) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.max_sequence`."""
        rows = await self._fetchall("SELECT COALESCE(MAX(sequence), 0) FROM events")
        return int(rows[0][0])

    async def stream_version(self, stream_id: str) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.stream_version`."""
        rows = await self._fetchall(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (stream_id,)
        )
        return int(rows[0][0])

    async def find_request(self, request_id: str) -> RequestRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.find_request`."""
        rows = await self._fetchall(
            "SELECT request_id, method, body_fingerprint, response FROM requests WHERE request_id = ?", (request_id,)
        )
        if not rows:
            return None
        row = rows[0]
        return RequestRecord(str(row[0]), str(row[1]), str(row[2]), bytes(row[3]))

    async def catalog_snapshot(self, stream_id: str) -> CatalogSnapshot:
        """See :meth:`arco_grpc.store.port.EventStore.catalog_snapshot`."""
        async with self._snapshot() as connection:
            version = await self._stream_version(connection, stream_id)
            rows = await connection.execute_fetchall(
                "SELECT key, version, definition, updated_at_us FROM assets ORDER BY key"
            )
        return CatalogSnapshot(stream_version=version, assets=tuple(_asset_from_row(row) for row in rows))

    async def get_asset(self, key: str) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_asset`."""
        rows = await self._fetchall("SELECT key, version, definition, updated_at_us FROM assets WHERE key = ?", (key,))
        return _asset_from_row(rows[0]) if rows else None

    async def partition_status(self, asset_key: str, space: str) -> bytes | None:
        """See :meth:`arco_grpc.store.port.EventStore.partition_status`."""
        rows = await self._fetchall(
            "SELECT status FROM partition_status WHERE asset_key = ? AND space = ?", (asset_key, space)
        )
        return bytes(rows[0][0]) if rows else None

    async def list_assets(self, after_key: str | None, limit: int) -> list[AssetRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_assets`."""
        rows = await self._fetchall(
            "SELECT key, version, definition, updated_at_us FROM assets WHERE key > ? ORDER BY key LIMIT ?",
            ("" if after_key is None else after_key, limit),
        )
        return [_asset_from_row(row) for row in rows]

    async def dynamic_partitions(self, name: str, stream_id: str) -> DynamicPartitionsSnapshot:
        """See :meth:`arco_grpc.store.port.EventStore.dynamic_partitions`."""
        async with self._snapshot() as connection:
            version = await self._stream_version(connection, stream_id)
            rows = await connection.execute_fetchall(
                "SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY ordinal, position", (name,)
            )
        return DynamicPartitionsSnapshot(name=name, stream_version=version, keys=tuple(str(row[0]) for row in rows))

    async def asset_version(self, key: str, version: int) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.asset_version`."""
        rows = await self._fetchall(
            "SELECT key, version, definition, applied_at_us FROM asset_versions WHERE key = ? AND version = ?",
            (key, version),
        )
        return _asset_from_row(rows[0]) if rows else None

    # -- lifecycle ------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the store is closed")

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
