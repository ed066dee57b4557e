"""WorkerService messages: leased chunks, completion answers and per-completion errors."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.timestamp_pb2 import Timestamp

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, worker_service_pb2 as wapi
from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.domain.chunk_events import ChunkFailed, ChunkSucceeded, RunState
from arco_grpc.errors import ArcoError
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_chunk_events import subset_message
from arco_grpc.planning.run_keys import RunOrigin
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.service.convert_runs import ORIGIN_NUMBERS
from arco_grpc.service.dispatch import Granted
from arco_grpc.service.errors import status_code_for
from arco_grpc.store import RunRecord

# Leased chunks list their keys only up to this many partitions (then: the subset, first and last keys).
MAX_LISTED_KEYS = 1000


def chunk_keys(space: PartitionSpace, subset: AnySubset, start: int, stop: int, descending: bool) -> list[str]:
    """The keys at positions ``[start, stop)`` of ``subset`` in dispatch order (a one-range subset in one call)."""
    if isinstance(subset, PartitionSubset) and len(subset.ranges) == 1:
        first, last = subset.ranges[0]
        if descending:
            return space.keys(last - stop, last - start)[::-1]
        return space.keys(first + start, first + stop)
    return subset_keys(space, subset, start, stop, descending)


def leased_chunks_to_proto(granted: Sequence[Granted]) -> wapi.LeaseChunksResponse:
    """The LeaseChunksResponse of leases just granted: per chunk the keys (up to 1,000) in dispatch order, the
    subset, the first and last keys."""
    response = wapi.LeaseChunksResponse()
    add = response.chunks.add
    shared: dict[str, tuple[Timestamp, dict[str, str], bool, int, str]] = {}
    spaces: dict[tuple[str, str], PartitionSpace] = {}
    for grant in granted:
        book, event = grant.book, grant.event
        backfill_id = book.backfill_id
        if backfill_id not in shared:
            # Every lease of one call and backfill shares the expiry (see ChunksLeased).
            submitted = book.backfill.spec.submitted_run
            shared[backfill_id] = (
                datetime_to_proto(event.lease_expires_at), book.tags, book.plan.order is DispatchOrder.BACKWARD,
                ORIGIN_NUMBERS[submitted.origin] if submitted else ORIGIN_NUMBERS[RunOrigin.BACKFILL],
                submitted.origin_name if submitted else "",
            )
        expires, tags, descending, origin, origin_name = shared[backfill_id]
        space = spaces.get((backfill_id, event.asset_key))
        if space is None:
            space = book.plan.targets[book.backfill.target_position(event.asset_key)].space
            spaces[(backfill_id, event.asset_key)] = space
        subset = event.partitions
        count = subset.count
        if count <= MAX_LISTED_KEYS:
            keys = chunk_keys(space, subset, 0, count, descending)
            first, last = (keys[0], keys[-1]) if keys else ("", "")
        else:
            keys = []
            first = chunk_keys(space, subset, 0, 1, descending)[0]
            last = chunk_keys(space, subset, count - 1, count, descending)[0]
        run_id = event.run_id
        chunk = add(
            backfill_id=backfill_id,
            asset_key=event.asset_key,
            round=event.round,
            index=event.index,
            attempt=event.attempt,
            run_id=run_id,
            run_key=event.run_key,
            partition_keys=keys,
            partition_count=count,
            first_key=first,
            last_key=last,
            origin=origin,
            origin_name=origin_name,
        )
        # Sub-messages filled in place (cheaper than building each and copying it in).
        lease = chunk.lease
        lease.run_id = run_id
        lease.backfill_id = backfill_id
        chunk.partitions.CopyFrom(subset_message(subset))
        chunk.lease_expire_time.CopyFrom(expires)
        if tags:
            chunk.tags.update(tags)
    return response


# The answer to every successful report (shared: never mutate it; assigning it to a field copies it).
SUCCEEDED_ANSWER = wapi.CompleteChunkResponse(chunk_state=bf.Chunk.STATE_SUCCEEDED)


def answer_of(outcome: ChunkSucceeded | ChunkFailed) -> wapi.CompleteChunkResponse:
    """The answer to a report, from the outcome it decided (do not mutate it: it may be shared)."""
    if isinstance(outcome, ChunkSucceeded):
        return SUCCEEDED_ANSWER
    state = bf.Chunk.STATE_PENDING if outcome.will_retry else bf.Chunk.STATE_FAILED
    return wapi.CompleteChunkResponse(chunk_state=state, will_retry=outcome.will_retry)


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
