"""The schedules projection of the SQLite store: one row per schedule, its state as the projector's bytes."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from arco_grpc.store.model import ScheduleRecord, from_microseconds, to_microseconds
from arco_grpc.store.sqlite._backfill_reads import Queryable
from arco_grpc.store.sqlite._statements import Statement

_COLUMNS = "name, state, asset_key, stream_version, created_sequence, created_at_us, updated_at_us, snapshot"
UPSERT_SCHEDULE = Statement.values(
    f"INSERT INTO schedules ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET state = excluded.state, stream_version = excluded.stream_version, "
    "updated_at_us = excluded.updated_at_us, snapshot = excluded.snapshot"
)


def schedule_row(record: ScheduleRecord) -> tuple[Any, ...]:
    """The values of :data:`UPSERT_SCHEDULE` for ``record``."""
    return (
        record.name, record.state, record.asset_key, record.stream_version, record.created_sequence,
        to_microseconds(record.created_at), to_microseconds(record.updated_at), record.snapshot,
    )


def _record(row: Sequence[Any]) -> ScheduleRecord:
    return ScheduleRecord(
        name=str(row[0]), state=int(row[1]), asset_key=str(row[2]), stream_version=int(row[3]),
        created_sequence=int(row[4]), created_at=from_microseconds(int(row[5])),
        updated_at=from_microseconds(int(row[6])), snapshot=bytes(row[7]),
    )


async def fetch_schedule(connection: Queryable, name: str) -> ScheduleRecord | None:
    """One schedule row, on any connection."""
    rows = list(await connection.execute_fetchall(f"SELECT {_COLUMNS} FROM schedules WHERE name = ?", (name,)))
    return _record(rows[0]) if rows else None


class ScheduleQueries:
    """Schedule reads (mixed into the store, which provides ``_snapshot``)."""

    def _snapshot(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_schedule`."""
        async with self._snapshot() as connection:
            return await fetch_schedule(connection, name)

    async def list_schedules(self, after_sequence: int, limit: int) -> list[ScheduleRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_schedules`."""
        async with self._snapshot() as connection:
            rows = await connection.execute_fetchall(
                f"SELECT {_COLUMNS} FROM schedules WHERE created_sequence > ? ORDER BY created_sequence LIMIT ?",
                (after_sequence, limit),
            )
        return [_record(row) for row in rows]
