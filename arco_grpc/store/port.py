"""The store's contract: what every backend (SQLite, PostgreSQL) provides.

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

from arco_grpc.errors import ArcoError
from arco_grpc.store.model import (
    AppendResult,
    AppendUnit,
    AssetRecord,
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    BackfillRowSource,
    CatalogSnapshot,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    RoundRecord,
    RunEnd,
    RunQuery,
    RunRecord,
    RunStart,
    ScheduleRecord,
    StatusUpdate,
    StoredEvent,
    TransitionRecord,
)


class Transaction(Protocol):
    """The projection writes available to a projector inside an append."""

    async def put_asset(self, record: AssetRecord) -> None:
        """Inserts or replaces the asset row with ``record.key``, and keeps this version in the asset history."""

    async def add_dynamic_partitions(self, name: str, keys: Sequence[str], ordinal: int) -> None:
        """Appends ``keys`` (absent ones; present ones stay where they are) after every existing key."""

    async def delete_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Removes ``keys`` from the definition ``name``; absent keys are ignored."""

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """The backfill row as this transaction sees it (earlier writes of the transaction included)."""

    async def put_backfill(self, row: BackfillRecord | BackfillRowSource) -> None:
        """Inserts or replaces the backfill row; its targets and tags are written once, on insert.

        A source's row is built when the transaction writes, from the last source given for the backfill.
        """

    async def add_backfill_transition(self, record: TransitionRecord) -> None:
        """Records one state change of a backfill."""

    async def get_chunk(self, backfill_id: str, target_position: int, round_number: int, index: int) -> ChunkRecord | None:
        """One chunk row as this transaction sees it."""

    async def put_chunk(self, record: ChunkRecord) -> None:
        """Inserts or replaces the row of one chunk."""

    async def put_chunks(self, records: Sequence[ChunkRecord]) -> None:
        """Inserts or replaces the rows of chunks, in order (a chunk given twice ends with its last row)."""

    async def put_round(self, record: RoundRecord) -> None:
        """Records the partitions a retry round holds for one target."""

    async def record_run(self, record: RunRecord) -> None:
        """Records a run under its run key.

        Raises:
            DuplicateRunKey: a run with this key exists; the append fails and writes nothing.
        """

    async def record_runs(self, records: Sequence[RunRecord]) -> None:
        """Records runs as :meth:`record_run` does each (one call for many: the dispatch hot path)."""

    async def start_runs(self, starts: Sequence[RunStart]) -> None:
        """Records that queued runs (submitted runs' first attempts) started.

        Raises:
            DuplicateRunKey: a run is not QUEUED (it started before); the append fails and writes nothing.
        """

    async def cancel_queued_run(self, run_id: str, at: datetime, reason: str) -> None:
        """Ends run ``run_id`` as CANCELLED if it is still QUEUED (never leased); otherwise changes nothing."""

    async def end_run(self, end: RunEnd) -> None:
        """Records how the run ``end.run_id`` ended."""

    async def end_runs(self, ends: Sequence[RunEnd]) -> None:
        """Records how runs ended, as :meth:`end_run` does each."""

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """The schedule row as this transaction sees it (earlier writes of the transaction included)."""

    async def put_schedule(self, record: ScheduleRecord) -> None:
        """Inserts or replaces the row of schedule ``record.name``."""

    async def update_partition_status(self, asset_key: str, space: str, update: StatusUpdate) -> None:
        """Replaces the status row of (``asset_key``, ``space``) with ``update`` of its stored bytes.

        ``update`` runs when the transaction writes, after the writes given before it, so a projector
        needs no read (the group-commit fast path stays open); it must be pure.
        """


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

    async def append_batch(self, units: Sequence[AppendUnit]) -> list[AppendResult | ArcoError]:
        """Appends every unit in one transaction (one commit for the lot), in order.

        Each unit is all or nothing, as :meth:`append` is: the result of a
        unit refused for its request id, its expected versions or a broken
        constraint (DuplicateRunKey) is that error, and it wrote nothing; the
        other units are written. Sequences follow the units' order.

        Raises:
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

    async def asset_version(self, key: str, version: int) -> AssetRecord | None:
        """Asset ``key`` as it was at ``version`` (the history keeps every version)."""

    async def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """One backfill row."""

    async def backfill_specs(self, backfill_ids: Sequence[str]) -> dict[str, bytes]:
        """The stored specs (BackfillCreated bytes) of the backfills ``backfill_ids`` names, by id, in one
        snapshot; absent ids are left out."""

    async def backfill_details(self, backfill_id: str, transition_limit: int) -> BackfillDetails | None:
        """One backfill with its last ``transition_limit`` transitions and stored-chunk counts, in one snapshot."""

    async def list_backfills(
        self, where: BackfillFilter, before_sequence: int | None, limit: int
    ) -> list[tuple[BackfillRecord, tuple[ChunkStateCount, ...]]]:
        """Up to ``limit`` backfills matching ``where``, newest first (created_sequence below ``before_sequence``)."""

    async def list_chunks(self, query: ChunkQuery) -> list[ChunkRecord]:
        """Stored chunks matching ``query``, in plan order."""

    async def get_run(self, run_key: str) -> RunRecord | None:
        """The run recorded under ``run_key``."""

    async def get_run_by_id(self, run_id: str) -> RunRecord | None:
        """The run with id ``run_id``."""

    async def runs_in_scope(self, scope_key: str) -> list[RunRecord]:
        """The submitted runs (first attempts) whose dedupe scope has key ``scope_key``, in ledger order."""

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        """Runs matching ``query``, oldest (lowest lease sequence) first."""

    async def partition_status(self, asset_key: str, space: str) -> bytes | None:
        """The stored status of ``asset_key`` in status space ``space`` (StoredPartitionStatus bytes), if any."""

    async def get_schedule(self, name: str) -> ScheduleRecord | None:
        """One schedule row."""

    async def list_schedules(self, after_sequence: int, limit: int) -> list[ScheduleRecord]:
        """Up to ``limit`` schedules created after event ``after_sequence``, in creation order."""

    async def backfill_rounds(self, backfill_id: str) -> list[RoundRecord]:
        """The retry rounds of a backfill, by round and target position."""

    async def dispatch_cursors(self, backfill_id: str, round_number: int) -> dict[int, int]:
        """Per target position: one past the largest chunk index with a row in ``round_number``."""

    async def rebuild_projections(self, project: Projector, batch_size: int = 1000) -> int:
        """Empties every projection and replays every event through ``project``, in one transaction.

        Returns how many events were replayed. Requests (remembered answers)
        are not projections and stay as they are.
        """

    async def close(self) -> None:
        """Waits for the write in progress, then closes every connection."""
