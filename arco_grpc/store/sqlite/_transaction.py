"""Projection writes inside a SQLite append transaction."""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from arco_grpc.store.model import AssetRecord, to_microseconds

# SQLite's default limit on bound variables is 32766 (3.32+); stay far below it.
_MAX_VARIABLES = 500


class SqliteTransaction:
    """The :class:`~arco_grpc.store.port.Transaction` of one SQLite append."""

    __slots__ = ("_connection",)

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``."""
        await self._connection.execute(
            "INSERT INTO assets (key, version, definition, updated_at_us) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
            "definition = excluded.definition, updated_at_us = excluded.updated_at_us",
            (record.key, record.version, record.definition, to_microseconds(record.updated_at)),
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
