"""Event store benchmark (not a test): the same appends and reads on SQLite and on PostgreSQL, side by side.

For each backend (a temporary SQLite file; a fresh database on a PostgreSQL
server) it prints, as medians over the rounds:

- appends per second from one caller, and from 16 concurrent callers (one
  event each, with a request id: dedupe lookup, version check, insert,
  remembered answer, each a commit);
- units per second in batches of 64 units (one commit per batch: the server's
  group commit);
- events per second read back with read_all in pages of 1,000;
- PostgreSQL: statements sent per batch of 64 units (each a network round
  trip: what a database on another machine makes every commit wait for).

The last column ("PG via proxy") is the same server behind a proxy that delays
every packet (``--round-trip-ms``, default 1 ms: a database in the same data
centre), where each round trip of a commit costs what it would on a network.

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
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc.store import AppendUnit, EventStore, NewEvent, RequestRecord, StreamAppend, open_store  # noqa: E402
from arco_grpc.store.opening import is_postgres  # noqa: E402
from arco_grpc.store.postgres import PostgresEventStore  # noqa: E402
from arco_grpc.store.postgres._connection import StatementCounter  # noqa: E402
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


async def _statements_per_batch(store: EventStore, prefix: str, counter: StatementCounter) -> float:
    """Statements sent per batch of :data:`BATCH` units (each a network round trip once prepared), over 20 batches
    after 5 to warm up."""
    for number in range(25):
        if number == 5:
            await asyncio.sleep(0.01)  # the query loggers report soon after each statement
            before = counter.statements
        await store.append_batch([
            AppendUnit((StreamAppend(f"{prefix}-{number}-{n}", 0, (NewEvent("Thing", b"x" * 64),)),),
                       _request(f"{prefix}-{number}-{n}"), NOW)
            for n in range(BATCH)
        ])
    await asyncio.sleep(0.01)
    return (counter.statements - before) / 20


async def _reads(store: EventStore) -> float:
    """Events per second read back from the start, in pages of 1,000."""
    started, cursor, read = time.perf_counter(), 0, 0
    while page := await store.read_all(after_sequence=cursor, limit=1000):
        cursor, read = page[-1].sequence, read + len(page)
    return read / (time.perf_counter() - started)


async def _round(location: str, seconds: float) -> dict[str, float]:
    counter = StatementCounter()
    store = await (PostgresEventStore.open(location, connection_init=counter.attach) if is_postgres(location)
                   else open_store(location))
    try:
        figures = {
            "appends/s, 1 caller": await _appends(store, "one", 1, seconds),
            f"appends/s, {CALLERS} callers": await _appends(store, "many", CALLERS, seconds),
            f"units/s, batches of {BATCH}": await _batches(store, "batch", seconds),
            "events/s read (read_all)": await _reads(store),
        }
        if is_postgres(location):
            figures[f"statements per batch of {BATCH}"] = await _statements_per_batch(store, "counted", counter)
        return figures
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
    return {name: statistics.median(result[name] for result in results) for name in results[-1]}


class _DelayingProxy:
    """A TCP proxy in front of the PostgreSQL server that holds every chunk of bytes, each way, for half of
    ``round_trip_ms``: the database as if it were on another machine (in order: equal delays fire in order)."""

    def __init__(self, target_host: str, target_port: int, round_trip_ms: float) -> None:
        self._target = (target_host, target_port)
        self._delay = round_trip_ms / 2000
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _connected(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._target)
        await asyncio.gather(self._pump(client_reader, server_writer), self._pump(server_reader, client_writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await reader.read(65536):
                loop.call_later(self._delay, writer.write, data)
        finally:
            loop.call_later(self._delay, writer.close)


def _through(dsn: str, port: int) -> str:
    """``dsn`` with its host and port those of the proxy."""
    parts = urlsplit(dsn)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


async def _round_trip_ms(dsn: str) -> float:
    """The median time of a ``SELECT 1`` on ``dsn``, in milliseconds: one round trip."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        times = []
        for _ in range(50):
            started = time.perf_counter()
            await connection.fetchval("SELECT 1")
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        await connection.close()


async def _drop_database(admin: str, dsn: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}"')
    finally:
        await connection.close()


async def main(postgres: str | None, rounds: int, seconds: float, round_trip_ms: float) -> None:
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

        target = urlsplit(admin)
        proxy = _DelayingProxy(target.hostname or "127.0.0.1", target.port or 5432, round_trip_ms)
        proxy_port = await proxy.start()

        async def postgres_away() -> str:
            return _through(await fresh_database(admin), proxy_port)

        figures = {
            "SQLite (file)": await _measure(sqlite_file, keep, rounds, seconds),
            "PostgreSQL": await _measure(postgres_database, lambda dsn: _drop_database(admin, dsn), rounds, seconds),
            "PG via proxy": await _measure(
                postgres_away, lambda dsn: _drop_database(admin, dsn), rounds, seconds
            ),
        }
        measured_round_trips = (await _round_trip_ms(admin), await _round_trip_ms(_through(admin, proxy_port)))
        await proxy.close()
    print(f"a round trip (SELECT 1) takes {measured_round_trips[0]:.2f} ms to PostgreSQL, "
          f"{measured_round_trips[1]:.2f} ms through the proxy (asked for {round_trip_ms:g} ms)")
    names = list(dict.fromkeys(name for measured in figures.values() for name in measured))
    print(f"{'':32}" + "".join(f"{backend:>16}" for backend in figures))
    for name in names:
        print(f"{name:32}" + "".join(
            f"{'-':>16}" if name not in figures[backend] else
            f"{figures[backend][name]:16,.1f}" if name.startswith("statements") else f"{figures[backend][name]:16,.0f}"
            for backend in figures
        ))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="DSN of a PostgreSQL server whose user may create databases")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per backend; medians are printed")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each append measurement")
    parser.add_argument("--round-trip-ms", type=float, default=1.0,
                        help="network round trip of the last column's PostgreSQL (through a delaying proxy)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.postgres, arguments.rounds, arguments.seconds, arguments.round_trip_ms))
