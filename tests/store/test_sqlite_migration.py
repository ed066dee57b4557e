"""An issue-2 database (schema version 1) opens, upgrades to the backfill schema and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2
from arco_grpc.store import ChunkQuery, open_store
from arco_grpc.store.sqlite._schema import MIGRATIONS, PROJECTION_TABLES, SCHEMA_VERSION


def version_one_database(path: Path) -> bytes:
    """A database as issue 2 left it: schema 1, one event and its asset row. Returns the asset's bytes."""
    definition = assets_pb2.Asset(key="orders", version=3, description="v3").SerializeToString()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)")
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        connection.execute("INSERT INTO schema_version VALUES (1, 0)")
        connection.execute(
            "INSERT INTO events (stream_id, stream_version, event_type, payload, request_id, recorded_at_us) "
            "VALUES ('catalog', 1, 'AssetsApplied', x'', 'r-1', 5)"
        )
        connection.execute("INSERT INTO assets VALUES ('orders', 3, ?, 5)", (definition,))
    return definition


async def test_a_version_one_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    definition = version_one_database(path)
    assert SCHEMA_VERSION == 9

    store = await open_store(str(path))
    try:
        assert len(await store.read_all()) == 1
        history = await store.asset_version("orders", 3)
        assert history is not None and history.definition == definition
        assert await store.get_backfill("bf-x") is None
        assert await store.get_schedule("nightly") is None and await store.list_schedules(0, 10) == []
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_version ORDER BY version")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert set(PROJECTION_TABLES) <= tables
    assert "chunks_by_state" not in indexes and "runs_by_chunk" in indexes
    # Opening again applies nothing twice.
    await (await open_store(str(path))).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (SCHEMA_VERSION,)


async def test_a_version_two_database_gains_the_dispatch_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)")
        for version in (1, 2):
            for statement in MIGRATIONS[version - 1]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
        connection.execute(
            "INSERT INTO backfills VALUES ('bf-old', 2, 2, 3, 1, 't', 'me', 'fp', 0, 0, 0, NULL, 7, 30, 5, 0, 0, 0, 0, "
            "x'00')"
        )
        connection.execute("INSERT INTO backfill_targets VALUES ('bf-old', 0, 'orders')")
        connection.execute("INSERT INTO chunks VALUES ('bf-old', 0, 1, 2, 'orders', 3, 1, 'rk-x', 7, NULL, 0)")
        connection.execute("INSERT INTO runs VALUES ('rk-x', 'bf-old', 'orders', 1, 2, 1, 0)")

    store = await open_store(str(path))
    try:
        record = await store.get_backfill("bf-old")
        assert record is not None
        assert (record.round, record.round_chunks, record.round_partitions, record.round_finished) == (1, 5, 30, 0)
        assert record.outcomes == ((None, None, None),)
        [chunk] = await store.list_chunks(ChunkQuery("bf-old", (0, 0, 0), 10))
        assert (chunk.state, chunk.run_key, chunk.remaining, chunk.failed_attempts, chunk.run_id) == (3, "rk-x", None, 0, "")
        run = await store.get_run("rk-x")
        assert run is not None and (run.run_id, run.state, run.metadata, run.lease_position) == ("", 1, (), 0)
    finally:
        await store.close()
