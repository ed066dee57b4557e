"""Projection writes inside an append: the statements (one row each, ``?`` placeholders) and their buffer.

:class:`BufferedTransaction` keeps every write in memory until the
transaction flushes: the rows of each kind go out together, and a row written
twice in one transaction is written once, with its last value. Reads flush
first, so a projector always reads its own writes. A backend subclass says
how its statements look (:class:`WriteStatements`) and runs them (``flush``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

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
from arco_grpc.store.sql.reads import Queryable, fetch_backfill, fetch_chunk, fetch_schedule
from arco_grpc.store.sql.rows import (
    EVENT_COLUMNS,
    ROUND_COLUMNS,
    SCHEDULE_COLUMNS,
    TRANSITION_COLUMNS,
    UNFAILED,
    backfill_row,
    chunk_row,
    end_row,
    is_leased_run,
    leased_run_row,
    outcome,
    round_row,
    run_row,
    schedule_row,
    start_row,
    transition_row,
)

INSERT_EVENT = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_REQUEST = (
    "INSERT INTO requests (request_id, method, body_fingerprint, response, recorded_at_us) VALUES (?, ?, ?, ?, ?)"
)
UPSERT_BACKFILL = (
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
UPSERT_TARGET = (
    "INSERT INTO backfill_targets (backfill_id, position, asset_key, succeeded, failed, upstream_failed) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (backfill_id, position) DO UPDATE SET succeeded = excluded.succeeded, "
    "failed = excluded.failed, upstream_failed = excluded.upstream_failed"
)
UPSERT_CHUNK = (
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
UPSERT_UNFAILED_CHUNK = (
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
INSERT_RUN = (
    "INSERT INTO runs (run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, "
    "target_position, worker_id, state, lease_sequence, ended_at_us, partitions, partition_count, failed, "
    "failed_count, error, metadata, will_retry, lease_position, origin, origin_name, parent_run_id, root_run_id, "
    "waited_for, scope_key, origin_run_key, scheduled_at_us, submitted_at_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A run begun by a lease, whose other columns (how it ended, the submission's) hold their defaults: a third
# fewer values to bind and store for the hot path's most frequent row.
INSERT_LEASED_RUN = (
    "INSERT INTO runs (run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, "
    "target_position, worker_id, state, lease_sequence, partitions, partition_count, lease_position, origin, "
    "origin_name, parent_run_id, root_run_id, waited_for) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A submitted run cancelled before any lease: only a row still QUEUED changes.
CANCEL_QUEUED_RUN = "UPDATE runs SET state = 6, ended_at_us = ?, error = ? WHERE run_id = ? AND state = 7"
# Only a QUEUED row starts; a start that changes no row (the run started before) is refused.
START_RUN = (
    "UPDATE runs SET state = 1, worker_id = ?, created_at_us = ?, partitions = ?, partition_count = ?, "
    "waited_for = ? WHERE run_id = ? AND state = 7"
)
# One run's end, its values in end_row's order.
END_RUN = (
    "UPDATE runs SET state = ?, ended_at_us = ?, failed = ?, failed_count = ?, error = ?, metadata = ?, "
    "will_retry = ? WHERE run_id = ?"
)
UPSERT_ASSET = (
    "INSERT INTO assets (key, version, definition, updated_at_us) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
    "definition = excluded.definition, updated_at_us = excluded.updated_at_us"
)
UPSERT_ASSET_VERSION = (
    "INSERT INTO asset_versions (key, version, definition, applied_at_us) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key, version) DO UPDATE SET definition = excluded.definition, "
    "applied_at_us = excluded.applied_at_us"
)
ADD_DYNAMIC = (
    "INSERT INTO dynamic_partitions (name, partition_key, ordinal, position) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name, partition_key) DO NOTHING"
)
DELETE_DYNAMIC = "DELETE FROM dynamic_partitions WHERE name = ? AND partition_key = ?"
INSERT_TAGS = (
    "INSERT INTO backfill_tags (backfill_id, tag_key, tag_value) VALUES (?, ?, ?) "
    "ON CONFLICT (backfill_id, tag_key) DO NOTHING"
)
INSERT_TRANSITIONS = f"INSERT INTO backfill_transitions ({TRANSITION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_ROUNDS = f"INSERT INTO backfill_rounds ({ROUND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
UPSERT_SCHEDULE = (
    f"INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET state = excluded.state, stream_version = excluded.stream_version, "
    "updated_at_us = excluded.updated_at_us, snapshot = excluded.snapshot"
)
# One status row's stored bytes, as a scalar subquery (NULL: no row).
STATUS_VALUE = "(SELECT status FROM partition_status WHERE asset_key = ? AND space = ?)"
# Status rows as read before the writes ran, by (asset key, space): None for no row.
StoredStatuses = dict[tuple[str, str], bytes | None]


def new_statuses(updates: list[tuple[Any, ...]], stored: StoredStatuses) -> list[tuple[str, str, bytes]]:
    """The status rows ``updates`` (asset key, space, update) write over ``stored`` (which holds each row),
    each update applied to the row as the earlier ones of the batch left it."""
    current = dict(stored)
    changed: dict[tuple[str, str], bytes] = {}
    for asset_key, space, update in updates:
        key = (asset_key, space)
        changed[key] = current[key] = update(current.get(key))
    return [(*key, status) for key, status in changed.items()]
UPSERT_STATUS = (
    "INSERT INTO partition_status (asset_key, space, status) VALUES (?, ?, ?) "
    "ON CONFLICT (asset_key, space) DO UPDATE SET status = excluded.status"
)

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class WriteStatements(Generic[S]):
    """A backend's form of each projection write (what :meth:`BufferedTransaction.take_writes` names)."""

    upsert_asset: S
    upsert_asset_version: S
    add_dynamic: S
    delete_dynamic: S
    upsert_backfill: S
    upsert_target: S
    insert_tags: S
    insert_transitions: S
    insert_rounds: S
    upsert_chunk: S
    upsert_unfailed_chunk: S
    insert_run: S
    insert_leased_run: S
    start_run: S
    cancel_queued_run: S
    end_run: S
    # Read-modify-write of status rows: its "rows" are (asset key, space, update).
    update_status: S
    upsert_schedule: S


# (statement, rows, whether the rows are new runs): run in order.
Write = tuple[Any, list[tuple[Any, ...]], bool]


class NeedsDatabase(Exception):
    """A detached transaction (planning a fast batch) was asked to read or write: the batch takes the general path."""


def status_keys(writes: list[Write], update_status: object) -> list[tuple[str, str]]:
    """The (asset key, space) of every status row that ``writes`` update (``update_status``: the backend's statement)."""
    return [(row[0], row[1]) for statement, rows, _ in writes if statement is update_status for row in rows]


class BufferedTransaction:
    """The :class:`~arco_grpc.store.port.Transaction` of one write transaction, buffered until it flushes."""

    __slots__ = (
        "_connection", "_statements", "_backfills", "_identities", "_chunks", "_runs", "_starts", "_cancels", "_ends",
        "_transitions", "_rounds", "_statuses", "_schedules",
    )
    # The backend's statements, named in the writes this buffer produces.
    STATEMENTS: ClassVar[WriteStatements[Any]]

    def __init__(self, connection: Queryable | None) -> None:
        # None: detached (planning a fast batch), refusing reads and writes with NeedsDatabase.
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

    async def _connected(self) -> Queryable:
        """The transaction's connection, everything buffered written (reads see it).

        Raises:
            NeedsDatabase: the transaction is detached.
        """
        if self._connection is None:
            raise NeedsDatabase("a detached transaction cannot read")
        await self.flush()
        return self._connection

    async def flush(self) -> None:
        """Writes everything buffered, in order.

        Raises:
            DuplicateRunKey: a new run's key names a run that exists (or another new run's), or a run to
                start is not QUEUED.
            NeedsDatabase: the transaction is detached and holds writes.
        """
        pending = self.take_writes()
        if not pending:
            return
        if self._connection is None:
            raise NeedsDatabase("a detached transaction cannot write")
        await self._execute(self._connection, pending)

    async def _execute(self, connection: Any, pending: list[Write]) -> None:
        """Runs ``pending`` (from :meth:`take_writes`) on ``connection``, the transaction's."""
        raise NotImplementedError

    # -- catalog ------------------------------------------------------------------------

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``, and keeps the version in the history."""
        values = (record.key, record.version, record.definition, to_microseconds(record.updated_at))
        self._statements.append((self.STATEMENTS.upsert_asset, [values], False))
        self._statements.append((self.STATEMENTS.upsert_asset_version, [values], False))

    async def add_dynamic_partitions(self, name: str, keys: Sequence[str], ordinal: int) -> None:
        """Appends the absent ``keys`` after every existing key; present keys keep their place."""
        self._statements.append((
            self.STATEMENTS.add_dynamic, [(name, key, ordinal, position) for position, key in enumerate(keys)], False
        ))

    async def delete_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Removes ``keys`` from definition ``name``; absent keys are ignored."""
        self._statements.append((self.STATEMENTS.delete_dynamic, [(name, key) for key in keys], False))

    # -- reads ----------------------------------------------------------------------------

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill row, as written so far in this transaction."""
        if backfill_id in self._backfills:
            return self._backfills[backfill_id].record
        return await fetch_backfill(await self._connected(), backfill_id)

    async def get_chunk(self, backfill_id: str, target_position: int, round_number: int, index: int) -> ChunkRecord | None:
        """One chunk row, as written so far in this transaction."""
        buffered = self._chunks.get((backfill_id, target_position, round_number, index))
        if buffered is not None:
            return buffered
        return await fetch_chunk(await self._connected(), backfill_id, target_position, round_number, index)

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """The schedule row, as written so far in this transaction."""
        if name in self._schedules:
            return self._schedules[name]
        return await fetch_schedule(await self._connected(), name)

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
        sql = self.STATEMENTS
        writes = self._statements
        identities, chunks = self._identities, self._chunks
        if self._backfills:
            backfills = [source.record for source in self._backfills.values()]
            writes.append((sql.upsert_backfill, [backfill_row(r) for r in backfills], False))
            writes.append((
                sql.upsert_target,
                [
                    (record.backfill_id, position, key, *outcome(record, position))
                    for record in backfills
                    for position, key in enumerate(identities[record.backfill_id][0])
                ],
                False,
            ))
            writes.append((
                sql.insert_tags,
                [(backfill_id, key, value) for backfill_id, (_, tags) in identities.items() for key, value in tags],
                False,
            ))
        if self._transitions:
            writes.append((sql.insert_transitions, [transition_row(t) for t in self._transitions], False))
        if self._rounds:
            writes.append((sql.insert_rounds, [round_row(r) for r in self._rounds], False))
        if chunks:
            unfailed: list[tuple[Any, ...]] = []
            failed: list[tuple[Any, ...]] = []
            for chunk in chunks.values():
                row = chunk_row(chunk)
                if row[-4:] == UNFAILED:
                    unfailed.append(row[:-4])
                else:
                    failed.append(row)
            if failed:
                writes.append((sql.upsert_chunk, failed, False))
            if unfailed:
                writes.append((sql.upsert_unfailed_chunk, unfailed, False))
        if self._runs:
            leased: list[tuple[Any, ...]] = []
            others: list[tuple[Any, ...]] = []
            for run in self._runs:
                if is_leased_run(run):
                    leased.append(leased_run_row(run))
                else:
                    others.append(run_row(run))
            if others:
                writes.append((sql.insert_run, others, True))
            if leased:
                writes.append((sql.insert_leased_run, leased, True))
        if self._starts:
            writes.append((sql.start_run, [start_row(start) for start in self._starts], False))
            self._starts = []
        if self._cancels:
            writes.append((sql.cancel_queued_run, self._cancels, False))
            self._cancels = []
        if self._ends:
            writes.append((sql.end_run, [end_row(end) for end in self._ends.values()], False))
        if self._statuses:
            writes.append((sql.update_status, [(*key, update) for key, update in self._statuses.items()], False))
            self._statuses = {}
        if self._schedules:
            writes.append((sql.upsert_schedule, [schedule_row(r) for r in self._schedules.values()], False))
            self._schedules = {}
        self._statements, self._backfills, self._identities, self._chunks = [], {}, {}, {}
        self._runs, self._ends, self._transitions, self._rounds = [], {}, [], []
        return writes


def duplicate_in(keys: Sequence[str], existing: set[str]) -> str:
    """The first of ``keys`` (a refused piece of new run keys) that exists or repeats; the first key otherwise."""
    seen: set[str] = set()
    for key in keys:
        if key in existing or key in seen:
            return key
        seen.add(key)
    return keys[0]
