"""Projection writes inside a SQLite append transaction: the shared buffer, written in SQLite's few steps.

The buffer (:class:`~arco_grpc.store.sql.writes.BufferedTransaction`) keeps
every write until the transaction flushes; a flush is one hop to the writer
thread (:func:`execute_writes` runs there). A detached transaction (no
connection: the group-commit fast path) refuses reads with
:class:`NeedsDatabase`, and the caller takes the slow path.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from arco_grpc.store.errors import DuplicateRunKey
from arco_grpc.store.sql import writes
from arco_grpc.store.sql.writes import (
    BufferedTransaction,
    StoredStatuses,
    Write,
    WriteStatements,
    duplicate_in,
    new_statuses,
)
from arco_grpc.store.sqlite._statements import Statement, execute_rows, pieces
from arco_grpc.store.sqlite._writer import WriterConnection

# The shared statements in SQLite's multi-row form (see _statements). Ending runs and deleting dynamic keys
# take one step for many rows through a VALUES list (its columns are named column1, column2, ...).
SQLITE_WRITES: WriteStatements[Statement] = WriteStatements(
    upsert_asset=Statement.values(writes.UPSERT_ASSET),
    upsert_asset_version=Statement.values(writes.UPSERT_ASSET_VERSION),
    add_dynamic=Statement.values(writes.ADD_DYNAMIC),
    delete_dynamic=Statement("DELETE FROM dynamic_partitions WHERE (name, partition_key) IN (VALUES ", "(?, ?)", ")"),
    upsert_backfill=Statement.values(writes.UPSERT_BACKFILL),
    upsert_target=Statement.values(writes.UPSERT_TARGET),
    insert_tags=Statement.values(writes.INSERT_TAGS),
    insert_transitions=Statement.values(writes.INSERT_TRANSITIONS),
    insert_rounds=Statement.values(writes.INSERT_ROUNDS),
    upsert_chunk=Statement.values(writes.UPSERT_CHUNK),
    upsert_unfailed_chunk=Statement.values(writes.UPSERT_UNFAILED_CHUNK),
    insert_run=Statement.values(writes.INSERT_RUN),
    insert_leased_run=Statement.values(writes.INSERT_LEASED_RUN),
    # Rare (one per submitted run): run row by row, by execute_writes.
    start_run=Statement(writes.START_RUN, ""),
    cancel_queued_run=Statement(writes.CANCEL_QUEUED_RUN, ""),
    end_run=Statement(
        "UPDATE runs SET state = ended.column1, ended_at_us = ended.column2, failed = ended.column3, "
        "failed_count = ended.column4, error = ended.column5, metadata = ended.column6, will_retry = ended.column7 "
        "FROM (VALUES ",
        "(?, ?, ?, ?, ?, ?, ?, ?)",
        ") AS ended WHERE runs.run_id = ended.column8",
    ),
    # Read-modify-write of status rows, run by _update_statuses.
    update_status=Statement("partition status updates", ""),
    upsert_schedule=Statement.values(writes.UPSERT_SCHEDULE),
)
_UPDATE_STATUS = SQLITE_WRITES.update_status
_START_RUN = SQLITE_WRITES.start_run
_CANCEL_QUEUED_RUN = SQLITE_WRITES.cancel_queued_run
_UPSERT_STATUS = Statement.values(writes.UPSERT_STATUS)


# One status row's stored bytes, as a scalar subquery (NULL: no row).
STATUS_VALUE = writes.STATUS_VALUE


def _update_statuses(connection: sqlite3.Connection, updates: list[tuple[Any, ...]], stored: StoredStatuses) -> None:
    """Applies each status update to its row as stored now (earlier updates of the batch included).

    ``stored`` holds rows the caller read already (in its own query, saving a step here).
    """
    known = dict(stored)
    for asset_key, space, _ in updates:
        if (asset_key, space) not in known:
            found = connection.execute(f"SELECT {STATUS_VALUE}", (asset_key, space)).fetchone()[0]
            known[(asset_key, space)] = None if found is None else bytes(found)
    execute_rows(connection, _UPSERT_STATUS, new_statuses(updates, known))


def execute_writes(connection: sqlite3.Connection, writes: list[Write], statuses: StoredStatuses | None = None) -> None:
    """Runs buffered writes, on the writer thread; ``statuses`` are status rows read already.

    Raises:
        DuplicateRunKey: a new run's key names a run that exists (or another new run's).
    """
    for statement, rows, new_runs in writes:
        if not rows:
            continue
        if statement is _UPDATE_STATUS:
            _update_statuses(connection, rows, statuses or {})
            continue
        if statement is _START_RUN:
            _start_runs(connection, rows)
            continue
        if statement is _CANCEL_QUEUED_RUN:
            connection.executemany(statement.head, rows).close()
            continue
        if not new_runs:
            execute_rows(connection, statement, rows)
            continue
        for start, size in pieces(len(rows)):
            piece = rows[start : start + size]
            try:
                execute_rows(connection, statement, piece)
            except sqlite3.IntegrityError as error:
                raise DuplicateRunKey(_duplicate_run_key(connection, piece)) from error


def _start_runs(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        if connection.execute(_START_RUN.head, row).rowcount != 1:
            found = connection.execute("SELECT run_key FROM runs WHERE run_id = ?", (row[-1],)).fetchone()
            raise DuplicateRunKey(str(found[0]) if found else str(row[-1]))


def _duplicate_run_key(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> str:
    """The first run key of ``rows`` (a refused piece: nothing of it was written) that exists or repeats."""
    keys = [str(row[0]) for row in rows]
    marks = ", ".join("?" for _ in keys)
    existing = {row[0] for row in connection.execute(f"SELECT run_key FROM runs WHERE run_key IN ({marks})", keys)}
    return duplicate_in(keys, existing)


class SqliteTransaction(BufferedTransaction):
    """The :class:`~arco_grpc.store.port.Transaction` of one SQLite write transaction (None: detached)."""

    __slots__ = ()
    STATEMENTS = SQLITE_WRITES
    _connection: WriterConnection | None

    async def _execute(self, connection: WriterConnection, pending: list[Write]) -> None:
        """Runs ``pending`` in one hop to the writer thread."""
        await connection.run(lambda raw: execute_writes(raw, pending))
