"""Projection writes inside a PostgreSQL append transaction, and the statements of the append itself.

The shared buffer (:class:`~arco_grpc.store.sql.writes.BufferedTransaction`)
keeps writes until the transaction flushes; a flush runs each kind of row as
one pipelined ``executemany``. New runs are inserted in a savepoint, so that a
run key that exists already is found (and refused as DuplicateRunKey) with
the transaction still usable. The store begins its transactions by hand
(``BEGIN`` and the append lock in one round trip), so savepoints are SQL's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg

from arco_grpc.store.errors import DuplicateRunKey
from arco_grpc.store.postgres._connection import PgConnection
from arco_grpc.store.sql import writes
from arco_grpc.store.sql.appending import SeenRequest
from arco_grpc.store.sql.writes import (
    BufferedTransaction,
    StoredStatuses,
    Write,
    WriteStatements,
    duplicate_in,
    new_statuses,
)

# The shared statements as they are, one row at a time (executemany pipelines the rows).
PG_WRITES: WriteStatements[str] = WriteStatements(
    upsert_asset=writes.UPSERT_ASSET,
    upsert_asset_version=writes.UPSERT_ASSET_VERSION,
    add_dynamic=writes.ADD_DYNAMIC,
    delete_dynamic=writes.DELETE_DYNAMIC,
    upsert_backfill=writes.UPSERT_BACKFILL,
    upsert_target=writes.UPSERT_TARGET,
    insert_tags=writes.INSERT_TAGS,
    insert_transitions=writes.INSERT_TRANSITIONS,
    insert_rounds=writes.INSERT_ROUNDS,
    upsert_chunk=writes.UPSERT_CHUNK,
    upsert_unfailed_chunk=writes.UPSERT_UNFAILED_CHUNK,
    insert_run=writes.INSERT_RUN,
    insert_leased_run=writes.INSERT_LEASED_RUN,
    start_run=writes.START_RUN,
    cancel_queued_run=writes.CANCEL_QUEUED_RUN,
    end_run=writes.END_RUN,
    update_status="partition status updates",  # read-modify-write, by _update_statuses
    upsert_schedule=writes.UPSERT_SCHEDULE,
)

_STATUSES = (
    "SELECT asset_key, space, status FROM partition_status "
    "WHERE (asset_key, space) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
)


async def execute_writes(connection: PgConnection, pending: list[Write]) -> None:
    """Runs buffered writes in order, each kind of row as one pipelined ``executemany``.

    Raises:
        DuplicateRunKey: a new run's key names a run that exists (or another new run's), or a run to
            start is not QUEUED.
    """
    for statement, rows, new_runs in pending:
        if not rows:
            continue
        if statement is PG_WRITES.update_status:
            await _update_statuses(connection, rows)
        elif statement is PG_WRITES.start_run:
            await _start_runs(connection, rows)
        elif new_runs:
            await _insert_runs(connection, statement, rows)
        else:
            await connection.executemany(statement, rows)


async def read_statuses(connection: PgConnection, keys: list[tuple[str, str]]) -> StoredStatuses:
    """The status rows of ``keys`` as stored (one query)."""
    found = await connection.raw.fetch(_STATUSES, [asset_key for asset_key, _ in keys], [space for _, space in keys])
    stored: StoredStatuses = dict.fromkeys(keys)
    stored.update({(row[0], row[1]): bytes(row[2]) for row in found})
    return stored


async def _update_statuses(connection: PgConnection, updates: list[tuple[Any, ...]]) -> None:
    """Applies each status update to its row as stored now (earlier updates of the batch included)."""
    stored = await read_statuses(connection, [(asset_key, space) for asset_key, space, _ in updates])
    await connection.executemany(writes.UPSERT_STATUS, new_statuses(updates, stored))


async def _start_runs(connection: PgConnection, rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        if await connection.execute(writes.START_RUN, *row) != "UPDATE 1":
            found = await connection.raw.fetchval("SELECT run_key FROM runs WHERE run_id = $1", row[-1])
            raise DuplicateRunKey(str(found) if found is not None else str(row[-1]))


async def _insert_runs(connection: PgConnection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    try:
        async with savepoint(connection.raw, "runs"):  # a refusal leaves the transaction usable
            await connection.executemany(statement, rows)
    except asyncpg.IntegrityConstraintViolationError as error:
        keys = [str(row[0]) for row in rows]
        existing = await connection.raw.fetch("SELECT run_key FROM runs WHERE run_key = ANY($1::text[])", keys)
        raise DuplicateRunKey(duplicate_in(keys, {row[0] for row in existing})) from error


@asynccontextmanager
async def savepoint(raw: asyncpg.Connection, name: str) -> AsyncIterator[None]:
    """SAVEPOINT ... RELEASE inside the store's own transaction (begun by hand, see _store); rolled back
    to, and released, when the body raises."""
    await raw.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        await raw.execute(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
        raise
    await raw.execute(f"RELEASE SAVEPOINT {name}")


class PostgresTransaction(BufferedTransaction):
    """The :class:`~arco_grpc.store.port.Transaction` of one PostgreSQL write transaction (None: detached)."""

    __slots__ = ()
    STATEMENTS = PG_WRITES
    _connection: PgConnection | None

    async def _execute(self, connection: PgConnection, pending: list[Write]) -> None:
        await execute_writes(connection, pending)


# The last event sequence assigned (events are never deleted, so the largest one).
LAST_SEQUENCE = "SELECT COALESCE(MAX(sequence), 0) FROM events"
# Under the append lock (taken by an earlier statement, so this one's snapshot sees every commit before it):
# the last sequence, each stream's version (0: no events; an index lookup per stream), and the remembered
# requests among the ids (a row each; one row of NULLs for none).
_STATE = (
    f"SELECT ({LAST_SEQUENCE}), "
    "ARRAY(SELECT COALESCE((SELECT MAX(stream_version) FROM events WHERE stream_id = s.stream), 0) "
    "FROM unnest($2::text[]) WITH ORDINALITY AS s(stream, n) ORDER BY s.n), "
    "r.request_id, r.method, r.body_fingerprint, r.response "
    "FROM (VALUES (1)) AS one LEFT JOIN requests AS r ON r.request_id = ANY($1::text[])"
)


class PostgresUnitWriter:
    """The statements of an append (:class:`~arco_grpc.store.sql.appending.UnitWriter`) on one connection."""

    constraint_errors = (asyncpg.IntegrityConstraintViolationError,)

    def __init__(self, connection: PgConnection) -> None:
        self._connection = connection

    async def state(self, request_ids: list[str], streams: list[str]) -> tuple[dict[str, SeenRequest], dict[str, int], int]:
        """The remembered requests, the streams' versions and the last sequence, in one query."""
        rows = await self._connection.raw.fetch(_STATE, request_ids, streams)
        versions = {stream: int(version) for stream, version in zip(streams, rows[0][1]) if version}
        seen = {str(row[2]): (str(row[3]), str(row[4]), bytes(row[5])) for row in rows if row[2] is not None}
        return seen, versions, int(rows[0][0])

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts event rows."""
        await self._connection.executemany(writes.INSERT_EVENT, rows)

    async def insert_requests(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts request rows."""
        await self._connection.executemany(writes.INSERT_REQUEST, rows)

    def transaction(self) -> PostgresTransaction:
        """A projection buffer on this connection."""
        return PostgresTransaction(self._connection)

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A savepoint, rolled back to when the body raises."""
        return savepoint(self._connection.raw, "unit")
