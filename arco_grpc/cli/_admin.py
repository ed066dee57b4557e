"""``arco admin ...``: maintenance on a database, without a server."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any, TextIO

from arco_grpc.cli._serve import DEFAULT_DB


def add_admin_commands(commands: Any) -> None:
    """Adds ``admin rebuild-projections`` to the subcommands."""
    admin = commands.add_parser("admin", help="maintenance on a database", description="Maintenance commands.")
    verbs = admin.add_subparsers(dest="verb", required=True)
    rebuild = verbs.add_parser(
        "rebuild-projections",
        help="rebuild every projection from the events",
        description=(
            "Empty every projection table (assets, dynamic partitions, backfills, chunks, runs, ...) and refill it "
            "from the append-only event log, in one transaction. Safe to run at any time: the result equals what "
            "the server keeps up to date."
        ),
    )
    rebuild.add_argument("--db", default=os.environ.get("ARCO_DB", DEFAULT_DB),
                         help="the database: a SQLite path or sqlite:///PATH, or a PostgreSQL DSN "
                         "postgresql://USER@HOST:PORT/DATABASE (env ARCO_DB; default %(default)s)")


async def _rebuild(db: str) -> int:
    from arco_grpc.service.rebuild import rebuild_projections
    from arco_grpc.store import open_store

    store = await open_store(db)
    try:
        return await rebuild_projections(store)
    finally:
        await store.close()


def run_admin(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs an admin verb; returns the exit code."""
    from arco_grpc.store import StoreUnavailable
    from arco_grpc.store.opening import shown

    if args.verb == "rebuild-projections":
        if "://" not in args.db and args.db != ":memory:" and not os.path.exists(args.db):
            print(f"arco admin rebuild-projections: no database at {args.db!r}", file=err)
            return 1
        try:
            replayed = asyncio.run(_rebuild(args.db))
        except (OSError, ValueError, StoreUnavailable) as error:
            print(f"arco admin rebuild-projections: {error}", file=err)
            return 1
        print(f"rebuilt every projection of {shown(args.db)} from {replayed} events", file=out)
        return 0
    raise AssertionError(f"unhandled admin verb {args.verb!r}")
