"""Partition semantics, pure: definitions, spaces, subsets and selectors.

A definition says how partitions are made; :func:`partition_space` evaluates
it at one moment into a :class:`PartitionSpace` (count, key at index, index of
key); :func:`select` resolves a selector against a space into a compact
:class:`PartitionSubset` (or :class:`MultiPartitionSubset` for two
dimensions). Nothing here does I/O or reads the clock.
"""

from arco_grpc.partitions.dynamic import DynamicKeys, DynamicPartitionsDefinition, DynamicSpace
from arco_grpc.partitions.evaluate import PartitionsDefinition, partition_space
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import select, subset_count, subset_keys
from arco_grpc.partitions.selector import (
    MAX_EXPLICIT_KEYS,
    AllPartitions,
    KeyList,
    KeyRange,
    MultiSelector,
    Selector,
    TimeRange,
    normalize_selector,
    selector_fingerprint,
)
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition, StaticSpace
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition, TimeWindowSpace

__all__ = [
    "MAX_EXPLICIT_KEYS",
    "AllPartitions",
    "Cadence",
    "DynamicKeys",
    "DynamicPartitionsDefinition",
    "DynamicSpace",
    "KeyList",
    "KeyRange",
    "MultiPartitionSubset",
    "MultiPartitionsDefinition",
    "MultiSelector",
    "MultiSpace",
    "PartitionDimension",
    "PartitionSpace",
    "PartitionSubset",
    "PartitionsDefinition",
    "Selector",
    "StaticPartitionsDefinition",
    "StaticSpace",
    "TimeRange",
    "TimeWindowPartitionsDefinition",
    "TimeWindowSpace",
    "normalize_selector",
    "partition_space",
    "select",
    "selector_fingerprint",
    "subset_count",
    "subset_keys",
]
