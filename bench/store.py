"""Event store benchmark (not a test): the same appends and reads on SQLite and on PostgreSQL, side by side.

For each backend (a temporary SQLite file; a fresh database on a PostgreSQL
server) it prints, as medians over the rounds:

- appends per second from one caller, and from 16 concurrent callers (one
  event each, with a request id: dedupe lookup, version check, insert,
  remembered answer, each a commit);
- units per second in batches of 64 units (one commit per batch: the server's
  group commit);
- events per second read back with read_all in pages of 1,000.

PostgreSQL: ``--postgres DSN`` names a server whose user may create databases
(one is created and dropped per round); without it a private server is started
from the binaries the tests use (tests/postgres_server.py).

Run: .venv/bin/python bench/store.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc.store import AppendUnit, EventStore, NewEvent, RequestRecord, StreamAppend, open_store  # noqa: E402
from tests.postgres_server import fresh_database, running_server  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
CALLERS = 16
BATCH = 64


def _request(name: str) -> RequestRecord:
    return RequestRecord(name, "Bench/Append", "f", b"answer")


async def _appends(store: EventStore, prefix: str, callers: int, seconds: float) -> float:
    """Appends per second from ``callers`` concurrent callers, each on its own stream."""
    deadline = time.perf_counter() + seconds
    counts = [0] * callers

    async def caller(number: int) -> None:
        version = 0
        while time.perf_counter() < deadline:
            await store.append(f"{prefix}-{number}", version, [NewEvent("Thing", b"x" * 64)],
                               request=_request(f"{prefix}-{number}-{version}"), recorded_at=NOW)
            version += 1
            counts[number] += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(n) for n in range(callers)))
    return sum(counts) / (time.perf_counter() - started)


async def _batches(store: EventStore, prefix: str, seconds: float) -> float:
    """Units per second in batches of :data:`BATCH` units, one stream each."""
    deadline, units, batch_number = time.perf_counter() + seconds, 0, 0
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        batch = [
            AppendUnit((StreamAppend(f"{prefix}-{batch_number}-{n}", 0, (NewEvent("Thing", b"x" * 64),)),),
                       _request(f"{prefix}-{batch_number}-{n}"), NOW)
            for n in range(BATCH)
        ]
        await store.append_batch(batch)
        units, batch_number = units + BATCH, batch_number + 1
    return units / (time.perf_counter() - started)


async def _reads(store: EventStore) -> float:
    """Events per second read back from the start, in pages of 1,000."""
    started, cursor, read = time.perf_counter(), 0, 0
    while page := await store.read_all(after_sequence=cursor, limit=1000):
        cursor, read = page[-1].sequence, read + len(page)
    return read / (time.perf_counter() - started)


async def _round(location: str, seconds: float) -> dict[str, float]:
    store = await open_store(location)
    try:
        return {
            "appends/s, 1 caller": await _appends(store, "one", 1, seconds),
            f"appends/s, {CALLERS} callers": await _appends(store, "many", CALLERS, seconds),
            f"units/s, batches of {BATCH}": await _batches(store, "batch", seconds),
            "events/s read (read_all)": await _reads(store),
        }
    finally:
        await store.close()


async def _measure(
    new_location: Callable[[], Awaitable[str]], discard: Callable[[str], Awaitable[None]], rounds: int, seconds: float
) -> dict[str, float]:
    results = []
    for _ in range(rounds):
        location = await new_location()
        try:
            results.append(await _round(location, seconds))
        finally:
            await discard(location)
    return {name: statistics.median(result[name] for result in results) for name in results[0]}


async def _drop_database(admin: str, dsn: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}"')
    finally:
        await connection.close()


async def main(postgres: str | None, rounds: int, seconds: float) -> None:
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        admin = postgres or stack.enter_context(running_server(durable=True))
        files = iter(range(rounds))

        async def sqlite_file() -> str:
            return f"sqlite:///{directory / f'events-{next(files)}.db'}"

        async def postgres_database() -> str:
            return await fresh_database(admin)

        async def keep(location: str) -> None:
            """The temporary directory goes at the end."""

        figures = {
            "SQLite (file)": await _measure(sqlite_file, keep, rounds, seconds),
            "PostgreSQL": await _measure(postgres_database, lambda dsn: _drop_database(admin, dsn), rounds, seconds),
        }
    names = list(next(iter(figures.values())))
    print(f"{'':32}" + "".join(f"{backend:>16}" for backend in figures))
    for name in names:
        print(f"{name:32}" + "".join(f"{figures[backend][name]:16,.0f}" for backend in figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="DSN of a PostgreSQL server whose user may create databases")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per backend; medians are printed")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each append measurement")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.postgres, arguments.rounds, arguments.seconds))
