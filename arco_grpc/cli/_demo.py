"""``arco demo``: a server, two ``arco worker --exec`` processes and a year of daily partitions, end to end.

Everything runs as real processes on loopback over a temporary SQLite file:
the demo catalog is applied, a backfill of 2024's 366 daily partitions (chunk
size 7, max concurrency 3) is created, two workers run a shell command per
chunk in which one partition fails in round 1, the failed partition is
retried with RetryFailedPartitions (round 2, where it succeeds), and the
backfill ends COMPLETED with no failures.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shlex
import signal
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, partitions_pb2 as pb
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2, run_service_pb2_grpc

ASSET = "sales/daily_orders"
FIRST_KEY, LAST_KEY = "2024-01-01", "2024-12-31"
FAILING_KEY = "2024-06-15"
CHUNK_SIZE = 7
MAX_CONCURRENCY = 3
WORKERS = 2
STARTUP_SECONDS = 60.0
DEADLINE_SECONDS = 120.0
POLL_SECONDS = 0.5
LISTENING = re.compile(r"^listening on \S+:(\d+)$")
# The chunk command: a little work per chunk, and one partition that fails in
# round 1 only (so the retry round succeeds). It reports a partial failure:
# the other six days of that chunk succeed.
CHUNK_COMMAND = (
    "sleep 0.1; "
    f'case ",$ARCO_PARTITION_KEYS," in *,{FAILING_KEY},*) '
    'if [ "$ARCO_ROUND" = 1 ]; then '
    f"echo 'simulated failure: {FAILING_KEY} has no source data yet' >&2; "
    f"echo ARCO_FAILED_PARTITIONS={FAILING_KEY}; exit 1; fi;; esac"
)


def add_demo_command(commands: Any) -> None:
    """Adds ``demo`` to the subcommands."""
    demo = commands.add_parser(
        "demo",
        help="run a server, two workers and a backfill with a retry, end to end",
        description=(
            "Start a server on a temporary SQLite file with the demo catalog, backfill 2024's daily partitions of "
            f"{ASSET} (chunk size {CHUNK_SIZE}, max concurrency {MAX_CONCURRENCY}) with two `arco worker --exec` "
            f"processes in which {FAILING_KEY} fails throughout round 1, retry the failed partition with "
            "RetryFailedPartitions, and end COMPLETED with no failures."
        ),
    )
    demo.add_argument("--keep", metavar="DIR", default=None,
                      help="keep the database and the process logs in DIR (default: a temporary directory, removed)")


@dataclass
class _Process:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def _spawn(name: str, argv: Sequence[str], log: Path) -> _Process:
    with open(log, "ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arco_grpc.cli", *argv,
            stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink,
        )
    return _Process(name, process, log)


async def _start_server(directory: Path) -> tuple[_Process, int]:
    log = directory / "server.log"
    with open(log, "ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arco_grpc.cli", "serve", "--port", "0", "--db", str(directory / "demo.db"),
            "--demo-catalog", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=sink,
        )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode().strip()
    match = LISTENING.match(line)
    if not match:
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}; see {log}")
    return _Process("server", process, log), int(match.group(1))


async def _stop(processes: Sequence[_Process]) -> dict[str, int]:
    for item in processes:
        if item.process.returncode is None:
            item.process.send_signal(signal.SIGTERM)
    codes = {}
    for item in processes:
        try:
            codes[item.name] = await asyncio.wait_for(item.process.wait(), 30)
        except asyncio.TimeoutError:
            item.process.kill()
            codes[item.name] = await item.process.wait()
    return codes


@asynccontextmanager
async def _workspace(keep: str | None) -> AsyncIterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="arco-demo-") as directory:
        yield Path(directory)


def _progress_line(elapsed: float, backfill: bf.Backfill) -> str:
    p = backfill.progress
    state = bf.Backfill.State.Name(backfill.state).removeprefix("STATE_").lower()
    chunks = ", ".join(
        f"{count} {name.removeprefix('STATE_').lower()}" for name, count in sorted(p.chunks_by_state.items()) if count
    )
    return (f"  {elapsed:5.1f}s  {state:<10} {p.partitions_succeeded:>3}/{p.partitions_total} succeeded, "
            f"{p.partitions_failed} failed, {p.partitions_running:>2} running   chunks: {chunks}")


async def _follow(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str, started: float,
                  out: TextIO) -> bf.Backfill:
    """Prints a progress line whenever the backfill changes; returns it once it is COMPLETED."""
    shown = ""
    deadline = started + DEADLINE_SECONDS
    while True:
        backfill = (await stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id), timeout=10)).backfill
        line = _progress_line(time.monotonic() - started, backfill)
        if line.split(maxsplit=1)[1] != shown:
            print(line, file=out, flush=True)
            shown = line.split(maxsplit=1)[1]
        if backfill.state in (bf.Backfill.STATE_COMPLETED, bf.Backfill.STATE_CANCELLED):
            return backfill
        if time.monotonic() > deadline:
            raise TimeoutError(f"the backfill did not complete within {DEADLINE_SECONDS:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


async def _run_count(channel: grpc.aio.Channel, backfill_id: str) -> tuple[int, dict[str, int]]:
    runs = run_service_pb2_grpc.RunServiceStub(channel)
    request = run_service_pb2.ListRunsRequest(backfill_id=backfill_id, page_size=1000)
    by_state: dict[str, int] = {}
    while True:
        page = await runs.ListRuns(request, timeout=10)
        for run in page.runs:
            name = run_service_pb2.Run.State.Name(run.state).removeprefix("STATE_").lower()
            by_state[name] = by_state.get(name, 0) + 1
        if not page.next_page_token:
            return sum(by_state.values()), by_state
        request.page_token = page.next_page_token


async def _demo(directory: Path, out: TextIO) -> int:
    started = time.monotonic()
    print(f"arco demo: working in {directory}", file=out, flush=True)
    server, port = await _start_server(directory)
    address = f"127.0.0.1:{port}"
    processes = [server]
    try:
        print(f"server listening on {address} (SQLite {directory / 'demo.db'}, demo catalog applied)", file=out)
        async with grpc.aio.insecure_channel(address) as channel:
            stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
            created = await stub.CreateBackfill(api.CreateBackfillRequest(
                request_id=str(uuid.uuid4()),
                targets=[api.BackfillTargetSpec(
                    asset_key=ASSET,
                    selector=pb.PartitionSelector(key_range=pb.PartitionKeyRange(start=FIRST_KEY, end=LAST_KEY)),
                )],
                chunk_size=CHUNK_SIZE, max_concurrency=MAX_CONCURRENCY, title="demo: 2024 daily orders",
                tags={"demo": "true"}, creator="arco demo",
                # One automatic retry, at once: the failing partition fails it too
                # (it fails all of round 1), so RetryFailedPartitions has work.
                retry_policy=bf.RetryPolicy(max_attempts=2, initial_backoff=timedelta(0)),
            ), timeout=30)
            backfill_id = created.backfill.id
            print(f"created backfill {backfill_id}: {created.plan.partition_count} partitions of {ASSET} "
                  f"({FIRST_KEY}...{LAST_KEY}) in {created.plan.chunk_count} chunks of {CHUNK_SIZE}, "
                  f"max concurrency {MAX_CONCURRENCY}", file=out)
            print(f"starting {WORKERS} workers: arco worker --concurrency 2 --exec {shlex.quote(CHUNK_COMMAND)}",
                  file=out, flush=True)
            for n in range(1, WORKERS + 1):
                processes.append(await _spawn(f"worker-{n}", [
                    "worker", "--server", address, "--exec", CHUNK_COMMAND, "--worker-id", f"demo-worker-{n}",
                    "--concurrency", "2", "--lease-ttl", "10", "--poll-timeout", "2", "--tag", "demo=true",
                ], directory / f"worker-{n}.log"))

            first = await _follow(stub, backfill_id, started, out)
            failed = first.progress.partitions_failed
            print(f"round 1 ended {bf.Backfill.State.Name(first.state)}: {first.progress.partitions_succeeded} "
                  f"succeeded, {failed} failed", file=out, flush=True)
            retried = 0
            if failed:
                retry = await stub.RetryFailedPartitions(api.RetryFailedPartitionsRequest(
                    request_id=str(uuid.uuid4()), backfill_id=backfill_id, reason="arco demo: retry what failed",
                ), timeout=30)
                retried = sum(r.partition_count for r in retry.retried)
                chunks = await stub.ListChunks(api.ListChunksRequest(backfill_id=backfill_id, round=retry.round),
                                               timeout=10)
                keys = [k for c in chunks.chunks for k in c.partition_keys]
                print(f"RetryFailedPartitions opened round {retry.round} with {retried} partition(s): "
                      f"{', '.join(keys)}", file=out, flush=True)
                final = await _follow(stub, backfill_id, started, out)
            else:
                final = first
            runs, by_state = await _run_count(channel, backfill_id)
        codes = await _stop(processes[1:])
        progress = final.progress
        ok = final.state == bf.Backfill.STATE_COMPLETED and progress.partitions_failed == 0 and failed > 0
        print("", file=out)
        print(f"backfill {backfill_id} {bf.Backfill.State.Name(final.state).removeprefix('STATE_')}: "
              f"{progress.partitions_succeeded}/{progress.partitions_total} partitions succeeded, "
              f"{progress.partitions_failed} failed", file=out)
        print(f"  runs: {runs} ({', '.join(f'{n} {s}' for s, n in sorted(by_state.items()))}); "
              f"retried: {retried} partition(s) in round 2", file=out)
        print(f"  workers exited with {', '.join(f'{n} {c}' for n, c in codes.items())}; "
              f"wall time {time.monotonic() - started:.1f} s", file=out, flush=True)
        if ok and all(c == 0 for c in codes.values()):
            return 0
        _show_logs(processes, out)
        return 1
    except BaseException:
        _show_logs(processes, out)
        raise
    finally:
        await _stop(processes)


def _show_logs(processes: Sequence[_Process], out: TextIO, lines: int = 15) -> None:
    for item in processes:
        tail = item.log.read_text(errors="replace").splitlines()[-lines:] if item.log.exists() else []
        print(f"--- last lines of {item.name}'s log ({item.log}):", file=out)
        for line in tail:
            print(f"  {line}", file=out)


def run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs the demo; returns 0 when the backfill ended COMPLETED with no failure after the retry."""

    async def main() -> int:
        async with _workspace(args.keep) as directory:
            return await _demo(directory, out)

    try:
        return asyncio.run(main())
    except (OSError, RuntimeError, TimeoutError, grpc.aio.AioRpcError) as error:
        text = f"{error.code().name}: {error.details()}" if isinstance(error, grpc.aio.AioRpcError) else str(error)
        print(f"arco demo: {text}", file=err)
        return 1

