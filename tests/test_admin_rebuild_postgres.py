"""The server on PostgreSQL: the random workload of test_admin_rebuild through the real server (backfills
steered, catalog changes, run requests, workers leasing, succeeding, failing, lapsing and retrying,
schedules), then `arco admin rebuild-projections --db postgresql://...`: the rebuilt tables equal the live
ones, and the events of the workload's first half are never changed by its second."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import asyncpg

from arco_grpc.cli import main
from arco_grpc.store.postgres._schema import PROJECTION_TABLES
from tests.test_admin_rebuild import run_workload


async def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def dump(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, in a stable order."""
    return {table: sorted(await _rows(dsn, f"SELECT * FROM {table}"), key=repr) for table in PROJECTION_TABLES}


async def events(dsn: str) -> list[tuple[Any, ...]]:
    return await _rows(dsn, "SELECT * FROM events ORDER BY sequence")


async def test_rebuilt_projections_equal_the_live_ones_on_postgres(postgres_database: str) -> None:
    first_half = await run_workload(postgres_database, 11, (20, 8, 60), lambda: events(postgres_database))

    written = await events(postgres_database)
    assert written[: len(first_half)] == first_half  # rows are never updated or deleted
    live = await dump(postgres_database)
    assert len(live["backfills"]) > 3 and len(live["runs"]) > 20 and len(live["chunks"]) > 10
    assert live["partition_status"] and len(live["schedules"]) == 2
    run_origins = {row[0] for row in await _rows(postgres_database, "SELECT origin FROM runs")}
    assert run_origins == {1, 2, 3, 4}  # backfills, schedules, sensors, manual runs
    assert {"ChunksLeased", "ChunkSucceeded", "ChunkFailed", "TicksDecided", "TickLaunched"} <= {row[3] for row in written}

    out, err = io.StringIO(), io.StringIO()
    with_password = postgres_database.replace("postgres@", "postgres:pw-never-shown@")  # the test server trusts
    code = await asyncio.to_thread(main, ["admin", "rebuild-projections", "--db", with_password], out, err)

    assert (code, err.getvalue()) == (0, "")
    assert f"from {len(written)} events" in out.getvalue() and "pw-never-shown" not in out.getvalue()
    assert await dump(postgres_database) == live
    assert await events(postgres_database) == written
