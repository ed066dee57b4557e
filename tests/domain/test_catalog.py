"""decide_apply_assets: validation, versions, cycles, self-dependencies, mapping checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from arco_grpc.domain.catalog import Asset, AssetDependency, VersionedAsset, decide_apply_assets
from arco_grpc.errors import FailedPrecondition, InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.mapping import (
    DimensionMapping,
    IdentityMapping,
    MultiPartitionMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.multi import MultiPartitionsDefinition, PartitionDimension
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)
COLORS = StaticPartitionsDefinition(("red", "green"))


def daily(start: str = "2024-01-01", timezone_name: str | None = None) -> TimeWindowPartitionsDefinition:
    return TimeWindowPartitionsDefinition.create(start=start, cron_schedule="0 0 * * *", timezone=timezone_name)


def catalog_of(*assets: Asset) -> dict[str, VersionedAsset]:
    return {x.key: VersionedAsset(x, 1, NOW) for x in assets}


def field_of(error: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return error.value.violations[0].field


def test_new_assets_get_version_one_at_now() -> None:
    applied = decide_apply_assets([Asset("a", COLORS), Asset("b", None, (AssetDependency("a"),))], {}, NOW)
    assert [(x.asset.key, x.version, x.updated_at) for x in applied.assets] == [("a", 1, NOW), ("b", 1, NOW)]
    assert applied.changed_keys == ("a", "b")


def test_unchanged_assets_keep_version_and_time_changed_ones_bump() -> None:
    catalog = catalog_of(Asset("a", COLORS), Asset("b", COLORS))
    applied = decide_apply_assets([Asset("a", COLORS), Asset("b", COLORS, description="new")], catalog, LATER)
    assert [(x.version, x.updated_at) for x in applied.assets] == [(1, NOW), (2, LATER)]
    assert applied.changed_keys == ("b",)


def test_equal_definitions_built_differently_are_unchanged() -> None:
    by_cron = Asset("d", TimeWindowPartitionsDefinition.create(start="2024-01-01", cron_schedule="0 0 * * *"))
    by_cadence = Asset("d", TimeWindowPartitionsDefinition.create(start="2024-01-01", cadence=Cadence(kind="daily")))
    applied = decide_apply_assets([by_cadence], catalog_of(by_cron), LATER)
    assert applied.changed_keys == ()


@pytest.mark.parametrize(
    ("assets", "field"),
    [
        ([], "assets"),
        ([Asset("", None)], "assets[0].key"),
        ([Asset("k" * 256, None)], "assets[0].key"),
        ([Asset("a\x7fb", None)], "assets[0].key"),
        ([Asset("a", None), Asset("a", None)], "assets[1].key"),
        ([Asset("a", None, max_partitions_per_chunk=0)], "assets[0].chunk_policy.max_partitions_per_chunk"),
        ([Asset("a", None, description="x" * 10_001)], "assets[0].description"),
        ([Asset("a", None, (AssetDependency("ghost"),))], "assets[0].dependencies[0].asset_key"),
        ([Asset("a", None, (AssetDependency(""),))], "assets[0].dependencies[0].asset_key"),
        ([Asset("b", COLORS), Asset("a", None, (AssetDependency("b"), AssetDependency("b")))],
         "assets[1].dependencies[1].asset_key"),
    ],
)
def test_malformed_requests_name_the_field(assets: list[Asset], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decide_apply_assets(assets, {}, NOW)
    assert field_of(caught) == field


def test_too_many_assets_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="at most 1000"):
        decide_apply_assets([Asset(f"a{n}", None) for n in range(1001)], {}, NOW)


def test_dependencies_may_name_assets_later_in_the_request_or_in_the_catalog() -> None:
    applied = decide_apply_assets(
        [Asset("b", COLORS, (AssetDependency("c"), AssetDependency("a"))), Asset("c", COLORS)],
        catalog_of(Asset("a", COLORS)),
        NOW,
    )
    assert applied.changed_keys == ("b", "c")


def test_a_cycle_in_the_request_is_refused_at_the_closing_dependency() -> None:
    with pytest.raises(InvalidArgument, match="cycle") as caught:
        decide_apply_assets(
            [Asset("a", None, (AssetDependency("b"),)), Asset("b", None, (AssetDependency("c"),)),
             Asset("c", None, (AssetDependency("a"),))],
            {},
            NOW,
        )
    assert field_of(caught) == "assets[0].dependencies[0].asset_key"
    assert "'a' -> 'b' -> 'c' -> 'a'" in caught.value.message


def test_a_cycle_through_the_catalog_is_refused() -> None:
    catalog = catalog_of(Asset("a", None), Asset("b", None, (AssetDependency("a"),)))
    with pytest.raises(InvalidArgument, match="cycle") as caught:
        decide_apply_assets([Asset("x", None), Asset("a", None, (AssetDependency("b"),))], catalog, NOW)
    assert field_of(caught) == "assets[1].dependencies[0].asset_key"


def test_a_diamond_is_not_a_cycle() -> None:
    assets = [
        Asset("top", None),
        Asset("left", None, (AssetDependency("top"),)),
        Asset("right", None, (AssetDependency("top"),)),
        Asset("bottom", None, (AssetDependency("left"), AssetDependency("right"))),
    ]
    assert len(decide_apply_assets(assets, {}, NOW).changed) == 4


@pytest.mark.parametrize(
    ("mapping", "allowed"),
    [
        (None, False),
        (IdentityMapping(), False),
        (TimeWindowMapping(-1, 0), False),
        (TimeWindowMapping(0, -1), False),
        (TimeWindowMapping(-1, -1), True),
        (TimeWindowMapping(-3, -2), True),
    ],
)
def test_an_asset_may_depend_only_on_its_own_earlier_windows(mapping: object, allowed: bool) -> None:
    asset = Asset("cumulative", daily(), (AssetDependency("cumulative", mapping),))  # type: ignore[arg-type]
    if allowed:
        assert decide_apply_assets([asset], {}, NOW).changed_keys == ("cumulative",)
    else:
        with pytest.raises(InvalidArgument, match="depends on itself") as caught:
            decide_apply_assets([asset], {}, NOW)
        assert field_of(caught) == "assets[0].dependencies[0].asset_key"


def test_a_multi_asset_may_depend_on_earlier_windows_of_its_time_dimension() -> None:
    grid = MultiPartitionsDefinition((PartitionDimension("date", daily()), PartitionDimension("color", COLORS)))
    mapping = MultiPartitionMapping((
        DimensionMapping("date", "date", TimeWindowMapping(-1, -1)),
        DimensionMapping("color", "color", IdentityMapping()),
    ))
    applied = decide_apply_assets([Asset("grid", grid, (AssetDependency("grid", mapping),))], {}, NOW)
    assert applied.changed_keys == ("grid",)


def test_an_explicit_mapping_that_does_not_fit_is_refused_under_its_field() -> None:
    bad = StaticMapping((("purple", ("red",)),))
    with pytest.raises(InvalidArgument) as caught:
        decide_apply_assets(
            [Asset("a", COLORS, (AssetDependency("colors", bad),))], catalog_of(Asset("colors", COLORS)), NOW
        )
    assert field_of(caught) == "assets[0].dependencies[0].mapping.static.entries[0].upstream_key"


def test_a_default_mapping_that_does_not_fit_asks_for_a_mapping() -> None:
    dynamic = DynamicPartitionsDefinition("customers")
    with pytest.raises(InvalidArgument, match="no mapping is set") as caught:
        decide_apply_assets(
            [Asset("a", dynamic, (AssetDependency("colors"),))], catalog_of(Asset("colors", COLORS)), NOW
        )
    assert field_of(caught) == "assets[0].dependencies[0].mapping"


def test_time_window_mappings_need_one_timezone() -> None:
    catalog = catalog_of(Asset("utc_days", daily()))
    with pytest.raises(InvalidArgument, match="timezone") as caught:
        decide_apply_assets([Asset("berlin", daily(timezone_name="Europe/Berlin"), (AssetDependency("utc_days"),))],
                            catalog, NOW)
    assert field_of(caught) == "assets[0].dependencies[0].mapping"


def test_changing_an_upstream_definition_may_not_break_a_dependent_outside_the_request() -> None:
    mapping = StaticMapping((("red", ("red",)),))
    catalog = catalog_of(Asset("colors", COLORS), Asset("paint", COLORS, (AssetDependency("colors", mapping),)))
    with pytest.raises(FailedPrecondition, match="breaks the dependency of 'paint'"):
        decide_apply_assets([Asset("colors", StaticPartitionsDefinition(("blue",)))], catalog, NOW)
    # Applying both together, with a fitting mapping, works.
    applied = decide_apply_assets(
        [Asset("colors", StaticPartitionsDefinition(("blue",))),
         Asset("paint", COLORS, (AssetDependency("colors", StaticMapping((("blue", ("red",)),))),))],
        catalog,
        NOW,
    )
    assert applied.changed_keys == ("colors", "paint")
