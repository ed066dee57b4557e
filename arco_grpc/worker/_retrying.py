"""Calls that ride out a server restart: transient gRPC errors are retried with capped, jittered backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

logger = logging.getLogger("arco_grpc.worker")

T = TypeVar("T")

# What a restarting or briefly overloaded server answers. ABORTED is a write
# conflict inside the server (none of the worker RPCs carries an expected
# version), and CANCELLED reaching us as an AioRpcError came from the server
# (our own cancellations raise asyncio.CancelledError instead): both pass.
TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
    }
)


def is_transient(error: grpc.aio.AioRpcError) -> bool:
    """True when trying the same call again later may succeed."""
    return error.code() in TRANSIENT_CODES


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: ``initial`` seconds, times ``multiplier`` each time, at most ``maximum``.

    Each delay is jittered down to half of it, so workers that lost the same
    server do not come back in lockstep.
    """

    initial: float = 0.1
    multiplier: float = 2.0
    maximum: float = 2.0

    def delay(self, failures: int) -> float:
        """The pause after the ``failures``-th failure in a row (1 for the first)."""
        full = min(self.maximum, self.initial * self.multiplier ** max(0, failures - 1))
        return full * random.uniform(0.5, 1.0)


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    backoff: Backoff,
    give_up: asyncio.Event | None = None,
) -> T:
    """Awaits ``call()`` until it returns or fails with a non-transient error.

    ``give_up``, when set, ends the retrying: the last transient error is
    raised instead of waiting for another attempt.

    Raises:
        grpc.aio.AioRpcError: a non-transient error, or a transient one once ``give_up`` is set.
    """
    failures = 0
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            if not is_transient(error) or (give_up is not None and give_up.is_set()):
                raise
            failures += 1
            pause = backoff.delay(failures)
            if failures == 1 or failures % 10 == 0:
                logger.warning("%s: %s (%s); retrying in %.2f s", what, error.code().name, error.details(), pause)
            if give_up is None:
                await asyncio.sleep(pause)
            else:
                try:
                    await asyncio.wait_for(give_up.wait(), pause)
                except asyncio.TimeoutError:
                    pass
