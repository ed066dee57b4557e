"""Every `mapping` case of tests/data/dagster-cases.json, evaluated and compared with Dagster 1.13.29.

For each case both definitions are evaluated at the case's as_of, the input keys
become a compact subset, and upstream_partitions / downstream_partitions must
give Dagster's upstream keys (in upstream order), required-but-nonexistent keys
(as a set) and downstream keys. Where Dagster raised, InvalidArgument is
expected. The few cases where arco-grpc answers differently on purpose are
listed in DELIBERATE with the reason; their documented answer is asserted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.mapping import downstream_partitions, upstream_partitions
from arco_grpc.partitions.multi import MultiSpace
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset
from tests.partitions.test_mapping import CASES, definition, mapping

# Case id -> (direction, why we differ, the answer we give instead).
# SpecificPartitions with a key the upstream cannot parse: Dagster raises ValueError
# while building the upstream subset; we report the key as required but nonexistent.
SPECIFIC_UNPARSEABLE = {"mapping-10": "2019-01-01", "mapping-45": "2019-01-01"}
# MultiToSingleDimension with a partition_dimension_name that does not fit: Dagster 1.13.29
# ignores the name and re-infers the dimension; we honour it and refuse the mapping.
HONOURS_DIMENSION_NAME = {"mapping-17", "mapping-98", "mapping-111"}
DELIBERATE = set(SPECIFIC_UNPARSEABLE) | HONOURS_DIMENSION_NAME


def subset_of(space: PartitionSpace, given: dict[str, Any]) -> AnySubset:
    """The compact subset of a case's `input` (keys, or every key from first to last)."""
    if "keys" in given:
        indices = [space.index_of(key) for key in given["keys"]]
        assert None not in indices, f"an input key is not a partition: {given}"
        flat = [i for i in indices if i is not None]
        if isinstance(space, MultiSpace):
            return MultiPartitionSubset.from_pairs(divmod(i, space.second.count) for i in flat)
        return PartitionSubset.from_indices(flat)
    first, last = (space.index_of(key) for key in given["key_range"])
    assert first is not None and last is not None
    if isinstance(space, MultiSpace):
        return _flat_range(space, first, last + 1)
    return PartitionSubset.of_range(first, last + 1)


def _flat_range(space: MultiSpace, low: int, high: int) -> MultiPartitionSubset:
    """Flat indices low..high-1 of a multi space (product order) as bands."""
    width = space.second.count
    row_low, col_low = divmod(low, width)
    row_high, col_high = divmod(high, width)
    whole = PartitionSubset.of_range(0, width)
    if row_low == row_high:
        return MultiPartitionSubset.rectangle(PartitionSubset.of_range(row_low, row_low + 1), PartitionSubset.of_range(col_low, col_high))
    result = MultiPartitionSubset.rectangle(PartitionSubset.of_range(row_low, row_low + 1), PartitionSubset.of_range(col_low, width))
    result = result | MultiPartitionSubset.rectangle(PartitionSubset.of_range(row_low + 1, row_high), whole)
    return result | MultiPartitionSubset.rectangle(PartitionSubset.of_range(row_high, row_high + 1), PartitionSubset.of_range(0, col_high))


def assert_keys(actual: list[str] | int, expected: Any, ordered: bool = True) -> None:
    """Compares with a key list, or with a truncated one ({"count", "head", "tail"})."""
    if isinstance(expected, dict):
        assert isinstance(actual, list)
        assert expected["truncated"] and len(actual) == expected["count"]
        assert actual[: len(expected["head"])] == expected["head"]
        assert actual[-len(expected["tail"]) :] == expected["tail"]
        return
    assert (actual if ordered else sorted(actual)) == (expected if ordered else sorted(expected))


def spaces(case: dict[str, Any]) -> tuple[PartitionSpace, PartitionSpace]:
    as_of = datetime.fromisoformat(case["as_of"])
    upstream = partition_space(definition(case["upstream"]), as_of=as_of)
    downstream = partition_space(definition(case["downstream"]), as_of=as_of)
    assert (upstream.count, downstream.count) == (case["expect"]["upstream_count"], case["expect"]["downstream_count"])
    return upstream, downstream


def all_keys(space: PartitionSpace, subset: AnySubset) -> list[str]:
    return subset_keys(space, subset, 0, subset.count)


UPSTREAM = [c for c in CASES if "upstream_mapped" in c["expect"]]
DOWNSTREAM = [c for c in CASES if "downstream_mapped" in c["expect"]]


def test_every_case_is_replayed_in_both_directions() -> None:
    assert len(UPSTREAM) == len(DOWNSTREAM) == len(CASES) == 128


@pytest.mark.parametrize("case", UPSTREAM, ids=lambda c: f"{c['id']}:{c['pair']}")
def test_upstream_partitions_agree_with_dagster(case: dict[str, Any]) -> None:
    upstream, downstream = spaces(case)
    expected = case["expect"]["upstream_mapped"]
    subset = subset_of(downstream, expected["input"])
    chosen = mapping(case["mapping"])
    if case["id"] in HONOURS_DIMENSION_NAME:
        # The named dimension is not the one matching the single definition: refused.
        with pytest.raises(InvalidArgument) as caught:
            upstream_partitions(chosen, subset, downstream, upstream)
        assert caught.value.violations[0].field == "multi_to_single_dimension.partition_dimension_name"
        return
    if "error" in expected and case["id"] not in SPECIFIC_UNPARSEABLE:
        with pytest.raises(InvalidArgument):
            upstream_partitions(chosen, subset, downstream, upstream)
        return
    result = upstream_partitions(chosen, subset, downstream, upstream)
    nonexistent = result.required_but_nonexistent.keys()
    assert result.required_but_nonexistent.count == len(nonexistent)
    if case["id"] in SPECIFIC_UNPARSEABLE:
        # The parseable keys that exist are upstream partitions; the other one is missing.
        keys = [k for k in case["mapping"]["partition_keys"] if upstream.index_of(k) is not None]
        assert all_keys(upstream, result.subset) == sorted(keys, key=lambda k: upstream.index_of(k) or 0)
        assert nonexistent == [SPECIFIC_UNPARSEABLE[case["id"]]]
        return
    assert_keys(all_keys(upstream, result.subset), expected["upstream_keys"])
    assert_keys(nonexistent, expected["required_but_nonexistent"], ordered=False)


@pytest.mark.parametrize("case", DOWNSTREAM, ids=lambda c: f"{c['id']}:{c['pair']}")
def test_downstream_partitions_agree_with_dagster(case: dict[str, Any]) -> None:
    upstream, downstream = spaces(case)
    expected = case["expect"]["downstream_mapped"]
    subset = subset_of(upstream, expected["input"])
    chosen = mapping(case["mapping"])
    if case["id"] in HONOURS_DIMENSION_NAME:
        with pytest.raises(InvalidArgument) as caught:
            downstream_partitions(chosen, subset, upstream, downstream)
        assert caught.value.violations[0].field == "multi_to_single_dimension.partition_dimension_name"
        return
    if "error" in expected:
        with pytest.raises(InvalidArgument):
            downstream_partitions(chosen, subset, upstream, downstream)
        return
    result = downstream_partitions(chosen, subset, upstream, downstream)
    assert_keys(all_keys(downstream, result), expected["downstream_keys"])


def test_no_mapping_case_is_flagged_anomalous_by_dagster() -> None:
    # Dagster's answers in this file are self-consistent, so nothing is skipped for anomalies;
    # the deliberate differences above are ours alone.
    assert [c["id"] for c in CASES if c["expect"].get("anomalies")] == []
