"""Protobuf <-> pure values for chunk events, retry rounds and retry policies."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from google.protobuf import duration_pb2
from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, events_pb2 as ev, partitions_pb2 as pb
from arco_grpc.domain.chunk_events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunksCompleted,
    ChunksLeased,
    ChunkSucceeded,
    PartitionsUpstreamFailed,
    RetriedTarget,
    RetryRoundOpened,
    UpstreamFailedTarget,
)
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_partitions import datetime_from_proto, datetime_to_proto, subset_to_proto

ChunkOrRoundEvent = (
    ChunkLeased | ChunkSucceeded | ChunkFailed | ChunkLeaseExpired | ChunkReleased | ChunkCancelled | RetryRoundOpened
    | ChunksLeased | ChunksCompleted | PartitionsUpstreamFailed
)
# Event type -> the BackfillEventPayload oneof field that carries it.
CHUNK_PAYLOAD_FIELDS = {
    "ChunkLeased": "chunk_leased",
    "ChunkSucceeded": "chunk_succeeded",
    "ChunkFailed": "chunk_failed",
    "ChunkLeaseExpired": "chunk_lease_expired",
    "ChunkReleased": "chunk_released",
    "ChunkCancelled": "chunk_cancelled",
    "RetryRoundOpened": "retry_round_opened",
    "ChunksLeased": "chunks_leased",
    "ChunksCompleted": "chunks_completed",
    "PartitionsUpstreamFailed": "partitions_upstream_failed",
}


# -- subsets and durations ------------------------------------------------------


def _ranges(ranges: list[pb.IndexRange]) -> PartitionSubset:
    return PartitionSubset.from_ranges((r.start, r.end) for r in ranges)


def subset_from_proto(message: pb.PartitionSubset) -> AnySubset:
    """The subset a stored PartitionSubset message holds (bands for multi, else ranges)."""
    if message.bands:
        return MultiPartitionSubset(
            tuple((band.first.start, band.first.end, _ranges(list(band.second))) for band in message.bands)
        )
    return _ranges(list(message.ranges))


@lru_cache(maxsize=16_384)
def subset_message(subset: AnySubset) -> pb.PartitionSubset:
    """The PartitionSubset message of ``subset``, cached: never mutate it (assigning it to a field copies it)."""
    return subset_to_proto(subset)


def encode_subset(subset: AnySubset) -> bytes | None:
    """The stored bytes of a subset (PartitionSubset), None when it is empty.

    Cached: a chunk's subsets are encoded for its event, its row and its run.
    """
    if subset.is_empty:
        return None
    return _encoded(subset)


@lru_cache(maxsize=16_384)
def _encoded(subset: AnySubset) -> bytes:
    return subset_message(subset).SerializeToString(deterministic=True)


def decode_subset(data: bytes | None) -> AnySubset:
    """The subset stored as ``data`` (None: empty)."""
    if not data:
        return PartitionSubset.empty()
    return subset_from_proto(pb.PartitionSubset.FromString(data))


def duration_to_proto(delta: timedelta) -> duration_pb2.Duration:
    """The Duration of a timedelta."""
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delta)
    return duration


# -- retry policies ---------------------------------------------------------------


def retry_policy_to_proto(policy: RetryPolicy) -> bf.RetryPolicy:
    """The RetryPolicy message with every value filled in."""
    return bf.RetryPolicy(
        max_attempts=policy.max_attempts,
        initial_backoff=duration_to_proto(policy.initial_backoff),
        backoff_multiplier=policy.backoff_multiplier,
        max_backoff=duration_to_proto(policy.max_backoff),
    )


def retry_policy_from_proto(message: bf.RetryPolicy, present: bool = True) -> RetryPolicy:
    """The policy a RetryPolicy message asks for, defaults filling what is unset (all of it when not ``present``).

    Raises:
        InvalidArgument: a value is out of range (fields relative to the message).
    """
    if not present:
        return RetryPolicy()
    defaults = RetryPolicy()
    max_backoff = message.max_backoff.ToTimedelta() if message.HasField("max_backoff") else defaults.max_backoff
    initial = message.initial_backoff.ToTimedelta() if message.HasField("initial_backoff") else None
    if initial is None:
        # A short max_backoff alone lowers the default first wait instead of contradicting it.
        initial = min(defaults.initial_backoff, max_backoff) if message.HasField("max_backoff") else defaults.initial_backoff
    return RetryPolicy(
        max_attempts=message.max_attempts or defaults.max_attempts,
        initial_backoff=initial,
        backoff_multiplier=message.backoff_multiplier or defaults.backoff_multiplier,
        max_backoff=max_backoff,
    )


# -- events -------------------------------------------------------------------------


def _metadata(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(pairs)


def _fill_succeeded(message: ev.ChunkSucceeded, event: ChunkSucceeded) -> ev.ChunkSucceeded:
    message.asset_key = event.asset_key
    message.round = event.round
    message.index = event.index
    message.attempt = event.attempt
    message.run_id = event.run_id
    message.partition_count = event.partitions.count
    message.partitions.CopyFrom(subset_message(event.partitions))
    if event.metadata:
        message.metadata.update(event.metadata)
    return message


def _succeeded_to_proto(event: ChunkSucceeded) -> ev.ChunkSucceeded:
    return _fill_succeeded(ev.ChunkSucceeded(), event)


def _failed_to_proto(event: ChunkFailed) -> ev.ChunkFailed:
    message = ev.ChunkFailed(
        asset_key=event.asset_key, round=event.round, index=event.index, attempt=event.attempt,
        run_id=event.run_id, failed_partition_count=event.failed_partitions.count, error_message=event.error,
        will_retry=event.will_retry, metadata=_metadata(event.metadata),
        partitions=subset_message(event.partitions), partition_count=event.partitions.count,
    )
    if event.failed is not None:
        message.failed_partitions.CopyFrom(subset_message(event.failed))
    if event.retry_at is not None:
        message.next_attempt_time.CopyFrom(datetime_to_proto(event.retry_at))
    return message


def _chunks_leased_to_proto(event: ChunksLeased) -> ev.ChunksLeased:
    message = ev.ChunksLeased(
        worker_id=event.worker_id, lease_expire_time=datetime_to_proto(event.lease_expires_at),
        lease_ttl=duration_to_proto(event.lease_ttl),
    )
    add = message.leases.add
    for lease in event.leases:
        partitions = lease.partitions
        entry = add(
            asset_key=lease.asset_key, round=lease.round, index=lease.index, attempt=lease.attempt,
            run_id=lease.run_id, run_key=lease.run_key, partition_count=partitions.count,
            chunk_partition_count=lease.chunk_partition_count,
        )
        entry.partitions.CopyFrom(subset_message(partitions))  # in place: no copy of a copy
        if lease.waited_for:
            entry.waited_for_run_ids.extend(lease.waited_for)
    return message


def _chunks_completed_to_proto(event: ChunksCompleted) -> ev.ChunksCompleted:
    message = ev.ChunksCompleted()
    add = message.outcomes.add
    for outcome in event.outcomes:
        if isinstance(outcome, ChunkSucceeded):
            _fill_succeeded(add().succeeded, outcome)  # in place: no message built and copied per outcome
        else:
            add(failed=_failed_to_proto(outcome))
    return message


def chunk_event_to_payload(event: ChunkOrRoundEvent) -> Message:
    """The protobuf payload of a chunk event (or a batch of them) or a retry round."""
    if isinstance(event, ChunksLeased):
        return _chunks_leased_to_proto(event)
    if isinstance(event, ChunksCompleted):
        return _chunks_completed_to_proto(event)
    if isinstance(event, ChunkLeased):
        return ev.ChunkLeased(
            asset_key=event.asset_key, round=event.round, index=event.index, attempt=event.attempt,
            run_id=event.run_id, run_key=event.run_key, worker_id=event.worker_id,
            lease_expire_time=datetime_to_proto(event.lease_expires_at), lease_ttl=duration_to_proto(event.lease_ttl),
            partitions=subset_message(event.partitions), partition_count=event.partitions.count,
            chunk_partition_count=event.chunk_partition_count, waited_for_run_ids=event.waited_for,
        )
    if isinstance(event, ChunkSucceeded):
        return _succeeded_to_proto(event)
    if isinstance(event, ChunkFailed):
        return _failed_to_proto(event)
    if isinstance(event, ChunkLeaseExpired):
        return ev.ChunkLeaseExpired(
            asset_key=event.asset_key, round=event.round, index=event.index, attempt=event.attempt,
            run_id=event.run_id, will_retry=event.will_retry, attempts_exhausted=event.attempts_exhausted,
            partitions=subset_message(event.partitions), partition_count=event.partitions.count,
        )
    if isinstance(event, ChunkReleased):
        return ev.ChunkReleased(
            asset_key=event.asset_key, round=event.round, index=event.index, attempt=event.attempt,
            run_id=event.run_id, partitions=subset_message(event.partitions), partition_count=event.partitions.count,
        )
    if isinstance(event, ChunkCancelled):
        return ev.ChunkCancelled(
            asset_key=event.asset_key, round=event.round, index=event.index,
            partitions_cancelled=event.partitions.count, partitions=subset_message(event.partitions),
        )
    if isinstance(event, RetryRoundOpened):
        return ev.RetryRoundOpened(
            round=event.round,
            targets=[
                ev.RetriedTarget(
                    asset_key=target.asset_key, partitions=subset_message(target.partitions),
                    partition_count=target.partitions.count, chunk_count=target.chunk_count,
                    failed_count=target.failed_count,
                )
                for target in event.targets
            ],
            include_unattempted=event.include_unattempted,
            reason=event.reason,
        )
    if isinstance(event, PartitionsUpstreamFailed):
        return ev.PartitionsUpstreamFailed(
            targets=[
                ev.UpstreamFailedTarget(
                    asset_key=target.asset_key, partitions=subset_message(target.partitions),
                    partition_count=target.partitions.count, chunk_count=target.chunk_count,
                )
                for target in event.targets
            ]
        )
    raise TypeError(f"not a chunk event: {event!r}")


def _succeeded_from_proto(message: ev.ChunkSucceeded) -> ChunkSucceeded:
    return ChunkSucceeded(
        message.asset_key, message.round, message.index, message.attempt, message.run_id,
        subset_from_proto(message.partitions), tuple(sorted(message.metadata.items())),
    )


def _failed_from_proto(message: ev.ChunkFailed) -> ChunkFailed:
    return ChunkFailed(
        message.asset_key, message.round, message.index, message.attempt, message.run_id,
        subset_from_proto(message.partitions),
        subset_from_proto(message.failed_partitions) if message.HasField("failed_partitions") else None,
        message.error_message, message.will_retry,
        datetime_from_proto(message.next_attempt_time, "next_attempt_time")
        if message.HasField("next_attempt_time") else None,
        tuple(sorted(message.metadata.items())),
    )


def _chunks_leased_from_proto(message: ev.ChunksLeased) -> ChunksLeased:
    expires = datetime_from_proto(message.lease_expire_time, "lease_expire_time")
    ttl = message.lease_ttl.ToTimedelta()
    worker_id = message.worker_id
    return ChunksLeased(tuple(
        ChunkLeased(
            lease.asset_key, lease.round, lease.index, lease.attempt, lease.run_id, lease.run_key, worker_id, expires,
            ttl, subset_from_proto(lease.partitions), lease.chunk_partition_count, tuple(lease.waited_for_run_ids),
        )
        for lease in message.leases
    ))


def _chunks_completed_from_proto(message: ev.ChunksCompleted) -> ChunksCompleted:
    return ChunksCompleted(tuple(
        _succeeded_from_proto(outcome.succeeded) if outcome.HasField("succeeded") else _failed_from_proto(outcome.failed)
        for outcome in message.outcomes
    ))


def chunk_event_from_payload(message: Message) -> ChunkOrRoundEvent:
    """The domain event of a stored chunk-event (or batch) or retry-round payload."""
    if isinstance(message, ev.ChunksLeased):
        return _chunks_leased_from_proto(message)
    if isinstance(message, ev.ChunksCompleted):
        return _chunks_completed_from_proto(message)
    if isinstance(message, ev.ChunkLeased):
        return ChunkLeased(
            message.asset_key, message.round, message.index, message.attempt, message.run_id, message.run_key,
            message.worker_id, datetime_from_proto(message.lease_expire_time, "lease_expire_time"),
            message.lease_ttl.ToTimedelta(), subset_from_proto(message.partitions), message.chunk_partition_count,
            tuple(message.waited_for_run_ids),
        )
    if isinstance(message, ev.ChunkSucceeded):
        return _succeeded_from_proto(message)
    if isinstance(message, ev.ChunkFailed):
        return _failed_from_proto(message)
    if isinstance(message, ev.ChunkLeaseExpired):
        return ChunkLeaseExpired(
            message.asset_key, message.round, message.index, message.attempt, message.run_id,
            subset_from_proto(message.partitions), message.will_retry, message.attempts_exhausted,
        )
    if isinstance(message, ev.ChunkReleased):
        return ChunkReleased(
            message.asset_key, message.round, message.index, message.attempt, message.run_id,
            subset_from_proto(message.partitions),
        )
    if isinstance(message, ev.ChunkCancelled):
        return ChunkCancelled(message.asset_key, message.round, message.index, subset_from_proto(message.partitions))
    if isinstance(message, ev.RetryRoundOpened):
        return RetryRoundOpened(
            message.round,
            tuple(
                RetriedTarget(t.asset_key, subset_from_proto(t.partitions), t.chunk_count, t.failed_count)
                for t in message.targets
            ),
            message.include_unattempted,
            message.reason,
        )
    if isinstance(message, ev.PartitionsUpstreamFailed):
        return PartitionsUpstreamFailed(
            tuple(
                UpstreamFailedTarget(t.asset_key, subset_from_proto(t.partitions), t.chunk_count)
                for t in message.targets
            )
        )
    raise TypeError(f"not a chunk event payload: {type(message).__name__}")
