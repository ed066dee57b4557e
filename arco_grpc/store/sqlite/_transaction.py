"""Projection writes inside a SQLite append transaction, buffered and written in batches.

Every write is kept in memory until the transaction flushes: the rows of each
kind go out with one ``executemany``, and a row written twice in one
transaction is written once, with its last value. A flush is one hop to the
writer thread (:func:`execute_writes` runs there). Reads flush first, so a
projector always reads its own writes; a detached transaction (no
connection: the group-commit fast path) refuses reads with
:class:`NeedsDatabase`, and the caller takes the slow path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from arco_grpc.store.errors import DuplicateRunKey
from arco_grpc.store.model import (
    AssetRecord,
    BackfillRecord,
    BackfillRowSource,
    ChunkRecord,
    RoundRecord,
    RunEnd,
    RunRecord,
    RunStart,
    ScheduleRecord,
    StatusUpdate,
    TransitionRecord,
    to_microseconds,
)
from arco_grpc.store.sqlite._backfill_reads import fetch_backfill, fetch_chunk, metadata_to_text
from arco_grpc.store.sqlite._schedules import UPSERT_SCHEDULE, fetch_schedule, schedule_row
from arco_grpc.store.sqlite._statements import Statement, execute_rows, pieces
from arco_grpc.store.sqlite._writer import WriterConnection

_UPSERT_BACKFILL = Statement.values(
    "INSERT INTO backfills (backfill_id, state, state_version, max_concurrency, dispatch_order, title, "
    "creator, fingerprint, as_of_us, created_at_us, updated_at_us, ended_at_us, created_sequence, "
    "partitions_total, chunks_total, partitions_succeeded, partitions_failed, partitions_cancelled, "
    "leased_chunks, spec, round, round_chunks, round_finished, partitions_running, round_partitions) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    # What a backfill's later events can change; the rest is fixed at creation.
    "ON CONFLICT (backfill_id) DO UPDATE SET state = excluded.state, state_version = excluded.state_version, "
    "max_concurrency = excluded.max_concurrency, updated_at_us = excluded.updated_at_us, "
    "ended_at_us = excluded.ended_at_us, chunks_total = excluded.chunks_total, "
    "partitions_succeeded = excluded.partitions_succeeded, partitions_failed = excluded.partitions_failed, "
    "partitions_cancelled = excluded.partitions_cancelled, leased_chunks = excluded.leased_chunks, "
    "round = excluded.round, round_chunks = excluded.round_chunks, round_finished = excluded.round_finished, "
    "partitions_running = excluded.partitions_running, round_partitions = excluded.round_partitions"
)
_UPSERT_TARGET = Statement.values(
    "INSERT INTO backfill_targets (backfill_id, position, asset_key, succeeded, failed, upstream_failed) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (backfill_id, position) DO UPDATE SET succeeded = excluded.succeeded, "
    "failed = excluded.failed, upstream_failed = excluded.upstream_failed"
)
_UPSERT_CHUNK = Statement.values(
    "INSERT INTO chunks (backfill_id, target_position, round, chunk_index, asset_key, state, attempt, run_key, "
    "partition_count, subset, updated_at_us, remaining, remaining_count, run_id, worker_id, leased_at_us, "
    "lease_expires_at_us, lease_ttl_ms, next_attempt_at_us, failed_attempts, failed_count, error) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (backfill_id, target_position, round, chunk_index) DO UPDATE SET "
    "state = excluded.state, attempt = excluded.attempt, run_key = excluded.run_key, "
    "partition_count = excluded.partition_count, subset = excluded.subset, updated_at_us = excluded.updated_at_us, "
    "remaining = excluded.remaining, remaining_count = excluded.remaining_count, run_id = excluded.run_id, worker_id = excluded.worker_id, "
    "leased_at_us = excluded.leased_at_us, lease_expires_at_us = excluded.lease_expires_at_us, "
    "lease_ttl_ms = excluded.lease_ttl_ms, next_attempt_at_us = excluded.next_attempt_at_us, "
    "failed_attempts = excluded.failed_attempts, failed_count = excluded.failed_count, error = excluded.error"
)
# A chunk that has not failed (its retry columns hold their defaults): four fewer values to bind per row
# of the hot path's most frequent write.
_UPSERT_UNFAILED_CHUNK = Statement.values(
    "INSERT INTO chunks (backfill_id, target_position, round, chunk_index, asset_key, state, attempt, run_key, "
    "partition_count, subset, updated_at_us, remaining, remaining_count, run_id, worker_id, leased_at_us, "
    "lease_expires_at_us, lease_ttl_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (backfill_id, target_position, round, chunk_index) DO UPDATE SET "
    "state = excluded.state, attempt = excluded.attempt, run_key = excluded.run_key, "
    "partition_count = excluded.partition_count, subset = excluded.subset, updated_at_us = excluded.updated_at_us, "
    "remaining = excluded.remaining, remaining_count = excluded.remaining_count, run_id = excluded.run_id, "
    "worker_id = excluded.worker_id, leased_at_us = excluded.leased_at_us, "
    "lease_expires_at_us = excluded.lease_expires_at_us, lease_ttl_ms = excluded.lease_ttl_ms, "
    "next_attempt_at_us = NULL, failed_attempts = 0, failed_count = 0, error = ''"
)
# The chunk columns _UPSERT_UNFAILED_CHUNK leaves to their defaults: (next_attempt_at, failed_attempts,
# failed_count, error) of a ChunkRecord, last in its row.
_UNFAILED = (None, 0, 0, "")
_INSERT_RUN = Statement.values(
    "INSERT INTO runs (run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, "
    "target_position, worker_id, state, lease_sequence, ended_at_us, partitions, partition_count, failed, "
    "failed_count, error, metadata, will_retry, lease_position, origin, origin_name, parent_run_id, root_run_id, "
    "waited_for, scope_key, origin_run_key, scheduled_at_us, submitted_at_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A run begun by a lease, whose other columns (how it ended, the submission's) hold their defaults: a third
# fewer values to bind and store for the hot path's most frequent row.
_INSERT_LEASED_RUN = Statement.values(
    "INSERT INTO runs (run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, "
    "target_position, worker_id, state, lease_sequence, partitions, partition_count, lease_position, origin, "
    "origin_name, parent_run_id, root_run_id, waited_for) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# What _INSERT_LEASED_RUN leaves to the columns' defaults: (ended_at, failed, failed_count, error, metadata,
# will_retry, scope_key, origin_run_key, scheduled_at, submitted_at) of a RunRecord.
_LEASED_RUN_DEFAULTS = (None, None, 0, "", (), False, None, None, None, None)
# A submitted run cancelled before any lease: only a row still QUEUED changes.
_CANCEL_QUEUED_RUN = Statement("UPDATE runs SET state = 6, ended_at_us = ?, error = ? WHERE run_id = ? AND state = 7", "")
# Only a QUEUED row starts; a start that changes no row (the run started before) is refused. Rare (one per
# submitted run), so run row by row, by execute_writes.
_START_RUN = Statement(
    "UPDATE runs SET state = 1, worker_id = ?, created_at_us = ?, partitions = ?, partition_count = ?, "
    "waited_for = ? WHERE run_id = ? AND state = 7",
    "",
)
_END_RUN = Statement(
    "UPDATE runs SET state = ended.column1, ended_at_us = ended.column2, failed = ended.column3, "
    "failed_count = ended.column4, error = ended.column5, metadata = ended.column6, will_retry = ended.column7 "
    "FROM (VALUES ",
    "(?, ?, ?, ?, ?, ?, ?, ?)",
    ") AS ended WHERE runs.run_id = ended.column8",
)
_UPSERT_ASSET = Statement.values(
    "INSERT INTO assets (key, version, definition, updated_at_us) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
    "definition = excluded.definition, updated_at_us = excluded.updated_at_us"
)
_UPSERT_ASSET_VERSION = Statement.values(
    "INSERT INTO asset_versions (key, version, definition, applied_at_us) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key, version) DO UPDATE SET definition = excluded.definition, "
    "applied_at_us = excluded.applied_at_us"
)
_ADD_DYNAMIC = Statement.values(
    "INSERT INTO dynamic_partitions (name, partition_key, ordinal, position) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name, partition_key) DO NOTHING"
)
_DELETE_DYNAMIC = Statement("DELETE FROM dynamic_partitions WHERE (name, partition_key) IN (VALUES ", "(?, ?)", ")")
_INSERT_TAGS = Statement.values(
    "INSERT INTO backfill_tags (backfill_id, tag_key, tag_value) VALUES (?, ?, ?) "
    "ON CONFLICT (backfill_id, tag_key) DO NOTHING"
)
_INSERT_TRANSITIONS = Statement.values(
    "INSERT INTO backfill_transitions (backfill_id, state_version, from_state, to_state, reason, "
    "recorded_at_us, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ROUNDS = Statement.values(
    "INSERT INTO backfill_rounds (backfill_id, round, target_position, asset_key, partitions, "
    "partition_count, chunk_count) VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# Read-modify-write of status rows: its "rows" are (asset key, space, update), run by _update_statuses.
_UPDATE_STATUS = Statement("partition status updates", "")
_UPSERT_STATUS = Statement.values(
    "INSERT INTO partition_status (asset_key, space, status) VALUES (?, ?, ?) "
    "ON CONFLICT (asset_key, space) DO UPDATE SET status = excluded.status"
)


# One status row's stored bytes, as a scalar subquery (NULL: no row).
STATUS_VALUE = "(SELECT status FROM partition_status WHERE asset_key = ? AND space = ?)"
# Status rows as read before the writes ran, by (asset key, space): None for no row.
StoredStatuses = dict[tuple[str, str], bytes | None]


def status_keys(writes: list[Write]) -> list[tuple[str, str]]:
    """The (asset key, space) of every status row that ``writes`` update."""
    return [(row[0], row[1]) for statement, rows, _ in writes if statement is _UPDATE_STATUS for row in rows]


def _update_statuses(connection: sqlite3.Connection, updates: list[tuple[Any, ...]], stored: StoredStatuses) -> None:
    """Applies each status update to its row as stored now (earlier updates of the batch included).

    ``stored`` holds rows the caller read already (in its own query, saving a step here).
    """
    current: dict[tuple[str, str], bytes | None] = {}
    for asset_key, space, update in updates:
        key = (asset_key, space)
        if key not in current:
            if key in stored:
                current[key] = stored[key]
            else:
                found = connection.execute(f"SELECT {STATUS_VALUE}", key).fetchone()[0]
                current[key] = None if found is None else bytes(found)
        current[key] = update(current[key])
    rows = [(asset_key, space, status) for (asset_key, space), status in current.items()]
    execute_rows(connection, _UPSERT_STATUS, rows)


def _micros(moment: Any) -> int | None:
    return None if moment is None else to_microseconds(moment)


def _backfill_row(record: BackfillRecord) -> tuple[Any, ...]:
    return (
        record.backfill_id, record.state, record.state_version, record.max_concurrency, record.dispatch_order,
        record.title, record.creator, record.fingerprint, to_microseconds(record.as_of),
        to_microseconds(record.created_at), to_microseconds(record.updated_at), _micros(record.ended_at),
        record.created_sequence, record.partitions_total, record.chunks_total, record.partitions_succeeded,
        record.partitions_failed, record.partitions_cancelled, record.leased_chunks, record.spec, record.round,
        record.round_chunks, record.round_finished, record.partitions_running, record.round_partitions,
    )


def _outcome(record: BackfillRecord, position: int) -> tuple[bytes | None, bytes | None, bytes | None]:
    return record.outcomes[position] if position < len(record.outcomes) else (None, None, None)


def _chunk_row(record: ChunkRecord) -> tuple[Any, ...]:
    return (
        record.backfill_id, record.target_position, record.round, record.chunk_index, record.asset_key,
        record.state, record.attempt, record.run_key, record.partition_count, record.subset,
        to_microseconds(record.updated_at), record.remaining, record.remaining_count, record.run_id, record.worker_id,
        _micros(record.leased_at), _micros(record.lease_expires_at), record.lease_ttl_ms,
        _micros(record.next_attempt_at), record.failed_attempts, record.failed_count, record.error,
    )


def _run_row(record: RunRecord) -> tuple[Any, ...]:
    return (
        record.run_key, record.backfill_id, record.asset_key, record.round, record.chunk_index, record.attempt,
        to_microseconds(record.created_at), record.run_id or None, record.target_position, record.worker_id,
        record.state, record.lease_sequence, _micros(record.ended_at), record.partitions, record.partition_count,
        record.failed, record.failed_count, record.error, metadata_to_text(record.metadata), int(record.will_retry),
        record.lease_position, record.origin, record.origin_name, record.parent_run_id, record.root_run_id,
        ",".join(record.waited_for), record.scope_key, record.origin_run_key, _micros(record.scheduled_at),
        _micros(record.submitted_at),
    )


def _leased_run_row(record: RunRecord) -> tuple[Any, ...]:
    return (
        record.run_key, record.backfill_id, record.asset_key, record.round, record.chunk_index, record.attempt,
        to_microseconds(record.created_at), record.run_id or None, record.target_position, record.worker_id,
        record.state, record.lease_sequence, record.partitions, record.partition_count, record.lease_position,
        record.origin, record.origin_name, record.parent_run_id, record.root_run_id, ",".join(record.waited_for),
    )


def _leased_run(record: RunRecord) -> bool:
    """Whether ``record``'s row can be written by _INSERT_LEASED_RUN."""
    return (
        record.ended_at, record.failed, record.failed_count, record.error, record.metadata, record.will_retry,
        record.scope_key, record.origin_run_key, record.scheduled_at, record.submitted_at,
    ) == _LEASED_RUN_DEFAULTS


def _start_row(start: RunStart) -> tuple[Any, ...]:
    return (
        start.worker_id, to_microseconds(start.started_at), start.partitions, start.partition_count,
        ",".join(start.waited_for), start.run_id,
    )


def _end_row(end: RunEnd) -> tuple[Any, ...]:
    # In _END_RUN's order: the run id (the row's key) last.
    return (
        end.state, to_microseconds(end.ended_at), end.failed, end.failed_count, end.error,
        metadata_to_text(end.metadata), int(end.will_retry), end.run_id,
    )


# (statement, rows, whether the rows are new runs): run in order, each in a few steps.
Write = tuple[Statement, list[tuple[Any, ...]], bool]


class NeedsDatabase(Exception):
    """A detached transaction was asked to read: the append must take the slow path."""


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
    seen: set[str] = set()
    for key in keys:
        if key in existing or key in seen:
            return key
        seen.add(key)
    return keys[0]


class SqliteTransaction:
    """The :class:`~arco_grpc.store.port.Transaction` of one SQLite write transaction (None: detached)."""

    __slots__ = (
        "_connection", "_statements", "_backfills", "_identities", "_chunks", "_runs", "_starts", "_cancels", "_ends",
        "_transitions", "_rounds", "_statuses", "_schedules",
    )

    def __init__(self, connection: WriterConnection | None) -> None:
        self._connection = connection
        # Catalog writes, in the order they were made.
        self._statements: list[Write] = []
        # The last row source given per backfill; rows are built when written.
        self._backfills: dict[str, BackfillRowSource] = {}
        # The targets and tags of each buffered backfill, as first put (they never change).
        self._identities: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}
        self._chunks: dict[tuple[str, int, int, int], ChunkRecord] = {}
        self._runs: list[RunRecord] = []
        self._starts: list[RunStart] = []
        self._cancels: list[tuple[Any, ...]] = []
        self._ends: dict[str, RunEnd] = {}
        self._transitions: list[TransitionRecord] = []
        self._rounds: list[RoundRecord] = []
        # One update per status row: later updates of a row are chained onto its first.
        self._statuses: dict[tuple[str, str], StatusUpdate] = {}
        self._schedules: dict[str, ScheduleRecord] = {}

    # -- catalog ------------------------------------------------------------------------

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``, and keeps the version in the history."""
        values = (record.key, record.version, record.definition, to_microseconds(record.updated_at))
        self._statements.append((_UPSERT_ASSET, [values], False))
        self._statements.append((_UPSERT_ASSET_VERSION, [values], False))

    async def add_dynamic_partitions(self, name: str, keys: Sequence[str], ordinal: int) -> None:
        """Appends the absent ``keys`` after every existing key; present keys keep their place."""
        self._statements.append((
            _ADD_DYNAMIC, [(name, key, ordinal, position) for position, key in enumerate(keys)], False
        ))

    async def delete_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Removes ``keys`` from definition ``name``; absent keys are ignored."""
        self._statements.append((_DELETE_DYNAMIC, [(name, key) for key in keys], False))

    # -- reads ----------------------------------------------------------------------------

    async def _connected(self) -> WriterConnection:
        if self._connection is None:
            raise NeedsDatabase("a detached transaction cannot read")
        await self.flush()
        return self._connection

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill row, as written so far in this transaction."""
        if backfill_id in self._backfills:
            return self._backfills[backfill_id].record
        return await fetch_backfill(await self._connected(), backfill_id)  # type: ignore[arg-type]

    async def get_chunk(self, backfill_id: str, target_position: int, round_number: int, index: int) -> ChunkRecord | None:
        """One chunk row, as written so far in this transaction."""
        buffered = self._chunks.get((backfill_id, target_position, round_number, index))
        if buffered is not None:
            return buffered
        connection = await self._connected()
        return await fetch_chunk(connection, backfill_id, target_position, round_number, index)  # type: ignore[arg-type]

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """The schedule row, as written so far in this transaction."""
        if name in self._schedules:
            return self._schedules[name]
        return await fetch_schedule(await self._connected(), name)  # type: ignore[arg-type]

    async def put_schedule(self, record: ScheduleRecord) -> None:
        """Inserts or replaces the schedule row ``record.name``."""
        self._schedules[record.name] = record

    # -- backfills ------------------------------------------------------------------------

    async def put_backfill(self, row: BackfillRecord | BackfillRowSource) -> None:
        """Inserts or replaces the backfill row and its targets' outcomes; targets and tags are fixed at insert.

        The row of a source is built when the transaction writes, from the last source given.
        """
        backfill_id = row.backfill_id
        self._backfills[backfill_id] = row
        if backfill_id not in self._identities:
            self._identities[backfill_id] = (row.asset_keys, row.tags)

    async def add_backfill_transition(self, record: TransitionRecord) -> None:
        """Records one state change of a backfill."""
        self._transitions.append(record)

    async def put_round(self, record: RoundRecord) -> None:
        """Records the partitions a retry round holds for one target."""
        self._rounds.append(record)

    async def put_chunk(self, record: ChunkRecord) -> None:
        """Inserts or replaces the row of one chunk."""
        self._chunks[(record.backfill_id, record.target_position, record.round, record.chunk_index)] = record

    async def put_chunks(self, records: Sequence[ChunkRecord]) -> None:
        """Inserts or replaces the rows of chunks, in order (a chunk given twice ends with its last row)."""
        chunks = self._chunks
        for record in records:
            chunks[(record.backfill_id, record.target_position, record.round, record.chunk_index)] = record

    async def record_run(self, record: RunRecord) -> None:
        """Records a new run; a run key seen before raises DuplicateRunKey (when the transaction flushes)."""
        self._runs.append(record)

    async def record_runs(self, records: Sequence[RunRecord]) -> None:
        """Records new runs, as :meth:`record_run` does each."""
        self._runs.extend(records)

    async def start_runs(self, starts: Sequence[RunStart]) -> None:
        """Records that queued runs started (leased); a run not QUEUED raises DuplicateRunKey when flushed."""
        self._starts.extend(starts)

    async def cancel_queued_run(self, run_id: str, at: datetime, reason: str) -> None:
        """Ends run ``run_id`` as CANCELLED if it is still QUEUED; otherwise changes nothing."""
        self._cancels.append((to_microseconds(at), reason, run_id))

    async def end_run(self, end: RunEnd) -> None:
        """Records how a run ended."""
        self._ends[end.run_id] = end

    async def end_runs(self, ends: Sequence[RunEnd]) -> None:
        """Records how runs ended, as :meth:`end_run` does each."""
        for end in ends:
            self._ends[end.run_id] = end

    async def update_partition_status(self, asset_key: str, space: str, update: StatusUpdate) -> None:
        """Replaces the status row with ``update`` of its stored bytes, when the transaction writes."""
        key = (asset_key, space)
        earlier = self._statuses.get(key)
        self._statuses[key] = update if earlier is None else earlier.then(update)

    # -- flushing -------------------------------------------------------------------------

    def take_writes(self) -> list[Write]:
        """Everything buffered, as statements in the order they must run; the buffer is emptied."""
        writes = self._statements
        identities, chunks = self._identities, self._chunks
        if self._backfills:
            backfills = [source.record for source in self._backfills.values()]
            writes.append((_UPSERT_BACKFILL, [_backfill_row(r) for r in backfills], False))
            writes.append((
                _UPSERT_TARGET,
                [
                    (record.backfill_id, position, key, *_outcome(record, position))
                    for record in backfills
                    for position, key in enumerate(identities[record.backfill_id][0])
                ],
                False,
            ))
            writes.append((
                _INSERT_TAGS,
                [(backfill_id, key, value) for backfill_id, (_, tags) in identities.items() for key, value in tags],
                False,
            ))
        if self._transitions:
            writes.append((
                _INSERT_TRANSITIONS,
                [
                    (t.backfill_id, t.state_version, t.from_state, t.to_state, t.reason,
                     to_microseconds(t.recorded_at), t.request_id)
                    for t in self._transitions
                ],
                False,
            ))
        if self._rounds:
            writes.append((
                _INSERT_ROUNDS,
                [
                    (r.backfill_id, r.round, r.target_position, r.asset_key, r.partitions, r.partition_count,
                     r.chunk_count)
                    for r in self._rounds
                ],
                False,
            ))
        if chunks:
            unfailed: list[tuple[Any, ...]] = []
            failed: list[tuple[Any, ...]] = []
            for chunk in chunks.values():
                row = _chunk_row(chunk)
                if row[-4:] == _UNFAILED:
                    unfailed.append(row[:-4])
                else:
                    failed.append(row)
            if failed:
                writes.append((_UPSERT_CHUNK, failed, False))
            if unfailed:
                writes.append((_UPSERT_UNFAILED_CHUNK, unfailed, False))
        if self._runs:
            leased: list[tuple[Any, ...]] = []
            others: list[tuple[Any, ...]] = []
            for run in self._runs:
                if _leased_run(run):
                    leased.append(_leased_run_row(run))
                else:
                    others.append(_run_row(run))
            if others:
                writes.append((_INSERT_RUN, others, True))
            if leased:
                writes.append((_INSERT_LEASED_RUN, leased, True))
        if self._starts:
            writes.append((_START_RUN, [_start_row(start) for start in self._starts], False))
            self._starts = []
        if self._cancels:
            writes.append((_CANCEL_QUEUED_RUN, self._cancels, False))
            self._cancels = []
        if self._ends:
            writes.append((_END_RUN, [_end_row(end) for end in self._ends.values()], False))
        if self._statuses:
            writes.append((_UPDATE_STATUS, [(*key, update) for key, update in self._statuses.items()], False))
            self._statuses = {}
        if self._schedules:
            writes.append((UPSERT_SCHEDULE, [schedule_row(r) for r in self._schedules.values()], False))
            self._schedules = {}
        self._statements, self._backfills, self._identities, self._chunks = [], {}, {}, {}
        self._runs, self._ends, self._transitions, self._rounds = [], {}, [], []
        return writes

    async def flush(self) -> None:
        """Writes everything buffered, in one hop to the writer thread.

        Raises:
            DuplicateRunKey: a new run's key names a run that exists.
            NeedsDatabase: the transaction is detached and holds writes.
        """
        writes = self.take_writes()
        if not writes:
            return
        if self._connection is None:
            raise NeedsDatabase("a detached transaction cannot write")
        await self._connection.run(lambda connection: execute_writes(connection, writes))
