"""Writing a batch of append units: the fast path in one hop, the general path in a handful of statements.

The fast path (the shared :func:`~arco_grpc.store.sql.appending.plan_fast`, then
:func:`commit_fast`) is for batches whose units name the version each stream is
expected at and whose projectors only write: sequences, versions and rows are
computed on the event loop, then one function on the writer thread checks that the database is where the plan
assumed (last sequence, stream versions, request ids unseen) and writes it
all in one transaction. Anything unexpected rolls back and the general path
runs instead.

The general path is the shared one (:mod:`arco_grpc.store.sql.appending`) over
:class:`SqliteUnitWriter`: the single writer holds the database's write lock,
so the next sequence is the last one plus one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from arco_grpc.errors import ArcoError
from arco_grpc.store.sql.appending import FastBatch, SeenRequest
from arco_grpc.store.sql.writes import INSERT_EVENT, INSERT_REQUEST, StoredStatuses, status_keys
from arco_grpc.store.sqlite._statements import Statement, execute_rows
from arco_grpc.store.sqlite._transaction import (
    SQLITE_WRITES,
    STATUS_VALUE,
    SqliteTransaction,
    execute_writes,
)
from arco_grpc.store.sqlite._writer import WriterConnection

_INSERT_EVENTS = Statement.values(INSERT_EVENT)
_INSERT_REQUESTS = Statement.values(INSERT_REQUEST)
# Bound variables per IN (...) query, far below SQLite's limit.
_IN_BATCH = 500


# One stream's version: MAX over the (stream_id, stream_version) index is one
# index lookup. (A GROUP BY over several streams would read every event of
# each stream instead: a cost growing with the stream's length.)
_STREAM_VERSION = "SELECT MAX(stream_version) FROM events WHERE stream_id = ?"


def stream_versions(connection: sqlite3.Connection, streams: Sequence[str]) -> dict[str, int]:
    """The version of each of ``streams`` that has events (on the writer thread)."""
    versions = {}
    for stream in streams:
        version = connection.execute(_STREAM_VERSION, (stream,)).fetchone()[0]
        if version is not None:
            versions[stream] = int(version)
    return versions


# AUTOINCREMENT never reuses a number: sqlite_sequence remembers the largest ever used.
_LAST_SEQUENCE_VALUE = (
    "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), "
    "COALESCE((SELECT MAX(sequence) FROM events), 0))"
)
_LAST_SEQUENCE = "SELECT " + _LAST_SEQUENCE_VALUE


def last_sequence(connection: sqlite3.Connection) -> int:
    """The last event sequence ever assigned (on the writer thread)."""
    return int(connection.execute(_LAST_SEQUENCE).fetchone()[0])


class SqliteUnitWriter:
    """The general path's statements (:class:`~arco_grpc.store.sql.appending.UnitWriter`) on the writer."""

    constraint_errors = (sqlite3.IntegrityError,)

    def __init__(self, connection: WriterConnection) -> None:
        self._connection = connection

    async def state(self, request_ids: list[str], streams: list[str]) -> tuple[dict[str, SeenRequest], dict[str, int], int]:
        """The remembered requests, the streams' versions and the last sequence (a few steps: SQLite is local)."""
        return await self.seen_requests(request_ids), await self.stream_versions(streams), await self.last_sequence()

    async def seen_requests(self, request_ids: list[str]) -> dict[str, SeenRequest]:
        """The remembered requests among ``request_ids``, by id (a few queries of a bounded IN list)."""
        rows: list[Any] = []
        for start in range(0, len(request_ids), _IN_BATCH):
            batch = request_ids[start : start + _IN_BATCH]
            marks = ", ".join("?" for _ in batch)
            rows.extend(await self._connection.execute_fetchall(
                f"SELECT request_id, method, body_fingerprint, response FROM requests WHERE request_id IN ({marks})",
                batch,
            ))
        return {str(row[0]): (str(row[1]), str(row[2]), bytes(row[3])) for row in rows}

    async def stream_versions(self, streams: list[str]) -> dict[str, int]:
        """The version of each of ``streams`` that has events."""
        if not streams:
            return {}
        return await self._connection.run(lambda raw: stream_versions(raw, streams))

    async def last_sequence(self) -> int:
        """The last event sequence ever assigned."""
        return int(list(await self._connection.execute_fetchall(_LAST_SEQUENCE))[0][0])

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts event rows, a few steps for the lot."""
        await self._connection.run(lambda raw: execute_rows(raw, _INSERT_EVENTS, rows))

    async def insert_requests(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts request rows, a few steps for the lot."""
        await self._connection.run(lambda raw: execute_rows(raw, _INSERT_REQUESTS, rows))

    def transaction(self) -> SqliteTransaction:
        """A projection buffer on the writer."""
        return SqliteTransaction(self._connection)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """SAVEPOINT ... RELEASE; rolled back to when the body raises."""
        await self._connection.execute("SAVEPOINT unit")
        try:
            yield
        except BaseException:
            await self._connection.execute("ROLLBACK TO unit")
            await self._connection.execute("RELEASE unit")
            raise
        await self._connection.execute("RELEASE unit")


def _check(connection: sqlite3.Connection, batch: FastBatch) -> StoredStatuses | None:
    """None when the database is not where the plan assumed it (another process wrote to it); else the
    status rows the batch updates, as stored.

    One query (one step of the writer thread): the last sequence, each stream's version, whether any
    of the batch's request ids was seen, and the status rows (read here to save their own step).
    """
    streams = list(batch.stream_versions)
    ids = batch.request_ids[:_IN_BATCH]
    statuses = status_keys(batch.writes, SQLITE_WRITES.update_status)[:_IN_BATCH]
    checks = [_LAST_SEQUENCE_VALUE, *[f"({_STREAM_VERSION})" for _ in streams], *[STATUS_VALUE for _ in statuses]]
    if ids:
        checks.append(f"EXISTS (SELECT 1 FROM requests WHERE request_id IN ({', '.join('?' for _ in ids)}))")
    found = connection.execute(
        "SELECT " + ", ".join(checks), [*streams, *[part for key in statuses for part in key], *ids]
    ).fetchone()
    if found[0] != batch.expected_sequence:
        return None
    if any((version or 0) != batch.stream_versions[stream] for stream, version in zip(streams, found[1:])):
        return None
    if ids and found[-1]:
        return None
    for start in range(_IN_BATCH, len(batch.request_ids), _IN_BATCH):  # more ids than one query binds
        chunk = batch.request_ids[start : start + _IN_BATCH]
        marks = ", ".join("?" for _ in chunk)
        if connection.execute(f"SELECT 1 FROM requests WHERE request_id IN ({marks}) LIMIT 1", chunk).fetchall():
            return None
    first = 1 + len(streams)
    return {key: None if value is None else bytes(value) for key, value in zip(statuses, found[first:])}


def commit_fast(connection: sqlite3.Connection, batch: FastBatch) -> bool:
    """Writes a fast batch in one transaction, on the writer thread; False (nothing written) if the plan is stale.

    Raises:
        sqlite3.Error: the database failed (nothing written).
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        statuses = _check(connection, batch)
        if statuses is None:
            connection.execute("ROLLBACK")
            return False
        execute_rows(connection, _INSERT_EVENTS, batch.event_rows)
        execute_writes(connection, batch.writes, statuses)
        execute_rows(connection, _INSERT_REQUESTS, batch.request_rows)
        connection.execute("COMMIT")
        return True
    except (ArcoError, sqlite3.IntegrityError):
        # A constraint refused a row (a duplicate run key, say): the general path finds which unit.
        connection.execute("ROLLBACK")
        return False
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
