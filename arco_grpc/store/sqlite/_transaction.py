"""Projection writes inside a SQLite append transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from arco_grpc.store.errors import DuplicateRunKey
from arco_grpc.store.model import (
    AssetRecord,
    BackfillRecord,
    ChunkRecord,
    RunRecord,
    TransitionRecord,
    to_microseconds,
)
from arco_grpc.store.sqlite._backfill_reads import fetch_backfill

# SQLite's default limit on bound variables is 32766 (3.32+); stay far below it.
_MAX_VARIABLES = 500


def _micros_or_none(record: BackfillRecord) -> int | None:
    return None if record.ended_at is None else to_microseconds(record.ended_at)


class SqliteTransaction:
    """The :class:`~arco_grpc.store.port.Transaction` of one SQLite append."""

    __slots__ = ("_connection",)

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``, and keeps the version in the history."""
        values = (record.key, record.version, record.definition, to_microseconds(record.updated_at))
        await self._connection.execute(
            "INSERT INTO assets (key, version, definition, updated_at_us) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
            "definition = excluded.definition, updated_at_us = excluded.updated_at_us",
            values,
        )
        await self._connection.execute(
            "INSERT INTO asset_versions (key, version, definition, applied_at_us) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key, version) DO UPDATE SET definition = excluded.definition, "
            "applied_at_us = excluded.applied_at_us",
            values,
        )

    async def add_dynamic_partitions(self, name: str, keys: Sequence[str], ordinal: int) -> None:
        """Appends the absent ``keys`` after every existing key; present keys keep their place."""
        await self._connection.executemany(
            "INSERT INTO dynamic_partitions (name, partition_key, ordinal, position) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, partition_key) DO NOTHING",
            [(name, key, ordinal, position) for position, key in enumerate(keys)],
        )

    async def delete_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Removes ``keys`` from definition ``name``; absent keys are ignored."""
        for start in range(0, len(keys), _MAX_VARIABLES):
            batch = list(keys[start : start + _MAX_VARIABLES])
            marks = ", ".join("?" for _ in batch)
            await self._connection.execute(
                f"DELETE FROM dynamic_partitions WHERE name = ? AND partition_key IN ({marks})", (name, *batch)
            )

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill row, as written so far in this transaction."""
        return await fetch_backfill(self._connection, backfill_id)

    async def put_backfill(self, record: BackfillRecord) -> None:
        """Inserts or replaces the backfill row; targets and tags are written on insert only."""
        cursor = await self._connection.execute(
            "INSERT INTO backfills (backfill_id, state, state_version, max_concurrency, dispatch_order, title, "
            "creator, fingerprint, as_of_us, created_at_us, updated_at_us, ended_at_us, created_sequence, "
            "partitions_total, chunks_total, partitions_succeeded, partitions_failed, partitions_cancelled, "
            "leased_chunks, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (backfill_id) DO NOTHING",
            (
                record.backfill_id, record.state, record.state_version, record.max_concurrency,
                record.dispatch_order, record.title, record.creator, record.fingerprint,
                to_microseconds(record.as_of), to_microseconds(record.created_at),
                to_microseconds(record.updated_at), _micros_or_none(record), record.created_sequence,
                record.partitions_total, record.chunks_total, record.partitions_succeeded,
                record.partitions_failed, record.partitions_cancelled, record.leased_chunks, record.spec,
            ),
        )
        inserted = cursor.rowcount == 1
        await cursor.close()
        if not inserted:
            # What a backfill's later events can change; the rest is fixed at creation.
            await self._connection.execute(
                "UPDATE backfills SET state = ?, state_version = ?, max_concurrency = ?, updated_at_us = ?, "
                "ended_at_us = ?, partitions_succeeded = ?, partitions_failed = ?, partitions_cancelled = ?, "
                "leased_chunks = ? WHERE backfill_id = ?",
                (
                    record.state, record.state_version, record.max_concurrency, to_microseconds(record.updated_at),
                    _micros_or_none(record), record.partitions_succeeded, record.partitions_failed,
                    record.partitions_cancelled, record.leased_chunks, record.backfill_id,
                ),
            )
            return
        await self._connection.executemany(
            "INSERT INTO backfill_targets (backfill_id, position, asset_key) VALUES (?, ?, ?)",
            [(record.backfill_id, position, key) for position, key in enumerate(record.asset_keys)],
        )
        await self._connection.executemany(
            "INSERT INTO backfill_tags (backfill_id, tag_key, tag_value) VALUES (?, ?, ?)",
            [(record.backfill_id, key, value) for key, value in record.tags],
        )

    async def add_backfill_transition(self, record: TransitionRecord) -> None:
        """Records one state change of a backfill."""
        await self._connection.execute(
            "INSERT INTO backfill_transitions (backfill_id, state_version, from_state, to_state, reason, "
            "recorded_at_us, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.backfill_id, record.state_version, record.from_state, record.to_state, record.reason,
                to_microseconds(record.recorded_at), record.request_id,
            ),
        )

    async def put_chunk(self, record: ChunkRecord) -> None:
        """Inserts or replaces the row of one chunk."""
        await self._connection.execute(
            "INSERT INTO chunks (backfill_id, target_position, round, chunk_index, asset_key, state, attempt, "
            "run_key, partition_count, subset, updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (backfill_id, target_position, round, chunk_index) DO UPDATE SET "
            "state = excluded.state, attempt = excluded.attempt, run_key = excluded.run_key, "
            "partition_count = excluded.partition_count, subset = excluded.subset, "
            "updated_at_us = excluded.updated_at_us",
            (
                record.backfill_id, record.target_position, record.round, record.chunk_index, record.asset_key,
                record.state, record.attempt, record.run_key, record.partition_count, record.subset,
                to_microseconds(record.updated_at),
            ),
        )

    async def record_run(self, record: RunRecord) -> None:
        """Records a run; a run key seen before raises DuplicateRunKey (the append then writes nothing)."""
        try:
            await self._connection.execute(
                "INSERT INTO runs (run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.run_key, record.backfill_id, record.asset_key, record.round, record.chunk_index,
                    record.attempt, to_microseconds(record.created_at),
                ),
            )
        except sqlite3.IntegrityError as error:
            raise DuplicateRunKey(record.run_key) from error
