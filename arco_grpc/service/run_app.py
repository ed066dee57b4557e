"""RunService use cases: one run, and a backfill's runs oldest first, read from the runs projection."""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi
from arco_grpc.errors import NotFound
from arco_grpc.service.convert_chunk_events import decode_subset
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto
from arco_grpc.service.live_backfills import not_found
from arco_grpc.store import EventStore, RunQuery, RunRecord


def run_to_proto(record: RunRecord) -> rapi.Run:
    """The Run message of a run row."""
    run = rapi.Run(
        run_id=record.run_id,
        run_key=record.run_key,
        backfill_id=record.backfill_id,
        asset_key=record.asset_key,
        round=record.round,
        chunk_index=record.chunk_index,
        attempt=record.attempt,
        worker_id=record.worker_id,
        state=record.state,  # type: ignore[arg-type]
        start_time=datetime_to_proto(record.created_at),
        partitions=subset_to_proto(decode_subset(record.partitions)),
        partition_count=record.partition_count,
        failed_partition_count=record.failed_count,
        error_message=record.error,
        metadata=dict(record.metadata),
        failed_partitions=subset_to_proto(decode_subset(record.failed)),
    )
    if record.ended_at is not None:
        run.end_time.CopyFrom(datetime_to_proto(record.ended_at))
    return run


class RunApplication:
    """Reads of runs."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def get(self, run_id: str) -> rapi.Run:
        """One run.

        Raises:
            NotFound: no run has this id.
        """
        record = await self._store.get_run_by_id(run_id)
        if record is None:
            raise NotFound(f"no run has id {run_id!r}", reason="RUN_NOT_FOUND", metadata={"run_id": run_id})
        return run_to_proto(record)

    async def list(
        self,
        backfill_id: str,
        asset_key: str,
        round_number: int | None,
        chunk_index: int | None,
        after: tuple[int, int] | None,
        limit: int,
    ) -> tuple[list[rapi.Run], tuple[int, int] | None]:
        """Up to ``limit`` runs oldest first (after ``after``, a (lease sequence, lease position) pair, when
        given), and the pair to continue after (None at the end).

        Raises:
            NotFound: no such backfill, or it does not target ``asset_key``.
        """
        record = await self._store.get_backfill(backfill_id)
        if record is None:
            raise not_found(backfill_id)
        target = None
        if asset_key:
            if asset_key not in record.asset_keys:
                raise NotFound(
                    f"backfill {backfill_id} has no target {asset_key!r}; its targets are "
                    + ", ".join(repr(key) for key in record.asset_keys),
                    reason="TARGET_NOT_FOUND",
                    metadata={"backfill_id": backfill_id, "asset_key": asset_key},
                )
            target = record.asset_keys.index(asset_key)
        after_sequence, after_position = (0, None) if after is None else after
        rows = await self._store.list_runs(
            RunQuery(backfill_id, after_sequence, limit + 1, target, round_number, chunk_index, after_position)
        )
        page = [run_to_proto(row) for row in rows[:limit]]
        if len(rows) <= limit:
            return page, None
        last = rows[limit - 1]
        return page, (last.lease_sequence, last.lease_position)
