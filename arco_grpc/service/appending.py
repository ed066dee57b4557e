"""The one way a mutation is carried out: replay check, decide, append, answer.

Every mutating use case (catalog and backfills alike) gives a *decision*: a
function of the request time that reads what it needs and returns the stream
version it decided against, the events, and the response. This module runs
it under the stream's in-process lock, returns the remembered answer of a
repeated request id, appends events, projection and answer in one
transaction, and decides again when another process moved the stream.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc.errors import Aborted, ArcoError
from arco_grpc.service.group_commit import GroupCommitter
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.watch_hub import announce_committed
from arco_grpc.store import (
    AppendResult,
    AppendUnit,
    EventStore,
    NewEvent,
    Projector,
    RequestIdReused,
    RequestRecord,
    StoredEvent,
    StreamAppend,
    WrongExpectedVersion,
)

R = TypeVar("R", bound=Message)
Clock = Callable[[], datetime]
# Given the time of the request: (stream version decided against, None when appending no event, events,
# response).
Decision = Callable[[datetime], Awaitable[tuple[int | None, list[NewEvent], R]]]
# The same without a response, for appends no client request asked for.
UnrequestedDecision = Callable[[datetime], Awaitable[tuple[int, list[NewEvent]]]]
# Called with the method name right after an append commits, before the answer
# leaves; the server installs one only for crash tests (see server.py).
AfterCommit = Callable[[str], None]

# A decision is retried when another write moved its stream in between; more
# than this many losses in a row means heavy contention: the client retries.
MAX_ATTEMPTS = 5
# Decisions on one stream are serialized in-process (a lock stripe per stream),
# so concurrent requests queue instead of deciding against the same version
# and retrying; the store's version check still guards other processes.
_LOCK_STRIPES = 64


class DecisionRunner:
    """Runs decisions against one store, one stream at a time."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        after_commit: AfterCommit | None = None,
        committer: GroupCommitter | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._after_commit = after_commit
        # With a committer, request appends share its transactions (it announces them and calls after_commit).
        self._committer = committer
        self._stream_locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]

    def now(self) -> datetime:
        """The current time, from the injected clock."""
        return self._clock()

    def lock_for(self, stream_id: str) -> asyncio.Lock:
        """The in-process lock serializing decisions on ``stream_id``."""
        return self._stream_locks[zlib.crc32(stream_id.encode("utf-8", "surrogatepass")) % _LOCK_STRIPES]

    async def run(
        self,
        identity: RequestIdentity,
        stream_id: str,
        decide: Decision[R],
        response_type: type[R],
        project: Projector | None,
    ) -> R:
        """The answer to the request: remembered if its id was seen, else decided and appended.

        Raises:
            RequestIdReused: the request id was used for a different request.
            Aborted: the stream kept changing under the decision.
            ArcoError: whatever the decision raises (nothing is written then).
        """
        async with self.lock_for(stream_id):
            replayed = await self.replayed(identity, response_type)
            if replayed is not None:
                return replayed
            for _ in range(MAX_ATTEMPTS):
                now = self._clock()
                version, events, response = await decide(now)
                record = RequestRecord(
                    identity.request_id, identity.method, identity.body_fingerprint, response.SerializeToString()
                )
                try:
                    result = await self._append(identity.method, stream_id, version, events, record, now, project)
                except WrongExpectedVersion:
                    continue  # another process moved the stream: decide again on fresh state
                if result.replayed:
                    return response_type.FromString(result.response or b"")
                return response
        raise Aborted(
            f"{stream_id!r} changed concurrently {MAX_ATTEMPTS} times while deciding this request; retry it",
            metadata={"stream_id": stream_id},
        )

    async def run_unrequested(
        self, stream_id: str, decide: UnrequestedDecision, method: str, project: Projector | None
    ) -> tuple[StoredEvent, ...]:
        """Decides and appends the server's own events (no request id: a schedule's ticks, say).

        The events committed, none when the decision has none. ``method``
        names the append for the after-commit hook.

        Raises:
            Aborted: the stream kept changing under the decision.
            ArcoError: whatever the decision raises (nothing is written then).
        """
        async with self.lock_for(stream_id):
            for _ in range(MAX_ATTEMPTS):
                now = self._clock()
                version, events = await decide(now)
                if not events:
                    return ()
                try:
                    result = await self._store.append(
                        stream_id, version, events, request=None, recorded_at=now, project=project
                    )
                except WrongExpectedVersion:
                    continue  # another process moved the stream: decide again on fresh state
                announce_committed(self._store, result.events)
                if self._after_commit is not None:
                    self._after_commit(method)
                return result.events
        raise Aborted(
            f"{stream_id!r} changed concurrently {MAX_ATTEMPTS} times while deciding {method}; it is retried later",
            metadata={"stream_id": stream_id},
        )

    async def _append(
        self,
        method: str,
        stream_id: str,
        version: int | None,
        events: list[NewEvent],
        record: RequestRecord,
        now: datetime,
        project: Projector | None,
    ) -> AppendResult:
        """Appends one decision with its answer, alone or in the committer's next shared transaction; announces it.

        Raises:
            WrongExpectedVersion, RequestIdReused, StoreUnavailable: as the store's append.
        """
        if self._committer is None:
            result = await self._store.append(stream_id, version, events, request=record, recorded_at=now, project=project)
            if not result.replayed:
                announce_committed(self._store, result.events)
                if self._after_commit is not None:
                    self._after_commit(method)
            return result
        unit = AppendUnit((StreamAppend(stream_id, version, tuple(events)),), record, now, project)
        outcome = await asyncio.shield(self._committer.submit(unit, method))
        if isinstance(outcome, ArcoError):
            raise outcome
        return outcome

    async def replayed(self, identity: RequestIdentity, response_type: type[R]) -> R | None:
        """The remembered answer to ``identity``'s request id, or None when it is new.

        Raises:
            RequestIdReused: the id was used for a different method or body.
        """
        record = await self._store.find_request(identity.request_id)
        if record is None:
            return None
        if (record.method, record.body_fingerprint) != (identity.method, identity.body_fingerprint):
            raise RequestIdReused(identity.request_id, record.method)
        return response_type.FromString(record.response)
