"""Reads of the backfill projections, on any connection (a reader, or the writer inside an append)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from typing import Protocol

from arco_grpc.store.model import (
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    RoundRecord,
    RunQuery,
    RunRecord,
    TransitionRecord,
    from_microseconds,
)

_BACKFILL_COLUMNS = (
    "backfill_id, state, state_version, max_concurrency, dispatch_order, title, creator, fingerprint, as_of_us, "
    "created_at_us, updated_at_us, ended_at_us, created_sequence, partitions_total, chunks_total, "
    "partitions_succeeded, partitions_failed, partitions_cancelled, leased_chunks, spec, round, round_chunks, "
    "round_finished, partitions_running, round_partitions"
)
CHUNK_COLUMNS = (
    "backfill_id, target_position, asset_key, round, chunk_index, state, attempt, run_key, partition_count, "
    "subset, updated_at_us, remaining, remaining_count, run_id, worker_id, leased_at_us, lease_expires_at_us, lease_ttl_ms, "
    "next_attempt_at_us, failed_attempts, failed_count, error"
)
RUN_COLUMNS = (
    "run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, target_position, "
    "worker_id, state, lease_sequence, ended_at_us, partitions, partition_count, failed, failed_count, error, "
    "metadata, will_retry, lease_position, origin, origin_name, parent_run_id, root_run_id, waited_for, scope_key, "
    "origin_run_key, scheduled_at_us, submitted_at_us"
)
ROUND_COLUMNS = "backfill_id, round, target_position, asset_key, partitions, partition_count, chunk_count"


class Queryable(Protocol):
    """A connection that answers queries: an aiosqlite reader or the writer."""

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The rows of one query."""


def _time_or_none(value: Any) -> Any:
    return None if value is None else from_microseconds(int(value))


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def metadata_to_text(metadata: Sequence[tuple[str, str]]) -> str:
    """The stored form of run metadata: a JSON object with sorted keys."""
    if not metadata:
        return "{}"
    return json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)


async def _rows(connection: Queryable, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    # One round trip to the driver's thread (execute + fetch + close together).
    return list(await connection.execute_fetchall(sql, parameters))


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def _record(
    row: Sequence[Any],
    asset_keys: tuple[str, ...],
    tags: tuple[tuple[str, str], ...],
    outcomes: tuple[tuple[bytes | None, bytes | None], ...],
) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=str(row[0]),
        state=int(row[1]),
        state_version=int(row[2]),
        max_concurrency=int(row[3]),
        dispatch_order=int(row[4]),
        title=str(row[5]),
        creator=str(row[6]),
        fingerprint=str(row[7]),
        as_of=from_microseconds(int(row[8])),
        created_at=from_microseconds(int(row[9])),
        updated_at=from_microseconds(int(row[10])),
        ended_at=None if row[11] is None else from_microseconds(int(row[11])),
        created_sequence=int(row[12]),
        partitions_total=int(row[13]),
        chunks_total=int(row[14]),
        partitions_succeeded=int(row[15]),
        partitions_failed=int(row[16]),
        partitions_cancelled=int(row[17]),
        leased_chunks=int(row[18]),
        asset_keys=asset_keys,
        tags=tags,
        spec=bytes(row[19]),
        round=int(row[20]),
        round_chunks=int(row[21]),
        round_finished=int(row[22]),
        partitions_running=int(row[23]),
        outcomes=outcomes,
        round_partitions=int(row[24]),
    )


def chunk_from_row(row: Sequence[Any]) -> ChunkRecord:
    """A ChunkRecord from a row selected with :data:`CHUNK_COLUMNS`."""
    return ChunkRecord(
        backfill_id=str(row[0]),
        target_position=int(row[1]),
        asset_key=str(row[2]),
        round=int(row[3]),
        chunk_index=int(row[4]),
        state=int(row[5]),
        attempt=int(row[6]),
        run_key=str(row[7]),
        partition_count=int(row[8]),
        subset=None if row[9] is None else bytes(row[9]),
        updated_at=from_microseconds(int(row[10])),
        remaining=_bytes_or_none(row[11]),
        remaining_count=None if row[12] is None else int(row[12]),
        run_id=str(row[13]),
        worker_id=str(row[14]),
        leased_at=_time_or_none(row[15]),
        lease_expires_at=_time_or_none(row[16]),
        lease_ttl_ms=int(row[17]),
        next_attempt_at=_time_or_none(row[18]),
        failed_attempts=int(row[19]),
        failed_count=int(row[20]),
        error=str(row[21]),
    )


def run_from_row(row: Sequence[Any]) -> RunRecord:
    """A RunRecord from a row selected with :data:`RUN_COLUMNS`."""
    # Positional, in RunRecord's field order (the columns' order): a ledger scan builds one per row,
    # and keywords cost about twice as much.
    metadata = row[18]
    return RunRecord(
        str(row[0]),  # run_key
        str(row[1]),  # backfill_id
        str(row[2]),  # asset_key
        int(row[3]),  # round
        int(row[4]),  # chunk_index
        int(row[5]),  # attempt
        from_microseconds(int(row[6])),  # created_at
        "" if row[7] is None else str(row[7]),  # run_id
        int(row[8]),  # target_position
        str(row[9]),  # worker_id
        int(row[10]),  # state
        int(row[11]),  # lease_sequence
        _time_or_none(row[12]),  # ended_at
        _bytes_or_none(row[13]),  # partitions
        int(row[14]),  # partition_count
        _bytes_or_none(row[15]),  # failed
        int(row[16]),  # failed_count
        str(row[17]),  # error
        () if metadata == "{}" else tuple(sorted(json.loads(metadata).items())),  # metadata; most rows have none
        bool(row[19]),  # will_retry
        int(row[20]),  # lease_position
        int(row[21]),  # origin
        str(row[22]),  # origin_name
        str(row[23]),  # parent_run_id
        str(row[24]),  # root_run_id
        tuple(str(row[25]).split(",")) if row[25] else (),  # waited_for
        None if row[26] is None else str(row[26]),  # scope_key
        None if row[27] is None else str(row[27]),  # origin_run_key
        _time_or_none(row[28]),  # scheduled_at
        _time_or_none(row[29]),  # submitted_at
    )


def round_from_row(row: Sequence[Any]) -> RoundRecord:
    """A RoundRecord from a row selected with :data:`ROUND_COLUMNS`."""
    return RoundRecord(
        backfill_id=str(row[0]),
        round=int(row[1]),
        target_position=int(row[2]),
        asset_key=str(row[3]),
        partitions=bytes(row[4]),
        partition_count=int(row[5]),
        chunk_count=int(row[6]),
    )


async def _records(connection: Queryable, rows: list[Any]) -> list[BackfillRecord]:
    """Backfill records for ``rows``, with their targets and tags (two queries for the lot)."""
    if not rows:
        return []
    ids = [str(row[0]) for row in rows]
    assets: defaultdict[str, list[str]] = defaultdict(list)
    outcomes: defaultdict[str, list[tuple[bytes | None, bytes | None, bytes | None]]] = defaultdict(list)
    for backfill_id, asset_key, succeeded, failed, upstream_failed in await _rows(
        connection,
        "SELECT backfill_id, asset_key, succeeded, failed, upstream_failed FROM backfill_targets "
        f"WHERE backfill_id IN ({_marks(len(ids))}) ORDER BY backfill_id, position",
        ids,
    ):
        assets[str(backfill_id)].append(str(asset_key))
        outcomes[str(backfill_id)].append(
            (_bytes_or_none(succeeded), _bytes_or_none(failed), _bytes_or_none(upstream_failed))
        )
    tags: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for backfill_id, key, value in await _rows(
        connection,
        f"SELECT backfill_id, tag_key, tag_value FROM backfill_tags WHERE backfill_id IN ({_marks(len(ids))}) "
        "ORDER BY backfill_id, tag_key",
        ids,
    ):
        tags[str(backfill_id)].append((str(key), str(value)))
    return [
        _record(row, tuple(assets[str(row[0])]), tuple(tags[str(row[0])]), tuple(outcomes[str(row[0])]))
        for row in rows
    ]


async def fetch_backfill(connection: Queryable, backfill_id: str) -> BackfillRecord | None:
    """One backfill row with its targets and tags."""
    rows = await _rows(connection, f"SELECT {_BACKFILL_COLUMNS} FROM backfills WHERE backfill_id = ?", (backfill_id,))
    records = await _records(connection, rows)
    return records[0] if records else None


# Ids per query of :func:`fetch_backfill_specs`, well under SQLite's limit on bound parameters.
_IDS_PER_QUERY = 500


async def fetch_backfill_specs(connection: Queryable, backfill_ids: Sequence[str]) -> dict[str, bytes]:
    """The spec column of the backfill rows of ``backfill_ids`` that exist, by id."""
    ids = sorted(set(backfill_ids))
    specs: dict[str, bytes] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        part = ids[start : start + _IDS_PER_QUERY]
        rows = await _rows(
            connection, f"SELECT backfill_id, spec FROM backfills WHERE backfill_id IN ({_marks(len(part))})", part
        )
        specs.update((str(backfill_id), bytes(spec)) for backfill_id, spec in rows)
    return specs


async def _chunk_counts(
    connection: Queryable, ids: Sequence[str]
) -> dict[str, tuple[ChunkStateCount, ...]]:
    counts: defaultdict[str, list[ChunkStateCount]] = defaultdict(list)
    if ids:
        for backfill_id, round_number, state, chunks, partitions, remaining in await _rows(
            connection,
            "SELECT backfill_id, round, state, COUNT(*), COALESCE(SUM(partition_count), 0), "
            "COALESCE(SUM(COALESCE(remaining_count, partition_count)), 0) FROM chunks "
            f"WHERE backfill_id IN ({_marks(len(ids))}) GROUP BY backfill_id, round, state "
            "ORDER BY backfill_id, round, state",
            list(ids),
        ):
            counts[str(backfill_id)].append(
                ChunkStateCount(int(round_number), int(state), int(chunks), int(partitions), int(remaining))
            )
    return {backfill_id: tuple(counts[backfill_id]) for backfill_id in ids}


async def fetch_backfill_details(
    connection: Queryable, backfill_id: str, transition_limit: int
) -> BackfillDetails | None:
    """A backfill with its last ``transition_limit`` transitions (oldest first) and stored-chunk counts."""
    record = await fetch_backfill(connection, backfill_id)
    if record is None:
        return None
    rows = await _rows(
        connection,
        "SELECT backfill_id, state_version, from_state, to_state, reason, recorded_at_us, request_id "
        "FROM backfill_transitions WHERE backfill_id = ? ORDER BY state_version DESC LIMIT ?",
        (backfill_id, transition_limit),
    )
    transitions = tuple(
        TransitionRecord(
            backfill_id=str(row[0]),
            state_version=int(row[1]),
            from_state=int(row[2]),
            to_state=int(row[3]),
            reason=str(row[4]),
            recorded_at=from_microseconds(int(row[5])),
            request_id=None if row[6] is None else str(row[6]),
        )
        for row in reversed(rows)
    )
    counts = await _chunk_counts(connection, [backfill_id])
    return BackfillDetails(record=record, transitions=transitions, chunk_counts=counts[backfill_id])


async def fetch_backfills(
    connection: Queryable, where: BackfillFilter, before_sequence: int | None, limit: int
) -> list[tuple[BackfillRecord, tuple[ChunkStateCount, ...]]]:
    """Backfills matching ``where``, newest first, with their stored-chunk counts."""
    conditions: list[str] = []
    parameters: list[Any] = []
    if before_sequence is not None:
        conditions.append("b.created_sequence < ?")
        parameters.append(before_sequence)
    if not where.include_submitted_runs:
        conditions.append("b.backfill_id NOT LIKE 'run-%'")
    if where.states:
        conditions.append(f"b.state IN ({_marks(len(where.states))})")
        parameters.extend(where.states)
    if where.asset_key is not None:
        conditions.append("EXISTS (SELECT 1 FROM backfill_targets t WHERE t.backfill_id = b.backfill_id AND t.asset_key = ?)")
        parameters.append(where.asset_key)
    for key, value in where.tags:
        conditions.append(
            "EXISTS (SELECT 1 FROM backfill_tags g WHERE g.backfill_id = b.backfill_id "
            "AND g.tag_key = ? AND g.tag_value = ?)"
        )
        parameters.extend((key, value))
    clause = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = ", ".join(f"b.{name.strip()}" for name in _BACKFILL_COLUMNS.split(","))
    rows = await _rows(
        connection,
        f"SELECT {columns} FROM backfills b {clause} ORDER BY b.created_sequence DESC LIMIT ?",
        (*parameters, limit),
    )
    records = await _records(connection, rows)
    counts = await _chunk_counts(connection, [record.backfill_id for record in records])
    return [(record, counts[record.backfill_id]) for record in records]


async def fetch_chunks(connection: Queryable, query: ChunkQuery) -> list[ChunkRecord]:
    """Stored chunks at or after ``query.start`` in plan order, filtered as the query says."""
    conditions = ["backfill_id = ?", "(target_position, round, chunk_index) >= (?, ?, ?)"]
    parameters: list[Any] = [query.backfill_id, *query.start]
    if query.target_position is not None:
        conditions.append("target_position = ?")
        parameters.append(query.target_position)
    if query.round is not None:
        conditions.append("round = ?")
        parameters.append(query.round)
    if query.min_index > 0:
        conditions.append("chunk_index >= ?")
        parameters.append(query.min_index)
    if query.states is not None:
        conditions.append(f"state IN ({_marks(len(query.states))})")
        parameters.extend(query.states)
    rows = await _rows(
        connection,
        f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE {' AND '.join(conditions)} "
        "ORDER BY target_position, round, chunk_index LIMIT ?",
        (*parameters, query.limit),
    )
    return [chunk_from_row(row) for row in rows]


async def fetch_run(connection: Queryable, run_key: str) -> RunRecord | None:
    """The run with ``run_key``."""
    rows = await _rows(connection, f"SELECT {RUN_COLUMNS} FROM runs WHERE run_key = ?", (run_key,))
    return run_from_row(rows[0]) if rows else None


async def fetch_run_by_id(connection: Queryable, run_id: str) -> RunRecord | None:
    """The run with ``run_id``."""
    rows = await _rows(connection, f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
    return run_from_row(rows[0]) if rows else None


async def fetch_runs_in_scope(connection: Queryable, scope_key: str) -> list[RunRecord]:
    """The submitted runs whose dedupe scope key is ``scope_key``, in ledger order."""
    rows = await _rows(
        connection,
        f"SELECT {RUN_COLUMNS} FROM runs WHERE scope_key = ? ORDER BY lease_sequence, lease_position",
        (scope_key,),
    )
    return [run_from_row(row) for row in rows]


async def fetch_runs(connection: Queryable, query: RunQuery) -> list[RunRecord]:
    """Runs after the query's lease position, in lease order, filtered as the query says."""
    if query.after_position is None:
        conditions = ["lease_sequence > ?"]
        parameters: list[Any] = [query.after_sequence]
    else:
        conditions = ["(lease_sequence, lease_position) > (?, ?)"]
        parameters = [query.after_sequence, query.after_position]
    if query.states:
        conditions.append(f"state IN ({', '.join('?' for _ in query.states)})")
        parameters.extend(query.states)
    for column, value in (
        ("backfill_id", query.backfill_id or None),
        ("asset_key", query.asset_key or None),
        ("origin", query.origin),
        ("origin_name", query.origin_name or None),
        ("target_position", query.target_position),
        ("round", query.round),
        ("chunk_index", query.chunk_index),
    ):
        if value is not None:
            conditions.append(f"{column} = ?")
            parameters.append(value)
    rows = await _rows(
        connection,
        f"SELECT {RUN_COLUMNS} FROM runs WHERE {' AND '.join(conditions)} ORDER BY lease_sequence, lease_position LIMIT ?",
        (*parameters, query.limit),
    )
    return [run_from_row(row) for row in rows]


async def fetch_rounds(connection: Queryable, backfill_id: str) -> list[RoundRecord]:
    """The retry rounds of a backfill, by round then target position."""
    rows = await _rows(
        connection,
        f"SELECT {ROUND_COLUMNS} FROM backfill_rounds WHERE backfill_id = ? ORDER BY round, target_position",
        (backfill_id,),
    )
    return [round_from_row(row) for row in rows]


async def fetch_chunk(
    connection: Queryable, backfill_id: str, target_position: int, round_number: int, index: int
) -> ChunkRecord | None:
    """One chunk row."""
    rows = await _rows(
        connection,
        f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE backfill_id = ? AND target_position = ? AND round = ? "
        "AND chunk_index = ?",
        (backfill_id, target_position, round_number, index),
    )
    return chunk_from_row(rows[0]) if rows else None


async def fetch_dispatch_cursors(connection: Queryable, backfill_id: str, round_number: int) -> dict[int, int]:
    """Per target position: one past the largest chunk index with a row in ``round_number``."""
    rows = await _rows(
        connection,
        "SELECT target_position, MAX(chunk_index) FROM chunks WHERE backfill_id = ? AND round = ? "
        "GROUP BY target_position",
        (backfill_id, round_number),
    )
    return {int(target): int(index) + 1 for target, index in rows}
