"""Reads of the projections, on any connection that answers :class:`Queryable` (a reader, or the writer in an append)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

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
    ScheduleRecord,
)
from arco_grpc.store.sql.rows import (
    BACKFILL_COLUMNS,
    CHUNK_COLUMNS,
    ROUND_COLUMNS,
    RUN_COLUMNS,
    SCHEDULE_COLUMNS,
    TRANSITION_COLUMNS,
    backfill_from_row,
    chunk_from_row,
    outcome_from_row,
    round_from_row,
    run_from_row,
    schedule_from_row,
    transition_from_row,
)

# Ids per IN (...) list: far below either database's limit on bound parameters.
IDS_PER_QUERY = 500


class Queryable(Protocol):
    """A connection that answers queries written with ``?`` placeholders."""

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The rows of one query."""


async def _rows(connection: Queryable, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    # One round trip to the driver (execute + fetch + close together).
    return list(await connection.execute_fetchall(sql, parameters))


def marks(count: int) -> str:
    """``count`` placeholders, comma-separated (an IN list)."""
    return ", ".join("?" for _ in range(count))


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
        f"WHERE backfill_id IN ({marks(len(ids))}) ORDER BY backfill_id, position",
        ids,
    ):
        assets[str(backfill_id)].append(str(asset_key))
        outcomes[str(backfill_id)].append(outcome_from_row(succeeded, failed, upstream_failed))
    tags: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for backfill_id, key, value in await _rows(
        connection,
        f"SELECT backfill_id, tag_key, tag_value FROM backfill_tags WHERE backfill_id IN ({marks(len(ids))}) "
        "ORDER BY backfill_id, tag_key",
        ids,
    ):
        tags[str(backfill_id)].append((str(key), str(value)))
    return [
        backfill_from_row(row, tuple(assets[str(row[0])]), tuple(tags[str(row[0])]), tuple(outcomes[str(row[0])]))
        for row in rows
    ]


async def fetch_backfill(connection: Queryable, backfill_id: str) -> BackfillRecord | None:
    """One backfill row with its targets and tags."""
    rows = await _rows(connection, f"SELECT {BACKFILL_COLUMNS} FROM backfills WHERE backfill_id = ?", (backfill_id,))
    records = await _records(connection, rows)
    return records[0] if records else None


async def fetch_backfill_specs(connection: Queryable, backfill_ids: Sequence[str]) -> dict[str, bytes]:
    """The spec column of the backfill rows of ``backfill_ids`` that exist, by id."""
    ids = sorted(set(backfill_ids))
    specs: dict[str, bytes] = {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        part = ids[start : start + IDS_PER_QUERY]
        rows = await _rows(
            connection, f"SELECT backfill_id, spec FROM backfills WHERE backfill_id IN ({marks(len(part))})", part
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
            f"WHERE backfill_id IN ({marks(len(ids))}) GROUP BY backfill_id, round, state "
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
        f"SELECT {TRANSITION_COLUMNS} FROM backfill_transitions WHERE backfill_id = ? "
        "ORDER BY state_version DESC LIMIT ?",
        (backfill_id, transition_limit),
    )
    transitions = tuple(transition_from_row(row) for row in reversed(rows))
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
        conditions.append(f"b.state IN ({marks(len(where.states))})")
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
    columns = ", ".join(f"b.{name.strip()}" for name in BACKFILL_COLUMNS.split(","))
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
        conditions.append(f"state IN ({marks(len(query.states))})")
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
        conditions.append(f"state IN ({marks(len(query.states))})")
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


async def fetch_schedule(connection: Queryable, name: str) -> ScheduleRecord | None:
    """One schedule row."""
    rows = await _rows(connection, f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE name = ?", (name,))
    return schedule_from_row(rows[0]) if rows else None


async def fetch_schedules(connection: Queryable, after_sequence: int, limit: int) -> list[ScheduleRecord]:
    """Up to ``limit`` schedules created after event ``after_sequence``, in creation order."""
    rows = await _rows(
        connection,
        f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE created_sequence > ? ORDER BY created_sequence LIMIT ?",
        (after_sequence, limit),
    )
    return [schedule_from_row(row) for row in rows]
