"""The live backfills in memory: loading their books, and appending what is decided on them.

A book is loaded from the projections on first use (and at startup for every
backfill that is not terminal), after the committer has drained, so the rows
it reads include every append decided before. Decisions are made and folded
synchronously (:class:`~arco_grpc.service.backfill_book.Staging`), then
:meth:`LiveBackfills.commit` appends them as one unit through the group
committer and waits until they are durable. A unit that fails leaves its
books ahead of the store: they are dropped and reloaded on next use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from google.protobuf.message import Message

from arco_grpc.domain.backfill import BackfillState
from arco_grpc.domain.chunk_events import ChunkState
from arco_grpc.domain.chunks import Chunk, ChunkKey
from arco_grpc.errors import ArcoError, NotFound
from arco_grpc.service.backfill_book import BackfillBook, Staging, round_sources
from arco_grpc.service.backfill_fold import Writes, chunk_from_record, write_projection
from arco_grpc.service.backfill_messages import TRANSITION_LIMIT
from arco_grpc.service.backfill_plans import PlanResolver
from arco_grpc.service.backfill_projection import backfill_stream, projected_from_record
from arco_grpc.service.convert_chunk_events import decode_subset
from arco_grpc.service.group_commit import GroupCommitter
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.in_flight import InFlight
from arco_grpc.store import (
    AppendResult,
    AppendUnit,
    BackfillFilter,
    ChunkQuery,
    EventStore,
    RequestIdReused,
    RequestRecord,
    StoredEvent,
    StreamAppend,
    Transaction,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BookListener = Callable[[BackfillBook], None]
LIVE_STATES = (BackfillState.CREATED, BackfillState.RUNNING, BackfillState.PAUSED, BackfillState.CANCELLING)
_PAGE = 1000


def _projector(writes: Writes) -> Callable[[Transaction, list[StoredEvent]], Awaitable[None]]:
    async def project(transaction: Transaction, stored: list[StoredEvent]) -> None:
        await write_projection(transaction, writes, stored)

    return project


def not_found(backfill_id: str) -> NotFound:
    """The error for a backfill id that names no backfill."""
    return NotFound(
        f"backfill {backfill_id} does not exist", reason="BACKFILL_NOT_FOUND", metadata={"backfill_id": backfill_id}
    )


class LiveBackfills:
    """Books of the backfills in use, and the one way to append to them."""

    def __init__(self, store: EventStore, plans: PlanResolver, committer: GroupCommitter, clock: Clock) -> None:
        self.store = store
        self.plans = plans
        self.committer = committer
        self.clock = clock
        self._books: dict[str, BackfillBook] = {}
        self._loading: dict[str, asyncio.Future[BackfillBook]] = {}
        self._in_flight: dict[str, asyncio.Future[object]] = {}
        self.on_load: BookListener | None = None
        # The partitions each run of every live stream holds: no partition is in two runs at once.
        self.in_flight = InFlight()

    # -- books ---------------------------------------------------------------------

    def loaded(self, backfill_id: str) -> BackfillBook | None:
        """The book of ``backfill_id`` if it is in memory (and sound)."""
        book = self._books.get(backfill_id)
        return None if book is None or book.broken else book

    def books(self) -> list[BackfillBook]:
        """Every book in memory."""
        return [book for book in self._books.values() if not book.broken]

    async def book(self, backfill_id: str) -> BackfillBook:
        """The book of ``backfill_id``, loaded if needed.

        Raises:
            NotFound: no backfill has this id.
        """
        book = self.loaded(backfill_id)
        if book is not None:
            return book
        loading = self._loading.get(backfill_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(backfill_id))
            self._loading[backfill_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(backfill_id, None))
        return await asyncio.shield(loading)

    async def _load(self, backfill_id: str) -> BackfillBook:
        # Rows must include every append decided on this backfill before.
        await self.committer.flush()
        details = await self.store.backfill_details(backfill_id, TRANSITION_LIMIT)
        if details is None:
            raise not_found(backfill_id)
        projected = projected_from_record(details.record)
        plan = await self.plans.plan_of(projected.backfill.spec)
        round_number = projected.backfill.round
        retried = {}
        if round_number > 1:
            for row in await self.store.backfill_rounds(backfill_id):
                if row.round == round_number:
                    retried[row.target_position] = decode_subset(row.partitions)
        cursors = await self.store.dispatch_cursors(backfill_id, round_number)
        chunks: dict[ChunkKey, Chunk] = {}
        start = (0, 0, 0)
        while True:
            rows = await self.store.list_chunks(ChunkQuery(
                backfill_id, start, _PAGE, round=round_number, states=(int(ChunkState.PENDING), int(ChunkState.LEASED))
            ))
            for row in rows:
                chunk = chunk_from_record(row)
                chunks[chunk.key] = chunk
            if len(rows) < _PAGE:
                break
            last = rows[-1]
            start = (last.target_position, last.round, last.chunk_index + 1)
        book = BackfillBook(
            projected,
            plan,
            round_sources(plan, round_number, retried),
            [cursors.get(target.position, 0) for target in plan.targets],
            chunks,
            details.transitions,
            details.chunk_counts,
            self.in_flight,
        )
        self._books[backfill_id] = book
        if self.on_load is not None:
            self.on_load(book)
        return book

    async def load_live(self) -> int:
        """Loads every backfill that is not terminal (at startup); returns how many."""
        loaded = 0
        before: int | None = None
        while True:
            live = BackfillFilter(states=tuple(int(s) for s in LIVE_STATES), include_submitted_runs=True)
            rows = await self.store.list_backfills(live, before, _PAGE)
            for record, _ in rows:
                await self.book(record.backfill_id)
                loaded += 1
            if len(rows) < _PAGE:
                return loaded
            before = rows[-1][0].created_sequence

    # -- requests ------------------------------------------------------------------

    async def replayed(self, identity: RequestIdentity, response_type: type[Message]) -> Message | None:
        """The remembered answer to ``identity``'s request id (waiting for a first try still in flight), or None.

        Raises:
            RequestIdReused: the id was used for a different method or body.
        """
        in_flight = self._in_flight.get(identity.request_id)
        if in_flight is not None:
            await asyncio.wait([in_flight])
        record = await self.store.find_request(identity.request_id)
        if record is None:
            return None
        if (record.method, record.body_fingerprint) != (identity.method, identity.body_fingerprint):
            raise RequestIdReused(identity.request_id, record.method)
        return response_type.FromString(record.response)

    # -- appending -----------------------------------------------------------------

    def submit(
        self, staging: Staging, *, at: datetime, method: str, request: RequestRecord | None = None
    ) -> asyncio.Future[AppendResult | ArcoError]:
        """Appends what ``staging`` holds as one unit; the future resolves once it is durable, with the unit's
        result or the error that refused it (the books involved are then dropped, to be reloaded from the store).

        The books are settled before anyone awaiting the future resumes.
        """
        unit = AppendUnit(
            appends=tuple(
                StreamAppend(backfill_stream(backfill_id), version, tuple(events))
                for backfill_id, (version, events) in staging.appends.items()
            ),
            request=request,
            recorded_at=at,
            project=_projector(staging.writes),
        )
        committed = self.committer.submit(unit, method)
        books = staging.books
        if request is not None:
            self._in_flight[request.request_id] = committed  # type: ignore[assignment]

        def settle(done: asyncio.Future[AppendResult | ArcoError]) -> None:
            if request is not None:
                self._in_flight.pop(request.request_id, None)
            outcome = done.result()
            if isinstance(outcome, AppendResult) and not outcome.replayed:
                for book in books:
                    self._retire_if_done(book)
                return
            for book in books:  # refused, or replayed (nothing staged was written)
                self._drop(book, outcome)

        committed.add_done_callback(settle)
        return committed

    async def commit(
        self, staging: Staging, *, at: datetime, method: str, request: RequestRecord | None = None
    ) -> AppendResult:
        """:meth:`submit`, then waits for it (shielded: a caller that goes away does not undo a commit).

        Raises:
            ArcoError: the append was refused (nothing of it was written).
        """
        outcome = await asyncio.shield(self.submit(staging, at=at, method=method, request=request))
        if isinstance(outcome, ArcoError):
            raise outcome
        return outcome

    def _retire_if_done(self, book: BackfillBook) -> None:
        """Takes a terminal backfill out of memory once its last event is durable (it loads again if asked)."""
        if book.backfill.state.is_terminal and not book.leases and self._books.get(book.backfill_id) is book:
            del self._books[book.backfill_id]

    def _drop(self, book: BackfillBook, why: object) -> None:
        if self._books.get(book.backfill_id) is book:
            logger.warning("reloading backfill %s: an append failed (%s)", book.backfill_id, why)
            book.broken = True
            del self._books[book.backfill_id]
            self.in_flight.forget(book.backfill_id)  # its leases register again when it reloads
