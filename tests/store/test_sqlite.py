"""SQLite-specific behaviour: pragmas, the append-only triggers, schema versioning, locations, batched writes."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from itertools import accumulate
from pathlib import Path

import pytest

from arco_grpc.store import NewEvent, StoreUnavailable, open_store
from arco_grpc.store.opening import sqlite_path
from arco_grpc.store.sqlite import SqliteEventStore
from arco_grpc.store.sqlite._schema import SCHEMA_VERSION
from arco_grpc.store.sqlite._statements import MAX_ROWS_PER_STEP, pieces
from arco_grpc.store.sqlite._writer import run_pragma

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


async def test_file_database_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = await SqliteEventStore.open(str(tmp_path / "a.db"))
    try:
        assert (await store._writer.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
        assert (await store._writer.execute_fetchall("PRAGMA synchronous"))[0][0] == 2  # FULL
    finally:
        await store.close()


async def test_events_rows_cannot_be_updated_or_deleted_even_with_raw_sql(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = await open_store(str(path))
    await store.append("s", 0, [NewEvent("Thing", b"p")], request=None, recorded_at=T0)
    await store.close()

    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE events SET payload = x'00'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM events")
        assert connection.execute("SELECT payload FROM events").fetchall() == [(b"p",)]
    finally:
        connection.close()


async def test_schema_version_is_recorded_and_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    await (await open_store(str(path))).close()
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT MAX(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
    connection.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    connection.commit()
    connection.close()

    with pytest.raises(RuntimeError, match="newer"):
        await open_store(str(path))


async def test_an_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="cannot open"):
        await open_store(str(tmp_path / "missing-dir" / "a.db"))


@pytest.mark.parametrize(
    ("location", "path"),
    [("sqlite:///tmp/x.db", "tmp/x.db"), ("sqlite:////tmp/x.db", "/tmp/x.db"), ("./arco.db", "./arco.db"),
     (":memory:", ":memory:"), ("sqlite:///:memory:", ":memory:"), ("mysql://h/db", None)],
)
def test_locations_name_sqlite_paths(location: str, path: str | None) -> None:
    assert sqlite_path(location) == path


async def test_unsupported_locations_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        await open_store("mysql://localhost/arco")


@pytest.mark.parametrize("count", [1, 3, 16, 17, 100, 256, 300, 1000])
def test_rows_go_in_one_step_up_to_sixteen_and_in_a_few_texts_above(count: int) -> None:
    cut = list(pieces(count))
    assert [start for start, _ in cut] == list(accumulate((size for _, size in cut[:-1]), initial=0))
    assert sum(size for _, size in cut) == count
    assert all(size <= MAX_ROWS_PER_STEP and (size <= 16 or size % 16 == 0) for _, size in cut)
    if count <= 16:
        assert cut == [(0, count)]



def test_a_new_file_another_opener_holds_is_switched_to_wal_once_it_is_free(tmp_path: Path) -> None:
    # Switching a new file to WAL fails at once while another connection holds its write lock (it does not
    # wait for busy_timeout), as when two stores open a new file together: the opener must try again.
    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    opener = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    opener.execute("PRAGMA busy_timeout = 10000")
    tried = 0
    retried = threading.Event()

    def trace(_: str) -> None:
        nonlocal tried
        tried += 1
        if tried >= 2:
            retried.set()

    opener.set_trace_callback(trace)
    with ThreadPoolExecutor(max_workers=1) as pool:
        switching = pool.submit(run_pragma, opener, "PRAGMA journal_mode = WAL", time.monotonic() + 10)
        assert retried.wait(10), "the pragma was not tried again after finding the database locked"
        holder.execute("ROLLBACK")
        switching.result(timeout=10)
    opener.set_trace_callback(None)
    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opener.close()
    holder.close()
