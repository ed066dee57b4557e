"""Every class of client mistake gets its precise status, names the field, and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import (
    assets_pb2 as a,
    catalog_service_pb2 as api,
    catalog_service_pb2_grpc,
    partitions_pb2 as p,
)
from google.protobuf import timestamp_pb2
from tests.service.builders import (
    apply,
    asset,
    cadence,
    cron,
    daily,
    dep,
    dynamic,
    hourly,
    key_range,
    keys_selector,
    multi,
    static,
    time_range,
)
from tests.service.conftest import Served, call_failure

Stub = catalog_service_pb2_grpc.CatalogServiceStub
INVALID = grpc.StatusCode.INVALID_ARGUMENT
UTC = timezone.utc


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[Stub], Awaitable[object]]
    code: grpc.StatusCode
    field: str | None = None


def apply_case(name: str, field: str, *assets: a.Asset, request_id: str = "bad") -> Case:
    return Case(name, lambda s: s.ApplyAssets(apply(request_id, *assets)), INVALID, field)


def selection_case(name: str, field: str | None, selector: p.PartitionSelector | None, asset_key: str = "hours",
                   code: grpc.StatusCode = INVALID) -> Case:
    request = api.ListPartitionKeysRequest(asset_key=asset_key, selector=selector)
    return Case(name, lambda s: s.ListPartitionKeys(request), code, field)


def add_case(name: str, field: str, *keys: str, dynamic_name: str = "customers", request_id: str = "bad") -> Case:
    return Case(name, lambda s: s.AddDynamicPartitions(
        api.AddDynamicPartitionsRequest(request_id=request_id, name=dynamic_name, keys=keys)), INVALID, field)


TW = "assets[0].partitions.time_window"
TWO_DIMS_SAME = p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
    p.PartitionDimension(name="x", definition=static("a")), p.PartitionDimension(name="x", definition=static("b"))]))

CASES = [
    # ApplyAssets
    apply_case("missing request_id", "request_id", asset("ok", static("a")), request_id=""),
    apply_case("no assets", "assets"),
    apply_case("empty asset key", "assets[0].key", asset("", static("a"))),
    apply_case("asset key too long", "assets[0].key", asset("k" * 256)),
    apply_case("control character in key", "assets[0].key", asset("bad\nkey")),
    apply_case("duplicate asset key", "assets[1].key", asset("x"), asset("x")),
    apply_case("no partitions kind", "assets[0].partitions", asset("x", p.PartitionsDefinition())),
    apply_case("malformed cron", f"{TW}.cron_schedule", asset("x", cron("61 * * * *", "2024-01-01"))),
    apply_case("cron with words", f"{TW}.cron_schedule", asset("x", cron("every hour", "2024-01-01"))),
    apply_case("unknown timezone", f"{TW}.timezone", asset("x", hourly("2024-01-01", timezone="Mars/Olympus"))),
    apply_case("unparseable start", f"{TW}.start", asset("x", daily("yesterday"))),
    apply_case("missing start", f"{TW}.start", asset("x", daily(""))),
    apply_case("cadence minute out of range", f"{TW}.cadence.minute_offset",
               asset("x", cadence(p.Cadence.KIND_HOURLY, "2024-01-01", minute_offset=60))),
    apply_case("static duplicate key", "assets[0].partitions.static.keys[1]", asset("x", static("a", "a"))),
    apply_case("static key with ...", "assets[0].partitions.static.keys[0]", asset("x", static("a...b"))),
    apply_case("dynamic without name", "assets[0].partitions.dynamic.name", asset("x", dynamic(""))),
    apply_case("multi with one dimension", "assets[0].partitions.multi.dimensions",
               asset("x", multi(only=static("a")))),
    apply_case("multi dimension named twice", "assets[0].partitions.multi.dimensions[1].name",
               asset("x", TWO_DIMS_SAME)),
    apply_case("multi static key with |", "assets[0].partitions.multi.dimensions[0].definition.static.keys[0]",
               asset("x", multi(color=static("a|b"), date=daily("2024-01-01")))),
    apply_case("malformed cron inside multi",
               "assets[0].partitions.multi.dimensions[1].definition.time_window.cron_schedule",
               asset("x", multi(color=static("a"), date=cron("0 0 * *", "2024-01-01")))),
    apply_case("negative chunk size", "assets[0].chunk_policy.max_partitions_per_chunk", asset("x", chunk=-1)),
    apply_case("dependency on unknown asset", "assets[0].dependencies[0].asset_key", asset("x", None, dep("ghost"))),
    apply_case("dependency listed twice", "assets[0].dependencies[1].asset_key",
               asset("x", None, dep("colors"), dep("colors"))),
    apply_case("dependency cycle", "assets[0].dependencies[0].asset_key",
               asset("x", None, dep("y")), asset("y", None, dep("x"))),
    apply_case("cycle through the catalog", "assets[0].dependencies[0].asset_key",
               asset("colors", static("red"), dep("downstream_of_colors"))),
    apply_case("self-dependency", "assets[0].dependencies[0].asset_key", asset("x", daily("2024-01-01"), dep("x"))),
    apply_case("mapping with no kind", "assets[0].dependencies[0].mapping",
               asset("x", static("a"), dep("colors", a.PartitionMapping()))),
    apply_case("static mapping unknown upstream key",
               "assets[0].dependencies[0].mapping.static.entries[0].upstream_key",
               asset("x", static("a"), dep("colors", a.PartitionMapping(static=a.StaticMapping(
                   entries=[a.StaticMappingEntry(upstream_key="purple", downstream_keys=["a"])]))))),
    apply_case("time window mapping between static assets", "assets[0].dependencies[0].mapping.time_window",
               asset("x", static("a"), dep("colors", a.PartitionMapping(time_window=a.TimeWindowMapping())))),
    apply_case("default mapping does not fit", "assets[0].dependencies[0].mapping",
               asset("x", dynamic("customers"), dep("colors"))),
    # GetAsset / ListAssets
    Case("get without key", lambda s: s.GetAsset(api.GetAssetRequest()), INVALID, "asset_key"),
    Case("get unknown asset", lambda s: s.GetAsset(api.GetAssetRequest(asset_key="ghost")), grpc.StatusCode.NOT_FOUND),
    Case("negative asset page size", lambda s: s.ListAssets(api.ListAssetsRequest(page_size=-1)), INVALID, "page_size"),
    Case("malformed asset token", lambda s: s.ListAssets(api.ListAssetsRequest(page_token="%%%")), INVALID,
         "page_token"),
    # Dynamic partitions
    add_case("add without request_id", "request_id", "k", request_id=""),
    add_case("add without name", "name", "k", dynamic_name=""),
    add_case("add empty key", "keys[0]", ""),
    add_case("add key with |", "keys[1]", "ok", "a|b"),
    add_case("add key with control character", "keys[0]", "tab\there"),
    add_case("add the same key twice", "keys[2]", "a", "b", "a"),
    add_case("add too many keys", "keys", *(f"k{n}" for n in range(10_001))),
    Case("delete too many keys", lambda s: s.DeleteDynamicPartitions(api.DeleteDynamicPartitionsRequest(
        request_id="bad", name="customers", keys=[f"k{n}" for n in range(10_001)])), INVALID, "keys"),
    Case("delete without name", lambda s: s.DeleteDynamicPartitions(
        api.DeleteDynamicPartitionsRequest(request_id="bad", keys=["k"])), INVALID, "name"),
    # Selections
    selection_case("selection without asset key", "asset_key", None, asset_key=""),
    selection_case("selection of unknown asset", None, None, asset_key="ghost", code=grpc.StatusCode.NOT_FOUND),
    selection_case("selection of unpartitioned asset", None, None, asset_key="plain",
                   code=grpc.StatusCode.FAILED_PRECONDITION),
    selection_case("selector with no kind", "selector", p.PartitionSelector()),
    selection_case("non-canonical key in list", "selector.keys.keys[1]",
                   keys_selector("2024-01-01-00:00", "2024-1-01-01:00")),
    selection_case("unparseable key in list", "selector.keys.keys[0]", keys_selector("garbage")),
    selection_case("empty key in list", "selector.keys.keys[0]", keys_selector("")),
    selection_case("too many explicit keys", "selector.keys.keys", keys_selector(*(f"k{n}" for n in range(10_001)))),
    selection_case("key range start unknown", "selector.key_range.start",
                   key_range("2099-01-01-00:00", "2024-01-01-00:00")),
    selection_case("key range end empty", "selector.key_range.end", key_range("2024-01-01-00:00", "")),
    selection_case("time range on static asset", "selector.time_range",
                   time_range(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)), asset_key="colors"),
    selection_case("time range without end", "selector.time_range.end",
                   p.PartitionSelector(time_range=p.PartitionTimeRange(start=timestamp_pb2.Timestamp(seconds=0)))),
    selection_case("multi selector on single asset", "selector.multi",
                   p.PartitionSelector(multi=p.MultiPartitionSelector())),
    selection_case("unknown dimension", "selector.multi.dimensions[0].dimension", p.PartitionSelector(
        multi=p.MultiPartitionSelector(
            dimensions=[p.DimensionSelector(dimension="size", selector=keys_selector("a"))])),
        asset_key="grid"),
    Case("negative key page size", lambda s: s.ListPartitionKeys(
        api.ListPartitionKeysRequest(asset_key="hours", page_size=-5)), INVALID, "page_size"),
    Case("as_of out of range", lambda s: s.ListPartitionKeys(api.ListPartitionKeysRequest(
        asset_key="hours", as_of=timestamp_pb2.Timestamp(seconds=-10**12))), INVALID, "as_of"),
    Case("resolve with bad selector", lambda s: s.ResolveSelection(api.ResolveSelectionRequest(
        asset_key="colors", selector=keys_selector("purple"))), INVALID, "selector.keys.keys[0]"),
]


@pytest.fixture
async def catalog(served: Served) -> Served:
    await served.catalog.ApplyAssets(apply(
        "setup",
        asset("colors", static("red", "green")),
        asset("downstream_of_colors", static("red", "green"), dep("colors")),
        asset("hours", hourly("2024-01-01")),
        asset("grid", multi(color=static("red"), date=daily("2024-01-01"))),
        asset("plain"),
    ))
    await served.catalog.AddDynamicPartitions(
        api.AddDynamicPartitionsRequest(request_id="seed", name="customers", keys=["c"])
    )
    return served


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_bad_input_gets_a_precise_status_and_changes_nothing(catalog: Served, case: Case) -> None:
    store = catalog.running.store
    before = await store.read_all()

    failure = await call_failure(case.call(catalog.catalog))

    assert failure.code == case.code, failure.message
    assert failure.domain == "arco.orchestration.v1"
    assert failure.reason and failure.message
    if case.field is not None:
        assert failure.violations and failure.violations[0][0] == case.field, failure.violations
        assert failure.violations[0][1] == failure.message
    assert await store.read_all() == before
    assert await store.find_request("bad") is None
