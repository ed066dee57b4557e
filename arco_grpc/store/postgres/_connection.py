"""asyncpg connections as the shared queries expect them, and the driver's errors as a person reads them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg

# What a database that cannot be reached or used raises: the server's errors, the driver's (a closed or
# broken connection, a closing pool), the network's (refused, reset, timed out).
DRIVER_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered as PostgreSQL wants them (``$1``, ``$2``, ...).

    The shared statements put ``?`` nowhere but in placeholders (no string literal holds one).
    """
    parts = sql.split("?")
    return parts[0] + "".join(f"${number}{part}" for number, part in enumerate(parts[1:], start=1))


class PgConnection:
    """An asyncpg connection answering :class:`~arco_grpc.store.sql.reads.Queryable` (``?`` placeholders)."""

    __slots__ = ("raw",)

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[asyncpg.Record]:
        """The rows of one query."""
        return await self.raw.fetch(numbered(sql), *parameters)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs one statement over many rows (pipelined: one round trip for the lot)."""
        await self.raw.executemany(numbered(sql), rows)

    async def execute(self, sql: str, *parameters: Any) -> str:
        """Runs one statement; returns its status ("UPDATE 1", ...)."""
        return await self.raw.execute(numbered(sql), *parameters)


class StatementCounter:
    """Counts the statements sent on the connections it is attached to (for benchmarks: each is a round
    trip once prepared; asyncpg prepares a statement on a connection the first time it is sent, one more)."""

    def __init__(self) -> None:
        self.statements = 0

    async def attach(self, connection: asyncpg.Connection) -> None:
        """Counts ``connection``'s statements from now on (a pool's ``init``)."""
        connection.add_query_logger(self._count)

    async def settled(self) -> int:
        """The count, once every statement already answered is in it (asyncpg reports them a turn of the
        event loop later)."""
        await asyncio.sleep(0)
        return self.statements

    def _count(self, query: asyncpg.connection.LoggedQuery) -> None:
        self.statements += 1


def describe(dsn: str) -> str:
    """The database a DSN names, for messages: user, host, port and database; never the password."""
    parts = urlsplit(dsn)
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or "localhost"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise ValueError(f"the PostgreSQL DSN for {user}{host}{parts.path} has a port that is not a number") from None
    return f"postgresql://{user}{host}{port}{parts.path}"


def reason(error: BaseException) -> str:
    """One line saying what went wrong (the error's own text, or its type when it has none)."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, OSError):
        return f"{text} (is the server running, and are the host and port right?)"
    return text
