"""What a handler gets (a :class:`ChunkTask`) and how it reports a partial failure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class ChunkFailure(Exception):
    """Raised by a handler to fail its whole chunk with exactly ``message`` as the run's error.

    Any other exception fails the chunk too, recorded as ``"Type: message"``.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class PartialFailure(ChunkFailure):
    """Raised by a handler when some partitions of its chunk failed and the others succeeded.

    The chunk is reported FAILED with exactly ``failed_keys``; a retry reruns
    only those. An empty ``failed_keys`` means every partition failed.
    """

    def __init__(self, failed_keys: Sequence[str], message: str = "") -> None:
        self.failed_keys: tuple[str, ...] = tuple(dict.fromkeys(failed_keys))
        super().__init__(message or f"{len(self.failed_keys)} partition(s) failed")


class KeySource(Protocol):
    """Where a task's partition keys come from (the lease itself, or the server for large chunks)."""

    async def keys(self) -> tuple[str, ...]:
        """The chunk's keys in dispatch order."""
        ...


@dataclass(frozen=True, slots=True)
class Progress:
    """The latest progress a handler reported for its chunk."""

    fraction: float
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class ChunkTask:
    """One leased chunk, handed to a handler: what to run, and the handles to report on it.

    ``cancelled`` is set when the server says stop (the backfill is being
    cancelled), when the lease was lost, or when a shutdown's grace period ran
    out: the handler should return soon after it is set.
    """

    backfill_id: str
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    run_key: str
    partition_count: int
    first_key: str
    last_key: str
    tags: Mapping[str, str]
    cancelled: asyncio.Event = field(repr=False)
    key_source: KeySource = field(repr=False)
    progress_sink: Callable[[Progress], None] = field(repr=False)

    async def partition_keys(self) -> tuple[str, ...]:
        """The chunk's partition keys in dispatch order.

        Chunks of up to 1,000 partitions carry their keys in the lease; larger
        ones are listed from the server on the first call, then cached.

        Raises:
            grpc.aio.AioRpcError: the server could not list the keys of a large chunk.
        """
        return await self.key_source.keys()

    def report_progress(self, fraction: float, message: str = "") -> None:
        """Records progress (0 to 1, and a short message); the next heartbeat sends the latest value.

        Raises:
            ValueError: ``fraction`` is outside [0, 1].
        """
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"progress fraction must be between 0 and 1, got {fraction}")
        self.progress_sink(Progress(fraction, message))


ChunkHandler = Callable[[ChunkTask], Awaitable[Mapping[str, str] | None]]
"""An async callable that runs one chunk: return (None, or metadata for the run) for SUCCEEDED, raise
:class:`PartialFailure` for a partial failure, raise anything else for FAILED (its message becomes the
run's error)."""


@dataclass(frozen=True, slots=True)
class StaticKeys:
    """Keys that came with the lease."""

    known: tuple[str, ...]

    async def keys(self) -> tuple[str, ...]:
        """The keys, as leased."""
        return self.known
