"""`arco serve` as a real subprocess: startup line, calls, signals, crash safety, demo catalog."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, catalog_service_pb2 as api, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p
from arco_grpc.cli import build_parser

STARTUP_TIMEOUT = 60
LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")


@dataclass
class ServerProcess:
    process: asyncio.subprocess.Process
    port: int
    banner: list[str]


async def spawn(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
    stderr = open(tmp_path / "server.log", "ab")  # noqa: SIM115 - closed with the process
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arco_grpc.cli", "serve", *args,
        stdout=asyncio.subprocess.PIPE, stderr=stderr, env={**os.environ, **(env or {})},
    )
    stderr.close()
    assert process.stdout is not None
    first = (await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)).decode().rstrip("\n")
    match = LISTENING.match(first)
    assert match, f"unexpected first line {first!r}; log: {(tmp_path / 'server.log').read_text()}"
    hint = (await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)).decode()
    return ServerProcess(process, int(match.group(1)), [first, hint])


@asynccontextmanager
async def running(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> AsyncIterator[ServerProcess]:
    server = await spawn(tmp_path, *args, env=env)
    try:
        yield server
    finally:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


@asynccontextmanager
async def stub(port: int) -> AsyncIterator[catalog_service_pb2_grpc.CatalogServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield catalog_service_pb2_grpc.CatalogServiceStub(channel)


def regions_request(request_id: str = "r-1") -> api.ApplyAssetsRequest:
    return api.ApplyAssetsRequest(
        request_id=request_id,
        assets=[
            a.Asset(key="regions", partitions=p.PartitionsDefinition(static=p.StaticPartitions(keys=["us", "eu"])))
        ],
    )


def event_rows(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM events").fetchone()[0])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_serve_prints_its_address_answers_and_exits_zero_on_signal(tmp_path: Path, signum: int) -> None:
    db = tmp_path / "arco.db"
    async with running(tmp_path, "--port", "0", "--db", str(db)) as server:
        assert "buf curl" in server.banner[1] and str(server.port) in server.banner[1]
        async with stub(server.port) as catalog:
            response = await catalog.ApplyAssets(regions_request())
            assert [x.key for x in response.assets] == ["regions"]

        server.process.send_signal(signum)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0
    assert event_rows(db) == 1


async def test_what_was_acknowledged_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "arco.db"
    async with running(tmp_path, "--port", "0", "--db", str(db)) as server:
        async with stub(server.port) as catalog:
            acknowledged = await catalog.ApplyAssets(regions_request())
            await catalog.AddDynamicPartitions(api.AddDynamicPartitionsRequest(request_id="k", name="c", keys=["x"]))
        server.process.kill()
        assert await asyncio.wait_for(server.process.wait(), 30) == -signal.SIGKILL

    async with running(tmp_path, "--port", "0", "--db", str(db)) as server:
        async with stub(server.port) as catalog:
            got = await catalog.GetAsset(api.GetAssetRequest(asset_key="regions"))
            retried = await catalog.ApplyAssets(regions_request())  # the client's retry after the crash
            again = await catalog.AddDynamicPartitions(
                api.AddDynamicPartitionsRequest(request_id="k", name="c", keys=["x"])
            )
        assert got.asset == acknowledged.assets[0]
        assert retried == acknowledged
        assert list(again.added_keys) == ["x"]  # the first answer, replayed
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0
    assert event_rows(db) == 2


async def test_environment_variables_configure_serve(tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    async with running(tmp_path, env={"ARCO_PORT": "0", "ARCO_DB": str(db), "ARCO_HOST": "127.0.0.1"}) as server:
        async with stub(server.port) as catalog:
            await catalog.ApplyAssets(regions_request())
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0
    assert event_rows(db) == 1


async def test_demo_catalog_is_applied_once(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    for _ in range(2):
        async with running(tmp_path, "--port", "0", "--db", str(db), "--demo-catalog") as server:
            async with stub(server.port) as catalog:
                assets = (await catalog.ListAssets(api.ListAssetsRequest())).assets
                customers = await catalog.ListPartitionKeys(
                    api.ListPartitionKeysRequest(asset_key="customers/profiles")
                )
                grid = await catalog.ResolveSelection(api.ResolveSelectionRequest(asset_key="sales/daily_by_region"))
            server.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(server.process.wait(), 30) == 0
        assert {x.version for x in assets} == {1}
        assert {"raw/events", "sales/daily_by_region", "customers/profiles"} <= {x.key for x in assets}
        assert list(customers.keys)[:2] == ["acme", "globex"]
        assert grid.count > 0 and grid.first_key.startswith("2024-01-01|")
    assert event_rows(db) == 2  # one AssetsApplied, one DynamicPartitionsAdded: the restart replayed


def test_defaults_and_port_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARCO_HOST", "ARCO_PORT", "ARCO_DB"):
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.db, args.demo_catalog) == ("127.0.0.1", 50051, "./arco.db", False)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", "70000"])


async def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    async with running(tmp_path, "--port", "0", "--db", str(tmp_path / "a.db")) as server:
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arco_grpc.cli", "serve", "--port", str(server.port), "--db", str(tmp_path / "b.db"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(second.communicate(), STARTUP_TIMEOUT)
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()
        assert second.returncode == 1
        assert out == b""
        assert err.decode().strip().splitlines()[-1].startswith(f"arco serve: cannot listen on 127.0.0.1:{server.port}")


def test_a_bad_port_in_the_environment_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCO_PORT", "http")
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve"])
    assert caught.value.code == 2
