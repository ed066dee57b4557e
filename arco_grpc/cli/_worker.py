"""``arco worker --exec CMD``: lease chunks from a server and run a shell command once per chunk."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from typing import Any, TextIO

import grpc

from arco_grpc.cli._backfill import DEFAULT_SERVER, parse_tag

DEFAULT_GRACE_SECONDS = 30.0


def _seconds(minimum: float, maximum: float) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{value:g} s is out of range {minimum:g}-{maximum:g} s")
        return value

    return parse


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def default_worker_id() -> str:
    """``HOST-PID``: unique among the workers of one machine."""
    return f"{socket.gethostname()}-{os.getpid()}"


def add_worker_command(commands: Any) -> None:
    """Adds ``worker`` to the subcommands."""
    worker = commands.add_parser(
        "worker",
        help="run a shell command for every chunk leased from a server",
        description=(
            "Lease chunks of running backfills and run CMD once per chunk through the shell. CMD sees "
            "ARCO_BACKFILL_ID, ARCO_ASSET, ARCO_PARTITION_KEYS (comma-separated; for more than 100 keys or 8 KiB, "
            "a file with one key per line, and ARCO_PARTITION_KEYS_FILE=1), ARCO_PARTITION_COUNT, ARCO_RUN_KEY, "
            "ARCO_RUN_ID, ARCO_ATTEMPT, ARCO_ROUND, ARCO_CHUNK_INDEX, ARCO_FIRST_KEY and ARCO_LAST_KEY. Exit status "
            "0 is SUCCEEDED, anything else FAILED (the tail of stderr becomes the error); a stdout line "
            "ARCO_FAILED_PARTITIONS=k1,k2 makes it a partial failure of those keys. SIGTERM or SIGINT stop "
            "leasing, let running commands finish for --grace seconds, then terminate and release the rest; "
            "the exit status is then 0."
        ),
    )
    worker.add_argument("--server", default=os.environ.get("ARCO_SERVER", DEFAULT_SERVER),
                        help="the server's HOST:PORT (env ARCO_SERVER; default %(default)s)")
    worker.add_argument("--exec", dest="exec_command", required=True, metavar="CMD", help="the shell command to run per chunk")
    worker.add_argument("--worker-id", default=None, help="this worker's id, shown on its runs (default: HOST-PID)")
    worker.add_argument("--concurrency", type=_positive, default=1, help="chunks run at once (default %(default)s)")
    worker.add_argument("--asset", action="append", default=[], dest="assets",
                        help="only chunks of this asset (repeatable; default: any)")
    worker.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE",
                        help="only chunks of backfills with this tag (repeatable: all must match)")
    worker.add_argument("--lease-ttl", type=_seconds(1, 3600), default=30.0,
                        help="seconds a lease lasts without a heartbeat (default %(default)s; heartbeats every third)")
    worker.add_argument("--poll-timeout", type=_seconds(0, 60), default=10.0,
                        help="seconds one lease request waits for work (default %(default)s)")
    worker.add_argument("--grace", type=_seconds(0, 86400), default=DEFAULT_GRACE_SECONDS,
                        help="on SIGTERM/SIGINT, seconds running commands get to finish (default %(default)s)")
    worker.add_argument("--kill-grace", type=_seconds(0, 3600), default=5.0,
                        help="seconds between SIGTERM and SIGKILL when a command is stopped (default %(default)s)")


def run_worker(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs the worker until SIGTERM or SIGINT; returns the exit code (0 after a graceful stop)."""
    from arco_grpc.worker import ExecHandler, Worker, run_until_signalled

    worker_id = args.worker_id or default_worker_id()
    try:
        worker = Worker(
            args.server,
            worker_id,
            ExecHandler(args.exec_command, kill_grace=args.kill_grace, out=out, err=err),
            max_concurrent_chunks=args.concurrency,
            lease_ttl=args.lease_ttl,
            poll_timeout=args.poll_timeout,
            asset_keys=args.assets,
            tags=dict(args.tag),
            # A stopped command gets SIGTERM at once and SIGKILL after kill_grace;
            # the coroutine is only cancelled if even that did not end it.
            cancel_grace=args.kill_grace + 5.0,
        )
    except ValueError as error:
        print(f"arco worker: {error}", file=err)
        return 2
    log = logging.getLogger("arco_grpc.worker")
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter(f"%(asctime)s {worker_id}: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    print(f"worker {worker_id} leasing from {args.server} (concurrency {args.concurrency})", file=err, flush=True)
    try:
        asyncio.run(run_until_signalled(worker, grace=args.grace))
    except grpc.aio.AioRpcError as error:
        print(f"arco worker: the server refused to lease: {error.code().name}: {error.details()}", file=err)
        return 1
    finally:
        log.removeHandler(handler)
    print(f"worker {worker_id} stopped", file=err, flush=True)
    return 0
