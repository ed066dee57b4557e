"""Dynamic partitions: a named set of keys, ordered by when each was added."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import FORBIDDEN_KEY_SUBSTRINGS, key_problem

MAX_NAME_LENGTH = 255
# Dagster validates nothing in dynamic keys; we refuse what would make keys
# ambiguous: "|" (multi-key delimiter), "..." (range text) and control characters.
FORBIDDEN_DYNAMIC_KEY_SUBSTRINGS = (*FORBIDDEN_KEY_SUBSTRINGS, "|")


def check_dynamic_name(name: str, field: str = "name") -> None:
    """Raises InvalidArgument unless ``name`` can name a dynamic definition."""
    if not name:
        raise InvalidArgument("a dynamic partitions definition needs a non-empty name", field=field)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"the name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}", field=field)
    if any(ord(c) < 32 for c in name):
        raise InvalidArgument("the name may not contain control characters", field=field)


def check_dynamic_keys(keys: Iterable[str], field: str = "keys") -> None:
    """Raises InvalidArgument for the first key that may not be added."""
    for position, key in enumerate(keys):
        if not key:
            raise InvalidArgument("partition keys may not be empty", field=f"{field}[{position}]")
        problem = key_problem(key, FORBIDDEN_DYNAMIC_KEY_SUBSTRINGS)
        if problem:
            raise InvalidArgument(problem, field=f"{field}[{position}]")


@dataclass(frozen=True, slots=True)
class DynamicPartitionsDefinition:
    """Keys held under ``name`` and changed at run time (Dagster's named dynamic definition)."""

    name: str

    def __post_init__(self) -> None:
        check_dynamic_name(self.name)

    def space(self, keys: DynamicKeys) -> DynamicSpace:
        """The partitions, given the keys the definition holds now."""
        return DynamicSpace(self, keys)


class DynamicKeys:
    """An immutable snapshot of a dynamic definition's keys, in insertion order."""

    __slots__ = ("_keys", "_index")

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(keys)
        self._index = {key: i for i, key in enumerate(self._keys)}

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> str:
        return self._keys[index]

    def index_of(self, key: str) -> int | None:
        """Position of ``key``, or None."""
        return self._index.get(key)

    def slice(self, start: int, stop: int) -> list[str]:
        """Keys ``start`` to ``stop - 1``."""
        return list(self._keys[max(start, 0) : max(stop, 0)])


class DynamicSpace(PartitionSpace):
    """The partitions of a dynamic definition at one moment."""

    __slots__ = ("definition", "_keys")

    def __init__(self, definition: DynamicPartitionsDefinition, keys: DynamicKeys) -> None:
        self.definition = definition
        self._keys = keys

    @property
    def count(self) -> int:
        return len(self._keys)

    def key_at(self, index: int) -> str:
        self.check_index(index)
        return self._keys[index]

    def index_of(self, key: str) -> int | None:
        return self._keys.index_of(key)

    def keys(self, start: int, stop: int) -> list[str]:
        return self._keys.slice(start, stop)
