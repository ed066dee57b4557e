"""CreateBackfill through a real server: idempotency, the plan, validate_only, validation errors."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p
from arco_grpc.planning.backfill_ids import PREVIEW_BACKFILL_ID, backfill_id_for_request
from arco_grpc.planning.chunks import run_key
from tests.service.backfill_helpers import (
    ORDERS_COUNT,
    Backfills,
    backfills,  # noqa: F401 - fixture
    create,
    event_count,
    table_counts,
    target,
)
from tests.service.builders import apply, asset, daily, key_range, keys_selector, time_range, ts
from tests.service.conftest import call_failure

ALL = p.PartitionSelector(all=p.AllPartitions())


async def test_the_same_request_id_twice_gives_one_backfill_and_one_created_event(
    backfills: Backfills, db_path: Path
) -> None:
    request = create("r-1", target("orders"), tags={"team": "data"}, title="2024 orders")
    first = await backfills.stub.CreateBackfill(request)
    again = await backfills.stub.CreateBackfill(request)

    assert again == first
    assert first.backfill.id == backfill_id_for_request("r-1")
    assert (first.backfill.state, first.backfill.state_version) == (bf.Backfill.STATE_RUNNING, 2)
    listed = await backfills.stub.ListBackfills(api.ListBackfillsRequest())
    assert [b.id for b in listed.backfills] == [first.backfill.id]
    events = await backfills.stub.ListBackfillEvents(api.ListBackfillEventsRequest(backfill_id=first.backfill.id))
    assert [e.type for e in events.events] == ["BackfillCreated", "BackfillStarted"]
    assert event_count(db_path) == 2


async def test_a_different_body_with_a_used_request_id_is_refused_and_writes_nothing(
    backfills: Backfills, db_path: Path
) -> None:
    await backfills.stub.CreateBackfill(create("r-1", target("orders")))
    before = table_counts(db_path)

    failure = await call_failure(backfills.stub.CreateBackfill(create("r-1", target("orders"), chunk_size=3)))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.reason == "REQUEST_ID_REUSED"
    assert [field for field, _ in failure.violations] == ["request_id"]
    assert table_counts(db_path) == before


async def test_the_plan_has_counts_edges_keys_and_run_keys(backfills: Backfills) -> None:
    response = await backfills.stub.CreateBackfill(create("r-1", target("orders")))

    plan = response.plan
    assert (plan.partition_count, plan.chunk_count) == (ORDERS_COUNT, 53)  # chunk policy 7
    assert plan.backfill_id == response.backfill.id
    assert plan.as_of == ts(datetime(2025, 1, 1, tzinfo=timezone.utc))  # the server's clock
    assert [c.index for c in plan.first_chunks] == [0, 1, 2]
    assert [c.index for c in plan.last_chunks] == [50, 51, 52]
    first = plan.first_chunks[0]
    assert list(first.partition_keys) == [f"2024-01-0{d}" for d in range(1, 8)]
    assert (first.first_key, first.last_key, first.partition_count, first.attempt) == ("2024-01-01", "2024-01-07", 7, 1)
    assert first.run_key == run_key(response.backfill.id, "orders", 1, 0, 1)
    last = plan.last_chunks[-1]
    assert (last.first_key, last.last_key, last.partition_count) == ("2024-12-30", "2024-12-31", 2)
    target_plan = plan.targets[0]
    assert (target_plan.chunk_size, target_plan.chunk_count, target_plan.asset_version) == (7, 53, 1)
    assert target_plan.selector == ALL  # normalized: unset means all
    assert response.backfill.progress.chunks_by_state == {"STATE_PENDING": 53}
    assert response.backfill.progress.partitions_pending == ORDERS_COUNT


async def test_backward_order_counts_chunks_from_the_end(backfills: Backfills) -> None:
    request = create("r-1", target("orders", key_range("2024-01-01", "2024-01-20")), chunk_size=7,
                     order=bf.Backfill.ORDER_BACKWARD)
    plan = (await backfills.stub.CreateBackfill(request)).plan

    assert [(c.first_key, c.last_key, c.partition_count) for c in plan.first_chunks] == [
        ("2024-01-20", "2024-01-14", 7), ("2024-01-13", "2024-01-07", 7), ("2024-01-06", "2024-01-01", 6),
    ]
    assert plan.last_chunks == []
    assert list(plan.first_chunks[2].partition_keys)[:2] == ["2024-01-06", "2024-01-05"]


async def test_validate_only_writes_nothing_and_previews_the_real_run_keys(
    backfills: Backfills, db_path: Path
) -> None:
    before = table_counts(db_path)
    request = create("r-7", target("orders", key_range("2024-03-01", "2024-03-31")), chunk_size=10)
    request.validate_only = True
    preview = await backfills.stub.CreateBackfill(request)

    assert not preview.HasField("backfill")
    assert table_counts(db_path) == before
    request.validate_only = False
    real = await backfills.stub.CreateBackfill(request)
    assert preview.plan == real.plan
    assert real.plan.first_chunks[0].run_key == run_key(backfill_id_for_request("r-7"), "orders", 1, 0, 1)


async def test_validate_only_without_request_id_uses_the_preview_id(backfills: Backfills) -> None:
    request = create("", target("orders"), validate_only=True)
    plan = (await backfills.stub.CreateBackfill(request)).plan
    assert plan.backfill_id == PREVIEW_BACKFILL_ID
    assert plan.first_chunks[0].backfill_id == PREVIEW_BACKFILL_ID


async def test_several_targets_each_get_their_own_policy_and_a_joint_fingerprint(backfills: Backfills) -> None:
    both = create("r-1", target("orders", key_range("2024-01-01", "2024-01-10")), target("regions"))
    plan = (await backfills.stub.CreateBackfill(both)).plan
    assert [(t.asset_key, t.partition_count, t.chunk_size, t.chunk_count) for t in plan.targets] == [
        ("orders", 10, 7, 2), ("regions", 3, 1, 3),
    ]
    assert (plan.partition_count, plan.chunk_count) == (13, 5)
    assert [(c.asset_key, c.index) for c in plan.first_chunks] == [("orders", 0), ("orders", 1), ("regions", 0)]
    assert [(c.asset_key, c.index) for c in plan.last_chunks] == [("regions", 1), ("regions", 2)]
    # Equal selections, equal fingerprint, whatever the request's other fields.
    same = create("r-2", target("orders", key_range("2024-01-01", "2024-01-10")), target("regions", ALL),
                  chunk_size=2, title="other")
    assert (await backfills.stub.CreateBackfill(same)).plan.fingerprint == plan.fingerprint


async def test_as_of_is_frozen_and_decides_which_partitions_exist(backfills: Backfills) -> None:
    as_of = ts(datetime(2024, 2, 1, tzinfo=timezone.utc))
    response = await backfills.stub.CreateBackfill(create("r-1", target("orders"), as_of=as_of))
    assert response.plan.partition_count == 31
    assert response.backfill.as_of == as_of
    got = await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=response.backfill.id))
    assert got.backfill.as_of == as_of and got.backfill.targets[0].partition_count == 31


async def test_multi_partition_targets_chunk_in_product_order(backfills: Backfills) -> None:
    response = await backfills.stub.CreateBackfill(create("r-1", target("grid"), chunk_size=3))
    plan = response.plan
    assert plan.partition_count == 31 * 2
    assert list(plan.first_chunks[0].partition_keys) == ["2024-12-01|us", "2024-12-01|eu", "2024-12-02|us"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"request_id": ""}, "request_id", grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": []}, "targets", grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("orders"), target("regions"), target("orders")]}, "targets[2].asset_key",
         grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("")]}, "targets[0].asset_key", grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("scorecards")]}, "targets[0].asset_key", grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("orders", key_range("2024-01-01", "2030-01-01"))]},
         "targets[0].selector.key_range.end", grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("regions", keys_selector("us", "mars"))]}, "targets[0].selector.keys.keys[1]",
         grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("orders", key_range("2024-02-01", "2024-01-01"))]}, "targets[0].selector",
         grpc.StatusCode.INVALID_ARGUMENT),
        ({"targets": [target("regions", time_range(datetime(2024, 1, 1, tzinfo=timezone.utc),
                                                   datetime(2024, 2, 1, tzinfo=timezone.utc)))]},
         "targets[0].selector.time_range", grpc.StatusCode.INVALID_ARGUMENT),
        ({"chunk_size": -1}, "chunk_size", grpc.StatusCode.INVALID_ARGUMENT),
        ({"max_concurrency": -1}, "max_concurrency", grpc.StatusCode.INVALID_ARGUMENT),
        ({"max_concurrency": 10_001}, "max_concurrency", grpc.StatusCode.INVALID_ARGUMENT),
        ({"order": 7}, "order", grpc.StatusCode.INVALID_ARGUMENT),
        ({"tags": {"": "x"}}, "tags", grpc.StatusCode.INVALID_ARGUMENT),
        ({"tags": {f"k{i}": "v" for i in range(65)}}, "tags", grpc.StatusCode.INVALID_ARGUMENT),
        ({"tags": {"team": "a\nb"}}, "tags['team']", grpc.StatusCode.INVALID_ARGUMENT),
        ({"title": "t" * 201}, "title", grpc.StatusCode.INVALID_ARGUMENT),
        ({"as_of": ts(datetime(1, 1, 1, tzinfo=timezone.utc))}, None, None),
    ],
)
async def test_bad_requests_name_the_field_and_write_nothing(
    backfills: Backfills, db_path: Path, change: dict[str, object], field: str | None, code: grpc.StatusCode | None
) -> None:
    request = create("r-bad", target("orders"))
    for name, value in change.items():
        if name in ("targets", "tags"):
            request.ClearField(name)
            getattr(request, name).update(value) if name == "tags" else request.targets.extend(value)  # type: ignore[arg-type]
        elif name == "as_of":
            request.as_of.CopyFrom(value)  # type: ignore[arg-type]
        else:
            setattr(request, name, value)
    before = table_counts(db_path)

    if code is None:  # as_of at year 1: valid, but nothing of orders exists then
        field, code = "targets[0].selector", grpc.StatusCode.INVALID_ARGUMENT
    failure = await call_failure(backfills.stub.CreateBackfill(request))

    assert failure.code == code
    assert field in [f for f, _ in failure.violations], failure
    assert table_counts(db_path) == before


async def test_an_unknown_asset_is_not_found_and_named(backfills: Backfills) -> None:
    failure = await call_failure(backfills.stub.CreateBackfill(create("r-1", target("orders"), target("ghost"))))
    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert "'ghost'" in failure.message and "targets[1].asset_key" in failure.message
    assert failure.metadata["asset_key"] == "ghost"


async def test_the_plan_survives_changes_to_the_asset_and_its_dynamic_keys(backfills: Backfills) -> None:
    created = await backfills.stub.CreateBackfill(create("r-1", target("orders"), target("customers/profiles")))
    backfill_id = created.backfill.id

    # The asset's definition changes and the dynamic keys change after creation.
    await backfills.catalog.ApplyAssets(apply("catalog-2", asset("orders", daily("2024-06-01"), chunk=5)))
    await backfills.catalog.DeleteDynamicPartitions(
        capi.DeleteDynamicPartitionsRequest(request_id="d-1", name="customers", keys=["acme"])
    )
    middle = await backfills.stub.CreateBackfill(create("r-mid", target("customers/profiles"), chunk_size=5))
    await backfills.catalog.AddDynamicPartitions(
        capi.AddDynamicPartitionsRequest(request_id="a-2", name="customers", keys=["zeta", "acme"])
    )

    chunks = await backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=backfill_id, page_size=1000))
    orders = [c for c in chunks.chunks if c.asset_key == "orders"]
    customers = [list(c.partition_keys) for c in chunks.chunks if c.asset_key == "customers/profiles"]
    assert [(c.first_key, c.partition_count) for c in orders[:2]] == [("2024-01-01", 7), ("2024-01-08", 7)]
    assert len(orders) == 53
    assert customers == [["acme", "globex"], ["initech"]]
    # Replaying the definition's events up to version 2: the add, then the delete.
    middle_chunks = await backfills.stub.ListChunks(api.ListChunksRequest(backfill_id=middle.backfill.id))
    assert [list(c.partition_keys) for c in middle_chunks.chunks] == [["globex", "initech"]]
    assert chunks.chunks == (await backfills.stub.ListChunks(
        api.ListChunksRequest(backfill_id=backfill_id, page_size=1000))).chunks
    # A new backfill sees the new state of both.
    later = await backfills.stub.CreateBackfill(create("r-2", target("orders"), target("customers/profiles")))
    assert [(t.partition_count, t.chunk_size) for t in later.plan.targets] == [(214, 5), (4, 2)]
    assert later.plan.targets[1].dynamic_partitions_versions["customers"] == 3
    assert created.plan.targets[1].dynamic_partitions_versions["customers"] == 1
