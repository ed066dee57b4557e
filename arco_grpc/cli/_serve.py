"""``arco serve``: run the server."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any, TextIO

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 50051
DEFAULT_DB = "./arco.db"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0-65535 (0 picks a free port)")
    return port


def add_serve_command(commands: Any) -> None:
    """Adds ``serve`` to the subcommands."""
    serve = commands.add_parser("serve", help="run the server", description="Run the arco gRPC server.")
    serve.add_argument("--host", default=os.environ.get("ARCO_HOST", DEFAULT_HOST),
                       help="address to listen on (env ARCO_HOST; default %(default)s)")
    # A string default goes through type=, so a bad ARCO_PORT gets a usage error too.
    serve.add_argument("--port", type=_port, default=os.environ.get("ARCO_PORT", str(DEFAULT_PORT)),
                       help="port; 0 picks a free one (env ARCO_PORT; default %(default)s)")
    serve.add_argument("--db", default=os.environ.get("ARCO_DB", DEFAULT_DB),
                       help="the database: a SQLite path or sqlite:///PATH, or a PostgreSQL DSN "
                       "postgresql://USER@HOST:PORT/DATABASE (env ARCO_DB; default %(default)s)")
    serve.add_argument("--demo-catalog", action="store_true", help="apply the demo catalog at start (idempotent)")
    serve.add_argument("--standby", action="store_true",
                       help="while another server serves the database, wait and take over when it stops or dies "
                       "(default: exit at once)")
    serve.add_argument("--grace", type=float, default=10.0,
                       help="seconds in-flight calls get to finish on shutdown (default %(default)s)")


def run_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Serves until SIGTERM or SIGINT; returns the exit code."""
    from arco_grpc.server import serve
    from arco_grpc.store import StoreUnavailable

    try:
        return asyncio.run(
            serve(host=args.host, port=args.port, db=args.db, demo_catalog=args.demo_catalog, grace=args.grace,
                  standby=args.standby, out=out)
        )
    except (OSError, ValueError, StoreUnavailable) as error:
        # What a user can fix (a busy port, a bad --db) gets one line, not a traceback.
        print(f"arco serve: {error}", file=err)
        return 1
