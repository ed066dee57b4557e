"""Dispatch: handing chunks of live backfills to workers, fairly, and taking back the leases that lapse.

Fairness: the backfills that may lease now (RUNNING, below their
max_concurrency, matching the request's tags and assets) take turns, one
chunk at a time, oldest backfill first within a turn; the turn order
continues across requests (a pointer remembers the last backfill served), so
two backfills alternate even when every worker leases one chunk at a time.
Within a backfill, chunks go out in plan order (retries of earlier chunks
first, as they come due).

Long polling: a LeaseChunks that finds nothing waits on a signal raised when
work may have appeared (a backfill created, resumed or retried, a lease
ended, a concurrency limit raised, a retry come due), up to its wait_timeout.

Lapsing: one task sleeps until the earliest lease expiry or retry due time
(or until woken by an earlier one) and then lapses what is due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from arco_grpc.domain.chunk_events import ChunkLeased
from arco_grpc.domain.chunks import decide_expiry, decide_leases
from arco_grpc.errors import ArcoError
from arco_grpc.service.backfill_book import BackfillBook, LiveLease, Staging
from arco_grpc.service.live_backfills import LiveBackfills

logger = logging.getLogger(__name__)

RunIds = Callable[[], str]


class RunIdSource:
    """Run ids chosen by the server: a random prefix per server start, then a counter (cheap and unique)."""

    def __init__(self) -> None:
        self._prefix = "run-" + uuid.uuid4().hex[:16]
        self._next = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._next):012x}"


def new_run_id() -> str:
    """A fresh run id (a random one; servers use a :class:`RunIdSource`)."""
    return "run-" + uuid.uuid4().hex


# Not frozen: one is made per LeaseChunks call (a frozen dataclass's __init__ costs several times more).
@dataclass(slots=True)
class LeaseAsk:
    """What a worker asks to lease."""

    worker_id: str
    max_chunks: int
    assets: frozenset[str] | None
    tags: tuple[tuple[str, str], ...]
    ttl: timedelta


# Not frozen: one is made per chunk leased (a frozen dataclass's __init__ costs several times more).
@dataclass(slots=True)
class Granted:
    """One chunk leased by a request: the book and its lease (an entry of the book's ChunksLeased)."""

    book: BackfillBook
    event: ChunkLeased


class Dispatcher:
    """Fair lease decisions over the live books, long polling, and the lapsing of expired leases."""

    def __init__(self, live: LiveBackfills, run_ids: RunIds | None = None) -> None:
        self.live = live
        self._run_ids = run_ids or RunIdSource()
        self._turn_after = -1  # created_sequence of the backfill served last
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        # (when, kind, tie-breaker, backfill, run ids): leases granted together share one entry (see _lease_started);
        # the tie-breaker keeps the comparison away from the run ids, which grow while the entry is open.
        self._deadlines: list[tuple[datetime, int, int, str, list[str]]] = []
        self._pushed = itertools.count()
        self._open: tuple[datetime, str, list[str]] | None = None  # the lease entry still taking runs
        self._reaper: asyncio.Task[None] | None = None
        self.closing = False
        self.waiting = 0  # LeaseChunks calls waiting for work now
        live.on_load = self.adopt

    # -- wiring ----------------------------------------------------------------------

    def adopt(self, book: BackfillBook) -> None:
        """Takes a newly loaded book into dispatch: its leases, retry timers and listeners."""
        book.on_lease = self._lease_started
        book.on_retry = self._retry_scheduled
        for lease in book.restore_leases(self.live.clock()):
            self._lease_started(book, lease)
        due = book.next_due()
        if due is not None:
            self._retry_scheduled(book, due)
        self.notify()

    def notify(self) -> None:
        """Work may have appeared: wake every waiting LeaseChunks."""
        self._changed.set()
        self._changed = asyncio.Event()

    def stop_waiting(self) -> None:
        """The server is stopping: waiting LeaseChunks calls answer now, and no new one waits."""
        self.closing = True
        self.notify()

    def lease_expiry(self, backfill_id: str, run_id: str) -> datetime | None:
        """The current expiry of the lease of run ``run_id`` (heartbeats included), if it is held now."""
        book = self.live.loaded(backfill_id)
        lease = None if book is None else book.leases.get(run_id)
        return None if lease is None else lease.expires_at

    def time_moved(self) -> None:
        """The clock moved (tests with a manual clock): re-check every deadline now."""
        self._wake.set()

    def _push(self, when: datetime, kind: int, backfill_id: str, run_ids: list[str]) -> None:
        earliest = self._deadlines[0][0] if self._deadlines else None
        heapq.heappush(self._deadlines, (when, kind, next(self._pushed), backfill_id, run_ids))
        if earliest is None or when < earliest:
            self._wake.set()

    def _lease_started(self, book: BackfillBook, lease: LiveLease) -> None:
        # The leases of one call share their expiry: they join one deadline entry (a list append per lease
        # rather than a heap entry), until a lease of another expiry or backfill opens the next.
        open_entry = self._open
        if open_entry is not None and open_entry[0] == lease.expires_at and open_entry[1] == book.backfill_id:
            open_entry[2].append(lease.run_id)
            return
        run_ids = [lease.run_id]
        self._open = (lease.expires_at, book.backfill_id, run_ids)
        self._push(lease.expires_at, 0, book.backfill_id, run_ids)

    def _retry_scheduled(self, book: BackfillBook, when: datetime) -> None:
        self._push(when, 1, book.backfill_id, [])

    def extended(self, book: BackfillBook, lease: LiveLease) -> None:
        """A heartbeat moved ``lease``'s expiry."""
        self._lease_started(book, lease)

    # -- leasing ---------------------------------------------------------------------

    def _turns(self, ask: LeaseAsk) -> list[BackfillBook]:
        """Books that may lease for ``ask``, in turn order (oldest first, starting after the last served)."""
        assets = ask.assets
        eligible = [
            book for book in self.live.books()
            if book.dispatching() and all(book.tags.get(k) == v for k, v in ask.tags)
            and (assets is None or not assets.isdisjoint(book.asset_keys))
        ]
        eligible.sort(key=lambda book: book.created_sequence)
        split = next((i for i, book in enumerate(eligible) if book.created_sequence > self._turn_after), len(eligible))
        return eligible[split:] + eligible[:split]

    def _shares(self, ask: LeaseAsk, now: datetime) -> list[BackfillBook]:
        """The book of each chunk to lease for ``ask``, in the order the turns hand them out."""
        turns = self._turns(ask)
        if not turns:
            return []
        room: dict[str, int] = {}
        taken: dict[str, int] = {}
        shares: list[BackfillBook] = []
        left = ask.max_chunks
        while turns and left:
            still: list[BackfillBook] = []
            for book in turns:
                if not left:
                    break
                backfill_id = book.backfill_id
                if backfill_id not in room:
                    backfill = book.backfill
                    capacity = backfill.max_concurrency - backfill.leased_chunks
                    room[backfill_id] = book.leasable_count(now, ask.assets, min(capacity, left))
                    taken[backfill_id] = 0
                if taken[backfill_id] >= room[backfill_id]:
                    continue
                taken[backfill_id] += 1
                left -= 1
                shares.append(book)
                self._turn_after = book.created_sequence
                still.append(book)
            turns = still
        return shares

    def lease_now(self, ask: LeaseAsk, now: datetime, staging: Staging) -> list[Granted]:
        """Leases up to ``ask.max_chunks`` chunks at once (synchronously), staging one ChunksLeased per backfill.

        Returns the leases in the order the turns handed them out.
        """
        shares = self._shares(ask, now)
        leased: dict[str, list[ChunkLeased]] = {}
        for book in dict.fromkeys(shares):
            chunks = book.next_chunks(now, ask.assets, shares.count(book))
            if not chunks:
                continue
            event = decide_leases(
                book.backfill, chunks, run_ids=[self._run_ids() for _ in chunks], worker_id=ask.worker_id,
                ttl=ask.ttl, now=now, waited_for=book.waits,
            )
            book.apply([event], now, None, staging)
            leased[book.backfill_id] = list(reversed(event.leases))
        granted = []
        for book in shares:
            queue = leased.get(book.backfill_id)
            if queue:
                granted.append(Granted(book, queue.pop()))
        return granted

    async def wait_for_work(self, timeout: float) -> None:
        """Returns when work may have appeared, or after ``timeout`` seconds."""
        changed = self._changed
        self.waiting += 1
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.waiting -= 1

    # -- lapsing ---------------------------------------------------------------------

    def start(self) -> None:
        """Starts the task that lapses expired leases and announces due retries."""
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._lapse_forever(), name="lease-reaper")

    async def close(self) -> None:
        """Stops that task."""
        if self._reaper is not None:
            self._reaper.cancel()
            try:
                await self._reaper
            except asyncio.CancelledError:
                pass
            self._reaper = None

    async def _lapse_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except ArcoError as error:
                logger.warning("lapsing leases failed, retrying at the next deadline: %s", error)
            except Exception:  # noqa: BLE001 - the reaper must outlive a bug in one round
                logger.exception("lapsing leases failed")
            delay = None
            if self._deadlines:
                delay = max((self._deadlines[0][0] - self.live.clock()).total_seconds(), 0.0)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    async def tick(self) -> int:
        """Lapses every lease due at the clock's now and announces due retries; returns the leases lapsed."""
        now = self.live.clock()
        stagings: dict[str, Staging] = {}
        retries_due = False
        lapsed = 0
        while self._deadlines and self._deadlines[0][0] <= now:
            _, kind, _, backfill_id, run_ids = heapq.heappop(self._deadlines)
            if self._open is not None and run_ids is self._open[2]:
                self._open = None  # out of the heap: no lease may join it now
            if kind == 1:
                retries_due = True
                continue
            book = self.live.loaded(backfill_id)
            if book is None:
                continue  # not loaded: its leases are registered again when it loads
            for run_id in run_ids:
                lease = book.leases.get(run_id)
                if lease is None or lease.expires_at > now:
                    continue  # ended or extended since this deadline was set
                staging = stagings.setdefault(backfill_id, Staging.empty())
                # Rare and worth an operator's eye: a worker died or stopped heartbeating.
                logger.info(
                    "lease lapsed: run %s of backfill %s (target %d, round %d, chunk %d), held by worker %s",
                    run_id, backfill_id, lease.key.target, lease.key.round, lease.key.index, lease.worker_id,
                )
                book.apply(decide_expiry(book.backfill, book.chunks[lease.key]), now, None, staging)
                lapsed += 1
        if retries_due or stagings:
            self.notify()
        commits = [self.live.submit(staging, at=now, method="LapseLeases") for staging in stagings.values()]
        results = await asyncio.gather(*commits, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("recording lapsed leases failed: %s", result)
        return lapsed
