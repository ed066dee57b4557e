"""Group commit: one writer task appends what concurrent requests decided, in one transaction per round.

With ``synchronous=FULL`` a commit costs a disk flush, so a transaction per
request caps throughput at the flush rate. Requests instead decide in memory,
:meth:`GroupCommitter.submit` their append units and wait; the writer takes
every unit queued so far, appends them all with one
:meth:`~arco_grpc.store.EventStore.append_batch` (one commit), then resolves
each waiter with its unit's result. While it commits, the next round queues
up, so the batch grows with the load. Nothing is answered before its events
are durable; each unit stays all-or-nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from arco_grpc.errors import ArcoError
from arco_grpc.service.watch_hub import announce_committed
from arco_grpc.store import AppendResult, AppendUnit, EventStore, StoreUnavailable

logger = logging.getLogger(__name__)

# Units per transaction at most; a bigger backlog commits in several rounds.
MAX_UNITS_PER_COMMIT = 4096
AfterCommit = Callable[[str], None]
Outcome = AppendResult | ArcoError


@dataclass(slots=True)
class _Pending:
    unit: AppendUnit
    method: str
    done: asyncio.Future[Outcome]


class GroupCommitter:
    """Appends units submitted by concurrent requests in shared transactions; see the module docstring."""

    def __init__(self, store: EventStore, after_commit: AfterCommit | None = None) -> None:
        self._store = store
        self._after_commit = after_commit
        self._queue: list[_Pending] = []
        self._work = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self.commits = 0
        self.units = 0

    def start(self) -> None:
        """Starts the writer task."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_forever(), name="group-commit-writer")

    def submit(self, unit: AppendUnit, method: str = "") -> asyncio.Future[Outcome]:
        """Queues ``unit``; the future resolves with its result (or the error that refused it) once committed.

        ``method`` names the RPC, for the test-only after-commit hook.

        Raises:
            StoreUnavailable: the committer is closed.
        """
        if self._closed:
            raise StoreUnavailable("the server is shutting down; retry against the restarted server")
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(unit, method, done))
        self._idle.clear()
        self._work.set()
        return done

    async def flush(self) -> None:
        """Waits until every unit submitted so far is committed (or refused)."""
        while self._queue or not self._idle.is_set():
            await self._idle.wait()

    async def _write_forever(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_UNITS_PER_COMMIT], self._queue[MAX_UNITS_PER_COMMIT:]
                await self._commit(batch)
            self._idle.set()

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            results: list[Outcome] = await self._store.append_batch([pending.unit for pending in batch])
        except ArcoError as error:
            results = [error] * len(batch)
        except Exception as error:  # noqa: BLE001 - a writer bug must not strand the waiters
            logger.exception("group commit failed")
            results = [StoreUnavailable(f"the write failed: {error}")] * len(batch)
        self.commits += 1
        self.units += len(batch)
        committed = [event for result in results if isinstance(result, AppendResult) for event in result.events]
        announce_committed(self._store, committed)
        for pending, result in zip(batch, results):
            if pending.done.done():
                continue
            if self._after_commit is not None and isinstance(result, AppendResult) and not result.replayed:
                try:
                    self._after_commit(pending.method)
                except Exception as error:  # noqa: BLE001 - a failing hook loses this answer, not the writer
                    pending.done.set_exception(error)
                    continue
            pending.done.set_result(result)

    async def close(self) -> None:
        """Commits what is queued, then stops the writer."""
        self._closed = True
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None
