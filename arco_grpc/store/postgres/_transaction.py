"""Projection writes inside a PostgreSQL append transaction, and the statements of the append itself.

The shared buffer (:class:`~arco_grpc.store.sql.writes.BufferedTransaction`)
keeps writes until the transaction flushes; a flush runs each kind of row as
one pipelined ``executemany``. New runs are inserted in a savepoint, so that a
run key that exists already is found (and refused as DuplicateRunKey) with
the transaction still usable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from arco_grpc.store.errors import DuplicateRunKey
from arco_grpc.store.postgres._connection import PgConnection
from arco_grpc.store.sql import writes
from arco_grpc.store.sql.appending import SeenRequest
from arco_grpc.store.sql.reads import Queryable
from arco_grpc.store.sql.writes import BufferedTransaction, WriteStatements, duplicate_in

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


class PostgresTransaction(BufferedTransaction):
    """The :class:`~arco_grpc.store.port.Transaction` of one PostgreSQL write transaction."""

    __slots__ = ("_connection",)
    STATEMENTS = PG_WRITES

    def __init__(self, connection: PgConnection) -> None:
        super().__init__()
        self._connection = connection

    async def _connected(self) -> Queryable:
        await self.flush()
        return self._connection

    async def flush(self) -> None:
        """Writes everything buffered, in order.

        Raises:
            DuplicateRunKey: a new run's key names a run that exists (or another new run's), or a run to
                start is not QUEUED.
        """
        for statement, rows, new_runs in self.take_writes():
            if not rows:
                continue
            if statement is PG_WRITES.update_status:
                await self._update_statuses(rows)
            elif statement is PG_WRITES.start_run:
                await self._start_runs(rows)
            elif new_runs:
                await self._insert_runs(statement, rows)
            else:
                await self._connection.executemany(statement, rows)

    async def _update_statuses(self, updates: list[tuple[Any, ...]]) -> None:
        """Applies each status update to its row as stored now (earlier updates of the batch included)."""
        found = await self._connection.raw.fetch(
            _STATUSES, [asset_key for asset_key, _, _ in updates], [space for _, space, _ in updates]
        )
        current: dict[tuple[str, str], bytes | None] = {(row[0], row[1]): bytes(row[2]) for row in found}
        changed: dict[tuple[str, str], bytes] = {}
        for asset_key, space, update in updates:
            key = (asset_key, space)
            changed[key] = current[key] = update(current.get(key))
        await self._connection.executemany(writes.UPSERT_STATUS, [(*key, status) for key, status in changed.items()])

    async def _start_runs(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            if await self._connection.execute(writes.START_RUN, *row) != "UPDATE 1":
                found = await self._connection.raw.fetchval("SELECT run_key FROM runs WHERE run_id = $1", row[-1])
                raise DuplicateRunKey(str(found) if found is not None else str(row[-1]))

    async def _insert_runs(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            async with self._connection.raw.transaction():  # a savepoint: a refusal leaves the transaction usable
                await self._connection.executemany(statement, rows)
        except asyncpg.IntegrityConstraintViolationError as error:
            keys = [str(row[0]) for row in rows]
            existing = await self._connection.raw.fetch("SELECT run_key FROM runs WHERE run_key = ANY($1::text[])", keys)
            raise DuplicateRunKey(duplicate_in(keys, {row[0] for row in existing})) from error


class PostgresUnitWriter:
    """The statements of an append (:class:`~arco_grpc.store.sql.appending.UnitWriter`) on one connection."""

    constraint_errors = (asyncpg.IntegrityConstraintViolationError,)

    def __init__(self, connection: PgConnection) -> None:
        self._connection = connection

    async def seen_requests(self, request_ids: list[str]) -> dict[str, SeenRequest]:
        """The remembered requests among ``request_ids``, by id (one query)."""
        if not request_ids:
            return {}
        rows = await self._connection.raw.fetch(
            "SELECT request_id, method, body_fingerprint, response FROM requests WHERE request_id = ANY($1::text[])",
            request_ids,
        )
        return {str(row[0]): (str(row[1]), str(row[2]), bytes(row[3])) for row in rows}

    async def stream_versions(self, streams: list[str]) -> dict[str, int]:
        """The version of each of ``streams`` that has events (one query: an index lookup per stream)."""
        if not streams:
            return {}
        rows = await self._connection.raw.fetch(
            "SELECT stream, (SELECT MAX(stream_version) FROM events WHERE stream_id = stream) "
            "FROM unnest($1::text[]) AS stream",
            streams,
        )
        return {str(row[0]): int(row[1]) for row in rows if row[1] is not None}

    async def last_sequence(self) -> int:
        """The last event sequence assigned (events are never deleted, so the largest one)."""
        return int(await self._connection.raw.fetchval("SELECT COALESCE(MAX(sequence), 0) FROM events"))

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts event rows."""
        await self._connection.executemany(writes.INSERT_EVENT, rows)

    async def insert_requests(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts request rows."""
        await self._connection.executemany(writes.INSERT_REQUEST, rows)

    def transaction(self) -> PostgresTransaction:
        """A projection buffer on this connection."""
        return PostgresTransaction(self._connection)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested asyncpg transaction: a savepoint, rolled back to when the body raises."""
        async with self._connection.raw.transaction():
            yield

