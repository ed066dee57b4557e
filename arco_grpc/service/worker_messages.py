"""WorkerService messages: leased chunks, completion answers and per-completion errors."""

from __future__ import annotations

from collections.abc import Sequence

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, worker_service_pb2 as wapi
from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.domain.chunk_events import ChunkFailed, ChunkLeased, ChunkSucceeded, RunState
from arco_grpc.errors import ArcoError
from arco_grpc.partitions.selection import subset_keys
from arco_grpc.service.backfill_book import BackfillBook
from arco_grpc.service.convert_chunk_events import subset_message
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.service.errors import status_code_for
from arco_grpc.store import RunRecord

# Leased chunks list their keys only up to this many partitions (then: the subset, first and last keys).
MAX_LISTED_KEYS = 1000


def leased_chunk_to_proto(book: BackfillBook, event: ChunkLeased) -> wapi.LeasedChunk:
    """The LeasedChunk message of a lease just granted: the keys (up to 1,000) in dispatch order, the subset."""
    target = book.plan.targets[book.backfill.target_position(event.asset_key)]
    subset = event.partitions
    count = subset.count
    descending = book.plan.order is DispatchOrder.BACKWARD
    if count <= MAX_LISTED_KEYS:
        keys = subset_keys(target.space, subset, 0, count, descending)
        first, last = (keys[0], keys[-1]) if keys else ("", "")
    else:
        keys = []
        first = subset_keys(target.space, subset, 0, 1, descending)[0]
        last = subset_keys(target.space, subset, count - 1, count, descending)[0]
    return wapi.LeasedChunk(
        lease=wapi.ChunkLease(run_id=event.run_id, backfill_id=book.backfill_id),
        backfill_id=book.backfill_id,
        asset_key=event.asset_key,
        round=event.round,
        index=event.index,
        attempt=event.attempt,
        run_id=event.run_id,
        run_key=event.run_key,
        partition_keys=keys,
        partitions=subset_message(subset),
        partition_count=count,
        first_key=first,
        last_key=last,
        lease_expire_time=datetime_to_proto(event.lease_expires_at),
        tags=book.tags,
    )


def answer_of(events: Sequence[object]) -> wapi.CompleteChunkResponse:
    """The answer to a report, from the event it decided."""
    for event in events:
        if isinstance(event, ChunkSucceeded):
            return wapi.CompleteChunkResponse(chunk_state=bf.Chunk.STATE_SUCCEEDED)
        if isinstance(event, ChunkFailed):
            state = bf.Chunk.STATE_PENDING if event.will_retry else bf.Chunk.STATE_FAILED
            return wapi.CompleteChunkResponse(chunk_state=state, will_retry=event.will_retry)
    raise ValueError("a report decides a ChunkSucceeded or a ChunkFailed")


def answer_of_run(run: RunRecord) -> wapi.CompleteChunkResponse:
    """The answer a report on a run that ended on a report was given (from its row)."""
    if run.state == RunState.SUCCEEDED:
        return wapi.CompleteChunkResponse(chunk_state=bf.Chunk.STATE_SUCCEEDED)
    state = bf.Chunk.STATE_PENDING if run.will_retry else bf.Chunk.STATE_FAILED
    return wapi.CompleteChunkResponse(chunk_state=state, will_retry=run.will_retry)


def error_result(error: ArcoError) -> wapi.CompletionResult:
    """A refused completion in a CompleteChunks answer: its status code and message."""
    code = status_code_for(type(error))
    return wapi.CompletionResult(error_code=code.value[0] if code else 13, error_message=error.message)
