"""Writing a batch of append units: the fast path in one hop, the general path in a handful of statements.

The fast path (:func:`plan_fast`, :func:`commit_fast`) is for batches whose
units name the version each stream is expected at and whose projectors only
write: sequences, versions and rows are computed on the event loop, then one
function on the writer thread checks that the database is where the plan
assumed (last sequence, stream versions, request ids unseen) and writes it
all in one transaction. Anything unexpected rolls back and the general path
(:func:`write_units`) runs instead.


General path: requests are deduplicated with one query, stream versions read with one
query, events inserted with one ``executemany`` (their sequence numbers
assigned here: the single writer holds the database's write lock, so the
next sequence is the last one plus one), projections flushed in batches and
answers remembered with one more ``executemany``. A unit refused for its
request id or its expected version is skipped, not written; a constraint
broken while writing raises, and the caller redoes the units one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite3
from dataclasses import dataclass

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import RequestIdReused, WrongExpectedVersion
from arco_grpc.store.model import AppendResult, AppendUnit, StoredEvent, from_microseconds, to_microseconds
from arco_grpc.store.sqlite._statements import Statement, execute_rows
from arco_grpc.store.sqlite._transaction import (
    STATUS_VALUE,
    NeedsDatabase,
    SqliteTransaction,
    StoredStatuses,
    Write,
    execute_writes,
    status_keys,
)
from arco_grpc.store.sqlite._writer import WriterConnection

EVENT_COLUMNS = "sequence, stream_id, stream_version, event_type, payload, request_id, recorded_at_us"
_INSERT_EVENTS = Statement.values(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)")
_INSERT_REQUESTS = Statement.values(
    "INSERT INTO requests (request_id, method, body_fingerprint, response, recorded_at_us) VALUES (?, ?, ?, ?, ?)"
)
# Bound variables per IN (...) query, far below SQLite's limit.
_IN_BATCH = 500


def event_from_row(row: Sequence[Any]) -> StoredEvent:
    """A StoredEvent from a row selected with :data:`EVENT_COLUMNS`."""
    return StoredEvent(
        sequence=int(row[0]),
        stream_id=str(row[1]),
        stream_version=int(row[2]),
        event_type=str(row[3]),
        payload=bytes(row[4]),
        request_id=None if row[5] is None else str(row[5]),
        recorded_at=from_microseconds(int(row[6])),
    )


async def _select_in(connection: WriterConnection, sql: str, values: list[str]) -> list[Any]:
    """Rows of ``sql`` (with one ``{marks}`` placeholder list) over ``values``, in batches."""
    rows: list[Any] = []
    for start in range(0, len(values), _IN_BATCH):
        batch = values[start : start + _IN_BATCH]
        marks = ", ".join("?" for _ in batch)
        rows.extend(await connection.execute_fetchall(sql.format(marks=marks), batch))
    return rows


async def _seen_requests(connection: WriterConnection, units: list[AppendUnit]) -> dict[str, tuple[str, str, bytes]]:
    ids = sorted({unit.request.request_id for unit in units if unit.request is not None})
    if not ids:
        return {}
    rows = await _select_in(
        connection, "SELECT request_id, method, body_fingerprint, response FROM requests WHERE request_id IN ({marks})", ids
    )
    return {str(row[0]): (str(row[1]), str(row[2]), bytes(row[3])) for row in rows}


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


async def _stream_versions(connection: WriterConnection, units: list[AppendUnit]) -> dict[str, int]:
    streams = sorted({append.stream_id for unit in units for append in unit.appends})
    if not streams:
        return {}
    return await connection.run(lambda raw: stream_versions(raw, streams))


# AUTOINCREMENT never reuses a number: sqlite_sequence remembers the largest ever used.
_LAST_SEQUENCE_VALUE = (
    "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), "
    "COALESCE((SELECT MAX(sequence) FROM events), 0))"
)
_LAST_SEQUENCE = "SELECT " + _LAST_SEQUENCE_VALUE


def last_sequence(connection: sqlite3.Connection) -> int:
    """The last event sequence ever assigned (on the writer thread)."""
    return int(connection.execute(_LAST_SEQUENCE).fetchone()[0])


async def _last_sequence(connection: WriterConnection) -> int:
    return int(list(await connection.execute_fetchall(_LAST_SEQUENCE))[0][0])


async def write_units(connection: WriterConnection, units: list[AppendUnit]) -> list[AppendResult | ArcoError]:
    """Writes ``units`` in order; returns per unit its result or the error that refused it.

    Raises:
        ArcoError: a projector refused the batch (such as DuplicateRunKey).
        sqlite3.IntegrityError: a row broke a constraint.
    """
    seen = await _seen_requests(connection, units)
    versions = await _stream_versions(connection, units)
    sequence = await _last_sequence(connection)
    results: list[AppendResult | ArcoError] = []
    event_rows: list[tuple[Any, ...]] = []
    request_rows: list[tuple[Any, ...]] = []
    projections: list[tuple[AppendUnit, list[StoredEvent]]] = []
    for unit in units:
        request = unit.request
        if request is not None and request.request_id in seen:
            method, fingerprint, response = seen[request.request_id]
            if (method, fingerprint) != (request.method, request.body_fingerprint):
                results.append(RequestIdReused(request.request_id, method))
            else:
                results.append(AppendResult(events=(), response=response, replayed=True))
            continue
        refused = next(
            (
                append for append in unit.appends
                if append.expected_version is not None and append.expected_version != versions.get(append.stream_id, 0)
            ),
            None,
        )
        if refused is not None:
            actual = versions.get(refused.stream_id, 0)
            results.append(WrongExpectedVersion(refused.stream_id, refused.expected_version or 0, actual))
            continue
        recorded_at_us = to_microseconds(unit.recorded_at)
        recorded_at = from_microseconds(recorded_at_us)
        request_id = request.request_id if request is not None else None
        stored: list[StoredEvent] = []
        for append in unit.appends:
            version = versions.get(append.stream_id, 0)
            for event in append.events:
                sequence += 1
                version += 1
                event_rows.append(
                    (sequence, append.stream_id, version, event.event_type, event.payload, request_id, recorded_at_us)
                )
                stored.append(
                    StoredEvent(sequence, append.stream_id, version, event.event_type, event.payload, request_id,
                                recorded_at)
                )
            versions[append.stream_id] = version
        if request is not None:
            seen[request.request_id] = (request.method, request.body_fingerprint, request.response)
            request_rows.append(
                (request.request_id, request.method, request.body_fingerprint, request.response, recorded_at_us)
            )
        projections.append((unit, stored))
        results.append(AppendResult(events=tuple(stored), response=request.response if request else None, replayed=False))
    if event_rows:
        await connection.run(lambda raw: execute_rows(raw, _INSERT_EVENTS, event_rows))
    transaction = SqliteTransaction(connection)
    for unit, stored in projections:
        if unit.project is not None and stored:
            await unit.project(transaction, stored)
    await transaction.flush()
    if request_rows:
        await connection.run(lambda raw: execute_rows(raw, _INSERT_REQUESTS, request_rows))
    return results


@dataclass(frozen=True, slots=True)
class FastBatch:
    """A batch planned on the event loop, to be written by :func:`commit_fast`."""

    expected_sequence: int
    last_sequence: int
    stream_versions: dict[str, int]
    request_ids: list[str]
    event_rows: list[tuple[Any, ...]]
    writes: list[Write]
    request_rows: list[tuple[Any, ...]]
    results: list[AppendResult | ArcoError]


async def plan_fast(units: list[AppendUnit], last: int) -> FastBatch | None:
    """The fast plan of ``units`` after sequence ``last``, or None when the batch needs the general path."""
    versions: dict[str, int] = {}
    first_versions: dict[str, int] = {}
    request_ids: set[str] = set()
    event_rows: list[tuple[Any, ...]] = []
    request_rows: list[tuple[Any, ...]] = []
    results: list[AppendResult | ArcoError] = []
    transaction = SqliteTransaction(None)
    sequence = last
    for unit in units:
        request = unit.request
        if request is not None:
            if request.request_id in request_ids:
                return None
            request_ids.add(request.request_id)
        recorded_at_us = to_microseconds(unit.recorded_at)
        recorded_at = from_microseconds(recorded_at_us)
        request_id = request.request_id if request is not None else None
        stored: list[StoredEvent] = []
        for append in unit.appends:
            expected = append.expected_version
            if expected is None or versions.get(append.stream_id, expected) != expected:
                return None
            first_versions.setdefault(append.stream_id, expected)
            version = expected
            for event in append.events:
                sequence += 1
                version += 1
                event_rows.append(
                    (sequence, append.stream_id, version, event.event_type, event.payload, request_id, recorded_at_us)
                )
                stored.append(
                    StoredEvent(sequence, append.stream_id, version, event.event_type, event.payload, request_id,
                                recorded_at)
                )
            versions[append.stream_id] = version
        if unit.project is not None and stored:
            try:
                await unit.project(transaction, stored)
            except NeedsDatabase:
                return None
        if request is not None:
            request_rows.append(
                (request.request_id, request.method, request.body_fingerprint, request.response, recorded_at_us)
            )
        results.append(AppendResult(events=tuple(stored), response=request.response if request else None, replayed=False))
    return FastBatch(
        last, sequence, first_versions, sorted(request_ids), event_rows, transaction.take_writes(), request_rows, results
    )


def _check(connection: sqlite3.Connection, batch: FastBatch) -> StoredStatuses | None:
    """None when the database is not where the plan assumed it (another process wrote to it); else the
    status rows the batch updates, as stored.

    One query (one step of the writer thread): the last sequence, each stream's version, whether any
    of the batch's request ids was seen, and the status rows (read here to save their own step).
    """
    streams = list(batch.stream_versions)
    ids = batch.request_ids[:_IN_BATCH]
    statuses = status_keys(batch.writes)[:_IN_BATCH]
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
