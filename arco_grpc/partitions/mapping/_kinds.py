"""The partition mapping values: which upstream partitions each downstream partition reads.

Error field paths are relative to the PartitionMapping proto message
(``"static.entries[2].upstream_key"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from arco_grpc.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class IdentityMapping:
    """Partition k depends on the upstream partition with the same key."""


@dataclass(frozen=True, slots=True)
class AllMapping:
    """Every partition depends on every upstream partition."""


@dataclass(frozen=True, slots=True)
class LastMapping:
    """Every partition depends on the last upstream partition."""


@dataclass(frozen=True, slots=True)
class SpecificPartitionsMapping:
    """Every partition depends on exactly these upstream keys (not checked, as in Dagster)."""

    partition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaticMapping:
    """An explicit map: ``(upstream key, downstream keys)`` entries, upstream keys unique."""

    downstream_keys_by_upstream_key: tuple[tuple[str, tuple[str, ...]], ...]

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for position, (upstream, _) in enumerate(self.downstream_keys_by_upstream_key):
            if upstream in seen:
                raise InvalidArgument(
                    f"upstream key {upstream!r} has two entries ({seen[upstream]} and {position}); "
                    "list all of its downstream keys in one entry",
                    field=f"static.entries[{position}].upstream_key",
                )
            seen[upstream] = position


@dataclass(frozen=True, slots=True)
class TimeWindowMapping:
    """Overlapping time windows after shifting the downstream window by the offsets."""

    start_offset: int = 0
    end_offset: int = 0
    allow_nonexistent_upstream_partitions: bool = False


@dataclass(frozen=True, slots=True)
class MultiToSingleDimensionMapping:
    """Between a multi definition and a single one equal to one of its dimensions (None: inferred)."""

    partition_dimension_name: str | None = None


@dataclass(frozen=True, slots=True)
class DimensionMapping:
    """How one upstream dimension maps onto a downstream dimension (``mapping`` None: identity)."""

    upstream_dimension: str
    downstream_dimension: str
    mapping: Optional[PartitionMapping] = None


@dataclass(frozen=True, slots=True)
class MultiPartitionMapping:
    """Between two multi definitions; upstream dimensions left out depend on all their partitions."""

    dimensions: tuple[DimensionMapping, ...]


PartitionMapping = Union[
    IdentityMapping,
    AllMapping,
    LastMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
    MultiToSingleDimensionMapping,
    MultiPartitionMapping,
]

# The proto oneof field of each mapping kind, for error paths and messages.
MAPPING_FIELDS: dict[type, str] = {
    IdentityMapping: "identity",
    AllMapping: "all",
    LastMapping: "last",
    SpecificPartitionsMapping: "specific_partitions",
    StaticMapping: "static",
    TimeWindowMapping: "time_window",
    MultiToSingleDimensionMapping: "multi_to_single_dimension",
    MultiPartitionMapping: "multi_partition",
}
