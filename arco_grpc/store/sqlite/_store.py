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

from arco_grpc.store.errors import RequestIdReused, StoreUnavailable, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AssetRecord,
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    CatalogSnapshot,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    RunRecord,
    StoredEvent,
    from_microseconds,
    to_microseconds,
)
from arco_grpc.store.sqlite._backfill_reads import (
    fetch_backfill,
    fetch_backfill_details,
    fetch_backfills,
    fetch_chunks,
    fetch_run,
)
from arco_grpc.store.sqlite._schema import PROJECTION_TABLES, migrate
from arco_grpc.store.sqlite._transaction import SqliteTransaction

T = TypeVar("T")

MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 10_000
_EVENT_COLUMNS = "sequence, stream_id, stream_version, event_type, payload, request_id, recorded_at_us"


async def _connect(path: str, *, read_only: bool) -> aiosqlite.Connection:
    # isolation_level=None: the driver never opens transactions behind our back.
    connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        await connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if path != MEMORY:
            await connection.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit the server acknowledged survives power loss and kill -9.
        await connection.execute("PRAGMA synchronous = FULL")
        if read_only:
            await connection.execute("PRAGMA query_only = ON")
    except BaseException:
        await connection.close()
        raise
    return connection


def _event_from_row(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        sequence=int(row[0]),
        stream_id=str(row[1]),
        stream_version=int(row[2]),
        event_type=str(row[3]),
        payload=bytes(row[4]),
        request_id=None if row[5] is None else str(row[5]),
        recorded_at=from_microseconds(int(row[6])),
    )


def _asset_from_row(row: Sequence[Any]) -> AssetRecord:
    return AssetRecord(
        key=str(row[0]), version=int(row[1]), definition=bytes(row[2]), updated_at=from_microseconds(int(row[3]))
    )


class SqliteEventStore:
    """An :class:`~arco_grpc.store.port.EventStore` in one SQLite database file (or in memory).

    Appends are serialized by an ``asyncio.Lock`` on the single writer
    connection and run as ``BEGIN IMMEDIATE ... COMMIT``, so commit order is
    sequence order. File databases use WAL, so readers (their own
    connections) never block the writer. An in-memory database has one
    connection, and its reads take the writer's lock so that they never see
    an append's uncommitted rows.
    """

    def __init__(self, path: str, writer: aiosqlite.Connection, readers: Sequence[aiosqlite.Connection]) -> None:
        self.path = path
        self._writer = writer
        self._write_lock = asyncio.Lock()
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
            writer = await _connect(path, read_only=False)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open the SQLite database {path!r}: {error}") from error
        readers: list[aiosqlite.Connection] = []
        try:
            await migrate(writer, now_us=time.time_ns() // 1000)
            if path != MEMORY:
                for _ in range(reader_count):
                    readers.append(await _connect(path, read_only=True))
        except sqlite3.Error as error:
            for connection in (writer, *readers):
                await connection.close()
            raise StoreUnavailable(f"cannot prepare the SQLite database {path!r}: {error}") from error
        except BaseException:
            for connection in (writer, *readers):
                await connection.close()
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
        recorded_at_us = to_microseconds(recorded_at)
        # Shielded: a caller that goes away (client cancel, deadline) must not
        # interrupt a transaction half-way; its retry will find the answer.
        # A replayed request wrote nothing, so committing it changes nothing.
        return await asyncio.shield(
            self._write(
                lambda connection: self._append_in_transaction(
                    connection, stream_id, expected_version, list(events), request, recorded_at_us, project
                ),
                f"the write to stream {stream_id!r}",
            )
        )

    async def _append_in_transaction(
        self,
        connection: aiosqlite.Connection,
        stream_id: str,
        expected_version: int | None,
        events: list[NewEvent],
        request: RequestRecord | None,
        recorded_at_us: int,
        project: Projector | None,
    ) -> AppendResult:
        if request is not None:
            async with connection.execute(
                "SELECT method, body_fingerprint, response FROM requests WHERE request_id = ?", (request.request_id,)
            ) as cursor:
                seen = await cursor.fetchone()
            if seen is not None:
                if (seen[0], seen[1]) != (request.method, request.body_fingerprint):
                    raise RequestIdReused(request.request_id, str(seen[0]))
                return AppendResult(events=(), response=bytes(seen[2]), replayed=True)
        current = await self._stream_version(connection, stream_id)
        if expected_version is not None and expected_version != current:
            raise WrongExpectedVersion(stream_id, expected_version, current)
        stored: list[StoredEvent] = []
        request_id = request.request_id if request else None
        for offset, event in enumerate(events, start=1):
            version = current + offset
            try:
                cursor = await connection.execute(
                    "INSERT INTO events (stream_id, stream_version, event_type, payload, request_id, recorded_at_us) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (stream_id, version, event.event_type, event.payload, request_id, recorded_at_us),
                )
            except sqlite3.IntegrityError as error:
                # UNIQUE(stream_id, stream_version): another writer got there first.
                raise WrongExpectedVersion(stream_id, current) from error
            sequence = cursor.lastrowid
            await cursor.close()
            assert sequence is not None
            stored.append(
                StoredEvent(
                    sequence=sequence,
                    stream_id=stream_id,
                    stream_version=version,
                    event_type=event.event_type,
                    payload=event.payload,
                    request_id=request_id,
                    recorded_at=from_microseconds(recorded_at_us),
                )
            )
        if project is not None and stored:
            await project(SqliteTransaction(connection), stored)
        if request is not None:
            await connection.execute(
                "INSERT INTO requests (request_id, method, body_fingerprint, response, recorded_at_us) "
                "VALUES (?, ?, ?, ?, ?)",
                (request.request_id, request.method, request.body_fingerprint, request.response, recorded_at_us),
            )
        return AppendResult(events=tuple(stored), response=request.response if request else None, replayed=False)

    async def rebuild_projections(self, project: Projector, batch_size: int = 1000) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.rebuild_projections`."""

        async def rebuild(connection: aiosqlite.Connection) -> int:
            for table in PROJECTION_TABLES:
                await connection.execute(f"DELETE FROM {table}")  # noqa: S608 - names from a constant
            replayed, after = 0, 0
            while True:
                async with connection.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                    (after, batch_size),
                ) as cursor:
                    batch = [_event_from_row(row) for row in await cursor.fetchall()]
                if not batch:
                    return replayed
                await project(SqliteTransaction(connection), batch)
                replayed += len(batch)
                after = batch[-1].sequence

        return await asyncio.shield(self._write(rebuild, "rebuilding the projections"))

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]], what: str) -> T:
        """Runs ``work`` on the writer in one ``BEGIN IMMEDIATE ... COMMIT`` transaction."""
        async with self._write_lock:
            self._check_open()
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
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
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
    async def _snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
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
                async with connection.execute(sql, parameters) as cursor:
                    return list(await cursor.fetchall())
            except sqlite3.Error as error:
                raise StoreUnavailable(f"a read failed: {error}") from error

    @staticmethod
    async def _stream_version(connection: aiosqlite.Connection, stream_id: str) -> int:
        async with connection.execute(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?", (stream_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def read_stream(self, stream_id: str, after_version: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_stream`."""
        rows = await self._fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version > ? "
            "ORDER BY stream_version LIMIT ?",
            (stream_id, after_version, -1 if limit is None else limit),
        )
        return [_event_from_row(row) for row in rows]

    async def read_all(self, after_sequence: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_all`."""
        rows = await self._fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
            (after_sequence, -1 if limit is None else limit),
        )
        return [_event_from_row(row) for row in rows]

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
            async with connection.execute(
                "SELECT key, version, definition, updated_at_us FROM assets ORDER BY key"
            ) as cursor:
                rows = await cursor.fetchall()
        return CatalogSnapshot(stream_version=version, assets=tuple(_asset_from_row(row) for row in rows))

    async def get_asset(self, key: str) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_asset`."""
        rows = await self._fetchall("SELECT key, version, definition, updated_at_us FROM assets WHERE key = ?", (key,))
        return _asset_from_row(rows[0]) if rows else None

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
            async with connection.execute(
                "SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY ordinal, position", (name,)
            ) as cursor:
                rows = await cursor.fetchall()
        return DynamicPartitionsSnapshot(name=name, stream_version=version, keys=tuple(str(row[0]) for row in rows))

    async def asset_version(self, key: str, version: int) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.asset_version`."""
        rows = await self._fetchall(
            "SELECT key, version, definition, applied_at_us FROM asset_versions WHERE key = ? AND version = ?",
            (key, version),
        )
        return _asset_from_row(rows[0]) if rows else None

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_backfill`."""
        async with self._snapshot() as connection:
            return await fetch_backfill(connection, backfill_id)

    async def backfill_details(self, backfill_id: str, transition_limit: int) -> BackfillDetails | None:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_details`."""
        async with self._snapshot() as connection:
            return await fetch_backfill_details(connection, backfill_id, transition_limit)

    async def list_backfills(
        self, where: BackfillFilter, before_sequence: int | None, limit: int
    ) -> list[tuple[BackfillRecord, tuple[ChunkStateCount, ...]]]:
        """See :meth:`arco_grpc.store.port.EventStore.list_backfills`."""
        async with self._snapshot() as connection:
            return await fetch_backfills(connection, where, before_sequence, limit)

    async def list_chunks(self, query: ChunkQuery) -> list[ChunkRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_chunks`."""
        async with self._snapshot() as connection:
            return await fetch_chunks(connection, query)

    async def get_run(self, run_key: str) -> RunRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_run`."""
        async with self._snapshot() as connection:
            return await fetch_run(connection, run_key)

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
