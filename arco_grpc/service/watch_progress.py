"""Chunk progress that workers report in heartbeats, coalesced on its way to watchers.

Progress is not durable: it never enters the event table, carries no
sequence and is never replayed to a watcher that resumes. Workers may report
as often as they like; the :class:`ProgressThrottle` lets at most one update
per chunk through every ``min_interval`` seconds (the first at once, then the
latest of each interval at its end), and each watcher keeps only the latest
update per chunk (a bounded map), so a chatty worker can flood neither the
store nor the watchers.

The worker service calls :meth:`ProgressSink.publish_progress` for each
ChunkProgress of a Heartbeat; the server passes it the
:class:`~arco_grpc.service.watch_hub.WatchHub`, which is a ProgressSink.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# A worker's message is cut to this many characters on its way to watchers,
# so a watcher's pending progress has a fixed size bound.
MAX_MESSAGE_CHARS = 512
# At most this many updates per chunk per second reach watchers by default.
DEFAULT_UPDATES_PER_SECOND = 4.0
# The throttle remembers at most this many chunks; past it the oldest is
# forgotten (its pending update, if any, is lost: progress is best effort).
MAX_TRACKED_CHUNKS = 65_536

ChunkId = tuple[str, str, int, int]  # (backfill id, asset key, round, index)


@dataclass(frozen=True, slots=True)
class ChunkProgress:
    """The latest progress a worker reported for one chunk."""

    backfill_id: str
    asset_key: str
    round: int
    index: int
    run_id: str
    fraction: float
    message: str
    time: datetime

    @property
    def chunk(self) -> ChunkId:
        """Which chunk this is about: updates with the same chunk replace each other."""
        return (self.backfill_id, self.asset_key, self.round, self.index)


class ProgressSink(Protocol):
    """Where the worker service hands the progress of each heartbeat."""

    def publish_progress(
        self,
        backfill_id: str,
        asset_key: str,
        round: int,  # noqa: A002 - the proto's name for it
        index: int,
        run_id: str,
        fraction: float,
        message: str,
        time: datetime,
    ) -> None:
        """Offers one chunk's progress to the watchers of its backfill; never blocks, never writes to the store.

        Call it from the event loop (the Heartbeat handler). ``fraction`` is
        clamped to [0, 1]; ``message`` is cut to :data:`MAX_MESSAGE_CHARS`.
        """


def progress_of(
    backfill_id: str,
    asset_key: str,
    round_number: int,
    index: int,
    run_id: str,
    fraction: float,
    message: str,
    time: datetime,
) -> ChunkProgress:
    """A ChunkProgress with ``fraction`` clamped to [0, 1] (NaN reads as 0) and ``message`` cut to size."""
    clamped = 0.0 if fraction != fraction else min(1.0, max(0.0, fraction))  # noqa: PLR0124 - NaN check
    return ChunkProgress(
        backfill_id, asset_key, round_number, index, run_id, clamped, message[:MAX_MESSAGE_CHARS], time
    )


@dataclass(slots=True)
class _Window:
    """One chunk's rate-limit window: what arrived during it, to send when it ends."""

    pending: ChunkProgress | None
    timer: asyncio.TimerHandle | None = None


class ProgressThrottle:
    """Lets at most one update per chunk through per ``min_interval`` seconds, always the latest.

    The first update of a quiet chunk goes out at once and opens a window;
    updates during the window replace each other, and the last one goes out
    when the window ends (opening the next). A window that ends with nothing
    pending closes, so idle chunks cost nothing.
    """

    def __init__(self, emit: Callable[[ChunkProgress], None], updates_per_second: float = DEFAULT_UPDATES_PER_SECOND) -> None:
        if updates_per_second <= 0:
            raise ValueError(f"updates_per_second must be positive, got {updates_per_second}")
        self._emit = emit
        self._min_interval = 1.0 / updates_per_second
        self._windows: dict[ChunkId, _Window] = {}

    @property
    def tracked_chunks(self) -> int:
        """How many chunks have an open window."""
        return len(self._windows)

    def offer(self, update: ChunkProgress) -> None:
        """Sends ``update`` now if its chunk's window is closed, else keeps it as the window's latest."""
        window = self._windows.get(update.chunk)
        if window is not None:
            window.pending = update
            return
        if len(self._windows) >= MAX_TRACKED_CHUNKS:
            oldest_chunk = next(iter(self._windows))
            self._close(oldest_chunk)
        window = _Window(pending=None)
        self._windows[update.chunk] = window
        window.timer = asyncio.get_running_loop().call_later(self._min_interval, self._window_ended, update.chunk)
        self._emit(update)

    def _window_ended(self, chunk: ChunkId) -> None:
        window = self._windows.get(chunk)
        if window is None:
            return
        if window.pending is None:
            del self._windows[chunk]
            return
        update, window.pending = window.pending, None
        window.timer = asyncio.get_running_loop().call_later(self._min_interval, self._window_ended, chunk)
        self._emit(update)

    def _close(self, chunk: ChunkId) -> None:
        window = self._windows.pop(chunk)
        if window.timer is not None:
            window.timer.cancel()

    def close(self) -> None:
        """Forgets every window and cancels its timer (pending updates are dropped)."""
        for chunk in list(self._windows):
            self._close(chunk)
