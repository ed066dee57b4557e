"""The worker SDK: lease chunks of running backfills from an arco server and run them.

A handler is an async callable that receives a :class:`ChunkTask` and returns
(SUCCEEDED), raises :class:`PartialFailure` (some partitions failed), or raises
:class:`ChunkFailure` or anything else (FAILED)::

    from arco_grpc.worker import ChunkTask, PartialFailure, Worker, run_until_signalled

    async def materialize(task: ChunkTask) -> None:
        for n, key in enumerate(await task.partition_keys()):
            if task.cancelled.is_set():
                return
            ...  # build partition `key` of task.asset_key
            task.report_progress((n + 1) / task.partition_count, key)

    worker = Worker("127.0.0.1:50051", "worker-1", materialize, max_concurrent_chunks=4)
    asyncio.run(run_until_signalled(worker, grace=30))

:class:`ExecHandler` is the handler behind ``arco worker --exec CMD``: it runs a
shell command per chunk.
"""

from arco_grpc.worker._exec import CommandCancelled, CommandFailed, ExecHandler
from arco_grpc.worker._retrying import Backoff
from arco_grpc.worker._signals import run_until_signalled
from arco_grpc.worker._task import ChunkFailure, ChunkHandler, ChunkTask, PartialFailure
from arco_grpc.worker._worker import Worker

__all__ = [
    "Backoff",
    "ChunkFailure",
    "ChunkHandler",
    "ChunkTask",
    "CommandCancelled",
    "CommandFailed",
    "ExecHandler",
    "PartialFailure",
    "Worker",
    "run_until_signalled",
]
