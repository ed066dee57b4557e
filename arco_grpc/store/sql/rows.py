"""Records to rows and rows to records: the column lists of the shared tables and their conversions.

Times are stored as microseconds since the Unix epoch, subsets and payloads as
bytes, run metadata as a JSON object; both backends store the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from arco_grpc.store.model import (
    AssetRecord,
    BackfillRecord,
    ChunkRecord,
    RoundRecord,
    RunEnd,
    RunRecord,
    RunStart,
    ScheduleRecord,
    StoredEvent,
    TransitionRecord,
    from_microseconds,
    to_microseconds,
)

# The derived tables, in the order a rebuild empties and refills them.
PROJECTION_TABLES = (
    "assets",
    "asset_versions",
    "dynamic_partitions",
    "backfills",
    "backfill_targets",
    "backfill_tags",
    "backfill_transitions",
    "backfill_rounds",
    "chunks",
    "runs",
    "partition_status",
    "schedules",
)

EVENT_COLUMNS = "sequence, stream_id, stream_version, event_type, payload, request_id, recorded_at_us"
ASSET_COLUMNS = "key, version, definition, updated_at_us"
BACKFILL_COLUMNS = (
    "backfill_id, state, state_version, max_concurrency, dispatch_order, title, creator, fingerprint, as_of_us, "
    "created_at_us, updated_at_us, ended_at_us, created_sequence, partitions_total, chunks_total, "
    "partitions_succeeded, partitions_failed, partitions_cancelled, leased_chunks, spec, round, round_chunks, "
    "round_finished, partitions_running, round_partitions"
)
TRANSITION_COLUMNS = "backfill_id, state_version, from_state, to_state, reason, recorded_at_us, request_id"
CHUNK_COLUMNS = (
    "backfill_id, target_position, asset_key, round, chunk_index, state, attempt, run_key, partition_count, "
    "subset, updated_at_us, remaining, remaining_count, run_id, worker_id, leased_at_us, lease_expires_at_us, lease_ttl_ms, "
    "next_attempt_at_us, failed_attempts, failed_count, error"
)
RUN_COLUMNS = (
    "run_key, backfill_id, asset_key, round, chunk_index, attempt, created_at_us, run_id, target_position, "
    "worker_id, state, lease_sequence, ended_at_us, partitions, partition_count, failed, failed_count, error, "
    "metadata, will_retry, lease_position, origin, origin_name, parent_run_id, root_run_id, waited_for, scope_key, "
    "origin_run_key, scheduled_at_us, submitted_at_us"
)
ROUND_COLUMNS = "backfill_id, round, target_position, asset_key, partitions, partition_count, chunk_count"
SCHEDULE_COLUMNS = "name, state, asset_key, stream_version, created_sequence, created_at_us, updated_at_us, snapshot"

# The chunk columns a chunk that has not failed leaves to their defaults: (next_attempt_at, failed_attempts,
# failed_count, error) of a ChunkRecord, last in its row.
UNFAILED = (None, 0, 0, "")
# What a run begun by a lease leaves to the columns' defaults: (ended_at, failed, failed_count, error, metadata,
# will_retry, scope_key, origin_run_key, scheduled_at, submitted_at) of a RunRecord.
_LEASED_RUN_DEFAULTS = (None, None, 0, "", (), False, None, None, None, None)


def _time_or_none(value: Any) -> Any:
    return None if value is None else from_microseconds(int(value))


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _micros(moment: Any) -> int | None:
    return None if moment is None else to_microseconds(moment)


# -- rows to records ----------------------------------------------------------------------


def event_from_row(row: Sequence[Any]) -> StoredEvent:
    """A StoredEvent from a row selected with :data:`EVENT_COLUMNS`."""
    return StoredEvent(
        sequence=int(row[0]),
        stream_id=str(row[1]),
        stream_version=int(row[2]),
        event_type=str(row[3]),
        payload=bytes(row[4]),
        request_id=None if row[5] is None else str(row[5]),
        recorded_at=from_microseconds(int(row[6])),
    )


def asset_from_row(row: Sequence[Any]) -> AssetRecord:
    """An AssetRecord from a row selected with :data:`ASSET_COLUMNS` (or the history's same columns)."""
    return AssetRecord(
        key=str(row[0]), version=int(row[1]), definition=bytes(row[2]), updated_at=from_microseconds(int(row[3]))
    )


def backfill_from_row(
    row: Sequence[Any],
    asset_keys: tuple[str, ...],
    tags: tuple[tuple[str, str], ...],
    outcomes: tuple[tuple[bytes | None, bytes | None, bytes | None], ...],
) -> BackfillRecord:
    """A BackfillRecord from a row selected with :data:`BACKFILL_COLUMNS` and its side tables' values."""
    return BackfillRecord(
        backfill_id=str(row[0]),
        state=int(row[1]),
        state_version=int(row[2]),
        max_concurrency=int(row[3]),
        dispatch_order=int(row[4]),
        title=str(row[5]),
        creator=str(row[6]),
        fingerprint=str(row[7]),
        as_of=from_microseconds(int(row[8])),
        created_at=from_microseconds(int(row[9])),
        updated_at=from_microseconds(int(row[10])),
        ended_at=None if row[11] is None else from_microseconds(int(row[11])),
        created_sequence=int(row[12]),
        partitions_total=int(row[13]),
        chunks_total=int(row[14]),
        partitions_succeeded=int(row[15]),
        partitions_failed=int(row[16]),
        partitions_cancelled=int(row[17]),
        leased_chunks=int(row[18]),
        asset_keys=asset_keys,
        tags=tags,
        spec=bytes(row[19]),
        round=int(row[20]),
        round_chunks=int(row[21]),
        round_finished=int(row[22]),
        partitions_running=int(row[23]),
        outcomes=outcomes,
        round_partitions=int(row[24]),
    )


def outcome_from_row(succeeded: Any, failed: Any, upstream_failed: Any) -> tuple[bytes | None, bytes | None, bytes | None]:
    """One target's (succeeded, failed, upstream failed) subsets as a backfill_targets row holds them."""
    return (_bytes_or_none(succeeded), _bytes_or_none(failed), _bytes_or_none(upstream_failed))


def transition_from_row(row: Sequence[Any]) -> TransitionRecord:
    """A TransitionRecord from a row selected with :data:`TRANSITION_COLUMNS`."""
    return TransitionRecord(
        backfill_id=str(row[0]),
        state_version=int(row[1]),
        from_state=int(row[2]),
        to_state=int(row[3]),
        reason=str(row[4]),
        recorded_at=from_microseconds(int(row[5])),
        request_id=None if row[6] is None else str(row[6]),
    )


def chunk_from_row(row: Sequence[Any]) -> ChunkRecord:
    """A ChunkRecord from a row selected with :data:`CHUNK_COLUMNS`."""
    return ChunkRecord(
        backfill_id=str(row[0]),
        target_position=int(row[1]),
        asset_key=str(row[2]),
        round=int(row[3]),
        chunk_index=int(row[4]),
        state=int(row[5]),
        attempt=int(row[6]),
        run_key=str(row[7]),
        partition_count=int(row[8]),
        subset=None if row[9] is None else bytes(row[9]),
        updated_at=from_microseconds(int(row[10])),
        remaining=_bytes_or_none(row[11]),
        remaining_count=None if row[12] is None else int(row[12]),
        run_id=str(row[13]),
        worker_id=str(row[14]),
        leased_at=_time_or_none(row[15]),
        lease_expires_at=_time_or_none(row[16]),
        lease_ttl_ms=int(row[17]),
        next_attempt_at=_time_or_none(row[18]),
        failed_attempts=int(row[19]),
        failed_count=int(row[20]),
        error=str(row[21]),
    )


def run_from_row(row: Sequence[Any]) -> RunRecord:
    """A RunRecord from a row selected with :data:`RUN_COLUMNS`."""
    # Positional, in RunRecord's field order (the columns' order): a ledger scan builds one per row,
    # and keywords cost about twice as much.
    metadata = row[18]
    return RunRecord(
        str(row[0]),  # run_key
        str(row[1]),  # backfill_id
        str(row[2]),  # asset_key
        int(row[3]),  # round
        int(row[4]),  # chunk_index
        int(row[5]),  # attempt
        from_microseconds(int(row[6])),  # created_at
        "" if row[7] is None else str(row[7]),  # run_id
        int(row[8]),  # target_position
        str(row[9]),  # worker_id
        int(row[10]),  # state
        int(row[11]),  # lease_sequence
        _time_or_none(row[12]),  # ended_at
        _bytes_or_none(row[13]),  # partitions
        int(row[14]),  # partition_count
        _bytes_or_none(row[15]),  # failed
        int(row[16]),  # failed_count
        str(row[17]),  # error
        () if metadata == "{}" else tuple(sorted(json.loads(metadata).items())),  # metadata; most rows have none
        bool(row[19]),  # will_retry
        int(row[20]),  # lease_position
        int(row[21]),  # origin
        str(row[22]),  # origin_name
        str(row[23]),  # parent_run_id
        str(row[24]),  # root_run_id
        tuple(str(row[25]).split(",")) if row[25] else (),  # waited_for
        None if row[26] is None else str(row[26]),  # scope_key
        None if row[27] is None else str(row[27]),  # origin_run_key
        _time_or_none(row[28]),  # scheduled_at
        _time_or_none(row[29]),  # submitted_at
    )


def round_from_row(row: Sequence[Any]) -> RoundRecord:
    """A RoundRecord from a row selected with :data:`ROUND_COLUMNS`."""
    return RoundRecord(
        backfill_id=str(row[0]),
        round=int(row[1]),
        target_position=int(row[2]),
        asset_key=str(row[3]),
        partitions=bytes(row[4]),
        partition_count=int(row[5]),
        chunk_count=int(row[6]),
    )


def schedule_from_row(row: Sequence[Any]) -> ScheduleRecord:
    """A ScheduleRecord from a row selected with :data:`SCHEDULE_COLUMNS`."""
    return ScheduleRecord(
        name=str(row[0]), state=int(row[1]), asset_key=str(row[2]), stream_version=int(row[3]),
        created_sequence=int(row[4]), created_at=from_microseconds(int(row[5])),
        updated_at=from_microseconds(int(row[6])), snapshot=bytes(row[7]),
    )


# -- records to rows ----------------------------------------------------------------------


def metadata_to_text(metadata: Sequence[tuple[str, str]]) -> str:
    """The stored form of run metadata: a JSON object with sorted keys."""
    if not metadata:
        return "{}"
    return json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)


def backfill_row(record: BackfillRecord) -> tuple[Any, ...]:
    """The values of a backfills row, in :data:`BACKFILL_COLUMNS` order."""
    return (
        record.backfill_id, record.state, record.state_version, record.max_concurrency, record.dispatch_order,
        record.title, record.creator, record.fingerprint, to_microseconds(record.as_of),
        to_microseconds(record.created_at), to_microseconds(record.updated_at), _micros(record.ended_at),
        record.created_sequence, record.partitions_total, record.chunks_total, record.partitions_succeeded,
        record.partitions_failed, record.partitions_cancelled, record.leased_chunks, record.spec, record.round,
        record.round_chunks, record.round_finished, record.partitions_running, record.round_partitions,
    )


def outcome(record: BackfillRecord, position: int) -> tuple[bytes | None, bytes | None, bytes | None]:
    """The (succeeded, failed, upstream failed) subsets of the target at ``position`` (None each when unknown)."""
    return record.outcomes[position] if position < len(record.outcomes) else (None, None, None)


def transition_row(record: TransitionRecord) -> tuple[Any, ...]:
    """The values of a backfill_transitions row, in :data:`TRANSITION_COLUMNS` order."""
    return (
        record.backfill_id, record.state_version, record.from_state, record.to_state, record.reason,
        to_microseconds(record.recorded_at), record.request_id,
    )


def round_row(record: RoundRecord) -> tuple[Any, ...]:
    """The values of a backfill_rounds row, in :data:`ROUND_COLUMNS` order."""
    return (
        record.backfill_id, record.round, record.target_position, record.asset_key, record.partitions,
        record.partition_count, record.chunk_count,
    )


def chunk_row(record: ChunkRecord) -> tuple[Any, ...]:
    """The values of a chunks row, in :data:`CHUNK_COLUMNS` order but for ``asset_key``, fifth here."""
    return (
        record.backfill_id, record.target_position, record.round, record.chunk_index, record.asset_key,
        record.state, record.attempt, record.run_key, record.partition_count, record.subset,
        to_microseconds(record.updated_at), record.remaining, record.remaining_count, record.run_id, record.worker_id,
        _micros(record.leased_at), _micros(record.lease_expires_at), record.lease_ttl_ms,
        _micros(record.next_attempt_at), record.failed_attempts, record.failed_count, record.error,
    )


def run_row(record: RunRecord) -> tuple[Any, ...]:
    """The values of a runs row, in :data:`RUN_COLUMNS` order."""
    return (
        record.run_key, record.backfill_id, record.asset_key, record.round, record.chunk_index, record.attempt,
        to_microseconds(record.created_at), record.run_id or None, record.target_position, record.worker_id,
        record.state, record.lease_sequence, _micros(record.ended_at), record.partitions, record.partition_count,
        record.failed, record.failed_count, record.error, metadata_to_text(record.metadata), int(record.will_retry),
        record.lease_position, record.origin, record.origin_name, record.parent_run_id, record.root_run_id,
        ",".join(record.waited_for), record.scope_key, record.origin_run_key, _micros(record.scheduled_at),
        _micros(record.submitted_at),
    )


def leased_run_row(record: RunRecord) -> tuple[Any, ...]:
    """The values of a run begun by a lease whose other columns keep their defaults (see :func:`is_leased_run`)."""
    return (
        record.run_key, record.backfill_id, record.asset_key, record.round, record.chunk_index, record.attempt,
        to_microseconds(record.created_at), record.run_id or None, record.target_position, record.worker_id,
        record.state, record.lease_sequence, record.partitions, record.partition_count, record.lease_position,
        record.origin, record.origin_name, record.parent_run_id, record.root_run_id, ",".join(record.waited_for),
    )


def is_leased_run(record: RunRecord) -> bool:
    """Whether ``record``'s row is all in :func:`leased_run_row` (its other columns hold their defaults)."""
    return (
        record.ended_at, record.failed, record.failed_count, record.error, record.metadata, record.will_retry,
        record.scope_key, record.origin_run_key, record.scheduled_at, record.submitted_at,
    ) == _LEASED_RUN_DEFAULTS


def start_row(start: RunStart) -> tuple[Any, ...]:
    """The values that start a queued run: (worker, started at, partitions, count, waited for, run id)."""
    return (
        start.worker_id, to_microseconds(start.started_at), start.partitions, start.partition_count,
        ",".join(start.waited_for), start.run_id,
    )


def end_row(end: RunEnd) -> tuple[Any, ...]:
    """The values that end a run: (state, ended at, failed, count, error, metadata, will retry, run id)."""
    return (
        end.state, to_microseconds(end.ended_at), end.failed, end.failed_count, end.error,
        metadata_to_text(end.metadata), int(end.will_retry), end.run_id,
    )


def schedule_row(record: ScheduleRecord) -> tuple[Any, ...]:
    """The values of a schedules row, in :data:`SCHEDULE_COLUMNS` order."""
    return (
        record.name, record.state, record.asset_key, record.stream_version, record.created_sequence,
        to_microseconds(record.created_at), to_microseconds(record.updated_at), record.snapshot,
    )
