"""The store's contract: what every backend (SQLite now, PostgreSQL later) provides.

Writes go through one method, :meth:`EventStore.append`, which in a single
transaction deduplicates by request id, appends events at the expected stream
version, runs a projector over them and remembers the answer. Projections are
updated only through :class:`Transaction`, so they can be rebuilt from the
events alone; SQL never leaves the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from arco_grpc.store.model import (
    AppendResult,
    AssetRecord,
    CatalogSnapshot,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    StoredEvent,
)


class Transaction(Protocol):
    """The projection writes available to a projector inside an append."""

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``."""

    async def add_dynamic_partitions(self, name: str, keys: Sequence[str], ordinal: int) -> None:
        """Appends ``keys`` (absent ones; present ones stay where they are) after every existing key."""

    async def delete_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Removes ``keys`` from the definition ``name``; absent keys are ignored."""


class EventStore(Protocol):
    """An append-only event log with request deduplication and projections."""

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
        """Appends ``events`` to ``stream_id`` in one transaction.

        ``expected_version`` is the stream version the caller decided against
        (0 for a new stream, None for "whatever it is"); the events get
        versions ``expected_version + 1``, ``+ 2``, ...

        Raises:
            WrongExpectedVersion: the stream is at another version; nothing was written.
            RequestIdReused: ``request.request_id`` was used for a different body or method.
            StoreUnavailable: the database failed; nothing was written.
        """

    async def read_stream(self, stream_id: str, after_version: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of one stream with versions above ``after_version``, oldest first."""

    async def read_all(self, after_sequence: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of every stream with sequences above ``after_sequence``, in commit order."""

    async def max_sequence(self) -> int:
        """The sequence of the last committed event, 0 when there is none."""

    async def stream_version(self, stream_id: str) -> int:
        """The version of the last event of ``stream_id``, 0 when it has none."""

    async def find_request(self, request_id: str) -> RequestRecord | None:
        """The remembered request with this id, if any."""

    async def catalog_snapshot(self, stream_id: str) -> CatalogSnapshot:
        """Every asset, with the version of ``stream_id`` (the catalog stream) at the same instant."""

    async def get_asset(self, key: str) -> AssetRecord | None:
        """One asset row."""

    async def list_assets(self, after_key: str | None, limit: int) -> list[AssetRecord]:
        """Up to ``limit`` assets with keys above ``after_key``, ordered by key."""

    async def dynamic_partitions(self, name: str, stream_id: str) -> DynamicPartitionsSnapshot:
        """The keys of dynamic definition ``name`` in order, with the version of ``stream_id``."""

    async def close(self) -> None:
        """Waits for the write in progress, then closes every connection."""
