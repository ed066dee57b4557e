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
from arco_grpc.store.postgres._appending import BEGIN_LOCKED, COLUMN_TYPES, RESTART_LOCKED, ColumnTypes, FastWriter
from arco_grpc.store.postgres._schema import NewerSchema, migrate
from arco_grpc.store.postgres._transaction import LAST_SEQUENCE, PostgresTransaction, PostgresUnitWriter
from arco_grpc.store.sql.appending import append_units, plan_fast
from arco_grpc.store.sql.store import SqlEventStore

T = TypeVar("T")

# Seconds to connect before the database counts as unreachable.
_CONNECT_TIMEOUT = 10.0
# synchronous_commit values under which a commit can be acknowledged before it is durable.
_NOT_DURABLE = ("off", "local")


async def _create_pool(
    dsn: str, size: int, settings: dict[str, str] | None, init: Callable[[asyncpg.Connection], Awaitable[None]] | None
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn, min_size=1, max_size=size, timeout=_CONNECT_TIMEOUT, server_settings=settings, init=init,
        reset=_keep_session,
    )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's own cleanup (which rolls back an open
    transaction): nothing. The store changes no session state (no SET, LISTEN, cursor or session lock: the
    serving lock has a connection of its own), so the default reset's round trip on every release is saved."""


async def _rollback_quietly(raw: asyncpg.Connection) -> None:
    """Ends a failed transaction; a connection that broke is discarded by the pool, so its error is ignored."""
    try:
        await raw.execute("ROLLBACK")
    except DRIVER_ERRORS:
        pass


class PostgresEventStore(SqlEventStore):
    """An :class:`~arco_grpc.store.port.EventStore` in a PostgreSQL database.

    Every append transaction first takes a transaction-level advisory lock
    (:data:`~arco_grpc.store.postgres._schema.APPEND_LOCK`), so appenders of
    every process and store instance on the database run one at a time: under
    the lock, stream versions are checked and the next sequence is the last
    one plus one, so commit order is sequence order (a watcher resuming from a
    sequence misses nothing). A batch the fast plan allows (see ``_appending``)
    is checked and written in two round trips after the lock's; any other
    takes the general path in the same transaction. Within a process an ``asyncio.Lock`` keeps a
    single append waiting for the database lock. Reads take a pooled
    connection and see committed rows only; a read of several queries runs in
    one REPEATABLE READ transaction, so they see one state.
    """

    def __init__(self, pool: asyncpg.Pool, name: str, column_types: ColumnTypes) -> None:
        self.name = name
        self._pool = pool
        self._write_lock = asyncio.Lock()
        self._fast = FastWriter(column_types)
        # The last event sequence, known after a fast commit (None: read it before the next one).
        self._last_sequence: int | None = None
        self._closed = False

    @classmethod
    async def open(
        cls, dsn: str, *, pool_size: int = 4, connection_init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
    ) -> PostgresEventStore:
        """Connects to (creating the tables of, if needed) the database ``dsn`` names.

        ``connection_init`` runs on each new connection of the pool (the benchmark counts statements with it).

        Raises:
            StoreUnavailable: the server cannot be reached, refuses the connection, or the schema
                cannot be brought up to date.
        """
        name = describe(dsn)
        try:
            pool = await _create_pool(dsn, pool_size, None, connection_init)
        except DRIVER_ERRORS as error:
            raise StoreUnavailable(f"cannot connect to the PostgreSQL database {name}: {reason(error)}") from error
        try:
            async with pool.acquire() as connection:
                await migrate(connection, now_us=time.time_ns() // 1000)
                durable = await connection.fetchval("SHOW synchronous_commit") not in _NOT_DURABLE
                types = {(str(row[0]), str(row[1])): str(row[2]) for row in await connection.fetch(COLUMN_TYPES)}
            if not durable:
                # An acknowledged append must be durable: where the server's or database's default turns
                # synchronous_commit off, every connection starts with it on (a stronger default is kept).
                await pool.close()
                pool = await _create_pool(dsn, pool_size, {"synchronous_commit": "on"}, connection_init)
        except BaseException as error:
            await pool.close()
            if isinstance(error, (*DRIVER_ERRORS, NewerSchema)):
                raise StoreUnavailable(f"cannot prepare the PostgreSQL database {name}: {reason(error)}") from error
            raise
        return cls(pool, name, types)

    # -- writes ---------------------------------------------------------------

    async def _append_batch(self, batch: list[AppendUnit]) -> list[AppendResult | ArcoError]:
        """The fast path when the batch allows it (see _appending), else the general path, in one transaction."""
        outcome: list[int | None] = [None]

        async def append(connection: PgConnection) -> list[AppendResult | ArcoError]:
            known, self._last_sequence = self._last_sequence, None  # under the lock; known again once committed
            if all(append.expected_version is not None for unit in batch for append in unit.appends):
                last = known if known is not None else int(await connection.raw.fetchval(LAST_SEQUENCE))
                fast = await plan_fast(batch, last, PostgresTransaction(None))
                if fast is not None:
                    try:
                        if await self._fast.commit(connection, fast):
                            outcome[0] = fast.last_sequence
                            return fast.results
                    except (ArcoError, asyncpg.IntegrityConstraintViolationError):
                        # A row was refused (a duplicate run key, say): the general path finds which unit.
                        await connection.raw.execute(RESTART_LOCKED)
            results = await append_units(PostgresUnitWriter(connection), batch)
            # Under the lock, the last event written is the last sequence (none written: unknown here).
            outcome[0] = max(
                (event.sequence for result in results if isinstance(result, AppendResult) for event in result.events),
                default=None,
            )
            return results

        results = await self._write(append, f"a batch of {len(batch)} appends")
        self._last_sequence = outcome[0]  # before any other batch takes the lock (no await since it was released)
        return results

    def _projection_transaction(self, connection: PgConnection) -> PostgresTransaction:
        return PostgresTransaction(connection)

    async def _write(self, work: Callable[[PgConnection], Awaitable[T]], what: str) -> T:
        """Runs ``work`` in one transaction that holds the append lock; it commits when ``work`` returns.

        The transaction is begun by hand, with the lock in the same round trip (:data:`BEGIN_LOCKED`).
        """
        async with self._write_lock:
            self._check_open()
            try:
                async with self._pool.acquire() as raw:
                    await raw.execute(BEGIN_LOCKED)
                    try:
                        result = await work(PgConnection(raw))
                    except BaseException:
                        await _rollback_quietly(raw)
                        raise
                    await raw.execute("COMMIT")
                    return result
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
