"""One leased chunk inside a worker: its handler run, the outcome it maps to, and that outcome's report."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping

from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as ws
from arco_grpc.worker._task import ChunkFailure, ChunkHandler, ChunkTask, KeySource, PartialFailure, Progress

Outcome = ws.ChunkCompletion.Outcome
MAX_ERROR_CHARS = 4_000
CANCELLED_MESSAGE = "cancelled"


class Phase(enum.Enum):
    """Where an attempt is: its handler runs, its outcome is being reported, or it is over."""

    RUNNING = "running"
    REPORTING = "reporting"
    DONE = "done"


class Ending(enum.Enum):
    """Why a handler was stopped from outside, which decides what (if anything) is reported."""

    NONE = "none"
    STOP = "stop"  # the server asked: report FAILED "cancelled"
    LOST = "lost"  # the server no longer knows the lease: report nothing
    RELEASE = "release"  # shutdown grace ran out: give the chunk back, report nothing


class Attempt:
    """A leased chunk's attempt as the worker tracks it, from lease to report."""

    def __init__(self, chunk: ws.LeasedChunk, keys: KeySource) -> None:
        self.chunk = chunk
        self.task = ChunkTask(
            backfill_id=chunk.backfill_id,
            asset_key=chunk.asset_key,
            round=chunk.round,
            index=chunk.index,
            attempt=chunk.attempt,
            run_id=chunk.run_id,
            run_key=chunk.run_key,
            partition_count=chunk.partition_count,
            first_key=chunk.first_key,
            last_key=chunk.last_key,
            tags=dict(chunk.tags),
            cancelled=asyncio.Event(),
            key_source=keys,
            progress_sink=self._record_progress,
        )
        self.phase = Phase.RUNNING
        self.ending = Ending.NONE
        self.progress: Progress | None = None
        self.progress_sent: Progress | None = None
        self.handler_task: asyncio.Task[Mapping[str, str] | None] | None = None

    @property
    def run_id(self) -> str:
        """The run id, which names the lease."""
        return self.chunk.run_id

    @property
    def lease(self) -> ws.ChunkLease:
        """The lease, as sent back in heartbeats and reports."""
        return self.chunk.lease

    def describe(self) -> str:
        """A short name for logs: backfill, asset, round, index and attempt."""
        c = self.chunk
        return f"{c.backfill_id} {c.asset_key} r{c.round}#{c.index} attempt {c.attempt}"

    def _record_progress(self, progress: Progress) -> None:
        self.progress = progress

    def end(self, ending: Ending, cancel_now: bool) -> None:
        """Asks the handler to stop (sets ``cancelled``); with ``cancel_now``, cancels its coroutine too."""
        if self.phase is not Phase.RUNNING or self.ending is not Ending.NONE:
            return
        self.ending = ending
        self.task.cancelled.set()
        if cancel_now and self.handler_task is not None:
            self.handler_task.cancel()

    def force_stop(self) -> None:
        """Cancels the handler's coroutine if it is still running (a stop whose grace ran out)."""
        if self.phase is Phase.RUNNING and self.handler_task is not None:
            self.handler_task.cancel()

    async def run_handler(self, handler: ChunkHandler) -> ws.ChunkCompletion | None:
        """Runs the handler to its end; returns the completion to report, or None to report nothing."""
        async def call() -> Mapping[str, str] | None:
            return await handler(self.task)

        self.handler_task = asyncio.create_task(call(), name=f"arco-chunk-{self.run_id}")
        await asyncio.wait({self.handler_task})
        if self.ending in (Ending.LOST, Ending.RELEASE):
            return None
        if self.ending is Ending.STOP:
            return self._completion(Outcome.OUTCOME_FAILED, error=CANCELLED_MESSAGE)
        if self.handler_task.cancelled():
            # Cancelled from inside the handler (not by the worker): a failure like any other.
            return self._completion(Outcome.OUTCOME_FAILED, error="the handler was cancelled")
        error = self.handler_task.exception()
        if error is None:
            result = self.handler_task.result()
            return self._completion(Outcome.OUTCOME_SUCCEEDED, metadata=result if isinstance(result, Mapping) else None)
        if isinstance(error, PartialFailure):
            return await self._partial(error)
        if isinstance(error, ChunkFailure):
            return self._completion(Outcome.OUTCOME_FAILED, error=error.message)
        return self._completion(Outcome.OUTCOME_FAILED, error=_message_of(error))

    async def _partial(self, failure: PartialFailure) -> ws.ChunkCompletion:
        try:
            keys = set(await self.task.partition_keys())
        except Exception as error:  # a large chunk's keys could not be listed: fail it whole
            message = f"{failure.message} (the chunk's keys could not be listed to check them: {_message_of(error)})"
            return self._completion(Outcome.OUTCOME_FAILED, error=message)
        unknown = [k for k in failure.failed_keys if k not in keys]
        if unknown:
            shown = ", ".join(repr(k) for k in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            message = f"the handler reported failed partitions that are not in the chunk: {shown}; {failure.message}"
            return self._completion(Outcome.OUTCOME_FAILED, error=message)
        return self._completion(Outcome.OUTCOME_FAILED, error=failure.message, failed_keys=failure.failed_keys)

    def _completion(
        self,
        outcome: ws.ChunkCompletion.Outcome.ValueType,
        *,
        error: str = "",
        failed_keys: tuple[str, ...] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> ws.ChunkCompletion:
        return ws.ChunkCompletion(
            lease=self.lease,
            outcome=outcome,
            failed_partition_keys=failed_keys,
            error_message=_clip(error),
            metadata={str(k): str(v) for k, v in (metadata or {}).items()},
        )


def _message_of(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _clip(text: str) -> str:
    # The tail of a long message is where the cause usually is.
    return text if len(text) <= MAX_ERROR_CHARS else "..." + text[-(MAX_ERROR_CHARS - 3) :]
