"""Statements over many rows, run in as few SQLite steps as possible.

The writer thread lets go of the GIL around every SQLite step and takes it
back before the next. While the event loop is busy, taking it back waits for
the loop to hand it over (up to ``sys.getswitchinterval()``, 5 ms) and costs
two thread switches. ``executemany`` steps once per row; a multi-row
statement (``INSERT ... VALUES (...), (...)``, ``UPDATE ... FROM (VALUES
...)``, ``... IN (VALUES ...)``) steps once for many rows. (Measured with a
busy loop thread: sixteen inserts and a commit took 2.5 ms of CPU and 135 ms
as sixteen steps, 0.8 ms and 30 ms as one.) Up to 16 rows go in one step
of their exact count; more are cut into pieces whose sizes are multiples of
16 (a remainder up to 16 last), so that a statement has at most 31 texts,
prepared once each and kept in the connection's statement cache
(:data:`STATEMENT_CACHE_SIZE`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

# Rows per step at most: 256 rows of the widest row (30 columns) bind 7,680
# variables, well below SQLite's limit of 32,766.
MAX_ROWS_PER_STEP = 256
# Row counts up to this many get a text of their own; above it, pieces are multiples of it.
_EXACT_ROWS = 16
# Prepared statements the writer connection keeps: every row-count text of the hot statements, with room.
STATEMENT_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement over rows: ``head``, then ``row`` once per row (comma-separated), then ``tail``."""

    head: str
    row: str
    tail: str = ""

    @classmethod
    def values(cls, sql: str) -> Statement:
        """The statement of an ``INSERT ... VALUES (?, ...) [...]`` text written for one row."""
        start = sql.index("VALUES (") + len("VALUES ")
        end = sql.index(")", start) + 1
        return cls(sql[:start], sql[start:end], sql[end:])

    def sql(self, rows: int) -> str:
        """The text that runs ``rows`` rows in one step."""
        return _text(self, rows)


@lru_cache(maxsize=STATEMENT_CACHE_SIZE * 2)
def _text(statement: Statement, rows: int) -> str:
    return statement.head + ", ".join([statement.row] * rows) + statement.tail


def pieces(count: int) -> Iterator[tuple[int, int]]:
    """``(start, size)`` of consecutive pieces covering ``count`` rows: one piece for up to 16 rows, else
    pieces of a multiple of 16 rows (at most :data:`MAX_ROWS_PER_STEP`) and a remainder of up to 16."""
    start = 0
    while start < count:
        left = count - start
        size = left if left <= _EXACT_ROWS else min(MAX_ROWS_PER_STEP, left - left % _EXACT_ROWS)
        yield start, size
        start += size


def execute_rows(connection: sqlite3.Connection, statement: Statement, rows: Sequence[tuple[Any, ...]]) -> None:
    """Runs ``statement`` over ``rows``, in order, a few steps in all (on the writer thread).

    Raises:
        sqlite3.Error: a step failed; the pieces before it were applied (the caller rolls back).
    """
    for start, size in pieces(len(rows)):
        parameters = list(chain.from_iterable(rows[start : start + size]))
        connection.execute(statement.sql(size), parameters).close()
