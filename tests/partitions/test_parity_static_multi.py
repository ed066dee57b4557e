"""Parity with Dagster 1.13.29 for static and multi definitions (tests/data/dagster-cases.json).

Format: /work/shared/parity/README.md sections 4 and 5. Dagster's error classes
map to ours as follows: DagsterInvalidDefinitionError (constructor) and
DagsterInvalidInvocationError, CheckError, ValueError (key ranges) all become
InvalidArgument.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace, PartitionDimension, split_multi_key
from arco_grpc.partitions.selection import select, subset_keys
from arco_grpc.partitions.selector import KeyRange
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "dagster-cases.json"
CASES = [case for case in json.loads(CASES_PATH.read_text(encoding="utf-8"))["cases"] if case["kind"] in ("static", "multi")]
STATIC_CASES = [case for case in CASES if case["kind"] == "static"]
MULTI_CASES = [case for case in CASES if case["kind"] == "multi"]

# Dagster resolves the time dimension of a multi key range without checking the
# evaluation time (README section 8.5), so it accepts an endpoint that is not yet a
# partition and returns keys past the last partition. Our rule is the one Dagster
# applies everywhere else: both endpoints must be partitions at the evaluation
# time, else InvalidArgument. These are the ranges where the answers differ; for
# each, the test also checks that Dagster's keys that do exist are exactly our
# selection with the offending endpoint clipped to the last partition.
DAGSTER_UNCLIPPED_RANGES: dict[str, set[tuple[str, str]]] = {
    "multi-1": {("new york26|2024-01-05", "00116|2023-12-26")},
    "multi-4": {
        ("2024-01-0241|2024-07-29-15:00", "--x--|2024-08-02-21:00"),
        ("--x--|2024-08-02-21:00", "--x--|2024-07-30-19:00"),
    },
    "multi-7": {("2025-04-03|trailing ", "2025-04-20|a.b")},
    "multi-16": {("SS|2022-06-13", " leading|2022-07-05")},
    "multi-17": {("c|2028-06-15", "c|2028-09-15")},
    "multi-18": {("Ω70|2023-05-13", "alpha|2023-05-19")},
    "multi-19": {("a.b|2025-04-06", "trailing |2025-03-18")},
    "multi-25": {("2024-11-07|with space", "2024-12-06|with space"), ("2024-12-06|with space", "2024-11-06|two  spaces")},
    "multi-30": {("2023-10-01|001", "2025-03-01|y"), ("2025-03-01|y", "2023-07-01|Ελλάδα7")},
    "multi-39": {("2025-07-01|a..b", "2025-01-01|a..b")},
    "multi-41": {("with space38|2024-03-09-06:30", "A|2024-03-13-10:30")},
    "multi-46": {("2025-04-20|café", "2025-04-29|ß80")},
    "multi-54": {("2023-01-24|green", "2023-02-06|green")},
}


def build_dimension_definition(spec: dict[str, Any]) -> Any:
    if spec["type"] == "static":
        return StaticPartitionsDefinition(tuple(spec["keys"]))
    from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

    # The generator passed naive wall-clock datetimes (README section 2), not strings.
    return TimeWindowPartitionsDefinition.create(
        cron_schedule=spec["cron_schedule"],
        start=datetime.fromisoformat(spec["start"]),
        end=None if spec["end"] is None else datetime.fromisoformat(spec["end"]),
        timezone=spec["timezone"],
        fmt=spec["fmt"],
        end_offset=spec["end_offset"],
    )


def build_multi(spec: dict[str, Any]) -> MultiPartitionsDefinition:
    dimensions = [PartitionDimension(d["name"], build_dimension_definition(d["definition"])) for d in spec["dimensions"]]
    return MultiPartitionsDefinition((dimensions[0], dimensions[1]))


def assert_key_list(space: PartitionSpace, expected: list[str] | dict[str, Any]) -> None:
    """Compares the space's keys with a key list or its truncated form, without listing a huge space."""
    if isinstance(expected, list):
        assert space.count == len(expected)
        assert space.keys(0, space.count) == expected
        return
    count = expected["count"]
    assert space.count == count
    assert space.keys(0, len(expected["head"])) == expected["head"]
    assert space.keys(count - len(expected["tail"]), count) == expected["tail"]


def assert_range_keys(space: PartitionSpace, start: str, end: str, expected: list[str] | dict[str, Any]) -> None:
    subset = select(space, KeyRange(start, end))
    if isinstance(expected, list):
        assert subset.count == len(expected)
        assert subset_keys(space, subset, 0, len(expected)) == expected
        return
    assert subset.count == expected["count"]
    assert subset_keys(space, subset, 0, len(expected["head"])) == expected["head"]
    assert subset_keys(space, subset, 0, len(expected["tail"]), descending=True) == expected["tail"][::-1]


def assert_range_error(space: PartitionSpace, start: str, end: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        select(space, KeyRange(start, end))
    assert [v.field for v in caught.value.violations] in (["key_range.start"], ["key_range.end"])


# -- static ---------------------------------------------------------------------


@pytest.mark.parametrize("case", STATIC_CASES, ids=[case["id"] for case in STATIC_CASES])
def test_static_case(case: dict[str, Any]) -> None:
    expect = case["expect"]
    keys = tuple(case["definition"]["keys"])
    if "error" in expect:
        assert expect["error"] == "DagsterInvalidDefinitionError"
        with pytest.raises(InvalidArgument):
            StaticPartitionsDefinition(keys)
        return
    space = StaticPartitionsDefinition(keys).space()
    assert space.count == expect["count"]
    assert_key_list(space, expect["keys"])
    assert space.first_key() == expect["first"]
    assert space.last_key() == expect["last"]
    for candidate, valid in expect["validity"].items():
        # A Dagster error while checking a key means "not a partition" to us.
        assert (space.index_of(candidate) is not None) == (valid is True), candidate
    for key_range in expect["key_ranges"]:
        if "error" in key_range:
            assert_range_error(space, key_range["start"], key_range["end"])
        else:
            assert_range_keys(space, key_range["start"], key_range["end"], key_range["keys"])


# -- multi ------------------------------------------------------------------------


def multi_space_of(case: dict[str, Any]) -> MultiSpace:
    space = partition_space(build_multi(case["definition"]), as_of=datetime.fromisoformat(case["as_of"]))
    assert isinstance(space, MultiSpace)
    return space


@pytest.mark.parametrize("case", MULTI_CASES, ids=[case["id"] for case in MULTI_CASES])
def test_multi_definition_and_keys(case: dict[str, Any]) -> None:
    expect = case["expect"]
    if "error" in expect:
        assert expect["error"] == "DagsterInvalidDefinitionError"
        with pytest.raises(InvalidArgument):
            build_multi(case["definition"])
        return
    space = multi_space_of(case)
    definition = space.definition
    assert list(definition.dimension_names) == expect["dimension_names"]
    assert definition.primary_dimension.name == expect["primary_dimension"]
    assert space.count == expect["count"]
    assert space.first_key() == expect["first"]
    assert space.last_key() == expect["last"]
    for index, key in expect["keys_at"]:
        assert space.key_at(index) == key
        assert space.index_of(key) == index
    if "all_keys" in expect:
        assert_key_list(space, expect["all_keys"])
    for example in expect["key_examples"]:
        assert space.keys_by_dimension(example["key"]) == example["keys_by_dimension"]
    for candidate, valid in expect["validity"].items():
        assert (space.index_of(candidate) is not None) == (valid is True), candidate


def clipped_endpoint(space: MultiSpace, key: str) -> str:
    """``key`` with each dimension part that is not a partition replaced by that dimension's last key."""
    parts = split_multi_key(key)
    assert parts is not None
    fixed = [
        part if dimension.index_of(part) is not None else dimension.last_key()
        for part, dimension in zip(parts, space.dimension_spaces)
    ]
    return "|".join(str(part) for part in fixed)


@pytest.mark.parametrize("case", [c for c in MULTI_CASES if "error" not in c["expect"]], ids=lambda c: c["id"])
def test_multi_key_ranges_are_rectangles(case: dict[str, Any]) -> None:
    space = multi_space_of(case)
    unclipped = DAGSTER_UNCLIPPED_RANGES.get(case["id"], set())
    for key_range in case["expect"]["key_ranges"]:
        start, end = key_range["start"], key_range["end"]
        if "error" in key_range:
            assert key_range["error"] in ("DagsterInvalidInvocationError", "CheckError", "ValueError")
            assert_range_error(space, start, end)
        elif (start, end) in unclipped:
            # Documented divergence (README 8.5): we refuse an endpoint that is not a partition ...
            assert_range_error(space, start, end)
            # ... and Dagster's keys that are partitions are our range clipped to the last partition.
            existing = [key for key in key_range["keys"] if space.index_of(key) is not None]
            assert_range_keys(space, clipped_endpoint(space, start), clipped_endpoint(space, end), existing)
        else:
            assert_range_keys(space, start, end, key_range["keys"])


def test_every_listed_divergence_is_a_range_of_the_data() -> None:
    by_id = {case["id"]: case for case in MULTI_CASES}
    for case_id, ranges in DAGSTER_UNCLIPPED_RANGES.items():
        listed = {(r["start"], r["end"]) for r in by_id[case_id]["expect"]["key_ranges"] if "error" not in r}
        assert ranges <= listed, case_id
