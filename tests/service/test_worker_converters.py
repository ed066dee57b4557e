"""Chunk and run enums match the protos one to one; every chunk event survives its payload round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rapi
from arco_grpc.domain.chunk_events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunksCompleted,
    ChunksLeased,
    ChunkState,
    ChunkSucceeded,
    RetriedTarget,
    RetryRoundOpened,
    RunState,
)
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_backfills import PAYLOAD_FIELDS, event_from_payload, event_to_payload
from arco_grpc.service.convert_chunk_events import retry_policy_from_proto, retry_policy_to_proto
from arco_grpc.store.payloads import PAYLOAD_TYPES, decode_payload, encode_event

T0 = datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
SOME = PartitionSubset.from_ranges([(0, 3), (7, 9)])
MULTI = MultiPartitionSubset.rectangle(PartitionSubset.of_range(0, 2), PartitionSubset.from_indices([1, 3]))


def test_chunk_and_run_states_use_the_proto_numbers() -> None:
    assert {s.name: int(s) for s in ChunkState} == {
        name.removeprefix("STATE_"): number for name, number in bf.Chunk.State.items() if number
    }
    assert {s.name: int(s) for s in RunState} == {
        name.removeprefix("STATE_"): number for name, number in rapi.Run.State.items() if number
    }


EVENTS = [
    ChunkLeased("orders", 2, 5, 3, "run-1", "rk-1", "w1", T0 + timedelta(seconds=30), timedelta(seconds=30), SOME, 9),
    ChunkLeased("grid", 1, 0, 1, "run-2", "rk-2", "w2", T0, timedelta(milliseconds=1500), MULTI, 4),
    ChunkSucceeded("orders", 1, 0, 1, "run-1", SOME, (("rows", "5"),)),
    ChunkFailed("orders", 1, 0, 1, "run-1", SOME, PartitionSubset.of_range(1, 2), "boom", True, T0, (("k", "v"),)),
    ChunkFailed("orders", 1, 0, 2, "run-1", SOME, None, "all of it", False, None),
    ChunkLeaseExpired("orders", 1, 0, 1, "run-1", SOME, will_retry=False, attempts_exhausted=True),
    ChunkReleased("grid", 1, 0, 1, "run-2", MULTI),
    ChunkCancelled("orders", 1, 4, SOME),
    RetryRoundOpened(3, (RetriedTarget("orders", SOME, 2, 4), RetriedTarget("grid", MULTI, 1, 0)), True, "again"),
    ChunksLeased((
        ChunkLeased("orders", 1, 5, 1, "run-1", "rk-1", "w1", T0, timedelta(seconds=30), SOME, 5),
        ChunkLeased("grid", 2, 0, 3, "run-2", "rk-2", "w1", T0, timedelta(seconds=30), MULTI, 9),
    )),
    ChunksCompleted((
        ChunkSucceeded("orders", 1, 0, 1, "run-1", SOME, (("rows", "5"),)),
        ChunkFailed("grid", 1, 0, 2, "run-2", MULTI, None, "all of it", False, None),
        ChunkFailed("orders", 1, 3, 1, "run-3", SOME, PartitionSubset.of_range(1, 2), "boom", True, T0, (("k", "v"),)),
    )),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_chunk_event_round_trips_through_its_stored_payload(event: object) -> None:
    stored = encode_event(event_to_payload(event))  # type: ignore[arg-type]

    assert stored.event_type == type(event).__name__
    assert stored.event_type in PAYLOAD_TYPES and stored.event_type in PAYLOAD_FIELDS
    assert event_from_payload(decode_payload(stored.event_type, stored.payload)) == event


def test_retry_policies_fill_defaults_and_round_trip() -> None:
    assert retry_policy_from_proto(bf.RetryPolicy(), present=False) == RetryPolicy()
    custom = RetryPolicy(max_attempts=7, initial_backoff=timedelta(0), backoff_multiplier=1.5,
                         max_backoff=timedelta(minutes=2))
    assert retry_policy_from_proto(retry_policy_to_proto(custom)) == custom
    # A short max_backoff alone lowers the first wait instead of contradicting the default.
    short = bf.RetryPolicy(max_backoff=retry_policy_to_proto(custom).max_backoff)
    short.max_backoff.FromTimedelta(timedelta(seconds=4))
    assert retry_policy_from_proto(short).initial_backoff == timedelta(seconds=4)
