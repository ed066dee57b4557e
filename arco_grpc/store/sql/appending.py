"""Writing a batch of append units in one transaction, whatever database runs the statements.

Requests are deduplicated with one query, stream versions read, events
inserted together (their sequence numbers assigned here: the caller holds the
database's write lock, so the next sequence is the last one plus one),
projections flushed in batches and answers remembered together. A unit
refused for its request id or its expected version is skipped, not written; a
constraint broken while writing raises, and :func:`append_units` redoes the
units one by one, each in its savepoint, so that only the unit at fault is refused.

The fast plan (:func:`plan_fast`) is for batches whose units name the
version each stream is expected at and whose projectors only write: the
sequences, versions and rows are computed before the transaction, from the
last sequence known; the backend then checks under its lock that the database
is where the plan assumed (last sequence, stream versions, request ids
unseen) and writes it all, or takes the general path.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import RequestIdReused, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AppendUnit,
    StoredEvent,
    StreamAppend,
    from_microseconds,
    to_microseconds,
)
from arco_grpc.store.sql.writes import BufferedTransaction, NeedsDatabase, Write

# A remembered request: (method, body fingerprint, response).
SeenRequest = tuple[str, str, bytes]


class UnitWriter(Protocol):
    """The statements of an append, on a connection inside a write transaction that holds the write lock."""

    # What a broken constraint raises (the unit is refused as a conflict).
    constraint_errors: tuple[type[BaseException], ...]

    async def state(self, request_ids: list[str], streams: list[str]) -> tuple[dict[str, SeenRequest], dict[str, int], int]:
        """The remembered requests among ``request_ids`` (by id), the version of each of ``streams`` that has
        events, and the last event sequence ever assigned (0 for none)."""

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts event rows (EVENT_COLUMNS order)."""

    async def insert_requests(self, rows: list[tuple[Any, ...]]) -> None:
        """Inserts request rows (request id, method, fingerprint, response, recorded at)."""

    def transaction(self) -> BufferedTransaction:
        """A projection buffer writing on this connection."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A savepoint: released on success, rolled back to (and released) when the body raises."""


@dataclass(slots=True)
class PlannedUnits:
    """What a batch writes, decided before any write: rows, what each projector sees, and each unit's result."""

    results: list[AppendResult | ArcoError] = field(default_factory=list)
    event_rows: list[tuple[Any, ...]] = field(default_factory=list)
    request_rows: list[tuple[Any, ...]] = field(default_factory=list)
    projections: list[tuple[AppendUnit, list[StoredEvent]]] = field(default_factory=list)


def plan_units(
    units: Sequence[AppendUnit], seen: dict[str, SeenRequest], versions: dict[str, int], last_sequence: int
) -> PlannedUnits:
    """Decides each unit against the requests and stream versions found (both updated as units are accepted)."""
    planned = PlannedUnits()
    sequence = last_sequence
    for unit in units:
        request = unit.request
        if request is not None and request.request_id in seen:
            method, fingerprint, response = seen[request.request_id]
            if (method, fingerprint) != (request.method, request.body_fingerprint):
                planned.results.append(RequestIdReused(request.request_id, method))
            else:
                planned.results.append(AppendResult(events=(), response=response, replayed=True))
            continue
        refused = next(
            (
                append for append in unit.appends
                if append.expected_version is not None and append.expected_version != versions.get(append.stream_id, 0)
            ),
            None,
        )
        if refused is not None:
            actual = versions.get(refused.stream_id, 0)
            planned.results.append(WrongExpectedVersion(refused.stream_id, refused.expected_version or 0, actual))
            continue
        recorded_at_us = to_microseconds(unit.recorded_at)
        recorded_at = from_microseconds(recorded_at_us)
        request_id = request.request_id if request is not None else None
        stored: list[StoredEvent] = []
        for append in unit.appends:
            version = versions.get(append.stream_id, 0)
            for event in append.events:
                sequence += 1
                version += 1
                planned.event_rows.append(
                    (sequence, append.stream_id, version, event.event_type, event.payload, request_id, recorded_at_us)
                )
                stored.append(
                    StoredEvent(sequence, append.stream_id, version, event.event_type, event.payload, request_id,
                                recorded_at)
                )
            versions[append.stream_id] = version
        if request is not None:
            seen[request.request_id] = (request.method, request.body_fingerprint, request.response)
            planned.request_rows.append(
                (request.request_id, request.method, request.body_fingerprint, request.response, recorded_at_us)
            )
        planned.projections.append((unit, stored))
        planned.results.append(
            AppendResult(events=tuple(stored), response=request.response if request else None, replayed=False)
        )
    return planned


async def write_units(writer: UnitWriter, units: list[AppendUnit]) -> list[AppendResult | ArcoError]:
    """Writes ``units`` in order; returns per unit its result or the error that refused it.

    Raises:
        ArcoError: a projector refused the batch (such as DuplicateRunKey).
        BaseException: of ``writer.constraint_errors``: a row broke a constraint.
    """
    seen, versions, last_sequence = await writer.state(
        sorted({unit.request.request_id for unit in units if unit.request is not None}),
        sorted({append.stream_id for unit in units for append in unit.appends}),
    )
    planned = plan_units(units, seen, versions, last_sequence)
    if planned.event_rows:
        await writer.insert_events(planned.event_rows)
    transaction = writer.transaction()
    for unit, stored in planned.projections:
        if unit.project is not None and stored:
            await unit.project(transaction, stored)
    await transaction.flush()
    if planned.request_rows:
        await writer.insert_requests(planned.request_rows)
    return planned.results


def conflict(unit: AppendUnit) -> WrongExpectedVersion:
    """The error of a unit whose rows broke a constraint: another write got there first."""
    first = unit.appends[0] if unit.appends else StreamAppend("", None, ())
    return WrongExpectedVersion(first.stream_id, first.expected_version or 0)


async def append_units(writer: UnitWriter, units: list[AppendUnit]) -> list[AppendResult | ArcoError]:
    """Every unit in the writer's transaction; a unit that fails is rolled back alone (its savepoint)."""
    refusals = (ArcoError, *writer.constraint_errors)
    if len(units) > 1:
        try:
            async with writer.savepoint():
                return await write_units(writer, units)
        except refusals:
            pass  # a unit broke a constraint: redo the units one by one, each in its savepoint
    results: list[AppendResult | ArcoError] = []
    for unit in units:
        try:
            async with writer.savepoint():
                results.extend(await write_units(writer, [unit]))
        except refusals as error:
            results.append(error if isinstance(error, ArcoError) else conflict(unit))
    return results


@dataclass(frozen=True, slots=True)
class FastBatch:
    """A batch planned before its transaction (:func:`plan_fast`), to be checked and written by the backend."""

    expected_sequence: int
    last_sequence: int
    # The version each stream is expected at before the batch.
    stream_versions: dict[str, int]
    request_ids: list[str]
    event_rows: list[tuple[Any, ...]]
    writes: list[Write]
    request_rows: list[tuple[Any, ...]]
    results: list[AppendResult | ArcoError]


async def plan_fast(units: list[AppendUnit], last: int, detached: BufferedTransaction) -> FastBatch | None:
    """The fast plan of ``units`` after sequence ``last``, or None when the batch needs the general path.

    ``detached`` is an empty projection buffer that refuses reads (:class:`NeedsDatabase`).
    """
    versions: dict[str, int] = {}
    first_versions: dict[str, int] = {}
    request_ids: set[str] = set()
    event_rows: list[tuple[Any, ...]] = []
    request_rows: list[tuple[Any, ...]] = []
    results: list[AppendResult | ArcoError] = []
    sequence = last
    for unit in units:
        request = unit.request
        if request is not None:
            if request.request_id in request_ids:
                return None
            request_ids.add(request.request_id)
        recorded_at_us = to_microseconds(unit.recorded_at)
        recorded_at = from_microseconds(recorded_at_us)
        request_id = request.request_id if request is not None else None
        stored: list[StoredEvent] = []
        for append in unit.appends:
            expected = append.expected_version
            if expected is None or versions.get(append.stream_id, expected) != expected:
                return None
            first_versions.setdefault(append.stream_id, expected)
            version = expected
            for event in append.events:
                sequence += 1
                version += 1
                event_rows.append(
                    (sequence, append.stream_id, version, event.event_type, event.payload, request_id, recorded_at_us)
                )
                stored.append(
                    StoredEvent(sequence, append.stream_id, version, event.event_type, event.payload, request_id,
                                recorded_at)
                )
            versions[append.stream_id] = version
        if unit.project is not None and stored:
            try:
                await unit.project(detached, stored)
            except (NeedsDatabase, ArcoError):
                return None  # a projector that reads, or refuses its unit: the general path refuses it alone
        if request is not None:
            request_rows.append(
                (request.request_id, request.method, request.body_fingerprint, request.response, recorded_at_us)
            )
        results.append(AppendResult(events=tuple(stored), response=request.response if request else None, replayed=False))
    return FastBatch(
        last, sequence, first_versions, sorted(request_ids), event_rows, detached.take_writes(), request_rows, results
    )
