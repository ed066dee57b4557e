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
from arco_grpc.planning.run_keys import RunOrigin
from arco_grpc.service.backfill_book import BackfillBook
from arco_grpc.service.convert_chunk_events import subset_message
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


def _span_keys(space: PartitionSpace, subsets: Sequence[AnySubset], descending: bool) -> list[list[str]] | None:
    """The keys of each of ``subsets`` (chunks of one target) in dispatch order, made in one call over the
    span of their indices; None unless each is one range and the span holds few other partitions.

    Chunks leased together are usually neighbours, and a call per chunk costs more than the keys of a small chunk.
    """
    spans = []
    total = 0
    for subset in subsets:
        if not isinstance(subset, PartitionSubset) or len(subset.ranges) != 1:
            return None
        start, stop = subset.ranges[0]
        spans.append((start, stop))
        total += stop - start
    low = min(start for start, _ in spans)
    high = max(stop for _, stop in spans)
    if high - low > 2 * total:
        return None
    every = space.keys(low, high)
    if len(every) != high - low:  # clipped to the space: let chunk_keys answer each
        return None
    if descending:
        return [every[start - low : stop - low][::-1] for start, stop in spans]
    return [every[start - low : stop - low] for start, stop in spans]


def _listed_keys(granted: Sequence[Granted]) -> list[list[str] | None]:
    """Per grant, its keys in dispatch order when _span_keys made them with its target's other chunks (else
    None)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for position, grant in enumerate(granted):
        if grant.event.partitions.count <= MAX_LISTED_KEYS:
            group = (grant.book.backfill_id, grant.event.asset_key)
            if group in groups:
                groups[group].append(position)
            else:
                groups[group] = [position]
    listed: list[list[str] | None] = [None] * len(granted)
    for positions in groups.values():
        if len(positions) == 1:
            continue
        first = granted[positions[0]]
        book = first.book
        space = book.plan.targets[book.backfill.target_position(first.event.asset_key)].space
        subsets = [granted[position].event.partitions for position in positions]
        keys = _span_keys(space, subsets, book.plan.order is DispatchOrder.BACKWARD)
        if keys is not None:
            for position, chunk_keys_in_order in zip(positions, keys):
                listed[position] = chunk_keys_in_order
    return listed


def _fill_shared(chunk: wapi.LeasedChunk, book: BackfillBook, expires: Timestamp) -> wapi.LeasedChunk:
    """``chunk`` given the fields every chunk of ``book`` leased in one call shares."""
    submitted = book.backfill.spec.submitted_run
    chunk.backfill_id = book.backfill_id
    chunk.origin = ORIGIN_NUMBERS[submitted.origin] if submitted else ORIGIN_NUMBERS[RunOrigin.BACKFILL]
    if submitted:
        chunk.origin_name = submitted.origin_name
    chunk.lease.backfill_id = book.backfill_id
    chunk.lease_expire_time.CopyFrom(expires)
    tags = book.tags
    if tags:
        chunk.tags.update(tags)
    return chunk


def leased_chunks_to_proto(granted: Sequence[Granted]) -> wapi.LeaseChunksResponse:
    """The LeaseChunksResponse of leases just granted: per chunk the keys (up to 1,000) in dispatch order, the
    subset, the first and last keys."""
    response = wapi.LeaseChunksResponse()
    add = response.chunks.add
    # Per backfill: its chunks' shared fields (with several chunks, copied into each: cheaper than setting
    # them one by one), whether its keys read backwards, and its leases' expiry.
    shared: dict[str, tuple[wapi.LeasedChunk | None, bool, Timestamp]] = {}
    spaces: dict[tuple[str, str], PartitionSpace] = {}
    listed = _listed_keys(granted) if len(granted) > 1 else [None]
    for grant, keys in zip(granted, listed):
        book, event = grant.book, grant.event
        backfill_id = book.backfill_id
        found = shared.get(backfill_id)
        if found is None:
            # Every lease of one call and backfill shares the expiry (see ChunksLeased).
            expires = datetime_to_proto(event.lease_expires_at)
            template = _fill_shared(wapi.LeasedChunk(), book, expires) if len(granted) > 1 else None
            found = shared[backfill_id] = (template, book.plan.order is DispatchOrder.BACKWARD, expires)
        template, descending, expires = found
        subset = event.partitions
        count = subset.count
        if keys is not None:
            first, last = keys[0], keys[-1]
        else:
            space = spaces.get((backfill_id, event.asset_key))
            if space is None:
                space = book.plan.targets[book.backfill.target_position(event.asset_key)].space
                spaces[(backfill_id, event.asset_key)] = space
            if count <= MAX_LISTED_KEYS:
                keys = chunk_keys(space, subset, 0, count, descending)
                first, last = (keys[0], keys[-1]) if keys else ("", "")
            else:
                keys = []
                first = chunk_keys(space, subset, 0, 1, descending)[0]
                last = chunk_keys(space, subset, count - 1, count, descending)[0]
        run_id = event.run_id
        # Filled in place (cheaper than building each message and copying it in).
        chunk = add()
        if template is None:
            _fill_shared(chunk, book, expires)
        else:
            chunk.CopyFrom(template)
        chunk.asset_key = event.asset_key
        chunk.round = event.round
        chunk.index = event.index
        chunk.attempt = event.attempt
        chunk.run_id = run_id
        chunk.run_key = event.run_key
        chunk.partition_keys.extend(keys)
        chunk.partition_count = count
        chunk.first_key = first
        chunk.last_key = last
        chunk.lease.run_id = run_id
        chunk.partitions.CopyFrom(subset_message(subset))
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
