"""WorkerService use cases: lease, heartbeat, complete, release.

Each decides synchronously against the live books (so concurrent requests
never interleave inside a decision), stages its events, and waits for the
group commit before answering. Heartbeats write nothing: they extend leases
in memory and pass progress on to watchers.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi
from arco_grpc.domain.backfill import BackfillState
from arco_grpc.domain.chunk_events import ChunkFailed, ChunkOutcome, ChunksCompleted, ChunkSucceeded, RunState
from arco_grpc.domain.chunks import Report, decide_release, decide_report
from arco_grpc.errors import ArcoError, FailedPrecondition, InvalidArgument, NotFound
from arco_grpc.partitions.selection import AnySubset, select
from arco_grpc.partitions.selector import KeyList
from arco_grpc.service.backfill_book import BackfillBook, Staging
from arco_grpc.service.convert_chunk_events import decode_subset, encode_subset
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.service.dispatch import Dispatcher, LeaseAsk
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.live_backfills import LiveBackfills
from arco_grpc.service.watch_progress import ProgressSink
from arco_grpc.service.worker_messages import answer_of, answer_of_run, error_result, leased_chunks_to_proto
from arco_grpc.service.worker_requests import Completion, LeaseRef
from arco_grpc.store import RequestRecord

# Outcomes remembered in memory, so that a repeated completion is answered
# even before the first one is durable; older ones are read from the runs.
ENDED_RUNS_REMEMBERED = 65_536


# Not frozen: one is made per completion on the hot path (a frozen init costs several times more).
@dataclass(slots=True)
class _Ended:
    """A run this server ended on a worker's report, and the answer it gave."""

    worker_id: str
    succeeded: bool
    failed: bytes | None  # the failed partitions, explicitly
    answer: wapi.CompleteChunkResponse
    committed: asyncio.Future[object]
    target: int
    partitions: AnySubset  # the attempt's


@dataclass(frozen=True, slots=True)
class Progress:
    """A ChunkProgress of a Heartbeat."""

    lease: LeaseRef
    fraction: float
    message: str


class WorkerApplication:
    """Use cases of WorkerService over the live backfills."""

    def __init__(self, live: LiveBackfills, dispatcher: Dispatcher, progress: ProgressSink | None = None) -> None:
        self._live = live
        self._dispatcher = dispatcher
        self._progress = progress
        self._ended: OrderedDict[str, _Ended] = OrderedDict()

    def _now(self) -> datetime:
        return self._live.clock()

    # -- lease -------------------------------------------------------------------------

    def _still_held(self, first: wapi.LeaseChunksResponse, worker_id: str) -> wapi.LeaseChunksResponse:
        """The chunks of a first answer whose leases the worker still holds, with their current expiry."""
        held = wapi.LeaseChunksResponse()
        for chunk in first.chunks:
            book = self._live.loaded(chunk.backfill_id)
            lease = None if book is None else book.leases.get(chunk.run_id)
            if lease is not None and lease.worker_id == worker_id:
                copy = held.chunks.add()
                copy.CopyFrom(chunk)
                copy.lease_expire_time.CopyFrom(datetime_to_proto(lease.expires_at))
        return held

    async def lease(self, ask: LeaseAsk, wait_seconds: float, identity: RequestIdentity | None) -> wapi.LeaseChunksResponse:
        """Leases up to ``ask.max_chunks`` chunks, waiting up to ``wait_seconds`` for work."""
        if identity is not None:
            first = await self._live.replayed(identity, wapi.LeaseChunksResponse)
            if first is not None:
                return self._still_held(first, ask.worker_id)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            now = self._now()
            staging = Staging.empty()
            granted = self._dispatcher.lease_now(ask, now, staging)
            remaining = deadline - loop.time()
            if granted or remaining <= 0 or self._dispatcher.closing:
                break
            await self._dispatcher.wait_for_work(remaining)
        response = leased_chunks_to_proto(granted)
        if not granted:
            return response
        request = None
        if identity is not None:
            request = RequestRecord(
                identity.request_id, identity.method, identity.body_fingerprint, response.SerializeToString()
            )
        result = await self._live.commit(staging, at=now, method="LeaseChunks", request=request)
        if result.replayed:  # a twin request committed first: answer as it did
            return self._still_held(wapi.LeaseChunksResponse.FromString(result.response or b""), ask.worker_id)
        return response

    # -- heartbeat ---------------------------------------------------------------------

    async def heartbeat(
        self, worker_id: str, leases: Sequence[LeaseRef], progress: Sequence[Progress], ttl: timedelta | None
    ) -> wapi.HeartbeatResponse:
        """Extends the leases ``worker_id`` holds; names those to stop and those it lost."""
        response = wapi.HeartbeatResponse()
        for ref in {ref.backfill_id for ref in leases} - {b.backfill_id for b in self._live.books()}:
            try:
                await self._live.book(ref)
            except NotFound:
                pass  # its leases are reported lost below
        now = self._now()
        held: dict[str, tuple[BackfillBook, str, int, int]] = {}
        for ref in leases:
            book = self._live.loaded(ref.backfill_id)
            lease = None if book is None else book.leases.get(ref.run_id)
            message = wapi.ChunkLease(run_id=ref.run_id, backfill_id=ref.backfill_id)
            if book is None or lease is None or lease.worker_id != worker_id:
                response.lost.append(message)
                continue
            lease.expires_at = now + (ttl or lease.ttl)
            self._dispatcher.extended(book, lease)
            response.extended.append(
                wapi.ExtendedLease(lease=message, lease_expire_time=datetime_to_proto(lease.expires_at))
            )
            if book.backfill.state is BackfillState.CANCELLING:
                response.stop.append(message)
            held[ref.run_id] = (book, book.plan.targets[lease.key.target].asset_key, lease.key.round, lease.key.index)
        if self._progress is not None:
            for report in progress:
                found = held.get(report.lease.run_id)
                if found is not None and found[0].backfill_id == report.lease.backfill_id:
                    book, asset_key, round_number, index = found
                    self._progress.publish_progress(
                        book.backfill_id, asset_key, round_number, index, report.lease.run_id, report.fraction,
                        report.message, now,
                    )
        return response

    # -- complete ----------------------------------------------------------------------

    def _failed_subset(self, book: BackfillBook, target: int, keys: tuple[str, ...] | None, field: str) -> AnySubset | None:
        if keys is None:
            return None
        try:
            return select(book.plan.targets[target].space, KeyList(keys))
        except InvalidArgument as error:
            prefix = f"{field}.failed_partition_keys"
            raise InvalidArgument(
                f"failed_partition_keys: {error.message}",
                field=prefix + (error.violations[0].field.removeprefix("keys.keys") if error.violations else ""),
            ) from None

    def _decide_report(
        self, book: BackfillBook, completion: Completion, now: datetime, committed: asyncio.Future[object], field: str
    ) -> tuple[ChunkOutcome, _Ended] | None:
        """The outcome of a report on a lease this server holds; None when the lease is not held (see _repeat).

        Raises:
            FailedPrecondition: the lease is another worker's.
            InvalidArgument: the failed keys are not partitions of the attempt.
        """
        lease = book.leases.get(completion.lease.run_id)
        if lease is None:
            return None
        chunk = book.chunks[lease.key]
        failed = self._failed_subset(book, lease.key.target, completion.failed_keys, field)
        report = Report(
            completion.lease.run_id, completion.worker_id, completion.succeeded, failed, completion.error,
            completion.metadata,
        )
        (outcome,) = decide_report(book.backfill, chunk, report, now)
        assert isinstance(outcome, (ChunkSucceeded, ChunkFailed))
        explicit = encode_subset(outcome.failed_partitions) if isinstance(outcome, ChunkFailed) else None
        ended = _Ended(
            completion.worker_id, completion.succeeded, explicit, answer_of(outcome), committed, lease.key.target,
            chunk.remaining,
        )
        return outcome, ended

    def _remember(self, run_id: str, ended: _Ended) -> None:
        self._ended[run_id] = ended
        while len(self._ended) > ENDED_RUNS_REMEMBERED:
            self._ended.popitem(last=False)

    async def _first_outcome(self, book: BackfillBook, run_id: str) -> _Ended:
        """How run ``run_id`` ended on a report: remembered, or read from its row.

        Raises:
            NotFound: the backfill has no such run.
            FailedPrecondition: the run did not end on a report (it lapsed, was released or is running elsewhere).
        """
        ended = self._ended.get(run_id)
        if ended is not None:
            await asyncio.shield(ended.committed)
            return ended
        run = await self._live.store.get_run_by_id(run_id)
        if run is None or run.backfill_id != book.backfill_id:
            raise NotFound(
                f"backfill {book.backfill_id} has no run {run_id}; pass the lease LeaseChunks returned",
                reason="RUN_NOT_FOUND",
                metadata={"run_id": run_id},
            )
        if run.state not in (RunState.SUCCEEDED, RunState.FAILED):
            raise FailedPrecondition(
                f"run {run_id} is {RunState(run.state).name}: its lease is no longer held; abandon it without "
                "reporting (the chunk was or will be leased again)",
                reason="STALE_LEASE",
                metadata={"run_id": run_id, "run_state": RunState(run.state).name},
            )
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return _Ended(
            run.worker_id, run.state == RunState.SUCCEEDED, run.failed, answer_of_run(run), done,
            run.target_position, decode_subset(run.partitions),
        )

    async def _repeat(self, book: BackfillBook, completion: Completion, field: str) -> wapi.CompleteChunkResponse:
        """The answer to a report on a lease not held: the first answer if it repeats it exactly, else stale."""
        first = await self._first_outcome(book, completion.lease.run_id)
        same = first.worker_id == completion.worker_id and first.succeeded == completion.succeeded
        if same and not first.succeeded:
            asked = self._failed_subset(book, first.target, completion.failed_keys, field)
            same = encode_subset(first.partitions if asked is None else asked) == first.failed
        if not same:
            raise FailedPrecondition(
                f"run {completion.lease.run_id} was already completed with another outcome or by another worker; "
                "a completion can only be repeated exactly",
                reason="STALE_LEASE",
                metadata={"run_id": completion.lease.run_id},
            )
        return first.answer

    async def complete(self, completion: Completion, field: str = "completion") -> wapi.CompleteChunkResponse:
        """Records one outcome (idempotently); see WorkerService.CompleteChunk."""
        book = await self._live.book(completion.lease.backfill_id)
        staging = Staging.empty()
        now = self._now()
        committed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        decided = self._decide_report(book, completion, now, committed, field)
        if decided is None:
            return await self._repeat(book, completion, field)
        outcome, ended = decided
        book.apply([outcome], now, None, staging)
        self._remember(completion.lease.run_id, ended)
        self._dispatcher.notify()  # capacity freed, or a retry queued
        try:
            await self._live.commit(staging, at=now, method="CompleteChunk")
        except ArcoError as error:
            committed.set_exception(error)
            self._ended.pop(completion.lease.run_id, None)
            raise
        committed.set_result(None)
        return ended.answer

    async def complete_many(self, completions: Sequence[Completion]) -> wapi.CompleteChunksResponse:
        """Records several outcomes, one ChunksCompleted per backfill; each is answered (or refused) as
        CompleteChunk would."""
        for completion in completions:
            if self._live.loaded(completion.lease.backfill_id) is None:
                try:
                    await self._live.book(completion.lease.backfill_id)
                except NotFound:
                    pass
        now = self._now()
        committed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        results: list[wapi.CompletionResult | None] = []
        outcomes: dict[BackfillBook, list[ChunkOutcome]] = {}
        decided: list[str] = []  # run ids, in this call's order
        later: list[int] = []
        for position, completion in enumerate(completions):
            run_id = completion.lease.run_id
            book = self._live.loaded(completion.lease.backfill_id)
            try:
                if book is None:
                    raise NotFound(f"backfill {completion.lease.backfill_id} does not exist", reason="BACKFILL_NOT_FOUND")
                # A run named twice in one call: the first decides, the repeat is answered after it.
                outcome = None if run_id in self._ended else self._decide_report(
                    book, completion, now, committed, f"completions[{position}]"
                )
            except ArcoError as error:
                results.append(error_result(error))
                continue
            if outcome is None:
                results.append(None)
                later.append(position)
                continue
            entry, ended = outcome
            self._remember(run_id, ended)
            decided.append(run_id)
            outcomes.setdefault(book, []).append(entry)
            results.append(wapi.CompletionResult(response=ended.answer))
        if outcomes:
            staging = Staging.empty()
            for book, entries in outcomes.items():
                book.apply([ChunksCompleted(tuple(entries))], now, None, staging)
            self._dispatcher.notify()
            try:
                await self._live.commit(staging, at=now, method="CompleteChunks")
            except ArcoError as error:
                committed.set_exception(error)
                refused = error_result(error)
                for run_id in decided:
                    self._ended.pop(run_id, None)
                results = [refused if result is not None and result.HasField("response") else result
                           for result in results]
            else:
                committed.set_result(None)
        for position in later:
            completion = completions[position]
            try:
                book = await self._live.book(completion.lease.backfill_id)
                results[position] = wapi.CompletionResult(
                    response=await self._repeat(book, completion, f"completions[{position}]")
                )
            except ArcoError as error:
                results[position] = error_result(error)
        return wapi.CompleteChunksResponse(results=[r for r in results if r is not None])

    # -- release -----------------------------------------------------------------------

    async def release(self, worker_id: str, leases: Sequence[LeaseRef]) -> wapi.ReleaseChunksResponse:
        """Gives back the leases ``worker_id`` holds among ``leases``; unknown or lapsed ones are ignored."""
        now = self._now()
        staging = Staging.empty()
        released = 0
        for ref in leases:
            book = self._live.loaded(ref.backfill_id)
            lease = None if book is None else book.leases.get(ref.run_id)
            if book is None or lease is None or lease.worker_id != worker_id:
                continue
            book.apply(decide_release(book.backfill, book.chunks[lease.key], ref.run_id, worker_id), now, None, staging)
            released += 1
        if released:
            self._dispatcher.notify()
            await self._live.commit(staging, at=now, method="ReleaseChunks")
        return wapi.ReleaseChunksResponse(released_count=released)

