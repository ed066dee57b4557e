"""selector_for_subset: a compact selector that resolves back to exactly the subset, or None."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.multi import MultiPartitionsDefinition, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import select, selector_for_subset
from arco_grpc.partitions.selector import AllPartitions, KeyList, KeyRange, MultiSelector
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

AS_OF = datetime(2025, 1, 1, tzinfo=timezone.utc)
STATIC = StaticPartitionsDefinition(tuple(f"k{i}" for i in range(12))).space()
DAILY = TimeWindowPartitionsDefinition.create(start="2024-12-01", cron_schedule="0 0 * * *")
GRID = partition_space(
    MultiPartitionsDefinition((PartitionDimension("date", DAILY), PartitionDimension("region", StaticPartitionsDefinition(("eu", "us", "ap"))))),
    as_of=AS_OF,
)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 11), min_size=1).map(PartitionSubset.from_indices))
def test_the_selector_selects_exactly_the_subset(subset: PartitionSubset) -> None:
    selector = selector_for_subset(STATIC, subset)
    assert selector is not None
    assert select(STATIC, selector) == subset
    if len(subset.ranges) == 1:
        assert isinstance(selector, (KeyRange, AllPartitions))


def test_compact_forms_and_none() -> None:
    assert selector_for_subset(STATIC, PartitionSubset.of_range(0, 12)) == AllPartitions()
    assert selector_for_subset(STATIC, PartitionSubset.empty()) is None
    assert isinstance(selector_for_subset(STATIC, PartitionSubset.from_indices([1, 5])), KeyList)
    rectangle = MultiPartitionSubset.rectangle(PartitionSubset.of_range(2, 5), PartitionSubset.of_range(0, 2))
    selector = selector_for_subset(GRID, rectangle)
    assert isinstance(selector, MultiSelector) and select(GRID, selector) == rectangle
    ragged = MultiPartitionSubset.from_pairs([(0, 0), (1, 1), (2, 0)])
    selector = selector_for_subset(GRID, ragged)
    assert isinstance(selector, KeyList) and select(GRID, selector) == ragged
