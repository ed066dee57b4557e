"""One serving server per database: a second `arco serve` is refused, a restart after kill -9 is not, a
server that loses its lock stops, and a standby takes over when the serving one dies."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import pytest

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as catalog
from arco_grpc.store.serving import LOCK_SUFFIX, SERVING_LOCK
from tests.worker.processes import ARCO, LISTENING, STARTUP_SECONDS, Client, start_server

pytestmark = pytest.mark.backends("sqlite", "postgres")


async def serve_and_exit(tmp_path: Path, location: str) -> tuple[int, str]:
    """Runs `arco serve` on ``location`` until it exits by itself; its exit code and what it printed on stderr."""
    process = await asyncio.create_subprocess_exec(
        *ARCO, "serve", "--port", "0", "--db", location,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_second_server_on_one_database_is_refused_and_the_first_keeps_serving(
    tmp_path: Path, store_location: str
) -> None:
    first = await start_server(tmp_path, store_location)
    client = Client(first.address)
    try:
        await client.apply_static("letters", ["a", "b"])

        code, err = await serve_and_exit(tmp_path, store_location)

        assert code == 1
        assert "another arco server is serving" in err and "Traceback" not in err
        assert first.process.returncode is None
        await client.apply_static("letters", ["a", "b", "c"])  # the first still serves, and writes
    finally:
        await client.close()
        first.process.kill()
        await first.process.wait()


async def test_a_server_killed_with_sigkill_leaves_the_database_to_the_next(tmp_path: Path, store_location: str) -> None:
    first = await start_server(tmp_path, store_location)
    first.process.kill()
    assert await first.process.wait() == -signal.SIGKILL

    second = await start_server(tmp_path, store_location)  # it waits for `listening on`: the lock was free
    try:
        client = Client(second.address)
        try:
            await client.apply_static("letters", ["a"])
        finally:
            await client.close()
    finally:
        second.process.send_signal(signal.SIGTERM)
        assert await second.process.wait() == 0
    if "://" not in store_location:
        assert Path(store_location + LOCK_SUFFIX).exists()  # the lock file stays; only its flock comes and goes


@pytest.mark.backends("postgres")
async def test_a_server_whose_lock_session_ends_stops_and_the_database_can_be_served_again(
    tmp_path: Path, store_location: str
) -> None:
    first = await start_server(tmp_path, store_location)
    admin = await asyncpg.connect(store_location)
    try:
        holders = await admin.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1",
            SERVING_LOCK & 0xFFFF_FFFF,
        )
        assert len(holders) == 1
        await admin.execute("SELECT pg_terminate_backend($1)", holders[0]["pid"])
    finally:
        await admin.close()

    assert await asyncio.wait_for(first.process.wait(), STARTUP_SECONDS) == 1
    assert "lost the serving lock" in (tmp_path / "server.log").read_text()
    second = await start_server(tmp_path, store_location)
    second.process.send_signal(signal.SIGTERM)
    assert await second.process.wait() == 0


async def start_standby(location: str, log: Path) -> asyncio.subprocess.Process:
    """`arco serve --standby` on ``location`` (its log in ``log``), once it says it waits (naming the database,
    never a password)."""
    location = location.replace("postgres@", "postgres:pw-never-shown@")  # the test server trusts any password
    with open(log, "ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *ARCO, "serve", "--port", "0", "--db", location, "--standby",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=sink,
        )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode()
    assert line.startswith("standby: another server serves"), line
    assert "pw-never-shown" not in line
    return process


async def test_a_standby_takes_over_when_the_serving_server_dies(tmp_path: Path, store_location: str) -> None:
    first = await start_server(tmp_path, store_location)
    client = Client(first.address)
    try:
        await client.apply_static("letters", ["a", "b"])
    finally:
        await client.close()
    standby = await start_standby(store_location, tmp_path / "standby.log")
    try:
        first.process.kill()
        await first.process.wait()

        assert standby.stdout is not None
        line = (await asyncio.wait_for(standby.stdout.readline(), STARTUP_SECONDS)).decode().strip()
        assert LISTENING.match(line), line
        client = Client(line.removeprefix("listening on "))
        try:
            listed = await client.catalog.ListAssets(catalog.ListAssetsRequest(), timeout=30)
            assert [asset.key for asset in listed.assets] == ["letters"]  # the database the first one wrote
        finally:
            await client.close()
        standby.send_signal(signal.SIGTERM)
        assert await standby.wait() == 0
        assert "INFO arco_grpc.server: standby took over" in (tmp_path / "standby.log").read_text()
    finally:
        if standby.returncode is None:
            standby.kill()
            await standby.wait()


async def test_a_standby_stopped_while_it_waits_exits_without_serving(tmp_path: Path, store_location: str) -> None:
    first = await start_server(tmp_path, store_location)
    try:
        standby = await start_standby(store_location, tmp_path / "standby.log")
        standby.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(standby.communicate(), STARTUP_SECONDS)
        assert standby.returncode == 0
        assert b"listening" not in out
        assert first.process.returncode is None
    finally:
        first.process.kill()
        await first.process.wait()
