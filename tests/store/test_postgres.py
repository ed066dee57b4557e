"""PostgreSQL-specific behaviour: errors that name the database, the append-only trigger, schema versions and
concurrent migrations, column types and collations, durability settings."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import asyncpg
import pytest

from arco_grpc.store import NewEvent, StoreUnavailable, open_store
from arco_grpc.store.postgres._schema import SCHEMA_VERSION

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


async def test_an_unreachable_server_is_a_store_error_naming_the_database_but_not_the_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await open_store("postgresql://arco:s3cret-pw@127.0.0.1:1/arco_db")
    message = caught.value.message
    assert "postgresql://arco@127.0.0.1:1/arco_db" in message and "s3cret-pw" not in message
    assert "\n" not in message


async def test_a_missing_database_is_a_store_error(postgres_admin_dsn: str) -> None:
    base, _, _ = postgres_admin_dsn.rpartition("/")
    with pytest.raises(StoreUnavailable, match='database "arco_never_created" does not exist'):
        await open_store(f"{base}/arco_never_created")


async def test_events_rows_cannot_be_updated_or_deleted_even_with_raw_sql(postgres_database: str) -> None:
    store = await open_store(postgres_database)
    await store.append("s", 0, [NewEvent("Thing", b"p")], request=None, recorded_at=T0)
    await store.close()

    connection = await asyncpg.connect(postgres_database)
    try:
        for statement in ("UPDATE events SET payload = '\\x00'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await connection.execute(statement)
        assert [tuple(row) for row in await connection.fetch("SELECT payload FROM events")] == [(b"p",)]
    finally:
        await connection.close()


async def test_schema_version_is_recorded_and_a_newer_database_is_refused(postgres_database: str) -> None:
    await (await open_store(postgres_database)).close()
    await (await open_store(postgres_database)).close()  # a second open finds it migrated
    connection = await asyncpg.connect(postgres_database)
    try:
        assert await connection.fetch("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        await connection.execute("INSERT INTO schema_version VALUES ($1, 0)", SCHEMA_VERSION + 1)
    finally:
        await connection.close()

    with pytest.raises(StoreUnavailable, match="newer than this arco-grpc knows"):
        await open_store(postgres_database)


async def test_stores_opened_at_once_on_a_new_database_migrate_it_once(postgres_database: str) -> None:
    stores = await asyncio.gather(*(open_store(postgres_database) for _ in range(3)))
    try:
        written = await stores[0].append("s", 0, [NewEvent("Thing", b"p")], request=None, recorded_at=T0)
        assert await stores[2].read_all() == list(written.events)
    finally:
        for store in stores:
            await store.close()
    connection = await asyncpg.connect(postgres_database)
    try:
        assert await connection.fetch("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    finally:
        await connection.close()


async def test_text_columns_compare_by_bytes_and_numbers_are_64_bit(postgres_database: str) -> None:
    await (await open_store(postgres_database)).close()
    connection = await asyncpg.connect(postgres_database)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_version'"
        )
    finally:
        await connection.close()
    types = {row["data_type"] for row in columns}
    assert types == {"bigint", "bytea", "text"}
    assert all(row["collation_name"] == "C" for row in columns if row["data_type"] == "text")
    assert {"events", "runs", "chunks", "backfills", "schedules", "partition_status"} <= {r["table_name"] for r in columns}


async def test_appends_are_durable_even_where_the_database_turns_synchronous_commit_off(postgres_database: str) -> None:
    connection = await asyncpg.connect(postgres_database)
    try:
        name = await connection.fetchval("SELECT current_database()")
        await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await connection.close()
    store = await open_store(postgres_database)
    try:
        for n in range(2):  # a pooled connection is reset when released: the setting must outlive that
            await store.append("s", n, [NewEvent("Thing", b"p")], request=None, recorded_at=T0)
            async with store._pool.acquire() as pooled:  # type: ignore[attr-defined]
                assert await pooled.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await store.close()
