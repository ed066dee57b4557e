"""Static partitions: a fixed list of keys in declaration order."""

from __future__ import annotations

from dataclasses import dataclass, field

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.space import PartitionSpace

# "..." is Dagster's range separator in key text ("a...b"); control characters
# break logs and URLs. Dagster rejects the same substrings.
FORBIDDEN_KEY_SUBSTRINGS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")
# Inside a multi definition, "|" joins dimension keys and ",[]" are reserved
# by Dagster's multi-key text forms.
FORBIDDEN_MULTI_DIMENSION_CHARACTERS = ("|", ",", "[", "]")


def key_problem(key: str, forbidden: tuple[str, ...] = FORBIDDEN_KEY_SUBSTRINGS) -> str | None:
    """Why ``key`` is not a valid partition key, or None when it is."""
    for bad in forbidden:
        if bad in key:
            return f"partition key {key!r} contains {bad!r}, which is not allowed in keys"
    return None


@dataclass(frozen=True, slots=True)
class StaticPartitionsDefinition:
    """A fixed, ordered list of unique keys (Dagster's StaticPartitionsDefinition)."""

    keys: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        for position, key in enumerate(self.keys):
            if not isinstance(key, str):
                raise InvalidArgument("static partition keys must be strings", field=f"keys[{position}]")
            problem = key_problem(key)
            if problem:
                raise InvalidArgument(problem, field=f"keys[{position}]")
            if key in index:
                raise InvalidArgument(
                    f"partition key {key!r} appears twice (positions {index[key]} and {position}); "
                    "static keys must be unique",
                    field=f"keys[{position}]",
                )
            index[key] = position
        object.__setattr__(self, "_index", index)

    def check_usable_as_dimension(self) -> None:
        """Raises InvalidArgument if a key may not appear inside a multi definition."""
        for position, key in enumerate(self.keys):
            problem = key_problem(key, FORBIDDEN_MULTI_DIMENSION_CHARACTERS)
            if problem:
                raise InvalidArgument(f"{problem} inside a multi-partitions dimension", field=f"keys[{position}]")

    def space(self) -> StaticSpace:
        """The partitions (static definitions do not depend on time)."""
        return StaticSpace(self)


class StaticSpace(PartitionSpace):
    """The partitions of a static definition."""

    __slots__ = ("definition",)

    def __init__(self, definition: StaticPartitionsDefinition) -> None:
        self.definition = definition

    @property
    def count(self) -> int:
        return len(self.definition.keys)

    def key_at(self, index: int) -> str:
        self.check_index(index)
        return self.definition.keys[index]

    def index_of(self, key: str) -> int | None:
        return self.definition._index.get(key)

    def keys(self, start: int, stop: int) -> list[str]:
        return list(self.definition.keys[max(start, 0) : max(stop, 0)])
