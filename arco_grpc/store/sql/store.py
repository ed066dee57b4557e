"""What an SQL event store does the same on every database: appends as batches, shielded; the rebuild."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from arco_grpc.errors import ArcoError
from arco_grpc.store.errors import StoreUnavailable
from arco_grpc.store.model import AppendResult, AppendUnit, NewEvent, Projector, RequestRecord, StreamAppend
from arco_grpc.store.sql.queries import StoreReads
from arco_grpc.store.sql.rows import EVENT_COLUMNS, PROJECTION_TABLES, event_from_row
from arco_grpc.store.sql.writes import BufferedTransaction

T = TypeVar("T")


class SqlEventStore(StoreReads):
    """An :class:`~arco_grpc.store.port.EventStore` over SQL: a backend subclass says how a batch is
    written (``_append_batch``), how a write transaction runs (``_write``) and whose projection buffer
    writes in it (``_projection_transaction``)."""

    _closed: bool

    async def _append_batch(self, batch: list[AppendUnit]) -> list[AppendResult | ArcoError]:
        raise NotImplementedError

    async def _write(self, work: Callable[[Any], Awaitable[T]], what: str) -> T:
        """Runs ``work`` with the connection of one write transaction, committed when it returns."""
        raise NotImplementedError

    def _projection_transaction(self, connection: Any) -> BufferedTransaction:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the store is closed")

    async def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[NewEvent],
        *,
        request: RequestRecord | None,
        recorded_at: datetime,
        project: Projector | None = None,
    ) -> AppendResult:
        """See :meth:`arco_grpc.store.port.EventStore.append`."""
        unit = AppendUnit((StreamAppend(stream_id, expected_version, tuple(events)),), request, recorded_at, project)
        result = (await self.append_batch([unit]))[0]
        if isinstance(result, ArcoError):
            raise result
        return result

    async def append_batch(self, units: Sequence[AppendUnit]) -> list[AppendResult | ArcoError]:
        """See :meth:`arco_grpc.store.port.EventStore.append_batch`."""
        batch = list(units)
        if not batch:
            return []
        # Shielded: a caller that goes away (client cancel, deadline) must not
        # interrupt a transaction half-way; its retry will find the answer.
        return await asyncio.shield(self._append_batch(batch))

    async def rebuild_projections(self, project: Projector, batch_size: int = 1000) -> int:
        """See :meth:`arco_grpc.store.port.EventStore.rebuild_projections`."""

        async def rebuild(connection: Any) -> int:
            for table in PROJECTION_TABLES:
                await connection.execute(f"DELETE FROM {table}")  # noqa: S608 - names from a constant
            replayed, after = 0, 0
            while True:
                rows = await connection.execute_fetchall(
                    f"SELECT {EVENT_COLUMNS} FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                    (after, batch_size),
                )
                batch = [event_from_row(row) for row in rows]
                if not batch:
                    return replayed
                transaction = self._projection_transaction(connection)
                await project(transaction, batch)
                await transaction.flush()
                replayed += len(batch)
                after = batch[-1].sequence

        return await asyncio.shield(self._write(rebuild, "rebuilding the projections"))
