"""The single writer connection: a plain sqlite3 connection owned by one dedicated thread.

Every call is one hop to that thread. :meth:`WriterConnection.run` runs a
whole function there, so a group commit (check, insert, project, commit) is
one hop however many statements it runs: with the event loop busy, each hop
can wait for the GIL, so the hot path makes exactly one. The async methods
mirror the part of aiosqlite's API the rest of the store uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from arco_grpc.store.sqlite._statements import STATEMENT_CACHE_SIZE

T = TypeVar("T")

# How long to wait before trying a pragma again that found the database locked.
_LOCKED_RETRY_SECONDS = 0.005


def run_pragma(connection: sqlite3.Connection, pragma: str, deadline: float) -> None:
    """Runs ``pragma``; while it finds the database locked, tries again until ``deadline`` (monotonic).

    Switching a new file to WAL needs the write lock, which another connection opening the file at the
    same moment may hold, and SQLite then fails at once instead of waiting for busy_timeout.
    """
    while True:
        try:
            connection.execute(pragma)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_LOCKED_RETRY_SECONDS)


class WriterConnection:
    """One sqlite3 connection used only from its own thread."""

    def __init__(self, executor: ThreadPoolExecutor, connection: sqlite3.Connection) -> None:
        self._executor = executor
        self._connection = connection

    @classmethod
    async def open(cls, path: str, pragmas: Sequence[str], busy_seconds: float = 0.0) -> WriterConnection:
        """Opens ``path`` in a new writer thread and runs ``pragmas`` on it; a pragma that finds the database
        locked is tried again for up to ``busy_seconds``.

        Raises:
            sqlite3.Error: the database cannot be opened.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arco-sqlite-writer")

        def connect() -> sqlite3.Connection:
            # isolation_level=None: the driver never opens transactions behind our back.
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, cached_statements=STATEMENT_CACHE_SIZE
            )
            try:
                for pragma in pragmas:
                    run_pragma(connection, pragma, time.monotonic() + busy_seconds)
            except BaseException:
                connection.close()
                raise
            return connection

        try:
            connection = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, connection)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``work`` with the connection, on the writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._connection)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """Runs one statement."""
        await self.run(lambda connection: connection.execute(sql, parameters).close())

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Runs one statement over many rows."""
        batch = list(rows)
        await self.run(lambda connection: connection.executemany(sql, batch).close())

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """Runs one query and returns its rows."""
        return await self.run(lambda connection: connection.execute(sql, parameters).fetchall())

    async def close(self) -> None:
        """Closes the connection and ends the thread."""
        try:
            await self.run(lambda connection: connection.close())
        finally:
            self._executor.shutdown(wait=True)
