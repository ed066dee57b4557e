"""The ``arco`` command: ``serve``, ``backfill ...``, ``run ...``, ``schedule ...``, ``worker``, ``demo`` and
``admin ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from arco_grpc.cli._admin import add_admin_commands, run_admin
from arco_grpc.cli._backfill import add_backfill_commands, run_backfill
from arco_grpc.cli._demo import add_demo_command, run_demo
from arco_grpc.cli._run import add_run_commands, run_runs
from arco_grpc.cli._schedule import add_schedule_commands, run_schedule
from arco_grpc.cli._serve import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, add_serve_command, run_serve
from arco_grpc.cli._worker import add_worker_command, run_worker

__all__ = ["DEFAULT_DB", "DEFAULT_HOST", "DEFAULT_PORT", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``arco`` subcommand."""
    parser = argparse.ArgumentParser(prog="arco", description="A gRPC control plane for partitioned backfills.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_command(commands)
    add_backfill_commands(commands)
    add_run_commands(commands)
    add_schedule_commands(commands)
    add_worker_command(commands)
    add_demo_command(commands)
    add_admin_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Runs ``arco`` with ``argv`` (default: the process arguments); returns the exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "serve":
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        return run_serve(args, out, err)
    if args.command == "backfill":
        return run_backfill(args, out, err)
    if args.command == "run":
        return run_runs(args, out, err)
    if args.command == "schedule":
        return run_schedule(args, out, err)
    if args.command == "worker":
        return run_worker(args, out, err)
    if args.command == "demo":
        return run_demo(args, out, err)
    if args.command == "admin":
        return run_admin(args, out, err)
    raise AssertionError(f"unhandled command {args.command!r}")
