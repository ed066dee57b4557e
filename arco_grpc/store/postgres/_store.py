"""The PostgreSQL event store: a small asyncpg pool, appends serialized by an advisory lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import StoreUnavailable
from arco_grpc.store.model import AppendResult, AppendUnit
from arco_grpc.store.postgres._connection import DRIVER_ERRORS, PgConnection, describe, reason
from arco_grpc.store.postgres._schema import APPEND_LOCK, NewerSchema, migrate
from arco_grpc.store.postgres._transaction import PostgresTransaction, PostgresUnitWriter
from arco_grpc.store.sql.appending import append_units
from arco_grpc.store.sql.store import SqlEventStore

T = TypeVar("T")

# Seconds to connect before the database counts as unreachable.
_CONNECT_TIMEOUT = 10.0
# synchronous_commit values under which a commit can be acknowledged before it is durable.
_NOT_DURABLE = ("off", "local")


async def _create_pool(dsn: str, size: int, settings: dict[str, str] | None) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=1, max_size=size, timeout=_CONNECT_TIMEOUT, server_settings=settings)


class PostgresEventStore(SqlEventStore):
    """An :class:`~arco_grpc.store.port.EventStore` in a PostgreSQL database.

    Every append transaction first takes a transaction-level advisory lock
    (:data:`~arco_grpc.store.postgres._schema.APPEND_LOCK`), so appenders of
    every process and store instance on the database run one at a time: under
    the lock, stream versions are checked and the next sequence is the last
    one plus one, so commit order is sequence order (a watcher resuming from a
    sequence misses nothing). Within a process an ``asyncio.Lock`` keeps a
    single append waiting for the database lock. Reads take a pooled
    connection and see committed rows only; a read of several queries runs in
    one REPEATABLE READ transaction, so they see one state.
    """

    def __init__(self, pool: asyncpg.Pool, name: str) -> None:
        self.name = name
        self._pool = pool
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, dsn: str, *, pool_size: int = 4) -> PostgresEventStore:
        """Connects to (creating the tables of, if needed) the database ``dsn`` names.

        Raises:
            StoreUnavailable: the server cannot be reached, refuses the connection, or the schema
                cannot be brought up to date.
        """
        name = describe(dsn)
        try:
            pool = await _create_pool(dsn, pool_size, None)
        except DRIVER_ERRORS as error:
            raise StoreUnavailable(f"cannot connect to the PostgreSQL database {name}: {reason(error)}") from error
        try:
            async with pool.acquire() as connection:
                await migrate(connection, now_us=time.time_ns() // 1000)
                durable = await connection.fetchval("SHOW synchronous_commit") not in _NOT_DURABLE
            if not durable:
                # An acknowledged append must be durable: where the server's or database's default turns
                # synchronous_commit off, every connection starts with it on (a stronger default is kept).
                await pool.close()
                pool = await _create_pool(dsn, pool_size, {"synchronous_commit": "on"})
        except BaseException as error:
            await pool.close()
            if isinstance(error, (*DRIVER_ERRORS, NewerSchema)):
                raise StoreUnavailable(f"cannot prepare the PostgreSQL database {name}: {reason(error)}") from error
            raise
        return cls(pool, name)

    # -- writes ---------------------------------------------------------------

    async def _append_batch(self, batch: list[AppendUnit]) -> list[AppendResult | ArcoError]:
        return await self._write(
            lambda connection: append_units(PostgresUnitWriter(connection), batch), f"a batch of {len(batch)} appends"
        )

    def _projection_transaction(self, connection: PgConnection) -> PostgresTransaction:
        return PostgresTransaction(connection)

    async def _write(self, work: Callable[[PgConnection], Awaitable[T]], what: str) -> T:
        """Runs ``work`` in one transaction that holds the append lock; it commits when ``work`` returns."""
        async with self._write_lock:
            self._check_open()
            try:
                async with self._pool.acquire() as raw, raw.transaction():
                    await raw.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK)
                    return await work(PgConnection(raw))
            except DRIVER_ERRORS as error:
                raise StoreUnavailable(f"{what} failed on {self.name}: {reason(error)}") from error

    # -- reads ----------------------------------------------------------------

    async def _fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        self._check_open()
        try:
            async with self._pool.acquire() as raw:
                return await PgConnection(raw).execute_fetchall(sql, parameters)
        except DRIVER_ERRORS as error:
            raise StoreUnavailable(f"a read failed on {self.name}: {reason(error)}") from error

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[PgConnection]:
        """A read-only REPEATABLE READ transaction: every query inside sees the same committed state."""
        self._check_open()
        try:
            async with self._pool.acquire() as raw, raw.transaction(isolation="repeatable_read", readonly=True):
                yield PgConnection(raw)
        except DRIVER_ERRORS as error:
            raise StoreUnavailable(f"a read failed on {self.name}: {reason(error)}") from error

    # -- lifecycle ------------------------------------------------------------

    async def close(self) -> None:
        """See :meth:`arco_grpc.store.port.EventStore.close`."""
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:
            await self._pool.close()
