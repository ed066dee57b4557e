"""The backfill projection reads of the SQLite store, each in one read snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from arco_grpc.store.model import (
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    RoundRecord,
    RunQuery,
    RunRecord,
)
from arco_grpc.store.sqlite._backfill_reads import (
    fetch_backfill,
    fetch_backfill_details,
    fetch_backfill_specs,
    fetch_backfills,
    fetch_chunks,
    fetch_dispatch_cursors,
    fetch_rounds,
    fetch_run,
    fetch_run_by_id,
    fetch_runs,
    fetch_runs_in_scope,
)


class BackfillQueries:
    """Backfill, chunk, run and round reads (mixed into the store, which provides ``_snapshot``)."""

    def _snapshot(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_backfill`."""
        async with self._snapshot() as connection:
            return await fetch_backfill(connection, backfill_id)

    async def backfill_specs(self, backfill_ids: Sequence[str]) -> dict[str, bytes]:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_specs`."""
        async with self._snapshot() as connection:
            return await fetch_backfill_specs(connection, backfill_ids)

    async def backfill_details(self, backfill_id: str, transition_limit: int) -> BackfillDetails | None:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_details`."""
        async with self._snapshot() as connection:
            return await fetch_backfill_details(connection, backfill_id, transition_limit)

    async def list_backfills(
        self, where: BackfillFilter, before_sequence: int | None, limit: int
    ) -> list[tuple[BackfillRecord, tuple[ChunkStateCount, ...]]]:
        """See :meth:`arco_grpc.store.port.EventStore.list_backfills`."""
        async with self._snapshot() as connection:
            return await fetch_backfills(connection, where, before_sequence, limit)

    async def list_chunks(self, query: ChunkQuery) -> list[ChunkRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_chunks`."""
        async with self._snapshot() as connection:
            return await fetch_chunks(connection, query)

    async def get_run(self, run_key: str) -> RunRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_run`."""
        async with self._snapshot() as connection:
            return await fetch_run(connection, run_key)

    async def get_run_by_id(self, run_id: str) -> RunRecord | None:
        """See :meth:`arco_grpc.store.port.EventStore.get_run_by_id`."""
        async with self._snapshot() as connection:
            return await fetch_run_by_id(connection, run_id)

    async def runs_in_scope(self, scope_key: str) -> list[RunRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.runs_in_scope`."""
        async with self._snapshot() as connection:
            return await fetch_runs_in_scope(connection, scope_key)

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.list_runs`."""
        async with self._snapshot() as connection:
            return await fetch_runs(connection, query)

    async def backfill_rounds(self, backfill_id: str) -> list[RoundRecord]:
        """See :meth:`arco_grpc.store.port.EventStore.backfill_rounds`."""
        async with self._snapshot() as connection:
            return await fetch_rounds(connection, backfill_id)

    async def dispatch_cursors(self, backfill_id: str, round_number: int) -> dict[int, int]:
        """See :meth:`arco_grpc.store.port.EventStore.dispatch_cursors`."""
        async with self._snapshot() as connection:
            return await fetch_dispatch_cursors(connection, backfill_id, round_number)

