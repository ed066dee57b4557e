"""Multi partitions: the cross product of exactly two named dimensions.

Dimensions are ordered by name (code point order, as Dagster sorts them). A
key is the dimension keys joined by "|" in that order, and partitions are
ordered with the first dimension as the outer loop, so the flat index of
``(i, j)`` is ``i * count_of_second + j``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition

if TYPE_CHECKING:
    from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

MULTI_KEY_DELIMITER = "|"

DimensionDefinition = Union[StaticPartitionsDefinition, "TimeWindowPartitionsDefinition", DynamicPartitionsDefinition]


@dataclass(frozen=True, slots=True)
class PartitionDimension:
    """One named dimension of a multi definition."""

    name: str
    definition: DimensionDefinition


@dataclass(frozen=True, slots=True)
class MultiPartitionsDefinition:
    """Two dimensions, stored sorted by name whatever the order they were given in."""

    dimensions: tuple[PartitionDimension, PartitionDimension]

    def __post_init__(self) -> None:
        dims = tuple(self.dimensions)
        if len(dims) != 2:
            raise InvalidArgument(
                f"a multi partitions definition needs exactly 2 dimensions, got {len(dims)}", field="dimensions"
            )
        for position, dim in enumerate(dims):
            if not dim.name:
                raise InvalidArgument("dimension names may not be empty", field=f"dimensions[{position}].name")
            if MULTI_KEY_DELIMITER in dim.name:
                raise InvalidArgument("dimension names may not contain '|'", field=f"dimensions[{position}].name")
            if isinstance(dim.definition, MultiPartitionsDefinition):
                raise InvalidArgument(
                    "a dimension must be static, time window or dynamic, not multi",
                    field=f"dimensions[{position}].definition",
                )
            if isinstance(dim.definition, StaticPartitionsDefinition):
                try:
                    dim.definition.check_usable_as_dimension()
                except InvalidArgument as error:
                    raise error.under(f"dimensions[{position}].definition.static") from None
        if dims[0].name == dims[1].name:
            raise InvalidArgument(f"both dimensions are named {dims[0].name!r}", field="dimensions[1].name")
        object.__setattr__(self, "dimensions", tuple(sorted(dims, key=lambda d: d.name)))

    @property
    def dimension_names(self) -> tuple[str, str]:
        """The dimension names in key order."""
        return (self.dimensions[0].name, self.dimensions[1].name)

    def dimension_index(self, name: str) -> int | None:
        """0 or 1 for a dimension's name, None for an unknown name."""
        names = self.dimension_names
        return names.index(name) if name in names else None

    @property
    def primary_dimension(self) -> PartitionDimension:
        """The time dimension if exactly one exists, else the first by name (as in Dagster)."""
        from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

        timed = [d for d in self.dimensions if isinstance(d.definition, TimeWindowPartitionsDefinition)]
        return timed[0] if len(timed) == 1 else self.dimensions[0]


def split_multi_key(key: str) -> tuple[str, str] | None:
    """The two dimension keys of ``key``, or None unless it has exactly one "|"."""
    parts = key.split(MULTI_KEY_DELIMITER)
    return (parts[0], parts[1]) if len(parts) == 2 else None


class MultiSpace(PartitionSpace):
    """The partitions of a multi definition: the product of two dimension spaces."""

    __slots__ = ("definition", "first", "second")

    def __init__(self, definition: MultiPartitionsDefinition, first: PartitionSpace, second: PartitionSpace) -> None:
        self.definition = definition
        self.first = first
        self.second = second

    @property
    def dimension_spaces(self) -> tuple[PartitionSpace, PartitionSpace]:
        """The spaces of the two dimensions, in name order."""
        return (self.first, self.second)

    @property
    def count(self) -> int:
        return self.first.count * self.second.count

    def split_index(self, index: int) -> tuple[int, int]:
        """The per-dimension indices of flat index ``index``."""
        self.check_index(index)
        return divmod(index, self.second.count)

    def join_index(self, first: int, second: int) -> int:
        """The flat index of the per-dimension indices."""
        return first * self.second.count + second

    def key_at(self, index: int) -> str:
        i, j = self.split_index(index)
        return self.first.key_at(i) + MULTI_KEY_DELIMITER + self.second.key_at(j)

    def index_of(self, key: str) -> int | None:
        parts = split_multi_key(key)
        if parts is None:
            return None
        i, j = self.first.index_of(parts[0]), self.second.index_of(parts[1])
        if i is None or j is None:
            return None
        return self.join_index(i, j)

    def keys_by_dimension(self, key: str) -> dict[str, str] | None:
        """``{dimension name: key}`` for a key of this space, or None."""
        if self.index_of(key) is None:
            return None
        parts = split_multi_key(key)
        assert parts is not None
        return dict(zip(self.definition.dimension_names, parts))
