"""Differential tests: every time_window case Dagster 1.13.29 answered in tests/data/dagster-cases.json.

Where Dagster's answers within a case contradict each other (the case's "anomalies",
see /work/shared/parity/README.md section 8) we assert the self-consistent answer
instead, and say which Dagster behaviour we decline to copy:

* ``unlisted_key_accepted`` (README 8.1): for exactly "0 * * * *" and "0 0 * * *"
  Dagster's has_partition_key skips the cron-grid check and accepts off-grid keys
  such as "2024-01-21-17:01". Such a key is not a partition: we answer False.
* validity ``{"error": "OverflowError"}`` (README 8.4): Dagster raises for
  "9999-12-31" / "0001-01-01" with date-only formats; a key far outside the
  partitions is simply not one: we answer False.
* time_window-141, leap-day cron "0 0 29 2 *" (README 8.3): Dagster counts 2
  partitions but lists 3, rejects its own keys and maps 2028-02-29 to the window
  starting 2032-02-29. We answer count 2 (2028-02-29, 2032-02-29), accept both
  keys, and give each the window that starts at it.
* time_window-160, an end before the first window ends (README 8.2): Dagster counts
  0 partitions yet lists 2022-03-13-02:00 and names a last key before the first.
  We answer no partitions, so no first or last key.

One definition Dagster accepted we refuse: time_window-64 uses fmt "%Y%m%d" for
"0 9-17 * * 1-5" (nine windows a day). Dagster checks fmt against the partitions that
exist at as_of, and there was one; we check it against the schedule, so a definition
does not turn invalid when its second window of a day closes. Its tick math is still
compared with Dagster's, through the same definition with a finer fmt.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition, TimeWindowSpace
from arco_grpc.partitions.time_window._unclipped import key_range_for_time_window, keys_in_time_window

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "dagster-cases.json"
ALL_CASES = [c for c in json.loads(CASES_PATH.read_text())["cases"] if c["kind"] == "time_window"]
# Definitions whose fmt we refuse as too coarse for the schedule (see the module docstring).
REFUSED_FMT = {"time_window-64": "%Y%m%d%H%M"}
CASES = [c for c in ALL_CASES if c["id"] not in REFUSED_FMT]
CASE_IDS = [c["id"] for c in CASES]

# Cases whose Dagster answers contradict each other; the values are our consistent answers.
CONSISTENT_ANSWERS: dict[str, dict[str, Any]] = {
    "time_window-141": {
        "first": "2028-02-29",
        "last": "2032-02-29",
        "windows": {
            0: ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
            1: ["2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"],
        },
    },
    "time_window-160": {"first": None, "last": None, "windows": {}},
}


def build(case: dict[str, Any], fmt: str | None = None) -> TimeWindowSpace:
    definition = case["definition"]
    built = TimeWindowPartitionsDefinition.create(
        # The generator passed naive datetimes (wall time in the zone), not strings.
        start=datetime.fromisoformat(definition["start"]),
        end=datetime.fromisoformat(definition["end"]) if definition["end"] else None,
        cron_schedule=definition["cron_schedule"],
        timezone=definition["timezone"],
        fmt=fmt or definition["fmt"],
        end_offset=definition["end_offset"],
    )
    return built.space(datetime.fromisoformat(case["as_of"]))


@lru_cache(maxsize=None)
def space_for(case_id: str) -> TimeWindowSpace:
    return build(next(c for c in CASES if c["id"] == case_id))


def instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def anomaly_keys(case: dict[str, Any], kind: str) -> set[str]:
    return {a["key"] for a in case["expect"]["anomalies"] if a["type"] == kind}


def partition_keys_in_case(case: dict[str, Any]) -> dict[int, str]:
    """Dagster's listed keys by index, cut at its count (the list runs past it only in anomalies)."""
    count = case["expect"]["count"]
    return {index: key for index, key in case["expect"]["keys_at"] if index < count}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_resolved_bounds(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    expect = case["expect"]
    assert space.definition.start.timestamp() == instant(expect["resolved_start"])
    assert space.definition.start.isoformat() == expect["resolved_start"]
    if expect["resolved_end"] is None:
        assert space.definition.end is None
    else:
        assert space.definition.end is not None
        assert space.definition.end.timestamp() == instant(expect["resolved_end"])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_count_first_last(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    expect = {**case["expect"], **CONSISTENT_ANSWERS.get(case["id"], {})}
    assert space.count == expect["count"]
    assert space.first_key() == expect["first"]
    assert space.last_key() == expect["last"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_keys_at_both_ways(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    for index, key in case["expect"]["keys_at"]:
        if index < case["expect"]["count"]:
            assert space.key_at(index) == key
            assert space.index_of(key) == index
        else:
            # Listed by Dagster past its own count (anomaly cases only): not a partition.
            assert case["id"] in CONSISTENT_ANSWERS
            with pytest.raises(IndexError):
                space.key_at(index)
            assert space.index_of(key) is None


@pytest.mark.parametrize("case", [c for c in CASES if "all_keys" in c["expect"]], ids=lambda c: c["id"])
def test_all_keys(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    expected = case["expect"]["all_keys"][: case["expect"]["count"]]
    assert space.keys(0, space.count) == expected
    assert [space.index_of(key) for key in expected] == list(range(len(expected)))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_time_windows(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    overrides = CONSISTENT_ANSWERS.get(case["id"], {}).get("windows")
    for item in case["expect"]["time_windows"]:
        index = item["index"]
        expected = item["window"] if overrides is None else overrides.get(index)
        if expected is None:
            with pytest.raises(IndexError):
                space.window_at(index)
            continue
        start, end = space.window_at(index)
        # Compare text: aware datetimes in a repeated hour never compare equal across zones.
        assert [start.isoformat(), end.isoformat()] == expected
        assert space.key_at(index) == item["key"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_validity(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    accepted_off_grid = anomaly_keys(case, "unlisted_key_accepted")
    rejected_listed = anomaly_keys(case, "listed_key_rejected")
    listed = set(partition_keys_in_case(case).values())
    for candidate, dagster_answer in case["expect"]["validity"].items():
        if candidate in accepted_off_grid or isinstance(dagster_answer, dict):
            expected = False  # off-grid key accepted (8.1) or OverflowError (8.4): not a partition
        elif candidate in rejected_listed:
            expected = candidate in listed  # Dagster rejects its own listed keys (8.2, 8.3)
        else:
            expected = dagster_answer
        assert (space.index_of(candidate) is not None) == expected, candidate


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_keys_in_time_range(case: dict[str, Any]) -> None:
    space = space_for(case["id"])
    query = case["expect"]["keys_in_time_range"]
    start, end = datetime.fromisoformat(query["start"]), datetime.fromisoformat(query["end"])
    keys = keys_in_time_window(space, start, end)
    expected = query["keys"]
    if isinstance(expected, dict):
        assert expected.get("truncated"), expected
        assert (len(keys), keys[:20], keys[-20:]) == (expected["count"], expected["head"], expected["tail"])
    else:
        assert keys == expected
    key_range = key_range_for_time_window(space, start, end)
    if isinstance(query["key_range"], dict):
        assert key_range is None  # Dagster raised CheckError
    else:
        assert key_range is not None and list(key_range) == query["key_range"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_clipped_time_range_agrees_with_unclipped_keys(case: dict[str, Any]) -> None:
    """index_range_starting_in is the unclipped window list cut to the partitions."""
    space = space_for(case["id"])
    query = case["expect"]["keys_in_time_range"]
    start, end = datetime.fromisoformat(query["start"]), datetime.fromisoformat(query["end"])
    lo, hi = space.index_range_starting_in(start, end)
    in_range = [space.index_of(key) for key in keys_in_time_window(space, start, end)]
    assert list(range(lo, hi)) == [index for index in in_range if index is not None]


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c["id"] in REFUSED_FMT], ids=lambda c: c["id"])
def test_refused_coarse_fmt_keeps_dagsters_windows(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        build(case)
    assert [v.field for v in refused.value.violations] == ["fmt"]
    space = build(case, fmt=REFUSED_FMT[case["id"]])
    expect = case["expect"]
    assert space.count == expect["count"]
    for item in expect["time_windows"]:
        start, end = space.window_at(item["index"])
        assert [start.isoformat(), end.isoformat()] == item["window"]
    query = expect["keys_in_time_range"]
    start, end = datetime.fromisoformat(query["start"]), datetime.fromisoformat(query["end"])
    assert len(keys_in_time_window(space, start, end)) == len(query["keys"])
    assert (key_range_for_time_window(space, start, end) is None) == isinstance(query["key_range"], dict)
