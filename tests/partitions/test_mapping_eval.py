"""Mapping evaluation on compact subsets: the reference's observed examples as tables.

Sources: ../shared/reference/dagster-semantics.md §3.3-3.4 (observed with Dagster
1.13.29) and, where a row says so, Dagster's mapping/time_window.py read for the
behaviour the observations do not cover.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicKeys, DynamicPartitionsDefinition
from arco_grpc.partitions.evaluate import PartitionsDefinition, partition_space
from arco_grpc.partitions.mapping import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    LastMapping,
    MissingKeys,
    MissingPartitions,
    MissingWindows,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
    describe_mapping,
    downstream_partitions,
    mapping_in_effect,
    upstream_partitions,
)
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

AS_OF = datetime(2025, 1, 1, tzinfo=timezone.utc)


def cron(schedule: str, start: str, end: str | None = None, tz: str = "UTC") -> TimeWindowPartitionsDefinition:
    return TimeWindowPartitionsDefinition.create(start=start, end=end, cron_schedule=schedule, timezone=tz)


def daily(start: str, end: str | None = None, tz: str = "UTC") -> TimeWindowPartitionsDefinition:
    return cron("0 0 * * *", start, end, tz)


def hourly(start: str, end: str | None = None, tz: str = "UTC") -> TimeWindowPartitionsDefinition:
    return cron("0 * * * *", start, end, tz)


def space(definition: PartitionsDefinition, as_of: datetime = AS_OF) -> PartitionSpace:
    return partition_space(definition, as_of=as_of)


def subset(space_: PartitionSpace, *keys: str) -> AnySubset:
    indices = []
    for key in keys:
        index = space_.index_of(key)
        assert index is not None, key
        indices.append(index)
    if isinstance(space_, MultiSpace):
        return MultiPartitionSubset.from_pairs(divmod(i, space_.second.count) for i in indices)
    return PartitionSubset.from_indices(indices)


def keys(space_: PartitionSpace, chosen: AnySubset) -> list[str]:
    return subset_keys(space_, chosen, 0, chosen.count)


def up(mapping: PartitionMapping | None, down_def: Any, up_def: Any, *down_keys: str) -> tuple[list[str], list[str]]:
    """Upstream keys and required-but-nonexistent keys of the downstream keys."""
    down_space, up_space = space(down_def), space(up_def)
    result = upstream_partitions(mapping, subset(down_space, *down_keys), down_space, up_space)
    return keys(up_space, result.subset), result.required_but_nonexistent.keys()


def down(mapping: PartitionMapping | None, up_def: Any, down_def: Any, *up_keys: str) -> list[str]:
    up_space, down_space = space(up_def), space(down_def)
    return keys(down_space, downstream_partitions(mapping, subset(up_space, *up_keys), up_space, down_space))


# -- §3.4: offsets and the clamping of shifted ends ----------------------------

JUNE = daily("2023-06-01", "2023-07-01")  # 2023-06-01 .. 2023-06-30
MAY_TO_JULY = daily("2023-05-01", "2023-07-15")  # 2023-05-01 .. 2023-07-14


@pytest.mark.parametrize(
    ("offsets", "downstream", "key", "expected_up", "expected_missing"),
    [
        ((0, 0), MAY_TO_JULY, "2023-05-31", [], ["2023-05-31"]),
        ((0, 0), MAY_TO_JULY, "2023-07-10", [], ["2023-07-10"]),
        ((-1, 0), MAY_TO_JULY, "2023-05-31", [], []),  # 05-30 .. 05-31 clamped to 06-01: nothing, silently
        ((-1, 0), JUNE, "2023-06-01", ["2023-06-01"], []),  # 05-31 dropped
        ((-1, -1), JUNE, "2023-06-01", [], []),
        ((0, 1), MAY_TO_JULY, "2023-05-31", ["2023-06-01"], ["2023-05-31"]),
        ((0, 1), MAY_TO_JULY, "2023-06-30", ["2023-06-30"], []),  # 07-01 dropped
        ((-2, -1), MAY_TO_JULY, "2023-07-10", [], ["2023-07-08", "2023-07-09"]),
    ],
)
def test_offset_table_with_clamping(
    offsets: tuple[int, int], downstream: Any, key: str, expected_up: list[str], expected_missing: list[str]
) -> None:
    assert up(TimeWindowMapping(*offsets), downstream, JUNE, key) == (expected_up, expected_missing)


def test_allow_nonexistent_upstream_partitions_reports_nothing() -> None:
    assert up(TimeWindowMapping(0, 0, True), MAY_TO_JULY, JUNE, "2023-05-31", "2023-06-02") == (["2023-06-02"], [])


def test_nonexistent_windows_are_ranges_of_the_upstream_grid() -> None:
    down_space, up_space = space(MAY_TO_JULY), space(JUNE)
    may_and_july = PartitionSubset.from_ranges([(0, 31), (61, 75)])
    result = upstream_partitions(TimeWindowMapping(), may_and_july, down_space, up_space)
    assert result.subset.is_empty
    (part,) = result.required_but_nonexistent.parts
    # May (the 31 windows before June's first) and July 1-14 (after its last), as tick indices.
    assert isinstance(part, MissingWindows) and part.ranges == ((-31, 0), (30, 44))
    assert result.required_but_nonexistent.count == 45
    listed = result.required_but_nonexistent.keys()
    assert [listed[0], listed[30], listed[31], listed[-1]] == ["2023-05-01", "2023-05-31", "2023-07-01", "2023-07-14"]


def test_one_window_past_both_upstream_ends_is_reported_whole() -> None:
    # From Dagster's source (mapping/time_window.py): a merged window reaching past the
    # first AND the last upstream partition is reported entirely, existing June included.
    down_space, up_space = space(MAY_TO_JULY), space(JUNE)
    result = upstream_partitions(TimeWindowMapping(), PartitionSubset.of_range(0, 75), down_space, up_space)
    assert result.subset == PartitionSubset.of_range(0, 30)
    (part,) = result.required_but_nonexistent.parts
    assert isinstance(part, MissingWindows) and part.ranges == ((-31, 44),)


def test_offsets_shift_by_windows_and_downstream_of_negates_them() -> None:
    days = daily("2023-06-01")
    assert up(TimeWindowMapping(-1, 0), days, days, "2023-06-05") == (["2023-06-04", "2023-06-05"], [])
    assert down(TimeWindowMapping(-1, 0), days, days, "2023-06-05") == ["2023-06-05", "2023-06-06"]


def test_a_self_dependency_on_the_previous_window_makes_the_first_partition_a_root() -> None:
    days = daily("2024-01-01")
    assert up(TimeWindowMapping(-1, -1), days, days, "2024-01-01") == ([], [])
    assert up(TimeWindowMapping(-1, -1), days, days, "2024-01-02") == (["2024-01-01"], [])
    assert down(TimeWindowMapping(-1, -1), days, days, "2024-01-01") == ["2024-01-02"]


def test_a_merged_range_is_shifted_as_one_window() -> None:
    # Dagster maps the merged windows of a subset: with start_offset > end_offset a
    # single day maps to nothing, but three consecutive days still reach a middle day.
    days = daily("2024-01-01")
    assert up(TimeWindowMapping(1, -1), days, days, "2024-01-05") == ([], [])
    assert up(TimeWindowMapping(1, -1), days, days, "2024-01-05", "2024-01-06", "2024-01-07") == (["2024-01-06"], [])


# -- §3.4: windows of other cadences -------------------------------------------


def test_daily_from_hourly_reads_24_hours() -> None:
    upstream_keys, missing = up(None, daily("2024-01-01"), hourly("2024-01-01"), "2024-01-05")
    assert upstream_keys == [f"2024-01-05-{hour:02d}:00" for hour in range(24)] and missing == []


def test_hourly_from_daily_reads_the_containing_day() -> None:
    assert up(None, hourly("2024-01-01"), daily("2024-01-01"), "2024-01-05-13:00") == (["2024-01-05"], [])
    assert down(None, daily("2024-01-01"), hourly("2024-01-01"), "2024-01-05") == [
        f"2024-01-05-{hour:02d}:00" for hour in range(24)
    ]


def test_weekly_from_daily_reads_seven_days() -> None:
    weekly = cron("0 0 * * 0", "2024-01-07")  # Sunday-start weeks
    upstream_keys, _ = up(None, weekly, daily("2024-01-01"), "2024-01-07")
    assert upstream_keys == [f"2024-01-{day:02d}" for day in range(7, 14)]
    assert down(None, daily("2024-01-01"), weekly, "2024-01-10") == ["2024-01-07"]


def test_daily_around_a_dst_change_reads_its_23_hours() -> None:
    upstream_keys, _ = up(None, daily("2024-03-01", tz="America/New_York"), hourly("2024-03-01", tz="America/New_York"), "2024-03-10")
    assert len(upstream_keys) == 23 and "2024-03-10-02:00" not in upstream_keys


def test_a_window_past_both_upstream_ends_is_reported_whole() -> None:
    # From Dagster's source (mapping/time_window.py): a mapped window reaching past the
    # first AND the last upstream partition is reported entirely, existing middle included.
    month = cron("0 0 1 * *", "2024-01-01")
    mid_month = daily("2024-01-10", "2024-01-20")
    upstream_keys, missing = up(None, month, mid_month, "2024-01-01")
    assert upstream_keys == [f"2024-01-{day}" for day in range(10, 20)]
    assert missing == [f"2024-01-{day:02d}" for day in range(1, 32)]


def test_before_the_upstream_start_only_windows_starting_inside_are_reported() -> None:
    # From Dagster's source: with zero offsets, a subset ending before the upstream
    # definition's start takes a shortcut that lists the upstream windows *starting*
    # inside it, not the windows snapped outward.
    months = cron("0 0 1 * *", "2024-03-01")
    assert up(None, daily("2024-01-01"), months, "2024-01-15") == ([], [])
    assert up(None, daily("2024-01-01"), months, "2024-02-01") == ([], ["2024-02-01"])
    # With an offset the shortcut is off and the containing month is reported.
    assert up(TimeWindowMapping(0, 1), daily("2024-01-01"), months, "2024-01-15") == ([], ["2024-01-01"])


def test_time_windows_in_different_timezones_cannot_be_mapped() -> None:
    with pytest.raises(InvalidArgument) as caught:
        up(None, daily("2024-01-01", tz="Europe/Berlin"), daily("2024-01-01"), "2024-01-02")
    assert caught.value.violations[0].field == "time_window"


# -- §3.3: the other kinds -------------------------------------------------------

COLORS = StaticPartitionsDefinition(("red", "green", "blue"))
SHADES = StaticPartitionsDefinition(("blue", "cyan", "red"))


def test_identity_between_different_static_definitions_intersects_keys() -> None:
    assert up(IdentityMapping(), SHADES, COLORS, "blue", "cyan", "red") == (["red", "blue"], ["cyan"])
    assert down(IdentityMapping(), COLORS, SHADES, "red", "green") == ["red"]


def test_identity_between_shifted_daily_definitions_is_arithmetic() -> None:
    down_space, up_space = space(daily("2024-01-01")), space(daily("2024-06-01"))
    result = upstream_partitions(IdentityMapping(), PartitionSubset.of_range(0, down_space.count), down_space, up_space)
    assert result.subset == PartitionSubset.of_range(0, up_space.count)
    (part,) = result.required_but_nonexistent.parts
    assert isinstance(part, MissingPartitions) and part.subset == PartitionSubset.of_range(0, 152)  # Jan-May 2024
    assert result.required_but_nonexistent.keys(2) == ["2024-01-01", "2024-01-02"]


def test_identity_between_different_types_still_intersects_key_text() -> None:
    # Dagster's validation refuses this pair, but its evaluation intersects key strings.
    dates = StaticPartitionsDefinition(("2024-01-02", "someday"))
    assert up(IdentityMapping(), dates, daily("2024-01-01"), "2024-01-02", "someday") == (["2024-01-02"], ["someday"])


def test_all_and_last() -> None:
    assert up(AllMapping(), COLORS, SHADES, "red") == (["blue", "cyan", "red"], [])
    assert up(LastMapping(), COLORS, SHADES, "green") == (["red"], [])
    assert down(AllMapping(), SHADES, COLORS, "cyan") == ["red", "green", "blue"]
    assert down(LastMapping(), SHADES, COLORS, "cyan") == []
    assert down(LastMapping(), SHADES, COLORS, "red") == ["red", "green", "blue"]


def test_specific_partitions_report_keys_the_upstream_lacks() -> None:
    mapping = SpecificPartitionsMapping(("a", "zz"))
    letters = StaticPartitionsDefinition(("a", "b"))
    upstream_keys, missing = up(mapping, COLORS, letters, "red")
    assert upstream_keys == ["a"] and missing == ["zz"]
    assert down(mapping, letters, COLORS, "a") == ["red", "green", "blue"]
    assert down(mapping, letters, COLORS, "b") == []


STATIC_MAP = StaticMapping((("red", ("x", "y")), ("green", ("y",)), ("blue", ())))
XYZ = StaticPartitionsDefinition(("x", "y", "z"))


def test_static_mapping_inverse_and_forward() -> None:
    assert up(STATIC_MAP, XYZ, COLORS, "y") == (["red", "green"], [])
    assert up(STATIC_MAP, XYZ, COLORS, "z") == ([], [])
    assert down(STATIC_MAP, COLORS, XYZ, "red", "blue") == ["x", "y"]


def test_static_mapping_checks_only_the_side_it_maps_onto() -> None:
    bad_target = StaticMapping((("red", ("x", "nope")),))
    assert up(bad_target, XYZ, COLORS, "x") == (["red"], [])  # as Dagster: upstream keys are checked
    with pytest.raises(InvalidArgument) as caught:
        down(bad_target, COLORS, XYZ, "red")
    assert caught.value.violations[0].field == "static.entries[0].downstream_keys[1]"
    with pytest.raises(InvalidArgument) as caught:
        up(StaticMapping((("purple", ("x",)),)), XYZ, COLORS, "x")
    assert caught.value.violations[0].field == "static.entries[0].upstream_key"


# -- multi ---------------------------------------------------------------------------

DAYS = daily("2024-01-01", "2024-01-06")
GRID = MultiPartitionsDefinition((PartitionDimension("date", DAYS), PartitionDimension("color", COLORS)))


def test_multi_to_single_both_ways() -> None:
    # Keys are color|date: dimensions are ordered by name.
    assert up(None, DAYS, GRID, "2024-01-02") == (["red|2024-01-02", "green|2024-01-02", "blue|2024-01-02"], [])
    assert up(None, GRID, DAYS, "red|2024-01-02", "blue|2024-01-03") == (["2024-01-02", "2024-01-03"], [])
    assert down(None, DAYS, GRID, "2024-01-05") == ["red|2024-01-05", "green|2024-01-05", "blue|2024-01-05"]
    assert down(None, GRID, DAYS, "green|2024-01-01") == ["2024-01-01"]
    assert up(None, GRID, COLORS, "green|2024-01-01", "green|2024-01-04") == (["green"], [])


def test_multi_to_single_on_a_time_dimension_of_another_cadence() -> None:
    upstream_keys, missing = up(None, GRID, hourly("2024-01-03", "2024-01-10"), "red|2024-01-02", "red|2024-01-03")
    assert upstream_keys == [f"2024-01-03-{hour:02d}:00" for hour in range(24)]
    # Missing dimension keys, as Dagster reports them: the hours of 2024-01-02.
    assert missing == [f"2024-01-02-{hour:02d}:00" for hour in range(24)]


def test_multi_to_single_honours_the_dimension_name() -> None:
    square = MultiPartitionsDefinition((PartitionDimension("a", COLORS), PartitionDimension("b", COLORS)))
    with pytest.raises(InvalidArgument) as caught:
        up(MultiToSingleDimensionMapping(), COLORS, square, "red")
    assert caught.value.violations[0].field == "multi_to_single_dimension"
    assert up(MultiToSingleDimensionMapping("b"), COLORS, square, "red") == (["red|red", "green|red", "blue|red"], [])
    with pytest.raises(InvalidArgument) as caught:
        up(MultiToSingleDimensionMapping("date"), DAYS, MultiPartitionsDefinition(
            (PartitionDimension("date", COLORS), PartitionDimension("time", DAYS))), "2024-01-01")
    assert caught.value.violations[0].field == "multi_to_single_dimension.partition_dimension_name"


def test_multi_partition_mapping_per_dimension_and_unmapped_dimensions_whole() -> None:
    previous_day = MultiPartitionMapping((DimensionMapping("date", "date", TimeWindowMapping(-1, -1)),))
    assert up(previous_day, GRID, GRID, "red|2024-01-03") == (["red|2024-01-02", "green|2024-01-02", "blue|2024-01-02"], [])
    both = MultiPartitionMapping(
        (DimensionMapping("date", "date", TimeWindowMapping(-1, -1)), DimensionMapping("color", "color"))
    )
    assert up(both, GRID, GRID, "red|2024-01-03", "blue|2024-01-05") == (["red|2024-01-02", "blue|2024-01-04"], [])
    assert down(both, GRID, GRID, "red|2024-01-02") == ["red|2024-01-03"]
    everything = [f"{color}|2024-01-0{day}" for color in ("red", "green", "blue") for day in range(1, 6)]
    assert up(MultiPartitionMapping(()), GRID, GRID, "red|2024-01-03") == (everything, [])


def test_multi_partition_mapping_reports_missing_dimension_keys() -> None:
    shades_grid = MultiPartitionsDefinition((PartitionDimension("date", DAYS), PartitionDimension("color", SHADES)))
    by_color = MultiPartitionMapping((DimensionMapping("color", "color"),))
    down_space, up_space = space(GRID), space(shades_grid)
    result = upstream_partitions(by_color, subset(down_space, "green|2024-01-01", "red|2024-01-02"), down_space, up_space)
    assert keys(up_space, result.subset) == [f"red|2024-01-0{day}" for day in range(1, 6)]
    (part,) = result.required_but_nonexistent.parts
    assert isinstance(part, MissingPartitions) and part.dimension == "color"
    assert result.required_but_nonexistent.keys() == ["green"]


def test_specific_keys_missing_in_a_dimension_name_it() -> None:
    mapping = MultiPartitionMapping((DimensionMapping("color", "color", SpecificPartitionsMapping(("red", "mauve"))),))
    result = upstream_partitions(mapping, subset(space(GRID), "green|2024-01-01"), space(GRID), space(GRID))
    assert result.required_but_nonexistent.parts == (MissingKeys(("mauve",), "color"),)


# -- default inference (§3.2) and unpartitioned sides -------------------------------


@pytest.mark.parametrize(
    ("upstream", "downstream", "kind"),
    [
        (COLORS, None, AllMapping),
        (GRID, DAYS, MultiToSingleDimensionMapping),
        (DAYS, GRID, MultiToSingleDimensionMapping),
        (hourly("2024-01-01"), DAYS, TimeWindowMapping),
        (COLORS, SHADES, IdentityMapping),
        (COLORS, DAYS, IdentityMapping),
        (GRID, GRID, IdentityMapping),
    ],
)
def test_default_inference_picks_dagsters_kind(upstream: Any, downstream: Any, kind: type) -> None:
    assert type(mapping_in_effect(None, space(upstream), None if downstream is None else space(downstream))) is kind


def test_an_unpartitioned_downstream_reads_all_upstream_partitions_by_default() -> None:
    result = upstream_partitions(None, None, None, space(COLORS))
    assert keys(space(COLORS), result.subset) == ["red", "green", "blue"]
    with pytest.raises(InvalidArgument):
        upstream_partitions(IdentityMapping(), None, None, space(COLORS))


def test_every_downstream_partition_reads_an_unpartitioned_upstream() -> None:
    assert keys(space(COLORS), downstream_partitions(None, None, None, space(COLORS))) == ["red", "green", "blue"]
    with pytest.raises(InvalidArgument):
        upstream_partitions(None, PartitionSubset.of_range(0, 1), space(COLORS), None)


def test_an_empty_subset_maps_to_nothing_for_every_kind() -> None:
    for mapping in (AllMapping(), LastMapping(), SpecificPartitionsMapping(("red",)), IdentityMapping()):
        result = upstream_partitions(mapping, PartitionSubset.empty(), space(COLORS), space(COLORS))
        assert result.subset.is_empty and result.required_but_nonexistent.is_empty


def test_dynamic_definitions_map_by_key() -> None:
    customers, vendors = DynamicPartitionsDefinition("customers"), DynamicPartitionsDefinition("vendors")
    lookup = {"customers": DynamicKeys(["acme", "zeta"]), "vendors": DynamicKeys(["zeta"])}.__getitem__
    down_space = partition_space(customers, as_of=AS_OF, dynamic_keys=lookup)
    up_space = partition_space(vendors, as_of=AS_OF, dynamic_keys=lookup)
    result = upstream_partitions(None, PartitionSubset.of_range(0, 2), down_space, up_space)
    assert keys(up_space, result.subset) == ["zeta"] and result.required_but_nonexistent.keys() == ["acme"]


# -- ten years of hours onto days, without listing them ---------------------------


class CountingTicks:
    """Wraps a definition's tick sequence and counts lookups."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def count_before(self, instant: int) -> int:
        self.calls += 1
        return self.inner.count_before(instant)

    def instant(self, index: int) -> int:
        self.calls += 1
        return self.inner.instant(index)


def test_ten_years_of_hourly_partitions_map_to_days_by_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    hours_def, days_def = hourly("2015-01-01"), daily("2015-01-01", "2025-01-01")
    hours, days = space(hours_def), space(days_def)
    counters = [CountingTicks(d._ticks) for d in (hours_def, days_def)]
    for definition, counter in zip((hours_def, days_def), counters):
        object.__setattr__(definition, "_ticks", counter)
    # Listing keys would call key_at: forbid it outright.
    for each in (hours, days):
        monkeypatch.setattr(each, "key_at", lambda index: pytest.fail("a key was listed"))

    result = upstream_partitions(None, PartitionSubset.of_range(0, days.count), days, hours)
    assert days.count == 3653 and result.subset.ranges == ((0, 87_672),) and result.subset.count == 87_672
    assert result.required_but_nonexistent.is_empty
    back = downstream_partitions(None, result.subset, hours, days)
    assert back.ranges == ((0, 3653),)
    # A few range ends, not 87,672 keys: a handful of tick lookups.
    assert sum(counter.calls for counter in counters) < 50


def test_hours_with_holes_keep_their_ranges() -> None:
    hours, days = space(hourly("2015-01-01")), space(daily("2015-01-01", "2025-01-01"))
    chosen = PartitionSubset.from_ranges([(0, 10), (100, 200), (365, 730)])
    result = upstream_partitions(None, chosen, days, hours)
    assert result.subset.ranges == ((0, 240), (2400, 4800), (8760, 17520))


def test_descriptions_say_what_a_partition_reads() -> None:
    assert describe_mapping(TimeWindowMapping(-1, -1)) .startswith(
        "Each downstream partition reads the upstream partitions whose time windows overlap its own, after moving"
    )
    text = describe_mapping(MultiToSingleDimensionMapping(), inferred=True, upstream=GRID, downstream=DAYS)
    assert text.startswith("No mapping is declared") and "dimension 'date'" in text
