"""The worker: leases chunks, runs a handler per chunk, heartbeats its leases, reports outcomes, stops gracefully."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as ws, worker_service_pb2_grpc
from arco_grpc.worker._attempt import Attempt, Ending, Phase
from arco_grpc.worker._keys import RemoteKeys
from arco_grpc.worker._retrying import Backoff, call_with_retry, is_transient
from arco_grpc.worker._task import ChunkHandler, KeySource, StaticKeys

logger = logging.getLogger("arco_grpc.worker")

MAX_POLL_SECONDS = 60.0
RPC_TIMEOUT_SECONDS = 10.0
RELEASE_TIMEOUT_SECONDS = 5.0
RECOVERY_TIMEOUT_SECONDS = 0.25
# A restarted server comes back within a second or two; gRPC's own reconnect
# backoff (up to 120 s by default) would keep the worker away far longer.
DEFAULT_CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
)


class Worker:
    """Pulls chunks from an arco server and runs ``handler`` on each, as a Temporal worker polls a task queue.

    ``await worker.run()`` long-polls WorkerService.LeaseChunks whenever fewer
    than ``max_concurrent_chunks`` chunks are held, runs the handler on each
    leased chunk, heartbeats every held lease in one Heartbeat call every
    ``heartbeat_interval`` seconds (default a third of ``lease_ttl``) with the
    latest progress, and reports each outcome with CompleteChunk, retrying
    transient errors until the server answers, so a server restart loses no
    report. ``await worker.shutdown(grace)`` stops leasing, lets running
    handlers finish for up to ``grace`` seconds, gives the rest back with
    ReleaseChunks and makes ``run()`` return.

    The handler returns (optionally a mapping of metadata for the run) for
    SUCCEEDED, raises :class:`PartialFailure` for a partial failure, and raises
    anything else for FAILED. When the server says stop (the backfill is being
    cancelled) ``task.cancelled`` is set; a handler still running
    ``cancel_grace`` seconds later is cancelled, and the chunk is reported
    FAILED "cancelled". A lease the server reports lost is abandoned at once:
    its handler is cancelled and nothing is reported.

    Args:
        target: the server's ``host:port``.
        worker_id: this worker's id, shown on its runs (stable across restarts is best).
        handler: the async callable that runs one chunk.
        max_concurrent_chunks: the most chunks held (running or being reported) at once.
        max_chunks_per_lease: the most chunks one LeaseChunks call asks for (default: every free slot).
        lease_ttl: seconds a lease lasts without a heartbeat (1 to 3600).
        heartbeat_interval: seconds between heartbeats (default ``lease_ttl / 3``).
        poll_timeout: seconds one LeaseChunks call waits for work (0 to 60).
        asset_keys: only lease chunks of these assets (empty: any).
        tags: only lease chunks of backfills carrying all these tags.
        cancel_grace: seconds a handler gets after a stop before it is cancelled.
        backoff: delays between retries of transient errors.
        channel_options: extra gRPC channel options (they override the defaults).

    Raises:
        ValueError: an argument is out of range.
    """

    def __init__(
        self,
        target: str,
        worker_id: str,
        handler: ChunkHandler,
        *,
        max_concurrent_chunks: int = 1,
        max_chunks_per_lease: int | None = None,
        lease_ttl: float = 30.0,
        heartbeat_interval: float | None = None,
        poll_timeout: float = 10.0,
        asset_keys: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
        cancel_grace: float = 10.0,
        backoff: Backoff = Backoff(),
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        if not worker_id:
            raise ValueError("worker_id must not be empty")
        if max_concurrent_chunks < 1:
            raise ValueError(f"max_concurrent_chunks must be at least 1, got {max_concurrent_chunks}")
        if max_chunks_per_lease is not None and max_chunks_per_lease < 1:
            raise ValueError(f"max_chunks_per_lease must be at least 1, got {max_chunks_per_lease}")
        if not 1.0 <= lease_ttl <= 3600.0:
            raise ValueError(f"lease_ttl must be between 1 and 3600 seconds, got {lease_ttl}")
        interval = lease_ttl / 3 if heartbeat_interval is None else heartbeat_interval
        if not 0.0 < interval < lease_ttl:
            raise ValueError(f"heartbeat_interval must be above 0 and below lease_ttl ({lease_ttl} s), got {interval}")
        if not 0.0 <= poll_timeout <= MAX_POLL_SECONDS:
            raise ValueError(f"poll_timeout must be between 0 and {MAX_POLL_SECONDS:.0f} seconds, got {poll_timeout}")
        self.target = target
        self.worker_id = worker_id
        self._handler = handler
        self._slots = max_concurrent_chunks
        self._per_lease = max_chunks_per_lease or max_concurrent_chunks
        self._lease_ttl = lease_ttl
        self._interval = interval
        self._poll_timeout = poll_timeout
        self._asset_keys = tuple(asset_keys)
        self._tags = dict(tags or {})
        self._cancel_grace = cancel_grace
        self._backoff = backoff
        self._channel_options = (*DEFAULT_CHANNEL_OPTIONS, *channel_options)
        self._held: dict[str, Attempt] = {}
        self._runners: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()  # something was leased, finished or asked to stop
        self._stopping = asyncio.Event()
        self._give_up = asyncio.Event()  # shutdown's grace is over: stop retrying reports
        self._deadline: float | None = None  # when shutdown's grace runs out (loop time)
        self._started = False
        self._done = asyncio.Event()

    @property
    def held_run_ids(self) -> tuple[str, ...]:
        """The run ids of the chunks held right now (running or being reported)."""
        return tuple(self._held)

    async def run(self) -> None:
        """Leases and runs chunks until :meth:`shutdown`; returns once every held chunk is reported or released.

        Raises:
            RuntimeError: the worker was already started.
            grpc.aio.AioRpcError: the server refused to lease for a reason retrying cannot fix
                (for example UNIMPLEMENTED, or INVALID_ARGUMENT for a bad filter).
        """
        if self._started:
            raise RuntimeError("a Worker runs once; create a new one")
        self._started = True
        try:
            async with grpc.aio.insecure_channel(self.target, options=self._channel_options) as channel:
                self._workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
                self._catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
                self._backfills = backfill_service_pb2_grpc.BackfillServiceStub(channel)
                heartbeats = asyncio.create_task(self._heartbeat_loop(), name="arco-heartbeats")
                try:
                    await self._lease_loop()
                    await self._drain()
                finally:
                    heartbeats.cancel()
                    for runner in self._runners:
                        runner.cancel()
                    await asyncio.gather(heartbeats, return_exceptions=True)
                    if self._runners:
                        await asyncio.wait(set(self._runners), timeout=self._cancel_grace + 1.0)
        finally:
            self._done.set()

    async def shutdown(self, grace: float = 30.0) -> None:
        """Stops leasing, lets running handlers finish for up to ``grace`` seconds, releases the rest.

        Returns once :meth:`run` has returned (at once if it never started).
        Calling it again with a smaller ``grace`` shortens the wait.
        """
        if not self._started:
            return
        deadline = asyncio.get_running_loop().time() + max(0.0, grace)
        self._deadline = deadline if self._deadline is None else min(deadline, self._deadline)
        self._stopping.set()
        self._changed.set()
        await self._done.wait()

    # -- leasing --------------------------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        while not self._stopping.is_set():
            free = self._slots - len(self._held)
            if free <= 0:
                self._changed.clear()
                await self._changed.wait()
                continue
            chunks = await self._lease(min(free, self._per_lease))
            for chunk in chunks:
                self._start(chunk)

    async def _lease(self, count: int) -> Sequence[ws.LeasedChunk]:
        """One long poll; a stop cancels it and gives back whatever it may have leased."""
        request = ws.LeaseChunksRequest(
            worker_id=self.worker_id,
            max_chunks=count,
            asset_keys=self._asset_keys,
            tags=self._tags,
            wait_timeout=timedelta(seconds=self._poll_timeout),
            lease_ttl=timedelta(seconds=self._lease_ttl),
            request_id=f"{self.worker_id}/{uuid.uuid4()}",
        )
        poll = asyncio.create_task(
            call_with_retry(
                lambda: self._workers.LeaseChunks(request, timeout=self._poll_timeout + RPC_TIMEOUT_SECONDS),
                what="LeaseChunks",
                backoff=self._backoff,
            )
        )
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if poll.done():
            return list(poll.result().chunks)
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)
        # The cancelled call may have leased chunks whose answer never arrived.
        # The very same request (the server refuses a changed body under the
        # same id) replays them at once; if the first call leased nothing, it is
        # a new poll, cut short by the deadline. Whatever comes back goes back.
        try:
            recovered = await self._workers.LeaseChunks(request, timeout=RECOVERY_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError:
            return []  # nothing to give back (or the server is gone, and leases lapse)
        await self._release([c.lease for c in recovered.chunks])
        return []

    def _start(self, chunk: ws.LeasedChunk) -> None:
        keys: KeySource
        if len(chunk.partition_keys) == chunk.partition_count:
            keys = StaticKeys(tuple(chunk.partition_keys))
        else:
            keys = RemoteKeys(chunk, self._catalog, self._backfills, self._backoff)
        attempt = Attempt(chunk, keys)
        self._held[attempt.run_id] = attempt
        logger.info("leased %s: %d partitions %s..%s, run %s", attempt.describe(), chunk.partition_count,
                    chunk.first_key, chunk.last_key, chunk.run_key)
        runner = asyncio.create_task(self._run_attempt(attempt), name=f"arco-attempt-{attempt.run_id}")
        self._runners.add(runner)
        runner.add_done_callback(self._runners.discard)

    # -- running and reporting ---------------------------------------------------------------------------

    async def _run_attempt(self, attempt: Attempt) -> None:
        try:
            completion = await attempt.run_handler(self._handler)
            if completion is None:
                if attempt.ending is Ending.LOST:
                    logger.warning("abandoned %s: the server no longer knows its lease", attempt.describe())
                return
            attempt.phase = Phase.REPORTING
            completion.worker_id = self.worker_id
            await self._report(attempt, completion)
        finally:
            attempt.phase = Phase.DONE
            if attempt.ending is not Ending.RELEASE:
                self._held.pop(attempt.run_id, None)
            self._changed.set()

    async def _report(self, attempt: Attempt, completion: ws.ChunkCompletion) -> None:
        request = ws.CompleteChunkRequest(completion=completion)
        outcome = ws.ChunkCompletion.Outcome.Name(completion.outcome).removeprefix("OUTCOME_").lower()
        try:
            response = await call_with_retry(
                lambda: self._workers.CompleteChunk(request, timeout=RPC_TIMEOUT_SECONDS),
                what=f"CompleteChunk {attempt.describe()}",
                backoff=self._backoff,
                give_up=self._give_up,
            )
        except grpc.aio.AioRpcError as error:
            if is_transient(error):
                logger.warning("gave up reporting %s at shutdown: %s; its lease will lapse and the chunk rerun",
                               attempt.describe(), error.details())
            else:
                logger.warning("the server refused the outcome of %s (%s): %s", attempt.describe(),
                               error.code().name, error.details())
            return
        detail = f": {completion.error_message}" if completion.error_message else ""
        retry = " (will retry)" if response.will_retry else ""
        logger.info("%s %s, run %s%s%s", outcome, attempt.describe(), attempt.chunk.run_key, retry, detail)

    # -- heartbeats -----------------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self._backoff.delay(failures) if failures else self._interval)
            attempts = list(self._held.values())
            if not attempts:
                failures = 0
                continue
            progress = [a.progress for a in attempts]
            request = ws.HeartbeatRequest(
                worker_id=self.worker_id,
                leases=[a.lease for a in attempts],
                progress=[
                    ws.ChunkProgress(lease=a.lease, fraction=p.fraction, message=p.message)
                    for a, p in zip(attempts, progress)
                    if p is not None and p != a.progress_sent
                ],
                lease_ttl=timedelta(seconds=self._lease_ttl),
            )
            try:
                response = await self._workers.Heartbeat(request, timeout=min(self._interval, RPC_TIMEOUT_SECONDS))
            except grpc.aio.AioRpcError as error:
                failures += 1
                log = logger.warning if failures == 1 or not is_transient(error) else logger.debug
                log("heartbeat failed (%s): %s", error.code().name, error.details())
                continue
            failures = 0
            for attempt, sent in zip(attempts, progress):
                attempt.progress_sent = sent
            self._apply(response)

    def _apply(self, response: ws.HeartbeatResponse) -> None:
        for lease in response.stop:
            attempt = self._held.get(lease.run_id)
            if attempt is not None and attempt.phase is Phase.RUNNING and attempt.ending is Ending.NONE:
                logger.info("stop %s: its backfill is being cancelled", attempt.describe())
                attempt.end(Ending.STOP, cancel_now=False)
                asyncio.get_running_loop().call_later(self._cancel_grace, attempt.force_stop)
        for lease in response.lost:
            attempt = self._held.get(lease.run_id)
            # A lease being reported is left to the report: an idempotent
            # CompleteChunk tells whether the outcome was already recorded.
            if attempt is not None and attempt.phase is Phase.RUNNING:
                attempt.end(Ending.LOST, cancel_now=True)

    # -- shutdown ------------------------------------------------------------------------------------

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self._runners:
            logger.info("stopping: waiting up to %.1f s for %d chunk(s)", (self._deadline or 0) - loop.time(),
                        len(self._runners))
        # Wakes on every finished chunk and on a second shutdown with a shorter grace.
        while self._runners and self._deadline is not None and loop.time() < self._deadline:
            self._changed.clear()
            changed = asyncio.create_task(self._changed.wait())
            await asyncio.wait({changed, *self._runners}, timeout=self._deadline - loop.time(),
                               return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
        self._give_up.set()
        unfinished = [a for a in self._held.values() if a.phase is Phase.RUNNING]
        for attempt in unfinished:
            attempt.end(Ending.RELEASE, cancel_now=True)
        if self._runners:
            # A cancelled handler gets cancel_grace to clean up (an exec child is terminated, then killed).
            await asyncio.wait(set(self._runners), timeout=self._cancel_grace + 1.0)
        stuck = [a for a in unfinished if a.phase is not Phase.DONE]
        if stuck:
            logger.warning("%d handler(s) ignored cancellation; their leases will lapse", len(stuck))
        await self._release([a.lease for a in unfinished if a.phase is Phase.DONE])
        for attempt in unfinished:
            self._held.pop(attempt.run_id, None)

    async def _release(self, leases: Sequence[ws.ChunkLease]) -> None:
        if not leases:
            return
        request = ws.ReleaseChunksRequest(worker_id=self.worker_id, leases=leases)
        try:
            response = await asyncio.wait_for(
                call_with_retry(
                    lambda: self._workers.ReleaseChunks(request, timeout=RELEASE_TIMEOUT_SECONDS),
                    what="ReleaseChunks",
                    backoff=self._backoff,
                ),
                RELEASE_TIMEOUT_SECONDS,
            )
        except (grpc.aio.AioRpcError, asyncio.TimeoutError) as error:
            logger.warning("could not release %d chunk(s) (%s); their leases will lapse", len(leases), error)
            return
        logger.info("released %d chunk(s)", response.released_count)
