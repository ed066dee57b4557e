"""Backfill converters: enums match the protos one to one; every event type round-trips through its payload."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc.domain.backfill import (
    BackfillCancelled,
    BackfillCancelRequested,
    BackfillCompleted,
    BackfillConcurrencyChanged,
    BackfillCreated,
    BackfillPaused,
    BackfillResumed,
    BackfillStarted,
    BackfillState,
    DispatchOrder,
    Target,
)
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selector import KeyList, MultiSelector, TimeRange
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_backfills import PAYLOAD_FIELDS, event_from_payload, event_to_payload, subset_from_proto
from arco_grpc.service.convert_partitions import subset_to_proto
from arco_grpc.store.payloads import PAYLOAD_TYPES, decode_payload, encode_event

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_domain_enums_reuse_the_proto_numbers() -> None:
    assert {s.name: s.value for s in BackfillState} == {
        name.removeprefix("STATE_"): number for name, number in bf.Backfill.State.items() if number
    }
    assert {o.name: o.value for o in DispatchOrder} == {
        name.removeprefix("ORDER_"): number for name, number in bf.Backfill.Order.items() if number
    }


CREATED = BackfillCreated(
    backfill_id="bf-abc",
    targets=(
        Target("orders", KeyList(("a", "b")), "fp1", 2, 1, asset_version=3, dynamic_versions=(("c", 4), ("d", 1))),
        Target("grid", MultiSelector((("date", TimeRange(T0, T0.replace(month=2))),)), "fp2", 62, 7),
    ),
    max_concurrency=5,
    order=DispatchOrder.BACKWARD,
    tags=(("a", "1"), ("b", "2")),
    title="t",
    description="d",
    creator="me",
    as_of=T0,
    fingerprint="fp",
)


@pytest.mark.parametrize(
    "event",
    [CREATED, BackfillStarted(), BackfillPaused("lunch"), BackfillResumed("back"), BackfillCancelRequested("oops"),
     BackfillCancelled(7), BackfillCompleted(5, 2), BackfillConcurrencyChanged(4, 2, "more")],
    ids=lambda event: type(event).__name__,
)
def test_every_event_round_trips_through_its_stored_payload(event: object) -> None:
    stored = encode_event(event_to_payload(event))  # type: ignore[arg-type]
    assert stored.event_type == type(event).__name__
    assert stored.event_type in PAYLOAD_TYPES and stored.event_type in PAYLOAD_FIELDS
    assert event_from_payload(decode_payload(stored.event_type, stored.payload)) == event


@pytest.mark.parametrize(
    "subset",
    [PartitionSubset.from_ranges([(0, 3), (10, 12)]), PartitionSubset.empty(),
     MultiPartitionSubset.rectangle(PartitionSubset.of_range(2, 5), PartitionSubset.from_indices([0, 2]))],
)
def test_subsets_round_trip(subset: PartitionSubset | MultiPartitionSubset) -> None:
    assert subset_from_proto(subset_to_proto(subset)) == subset
