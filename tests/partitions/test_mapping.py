"""Partition mappings: Dagster's default inference and validation rules.

The parity test replays every `mapping` case of tests/data/dagster-cases.json
(computed by Dagster 1.13.29): the inferred default and whether
validate_partition_mapping accepts the pair must agree with Dagster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.mapping import (
    MAPPING_FIELDS,
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
    infer_mapping,
    self_dependency_allowed,
    validate_mapping,
)
from arco_grpc.partitions.multi import MultiPartitionsDefinition, PartitionDimension
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

CASES = [c for c in json.loads((Path(__file__).parents[1] / "data" / "dagster-cases.json").read_text())["cases"]
         if c["kind"] == "mapping"]

# Where we deliberately differ from Dagster 1.13.29: its MultiToSingleDimensionPartitionMapping
# ignores partition_dimension_name and re-infers the dimension (parity README §8.7), so a
# name that does not match the single definition is silently accepted. We honour the name
# the caller wrote, as the proto documents, and refuse a dimension that does not fit.
HONOURS_DIMENSION_NAME = {"mapping-17", "mapping-98", "mapping-111"}


def definition(d: dict[str, Any]) -> Any:
    if d["type"] == "static":
        return StaticPartitionsDefinition(tuple(d["keys"]))
    if d["type"] == "time_window":
        return TimeWindowPartitionsDefinition.create(
            start=d["start"], cron_schedule=d["cron_schedule"], timezone=d["timezone"], fmt=d["fmt"],
            end=d["end"], end_offset=d["end_offset"],
        )
    return MultiPartitionsDefinition(
        tuple(PartitionDimension(x["name"], definition(x["definition"])) for x in d["dimensions"])
    )


def mapping(m: dict[str, Any]) -> PartitionMapping | None:
    kind = m["type"]
    simple = {"default": None, "identity": IdentityMapping(), "all": AllMapping(), "last": LastMapping()}
    if kind in simple:
        return simple[kind]
    if kind == "specific_partitions":
        return SpecificPartitionsMapping(tuple(m["partition_keys"]))
    if kind == "static":
        entries = m["downstream_partition_keys_by_upstream_partition_key"].items()
        return StaticMapping(tuple((up, (down,) if isinstance(down, str) else tuple(down)) for up, down in entries))
    if kind == "time_window":
        return TimeWindowMapping(m["start_offset"], m["end_offset"], m["allow_nonexistent_upstream_partitions"])
    assert kind == "multi_to_single_dimension"
    return MultiToSingleDimensionMapping(m["partition_dimension_name"])


def test_the_parity_file_has_mapping_cases() -> None:
    assert len(CASES) == 128


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}:{c['pair']}")
def test_inference_and_validation_agree_with_dagster(case: dict[str, Any]) -> None:
    upstream, downstream = definition(case["upstream"]), definition(case["downstream"])
    given = mapping(case["mapping"])
    if given is None:
        inferred = infer_mapping(upstream, downstream)
        assert MAPPING_FIELDS[type(inferred)] == case["expect"]["inferred_mapping"]["type"]
    dagster_accepts = case["expect"]["validate"] == "ok"
    expect_accepted = dagster_accepts and case["id"] not in HONOURS_DIMENSION_NAME
    try:
        validate_mapping(given or infer_mapping(upstream, downstream), upstream, downstream)
        accepted = True
    except InvalidArgument:
        accepted = False
    assert accepted == expect_accepted


def daily(start: str = "2024-01-01", tz: str = "UTC") -> TimeWindowPartitionsDefinition:
    return TimeWindowPartitionsDefinition.create(start=start, cron_schedule="0 0 * * *", timezone=tz)


COLORS = StaticPartitionsDefinition(("red", "green"))
SIZES = StaticPartitionsDefinition(("s", "m"))
CUSTOMERS = DynamicPartitionsDefinition("customers")
GRID = MultiPartitionsDefinition((PartitionDimension("date", daily()), PartitionDimension("color", COLORS)))
SQUARE = MultiPartitionsDefinition((PartitionDimension("a", COLORS), PartitionDimension("b", COLORS)))


@pytest.mark.parametrize(
    ("upstream", "downstream", "expected"),
    [
        (None, COLORS, AllMapping()),
        (COLORS, None, AllMapping()),
        (GRID, COLORS, MultiToSingleDimensionMapping()),
        (daily(), GRID, MultiToSingleDimensionMapping()),
        (daily("2023-01-01"), GRID, MultiToSingleDimensionMapping()),  # the one time dimension
        (daily(), daily("2023-01-01"), TimeWindowMapping()),
        (COLORS, SIZES, IdentityMapping()),
        (COLORS, daily(), IdentityMapping()),
        (GRID, GRID, IdentityMapping()),
        (SIZES, GRID, IdentityMapping()),  # no dimension matches
    ],
)
def test_default_mapping_inference(upstream: Any, downstream: Any, expected: PartitionMapping) -> None:
    assert infer_mapping(upstream, downstream) == expected


@pytest.mark.parametrize(
    ("mapping_value", "upstream", "downstream", "field"),
    [
        (IdentityMapping(), COLORS, daily(), "identity"),
        (IdentityMapping(), COLORS, None, "identity"),
        (TimeWindowMapping(), COLORS, daily(), "time_window"),
        (TimeWindowMapping(), daily(tz="Europe/Berlin"), daily(), "time_window"),
        (StaticMapping((("red", ("s",)),)), COLORS, CUSTOMERS, "static"),
        (StaticMapping((("red", ("s",)), ("blue", ("m",)))), COLORS, SIZES, "static.entries[1].upstream_key"),
        (StaticMapping((("red", ("s", "xl")),)), COLORS, SIZES, "static.entries[0].downstream_keys[1]"),
        (MultiToSingleDimensionMapping(), COLORS, SIZES, "multi_to_single_dimension"),
        (MultiToSingleDimensionMapping(), SQUARE, COLORS, "multi_to_single_dimension"),  # ambiguous
        (MultiToSingleDimensionMapping("nope"), GRID, COLORS, "multi_to_single_dimension.partition_dimension_name"),
        (MultiToSingleDimensionMapping(), GRID, daily(tz="Europe/Berlin"), "multi_to_single_dimension"),
        (MultiPartitionMapping(()), GRID, COLORS, "multi_partition"),
        (MultiPartitionMapping((DimensionMapping("size", "date"),)), GRID, GRID,
         "multi_partition.dimensions[0].upstream_dimension"),
        (MultiPartitionMapping((DimensionMapping("date", "date"), DimensionMapping("color", "date", AllMapping()))),
         GRID, GRID, "multi_partition.dimensions[1].downstream_dimension"),
        (MultiPartitionMapping((DimensionMapping("date", "color"),)), GRID, GRID,
         "multi_partition.dimensions[0].mapping.identity"),
        (MultiPartitionMapping((DimensionMapping("color", "color", MultiPartitionMapping(())),)), GRID, GRID,
         "multi_partition.dimensions[0].mapping"),
    ],
)
def test_mappings_that_do_not_fit_name_the_field(
    mapping_value: PartitionMapping, upstream: Any, downstream: Any, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_mapping(mapping_value, upstream, downstream)
    assert caught.value.violations[0].field == field


@pytest.mark.parametrize(
    ("mapping_value", "upstream", "downstream"),
    [
        (AllMapping(), CUSTOMERS, COLORS),
        (LastMapping(), daily(), None),
        (SpecificPartitionsMapping(("not", "checked")), COLORS, SIZES),
        (StaticMapping((("red", ("s", "m")), ("green", ()))), COLORS, SIZES),
        (MultiToSingleDimensionMapping("b"), SQUARE, COLORS),  # the name resolves the ambiguity
        (MultiToSingleDimensionMapping("color"), COLORS, GRID),
        (MultiPartitionMapping((DimensionMapping("date", "date", TimeWindowMapping(-1, 0)),)), GRID, GRID),
        (IdentityMapping(), daily(), daily("2020-01-01")),
        # An unpartitioned upstream is never checked (Dagster skips it too).
        (TimeWindowMapping(), None, COLORS),
        (IdentityMapping(), None, COLORS),
    ],
)
def test_mappings_that_fit(mapping_value: PartitionMapping, upstream: Any, downstream: Any) -> None:
    validate_mapping(mapping_value, upstream, downstream)


def test_static_mapping_refuses_an_upstream_key_twice() -> None:
    with pytest.raises(InvalidArgument) as caught:
        StaticMapping((("red", ("s",)), ("red", ("m",))))
    assert caught.value.violations[0].field == "static.entries[1].upstream_key"


@pytest.mark.parametrize(
    ("mapping_value", "definition_value", "allowed"),
    [
        (TimeWindowMapping(-1, -1), daily(), True),
        (TimeWindowMapping(-1, 0), daily(), False),
        (IdentityMapping(), daily(), False),
        (None, daily(), False),
        (MultiPartitionMapping((DimensionMapping("date", "date", TimeWindowMapping(-2, -1)),)), GRID, True),
        (MultiPartitionMapping((DimensionMapping("date", "date", TimeWindowMapping(0, -1)),)), GRID, False),
        (MultiPartitionMapping((DimensionMapping("a", "a", TimeWindowMapping(-1, -1)),)), SQUARE, False),
    ],
)
def test_self_dependencies_only_on_earlier_windows(
    mapping_value: PartitionMapping | None, definition_value: Any, allowed: bool
) -> None:
    assert self_dependency_allowed(mapping_value, definition_value) is allowed
