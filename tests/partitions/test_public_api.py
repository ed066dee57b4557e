"""The public surface of arco_grpc.partitions is pinned: changing it is a deliberate act."""

import arco_grpc.partitions as partitions

EXPECTED = [
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


def test_all_is_exactly_the_pinned_list() -> None:
    assert partitions.__all__ == EXPECTED


def test_every_exported_name_resolves() -> None:
    missing = [name for name in partitions.__all__ if not hasattr(partitions, name)]
    assert missing == []


def test_star_import_gives_exactly_the_exported_names() -> None:
    namespace: dict[str, object] = {}
    exec("from arco_grpc.partitions import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(EXPECTED)
