"""Real processes for worker tests: `arco serve` and `arco worker --exec` subprocesses, and a client to steer them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import grpc

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, backfill_service_pb2 as api
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as catalog, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as p, run_service_pb2 as rs, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2_grpc

ARCO = (sys.executable, "-m", "arco_grpc.cli")
STARTUP_SECONDS = 60.0
WAIT_SECONDS = 60.0
LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")

T = TypeVar("T")


@dataclass
class ServerProcess:
    """An `arco serve` subprocess."""

    process: asyncio.subprocess.Process
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


async def start_server(tmp_path: Path, db: Path | str, port: int = 0) -> ServerProcess:
    """Starts `arco serve` on the store at ``db`` (``port`` 0 picks one) and waits for its `listening on` line."""
    with open(tmp_path / "server.log", "ab") as log:
        process = await asyncio.create_subprocess_exec(
            *ARCO, "serve", "--port", str(port), "--db", str(db), "--grace", "1",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log,
        )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode().strip()
    match = LISTENING.match(line)
    assert match, f"the server did not start: {line!r}; log:\n{(tmp_path / 'server.log').read_text()}"
    return ServerProcess(process, int(match.group(1)))


@dataclass
class WorkerProcess:
    """An `arco worker --exec` subprocess; its stdout and stderr go to ``log``."""

    process: asyncio.subprocess.Process
    worker_id: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def start_worker(
    tmp_path: Path,
    address: str,
    command: str,
    *,
    worker_id: str,
    concurrency: int = 1,
    lease_ttl: float = 5.0,
    extra: Sequence[str] = (),
) -> WorkerProcess:
    """Starts `arco worker --exec command` against ``address``."""
    log = tmp_path / f"{worker_id}.log"
    with open(log, "ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *ARCO, "worker", "--server", address, "--exec", command, "--worker-id", worker_id,
            "--concurrency", str(concurrency), "--lease-ttl", str(lease_ttl), "--poll-timeout", "1", *extra,
            stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink, cwd=tmp_path,
        )
    return WorkerProcess(process, worker_id, log)


async def wait_until(check: Callable[[], Awaitable[T | None] | T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Polls ``check`` until it returns something truthy; fails the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def lines_of(path: Path) -> list[str]:
    """The lines of ``path`` (none when it does not exist yet)."""
    return path.read_text().splitlines() if path.exists() else []


def static_keys(count: int) -> list[str]:
    return [f"p{n:03d}" for n in range(count)]


class Client:
    """Stubs of every service over one channel, with the few calls the tests need."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(
            address, options=[("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)]
        )
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(self.channel)
        self.backfills = backfill_service_pb2_grpc.BackfillServiceStub(self.channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def apply_static(self, asset: str, keys: Sequence[str]) -> None:
        definition = p.PartitionsDefinition(static=p.StaticPartitions(keys=keys))
        await self.catalog.ApplyAssets(
            catalog.ApplyAssetsRequest(request_id=str(uuid.uuid4()), assets=[a.Asset(key=asset, partitions=definition)]),
            timeout=30, wait_for_ready=True,
        )

    async def create_backfill(
        self,
        asset: str,
        *,
        chunk_size: int,
        max_concurrency: int,
        max_attempts: int = 3,
        backward: bool = False,
        tags: dict[str, str] | None = None,
    ) -> str:
        response = await self.backfills.CreateBackfill(
            api.CreateBackfillRequest(
                request_id=str(uuid.uuid4()),
                targets=[api.BackfillTargetSpec(asset_key=asset, selector=p.PartitionSelector(all=p.AllPartitions()))],
                chunk_size=chunk_size,
                max_concurrency=max_concurrency,
                order=bf.Backfill.ORDER_BACKWARD if backward else bf.Backfill.ORDER_FORWARD,
                tags=tags or {},
                retry_policy=bf.RetryPolicy(max_attempts=max_attempts, initial_backoff=timedelta(0)),
            ),
            timeout=30, wait_for_ready=True,
        )
        return response.backfill.id

    async def backfill(self, backfill_id: str) -> bf.Backfill:
        request = api.GetBackfillRequest(backfill_id=backfill_id)
        return (await self.backfills.GetBackfill(request, timeout=30, wait_for_ready=True)).backfill

    async def state_is(self, backfill_id: str, state: int) -> bf.Backfill | None:
        backfill = await self.backfill(backfill_id)
        return backfill if backfill.state == state else None

    async def all_runs(self, backfill_id: str) -> list[rs.Run]:
        request = rs.ListRunsRequest(backfill_id=backfill_id, page_size=1000)
        found: list[rs.Run] = []
        while True:
            page = await self.runs.ListRuns(request, timeout=30, wait_for_ready=True)
            found.extend(page.runs)
            if not page.next_page_token:
                return found
            request.page_token = page.next_page_token

    async def all_chunks(self, backfill_id: str) -> list[bf.Chunk]:
        request = api.ListChunksRequest(backfill_id=backfill_id, page_size=1000)
        found: list[bf.Chunk] = []
        while True:
            page = await self.backfills.ListChunks(request, timeout=30, wait_for_ready=True)
            found.extend(page.chunks)
            if not page.next_page_token:
                return found
            request.page_token = page.next_page_token


def indices_of(subset: p.PartitionSubset) -> list[int]:
    """Every index a single-dimension subset holds."""
    return [i for r in subset.ranges for i in range(r.start, r.end)]


def peak_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """The most intervals open at one instant; an interval ending when another starts does not overlap it."""
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, step in points:  # at equal times, ends (-1) sort before starts (+1)
        open_now += step
        peak = max(peak, open_now)
    return peak


def reap_orphans(pid_file: Path) -> None:
    """Kills the processes whose ids ``pid_file`` lists (children of a SIGKILLed worker outlive it)."""
    for line in lines_of(pid_file):
        try:
            os.killpg(int(line), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, ValueError):
            pass


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
