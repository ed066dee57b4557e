"""Proto <-> pure converters: normalized forms, round trips and full field paths."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, partitions_pb2 as p
from arco_grpc.domain.catalog import Asset, AssetDependency, VersionedAsset
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.mapping import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selector import AllPartitions, KeyList, KeyRange, MultiSelector, TimeRange
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.convert_assets import asset_from_proto, asset_to_proto, mapping_from_proto, mapping_to_proto
from arco_grpc.service.convert_partitions import (
    definition_from_proto,
    definition_to_proto,
    selector_from_proto,
    selector_to_proto,
    subset_to_proto,
)
from tests.service.builders import cadence, cron, daily, dynamic, hourly, multi, static

UTC = timezone.utc


def test_a_cadence_is_stored_as_its_cron_with_defaults_filled() -> None:
    stored = definition_to_proto(definition_from_proto(hourly("2024-03-10", timezone="America/Los_Angeles")))
    assert stored.time_window == p.TimeWindowPartitions(
        cron_schedule="0 * * * *",
        start="2024-03-10T00:00:00-08:00",
        timezone="America/Los_Angeles",
        fmt="%Y-%m-%d-%H:%M",
    )
    weekly = definition_to_proto(definition_from_proto(cadence(p.Cadence.KIND_WEEKLY, "2024-01-01", day_offset=1,
                                                               hour_offset=6, minute_offset=30)))
    assert (weekly.time_window.cron_schedule, weekly.time_window.fmt) == ("30 6 * * 1", "%Y-%m-%d")
    monthly = definition_to_proto(definition_from_proto(cadence(p.Cadence.KIND_MONTHLY, "2024-01-15")))
    assert monthly.time_window.cron_schedule == "0 0 1 * *"
    assert monthly.time_window.timezone == "UTC"


@pytest.mark.parametrize(
    "message",
    [
        static("b", "a", "c"),
        dynamic("customers"),
        daily("2024-01-01", timezone="Europe/Berlin"),
        cron("*/15 * * * *", "2023-11-04T23:00:00", timezone="America/Los_Angeles", end="2023-11-06", end_offset=1),
        cron("0 0 * * *", "2024-01-01", fmt="%Y/%m/%d", end="2024-02-01"),
        multi(region=static("us", "eu"), date=daily("2024-01-01")),
    ],
)
def test_definitions_round_trip_through_their_stored_form(message: p.PartitionsDefinition) -> None:
    definition = definition_from_proto(message)
    stored = definition_to_proto(definition)
    assert definition_from_proto(stored) == definition
    assert definition_to_proto(definition_from_proto(stored)) == stored


def test_multi_dimensions_are_stored_in_name_order() -> None:
    stored = definition_to_proto(definition_from_proto(multi(zeta=static("a"), alpha=static("b"))))
    assert [d.name for d in stored.multi.dimensions] == ["alpha", "zeta"]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (p.PartitionsDefinition(), ""),
        (cadence(p.Cadence.KIND_UNSPECIFIED, "2024-01-01"), "time_window.cadence.kind"),
        (cadence(p.Cadence.KIND_HOURLY, "2024-01-01", hour_offset=3), "time_window.cadence.hour_offset"),
        (cadence(p.Cadence.KIND_WEEKLY, "2024-01-01", day_offset=7), "time_window.cadence.day_offset"),
        (p.PartitionsDefinition(time_window=p.TimeWindowPartitions(cron_schedule="0 0 * * *", cadence=p.Cadence(kind=1),
                                                                   start="2024-01-01")), "time_window.cadence"),
        (cron("0 0 * * *", "2024-01-01", fmt="%Y-%m"), "time_window.fmt"),
        (cron("0 0 * * *", "2024-01-01", end="not a date"), "time_window.end"),
        (multi(a=static("x"), b=p.PartitionsDefinition()), "multi.dimensions[1].definition"),
        (p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
            p.PartitionDimension(name="a", definition=static("x")), p.PartitionDimension(name="b")])),
         "multi.dimensions[1].definition"),
        (multi(a=static("x"), b=multi(c=static("y"), d=static("z"))), "multi.dimensions[1].definition"),
    ],
)
def test_definition_errors_carry_full_paths(message: p.PartitionsDefinition, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        definition_from_proto(message)
    assert caught.value.violations[0].field == field
    assert caught.value.under("assets[3].partitions").violations[0].field.startswith("assets[3].partitions")


@pytest.mark.parametrize(
    "selector",
    [
        AllPartitions(),
        KeyRange("a", "b"),
        TimeRange(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, 12, 30, tzinfo=UTC)),
        KeyList(("b", "a")),
        MultiSelector((("date", KeyRange("2024-01-01", "2024-01-02")), ("color", KeyList(("red",))))),
    ],
)
def test_selectors_round_trip(selector: object) -> None:
    assert selector_from_proto(selector_to_proto(selector)) == selector  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (p.PartitionSelector(), ""),
        (p.PartitionSelector(key_range=p.PartitionKeyRange(end="b")), "key_range.start"),
        (p.PartitionSelector(time_range=p.PartitionTimeRange()), "time_range.start"),
        (p.PartitionSelector(multi=p.MultiPartitionSelector(dimensions=[
            p.DimensionSelector(dimension="a", selector=p.PartitionSelector(all=p.AllPartitions())),
            p.DimensionSelector(dimension="b"),
        ])), "multi.dimensions[1].selector"),
        (p.PartitionSelector(multi=p.MultiPartitionSelector(dimensions=[
            p.DimensionSelector(dimension="a", selector=p.PartitionSelector(key_range=p.PartitionKeyRange(start="x"))),
        ])), "multi.dimensions[0].selector.key_range.end"),
    ],
)
def test_selector_errors_carry_full_paths(message: p.PartitionSelector, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        selector_from_proto(message)
    assert caught.value.violations[0].field == field


def test_subsets_become_ranges_or_bands() -> None:
    single = subset_to_proto(PartitionSubset.from_ranges([(0, 3), (5, 6)]))
    assert [(r.start, r.end) for r in single.ranges] == [(0, 3), (5, 6)] and not single.bands
    grid = MultiPartitionSubset.rectangle(PartitionSubset.of_range(1, 3), PartitionSubset.from_ranges([(0, 1), (4, 9)]))
    bands = subset_to_proto(grid).bands
    assert [(b.first.start, b.first.end, [(r.start, r.end) for r in b.second]) for b in bands] == [
        (1, 3, [(0, 1), (4, 9)])
    ]


MAPPINGS = [
    IdentityMapping(),
    AllMapping(),
    LastMapping(),
    SpecificPartitionsMapping(("a", "b")),
    StaticMapping((("x", ("p", "q")), ("y", ()))),
    TimeWindowMapping(-2, 1, True),
    MultiToSingleDimensionMapping(),
    MultiToSingleDimensionMapping("date"),
    MultiPartitionMapping((DimensionMapping("date", "day", TimeWindowMapping(-1, 0)), DimensionMapping("c", "d"))),
]


@pytest.mark.parametrize("mapping", MAPPINGS, ids=lambda m: type(m).__name__)
def test_mappings_round_trip(mapping: object) -> None:
    assert mapping_from_proto(mapping_to_proto(mapping)) == mapping  # type: ignore[arg-type]


def test_mapping_errors_carry_full_paths() -> None:
    nested = a.PartitionMapping(multi_partition=a.MultiPartitionMapping(dimensions=[
        a.DimensionMapping(upstream_dimension="x", downstream_dimension="y", mapping=a.PartitionMapping())
    ]))
    with pytest.raises(InvalidArgument) as caught:
        asset_from_proto(a.Asset(key="k", dependencies=[a.AssetDependency(asset_key="u", mapping=nested)]))
    assert caught.value.violations[0].field == "dependencies[0].mapping.multi_partition.dimensions[0].mapping"


def test_assets_round_trip_with_version_and_time() -> None:
    asset = Asset(
        "k",
        StaticPartitionsDefinition(("a",)),
        (AssetDependency("u", TimeWindowMapping(-1, -1)), AssetDependency("v")),
        max_partitions_per_chunk=7,
        description="d",
    )
    message = asset_to_proto(VersionedAsset(asset, 3, datetime(2024, 5, 1, tzinfo=UTC)))
    assert (message.version, message.update_time.ToDatetime(tzinfo=UTC)) == (3, datetime(2024, 5, 1, tzinfo=UTC))
    assert not message.dependencies[1].HasField("mapping")
    assert asset_from_proto(message) == asset
    assert asset_from_proto(a.Asset(key="k", partitions=dynamic("d"))) == Asset("k", DynamicPartitionsDefinition("d"))
