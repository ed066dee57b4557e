"""Partition mappings: which upstream partitions each downstream partition reads.

The values and Dagster's inference and validation rules (``_kinds``,
``_validate``), and their evaluation on compact subsets in both directions with
Dagster 1.13.29's exact semantics (:func:`upstream_partitions`,
:func:`downstream_partitions`; the per-kind rules and costs are in ``_single``,
``_identity``, ``_time_window`` and ``_multi``, the deliberate differences from
Dagster in ``_evaluate``).
"""

from arco_grpc.partitions.mapping._describe import describe_mapping
from arco_grpc.partitions.mapping._evaluate import downstream_partitions, mapping_in_effect, upstream_partitions
from arco_grpc.partitions.mapping._kinds import (
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
)
from arco_grpc.partitions.mapping._result import (
    MissingKeys,
    MissingPartitions,
    MissingWindows,
    NonexistentPart,
    RequiredButNonexistent,
    UpstreamPartitions,
)
from arco_grpc.partitions.mapping._validate import (
    definition_kind,
    infer_mapping,
    self_dependency_allowed,
    validate_mapping,
)

__all__ = [
    "MAPPING_FIELDS",
    "AllMapping",
    "DimensionMapping",
    "IdentityMapping",
    "LastMapping",
    "MissingKeys",
    "MissingPartitions",
    "MissingWindows",
    "MultiPartitionMapping",
    "MultiToSingleDimensionMapping",
    "NonexistentPart",
    "PartitionMapping",
    "RequiredButNonexistent",
    "SpecificPartitionsMapping",
    "StaticMapping",
    "TimeWindowMapping",
    "UpstreamPartitions",
    "definition_kind",
    "describe_mapping",
    "downstream_partitions",
    "infer_mapping",
    "mapping_in_effect",
    "self_dependency_allowed",
    "upstream_partitions",
    "validate_mapping",
]
