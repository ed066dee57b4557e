"""The read methods of an SQL event store, mixed into each backend's store class.

A backend provides ``_fetchall`` (one query on a pooled connection) and
``_snapshot`` (a read transaction: every query inside sees one committed
state); both answer queries written with ``?`` placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from arco_grpc.store.model import (
    AssetRecord,
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    CatalogSnapshot,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    DynamicPartitionsSnapshot,
    RequestRecord,
    RoundRecord,
    RunQuery,
    RunRecord,
    ScheduleRecord,
    StoredEvent,
)
from arco_grpc.store.sql.reads import (
    Queryable,
    fetch_backfill,
    fetch_backfill_details,
    fetch_backfill_specs,
    fetch_backfills,
    fetch_chunks,
    fetch_dispatch_cursors,
    fetch_rounds,
    fetch_run,
    fetch_run_by_id,
    fetch_runs,
    fetch_runs_in_scope,
    fetch_schedule,
    fetch_schedules,
)
from arco_grpc.store.sql.rows import ASSET_COLUMNS, EVENT_COLUMNS, asset_from_row, event_from_row

# One stream's version: MAX over the (stream_id, stream_version) index is one index lookup.
STREAM_VERSION = "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?"


def _limited(sql: str, parameters: tuple[Any, ...], limit: int | None) -> tuple[str, tuple[Any, ...]]:
    return (sql, parameters) if limit is None else (f"{sql} LIMIT ?", (*parameters, limit))


async def _stream_version(connection: Queryable, stream_id: str) -> int:
    rows = list(await connection.execute_fetchall(STREAM_VERSION, (stream_id,)))
    return int(rows[0][0]) if rows else 0


class StoreReads:
    """Every read of :class:`~arco_grpc.store.port.EventStore`, over the backend's connections."""

    def _snapshot(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def _fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    # -- events -------------------------------------------------------------------------

    async def read_stream(self, stream_id: str, after_version: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_stream`."""
        sql, parameters = _limited(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version > ? ORDER BY stream_version",
            (stream_id, after_version),
            limit,
        )
        return [event_from_row(row) for row in await self._fetchall(sql, parameters)]

    async def read_all(self, after_sequence: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """See :meth:`arco_grpc.store.port.EventStore.read_all`."""
        sql, parameters = _limited(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence", (after_sequence,), limit
        )
        return [event_from_row(row) for row in await self._fetchall(sql, parameters)]

    async def max_sequence(self) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.max_sequence`."""
        rows = await self._fetchall("SELECT COALESCE(MAX(sequence), 0) FROM events")
        return int(rows[0][0])

    async def stream_version(self, stream_id: str) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.stream_version`."""
        rows = await self._fetchall(STREAM_VERSION, (stream_id,))
        return int(rows[0][0])

    async def find_request(self, request_id: str) -> RequestRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.find_request`."""
        rows = await self._fetchall(
            "SELECT request_id, method, body_fingerprint, response FROM requests WHERE request_id = ?", (request_id,)
        )
        if not rows:
            return None
        row = rows[0]
        return RequestRecord(str(row[0]), str(row[1]), str(row[2]), bytes(row[3]))

    # -- catalog ------------------------------------------------------------------------

    async def catalog_snapshot(self, stream_id: str) -> CatalogSnapshot:
        """See :meth:`arco_grpc.store.port.EventStore.catalog_snapshot`."""
        async with self._snapshot() as connection:
            version = await _stream_version(connection, stream_id)
            rows = await connection.execute_fetchall(f"SELECT {ASSET_COLUMNS} FROM assets ORDER BY key")
        return CatalogSnapshot(stream_version=version, assets=tuple(asset_from_row(row) for row in rows))

    async def get_asset(self, key: str) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_asset`."""
        rows = await self._fetchall(f"SELECT {ASSET_COLUMNS} FROM assets WHERE key = ?", (key,))
        return asset_from_row(rows[0]) if rows else None

    async def list_assets(self, after_key: str | None, limit: int) -> list[AssetRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_assets`."""
        rows = await self._fetchall(
            f"SELECT {ASSET_COLUMNS} FROM assets WHERE key > ? ORDER BY key LIMIT ?",
            ("" if after_key is None else after_key, limit),
        )
        return [asset_from_row(row) for row in rows]

    async def asset_version(self, key: str, version: int) -> AssetRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.asset_version`."""
        rows = await self._fetchall(
            "SELECT key, version, definition, applied_at_us FROM asset_versions WHERE key = ? AND version = ?",
            (key, version),
        )
        return asset_from_row(rows[0]) if rows else None

    async def dynamic_partitions(self, name: str, stream_id: str) -> DynamicPartitionsSnapshot:
        """See :meth:`arco_grpc.store.port.EventStore.dynamic_partitions`."""
        async with self._snapshot() as connection:
            version = await _stream_version(connection, stream_id)
            rows = await connection.execute_fetchall(
                "SELECT partition_key FROM dynamic_partitions WHERE name = ? ORDER BY ordinal, position", (name,)
            )
        return DynamicPartitionsSnapshot(name=name, stream_version=version, keys=tuple(str(row[0]) for row in rows))

    async def partition_status(self, asset_key: str, space: str) -> bytes | None:
        """See :meth:`arco_grpc.store.port.EventStore.partition_status`."""
        rows = await self._fetchall(
            "SELECT status FROM partition_status WHERE asset_key = ? AND space = ?", (asset_key, space)
        )
        return bytes(rows[0][0]) if rows else None

    # -- backfills, chunks, runs ----------------------------------------------------------

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_backfill`."""
        async with self._snapshot() as connection:
            return await fetch_backfill(connection, backfill_id)

    async def backfill_specs(self, backfill_ids: Sequence[str]) -> dict[str, bytes]:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_specs`."""
        async with self._snapshot() as connection:
            return await fetch_backfill_specs(connection, backfill_ids)

    async def backfill_details(self, backfill_id: str, transition_limit: int) -> BackfillDetails | None:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_details`."""
        async with self._snapshot() as connection:
            return await fetch_backfill_details(connection, backfill_id, transition_limit)

    async def list_backfills(
        self, where: BackfillFilter, before_sequence: int | None, limit: int
    ) -> list[tuple[BackfillRecord, tuple[ChunkStateCount, ...]]]:
        """See :meth:`arco_grpc.store.port.EventStore.list_backfills`."""
        async with self._snapshot() as connection:
            return await fetch_backfills(connection, where, before_sequence, limit)

    async def list_chunks(self, query: ChunkQuery) -> list[ChunkRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_chunks`."""
        async with self._snapshot() as connection:
            return await fetch_chunks(connection, query)

    async def get_run(self, run_key: str) -> RunRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_run`."""
        async with self._snapshot() as connection:
            return await fetch_run(connection, run_key)

    async def get_run_by_id(self, run_id: str) -> RunRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_run_by_id`."""
        async with self._snapshot() as connection:
            return await fetch_run_by_id(connection, run_id)

    async def runs_in_scope(self, scope_key: str) -> list[RunRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.runs_in_scope`."""
        async with self._snapshot() as connection:
            return await fetch_runs_in_scope(connection, scope_key)

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_runs`."""
        async with self._snapshot() as connection:
            return await fetch_runs(connection, query)

    async def backfill_rounds(self, backfill_id: str) -> list[RoundRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_rounds`."""
        async with self._snapshot() as connection:
            return await fetch_rounds(connection, backfill_id)

    async def dispatch_cursors(self, backfill_id: str, round_number: int) -> dict[int, int]:
        """See :meth:`arco_grpc.store.port.EventStore.dispatch_cursors`."""
        async with self._snapshot() as connection:
            return await fetch_dispatch_cursors(connection, backfill_id, round_number)

    # -- schedules ------------------------------------------------------------------------

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_schedule`."""
        async with self._snapshot() as connection:
            return await fetch_schedule(connection, name)

    async def list_schedules(self, after_sequence: int, limit: int) -> list[ScheduleRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_schedules`."""
        async with self._snapshot() as connection:
            return await fetch_schedules(connection, after_sequence, limit)
