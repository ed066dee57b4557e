"""Writing a planned batch on PostgreSQL in few round trips: the fast path's check and its one statement of writes.

A fast batch (:func:`~arco_grpc.store.sql.appending.plan_fast`) is written
inside the store's transaction, after ``BEGIN`` and the append lock (one round
trip, :data:`BEGIN_LOCKED`), in two more: one query checks that the database
is where the plan assumed (last sequence, stream versions, request ids
unseen) and reads the status rows the batch updates; one statement writes
every row, each kind of row as one ``INSERT ... SELECT FROM unnest(...)`` (or
``UPDATE ... FROM unnest(...)``) of array parameters in a ``WITH`` of
data-modifying parts. The parts of one statement all see the rows as they were
before it, so a part goes into it only where that is the order the general
path would give: each kind is one part (rows deduplicated by the buffer),
kinds write distinct rows, and from the first write whose rows may depend on
another's (a queued run's start or cancellation, the end of a run the batch
inserts) the writes run one by one after the statement, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arco_grpc.store.postgres._connection import PgConnection
from arco_grpc.store.postgres._schema import APPEND_LOCK
from arco_grpc.store.postgres._transaction import (
    LAST_SEQUENCE,
    PG_WRITES,
    execute_writes,
)
from arco_grpc.store.sql import writes
from arco_grpc.store.sql.appending import FastBatch
from arco_grpc.store.sql.writes import StoredStatuses, Write, new_statuses, status_keys

# One round trip (a simple query of two statements): the transaction, then the append lock. The lock is
# taken by a statement of its own, so every later statement's snapshot sees all that committed before it.
BEGIN_LOCKED = f"BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK})"
# After a refused fast write (the transaction is aborted): a new transaction, the lock again.
RESTART_LOCKED = f"ROLLBACK; {BEGIN_LOCKED}"

# The column types of the tables, as the database has them: (table, column) -> type ("bigint", ...).
COLUMN_TYPES = (
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
    "JOIN pg_class AS c ON c.oid = a.attrelid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
    "AND NOT a.attisdropped"
)
ColumnTypes = dict[tuple[str, str], str]

_CHECK = (
    f"SELECT ({LAST_SEQUENCE}) = $1 "
    "AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::bigint[]) AS s(stream, version) "
    "WHERE COALESCE((SELECT MAX(stream_version) FROM events WHERE stream_id = s.stream), 0) <> s.version) "
    "AND NOT EXISTS (SELECT 1 FROM requests WHERE request_id = ANY($4::text[])), "
    "ARRAY(SELECT (SELECT status FROM partition_status AS p WHERE p.asset_key = k.asset_key AND p.space = k.space) "
    "FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS k(asset_key, space, n) ORDER BY k.n)"
)

_INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\) VALUES \(([?, ]+)\)(.*)", re.DOTALL)
_UPDATE = re.compile(r"UPDATE (\w+) SET ((?:\w+ = \?, )*\w+ = \?) WHERE (\w+) = \?", re.DOTALL)
# The kinds of rows the one statement may write (catalog writes run before it: their tables are their own).
_CATALOG = {
    PG_WRITES.upsert_asset, PG_WRITES.upsert_asset_version, PG_WRITES.add_dynamic, PG_WRITES.delete_dynamic,
}
# Writes whose rows may be rows another write of the batch inserts: from the first, the rest run in order.
_IN_ORDER = {PG_WRITES.start_run, PG_WRITES.cancel_queued_run}
_NEW_RUN_ID = 7  # run_id's place in a new run's row (INSERT_RUN and INSERT_LEASED_RUN)


@dataclass(frozen=True, slots=True)
class _Part:
    """One write of many rows from array parameters: its SQL, numbering its parameters from a start."""

    table: str
    head: str  # the statement up to its array parameters
    types: tuple[str, ...]  # each parameter's array element type
    tail: str

    def sql(self, first: int) -> str:
        arrays = ", ".join(f"${first + n}::{kind}[]" for n, kind in enumerate(self.types))
        return f"{self.head}{arrays}{self.tail}"


def _part(statement: str, column_types: ColumnTypes) -> _Part:
    """The array form of one shared row statement (an INSERT ... VALUES, or an UPDATE ... WHERE key = ?)."""
    if (found := _INSERT.fullmatch(statement)) is not None:
        table, columns, _, rest = found.groups()
        names = [name.strip() for name in columns.split(",")]
        return _Part(
            table, f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(",
            tuple(column_types[(table, name)] for name in names), f") AS given{rest}",
        )
    found = _UPDATE.fullmatch(statement)
    if found is None:
        raise ValueError(f"no array form for {statement!r}")
    table, assignments, key = found.groups()
    names = [assignment.split(" = ")[0] for assignment in assignments.split(", ")] + [key]
    return _Part(
        table, f"UPDATE {table} SET {', '.join(f'{name} = given.{name}' for name in names[:-1])} FROM unnest(",
        tuple(column_types[(table, name)] for name in names),
        f") AS given({', '.join(names)}) WHERE {table}.{key} = given.{key}",
    )


class FastWriter:
    """Checks and writes fast batches on a database whose column types are ``types``."""

    def __init__(self, types: ColumnTypes) -> None:
        self._types = types
        self._parts: dict[str, _Part] = {}

    async def commit(self, connection: PgConnection, batch: FastBatch) -> bool:
        """Checks ``batch`` and writes it, in the open transaction that holds the append lock.

        Returns False, having written nothing (the transaction stays usable), when the database is not
        where the plan assumed.

        Raises:
            ArcoError: a write was refused (such as DuplicateRunKey); the transaction may be aborted.
            asyncpg.IntegrityConstraintViolationError: a row broke a constraint; the transaction is aborted.
        """
        statuses = status_keys(batch.writes, PG_WRITES.update_status)
        streams = list(batch.stream_versions)
        passed, found = await connection.raw.fetchrow(
            _CHECK, batch.expected_sequence, streams, list(batch.stream_versions.values()), batch.request_ids,
            [asset_key for asset_key, _ in statuses], [space for _, space in statuses],
        )
        if not passed:
            return False
        stored: StoredStatuses = {key: None if value is None else bytes(value) for key, value in zip(statuses, found)}
        first, together, after = _split(batch.writes)
        await execute_writes(connection, first)
        parts: list[tuple[str, list[tuple[Any, ...]]]] = [(writes.INSERT_EVENT, batch.event_rows)]
        for statement, rows, _ in together:
            if statement is PG_WRITES.update_status:
                parts.append((writes.UPSERT_STATUS, new_statuses(rows, stored)))
            else:
                parts.append((statement, rows))
        parts.append((writes.INSERT_REQUEST, batch.request_rows))
        await self._write_together(connection, [(statement, rows) for statement, rows in parts if rows])
        await execute_writes(connection, after)
        return True

    async def _write_together(self, connection: PgConnection, parts: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Writes every part in one statement (one round trip)."""
        pieces: list[str] = []
        arguments: list[Any] = []
        for number, (statement, rows) in enumerate(parts):
            part = self._parts.get(statement)
            if part is None:
                part = self._parts[statement] = _part(statement, self._types)
            pieces.append(f"w{number} AS ({part.sql(len(arguments) + 1)})")
            arguments.extend(list(column) for column in zip(*rows))
        if pieces:
            await connection.raw.execute(f"WITH {', '.join(pieces)} SELECT 1", *arguments)


def _split(pending: list[Write]) -> tuple[list[Write], list[Write], list[Write]]:
    """``pending`` as the catalog writes to run first, the writes of the one statement, and those to run after."""
    first = [write for write in pending if write[0] in _CATALOG]
    rest = [write for write in pending if write[0] not in _CATALOG]
    new_run_ids = {row[_NEW_RUN_ID] for _, rows, new_runs in rest if new_runs for row in rows}
    for position, (statement, rows, _) in enumerate(rest):
        ends_new_run = statement is PG_WRITES.end_run and any(row[-1] in new_run_ids for row in rows)
        if statement in _IN_ORDER or ends_new_run:
            return first, rest[:position], rest[position:]
    return first, rest, []
