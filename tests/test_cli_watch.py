"""`arco backfill watch` against real server processes: JSON lines, the end at cancel, resuming across a restart."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2_grpc
from tests.loopback import free_port
from tests.service.backfill_helpers import CATALOG, Backfills, backfills, create, target  # noqa: F401 - fixture
from tests.service.conftest import db_path, served, start  # noqa: F401 - fixtures
from tests.service.watch_support import churn, event_log
from tests.test_cli import STARTUP_TIMEOUT, running
from tests.test_cli_backfill import arco

WATCH_TIMEOUT = 60


@asynccontextmanager
async def backfill_stub(port: int) -> AsyncIterator[backfill_service_pb2_grpc.BackfillServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await catalog_service_pb2_grpc.CatalogServiceStub(channel).ApplyAssets(CATALOG)
        yield backfill_service_pb2_grpc.BackfillServiceStub(channel)


async def start_watch_command(port: int, backfill_id: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arco_grpc.cli", "backfill", "watch", backfill_id, "--server", f"127.0.0.1:{port}",
        "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def read_line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), WATCH_TIMEOUT)
    assert line, "the watch command ended early"
    return json.loads(line)


async def lines_until(process: asyncio.subprocess.Process, state_version: int) -> list[dict[str, Any]]:
    """JSON lines up to the event with ``state_version``."""
    lines = []
    while not lines or lines[-1].get("event", {}).get("state_version") != str(state_version):
        lines.append(await read_line(process))
    return lines


async def finish(process: asyncio.subprocess.Process) -> tuple[int, list[dict[str, Any]], str]:
    out, err = await asyncio.wait_for(process.communicate(), WATCH_TIMEOUT)
    return process.returncode or 0, [json.loads(line) for line in out.decode().splitlines()], err.decode()


def printed_events(lines: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
    return [(int(line["event"]["sequence"]), line["event"]["type"], int(line["event"]["state_version"]))
            for line in lines if "event" in line]


def logged(events: list[api.BackfillEvent]) -> list[tuple[int, str, int]]:
    return [(event.sequence, event.type, event.state_version) for event in events]


async def test_json_lines_show_every_event_and_the_command_exits_at_cancel(tmp_path: Path) -> None:
    async with running(tmp_path, "--port", "0", "--db", str(tmp_path / "arco.db")) as server:
        async with backfill_stub(server.port) as stub:
            backfill_id = (await stub.CreateBackfill(create("cli-watch", target("orders")))).backfill.id
            watcher = await start_watch_command(server.port, backfill_id)
            lines = await lines_until(watcher, 2)  # caught up: live from here
            await churn(stub, backfill_id, 4, label="cli")
            await stub.CancelBackfill(api.CancelBackfillRequest(request_id="cli-cancel", backfill_id=backfill_id))
            code, rest, err = await finish(watcher)
            assert code == 0, err
            log = await event_log(stub, backfill_id)
    events = printed_events(lines + rest)
    assert events == logged(log)
    assert events[-1][1] == "BackfillCancelled"
    assert lines[0]["event"]["payload"]["created"]["backfill_id"] == backfill_id


async def test_the_command_resumes_by_itself_across_a_server_restart(tmp_path: Path) -> None:
    port = free_port()
    arguments = ("--port", str(port), "--db", str(tmp_path / "arco.db"))
    async with running(tmp_path, *arguments) as first:
        async with backfill_stub(port) as stub:
            backfill_id = (await stub.CreateBackfill(create("cli-restart", target("orders")))).backfill.id
            watcher = await start_watch_command(port, backfill_id)
            await churn(stub, backfill_id, 4, label="first")
            lines = await lines_until(watcher, 6)
        first.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.process.wait(), STARTUP_TIMEOUT) == 0
    async with running(tmp_path, *arguments):
        async with backfill_stub(port) as stub:
            await churn(stub, backfill_id, 4, label="second")
            await stub.CancelBackfill(api.CancelBackfillRequest(request_id="cli-restart-cancel", backfill_id=backfill_id))
            code, rest, err = await finish(watcher)
            assert code == 0, err
            log = await event_log(stub, backfill_id)
    assert printed_events(lines + rest) == logged(log)  # nothing missed, nothing twice


async def test_the_progress_bar_ends_with_a_summary(backfills: Backfills) -> None:  # noqa: F811 - fixture
    backfill_id = (await backfills.stub.CreateBackfill(create("cli-bar", target("regions")))).backfill.id

    async def cancel_soon() -> None:
        await churn(backfills.stub, backfill_id, 2, label="bar")
        await backfills.stub.CancelBackfill(api.CancelBackfillRequest(request_id="cli-bar-cancel", backfill_id=backfill_id))

    canceller = asyncio.create_task(cancel_soon())
    code, out, err = await arco(backfills, "backfill", "watch", backfill_id)
    await canceller
    assert code == 0, err
    assert out.strip() == f"backfill {backfill_id} cancelled: 0 succeeded, 0 failed, 3 cancelled of 3"
    assert "partition" in err  # the bar (tqdm writes to stderr)

    missing = "bf-aaaaaaaaaaaa"
    code, _, err = await arco(backfills, "backfill", "watch", missing)
    assert code == 1 and "NOT_FOUND" in err
