"""Running a worker as a process: SIGTERM or SIGINT start a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Sequence

from arco_grpc.worker._worker import Worker

logger = logging.getLogger("arco_grpc.worker")


async def run_until_signalled(
    worker: Worker,
    *,
    grace: float = 30.0,
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Runs ``worker`` until one of ``signals`` arrives, then shuts it down with ``grace`` seconds.

    A second signal shortens the grace to nothing: running handlers are
    cancelled and their chunks released at once. Outside the main thread no
    handler can be installed, and this is just ``await worker.run()``.

    Raises:
        grpc.aio.AioRpcError: as :meth:`Worker.run`.
    """
    loop = asyncio.get_running_loop()
    received: list[int] = []
    shutdowns: list[asyncio.Task[None]] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        wait = grace if len(received) == 1 else 0.0
        logger.info("%s: stopping (grace %.1f s)", signal.Signals(signum).name, wait)
        shutdowns.append(asyncio.ensure_future(worker.shutdown(wait)))

    # Signal handlers can only be installed from the main thread; elsewhere
    # (an embedding application's thread) the caller stops the worker itself.
    installed = tuple(signals) if threading.current_thread() is threading.main_thread() else ()
    for signum in installed:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await worker.run()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        for shutdown in shutdowns:
            await shutdown
