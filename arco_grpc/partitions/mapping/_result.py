"""What a mapping evaluation returns, compactly: upstream partitions and the missing ones.

Dagster's ``UpstreamPartitionsResult`` holds the upstream partitions that exist
and a ``required_but_nonexistent`` subset of keys the mapping asks for but the
upstream definition does not have. Here both stay compact, whatever their size:

* the partitions are a :class:`PartitionSubset` (or :class:`MultiPartitionSubset`)
  of the upstream space;
* the missing partitions are :class:`RequiredButNonexistent`, a union of parts
  that each name their keys without listing them:

  - :class:`MissingWindows`: cron windows of a time-window definition that are not
    among its partitions (before the first, after the last), as half-open ranges
    of tick indices of the definition's unclipped cron grid (0 is the window of the
    first partition, so indices may be negative or at least ``count``). A time
    window mapping reports these.
  - :class:`MissingPartitions`: partitions of another space whose keys the upstream
    definition lacks, as a subset of that space. An identity mapping between two
    different definitions reports downstream keys this way, as Dagster does.
  - :class:`MissingKeys`: keys a mapping names explicitly (specific partitions)
    that the upstream definition does not have.

Every part may carry the name of the dimension it belongs to: inside multi
mappings Dagster reports the missing *dimension* keys (``"2023-05-31"``, not
``"2023-05-31|red"``), and the dimension name says which one. Counting costs
O(ranges); listing keys visits only the keys listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Union

from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset, subset_keys
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import IndexRange, PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition


def merge_ranges(ranges: Iterable[IndexRange]) -> tuple[IndexRange, ...]:
    """The union of half-open integer ranges (negative allowed), sorted, disjoint and non-adjacent."""
    merged: list[IndexRange] = []
    for start, stop in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            if stop > merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class MissingWindows:
    """Cron windows of ``definition`` that are not partitions, as ranges of its tick indices.

    Tick ``k`` is the window starting ``k`` ticks after the first partition's
    start (negative: before it); ``ranges`` are canonical (see :func:`merge_ranges`).
    """

    definition: TimeWindowPartitionsDefinition
    ranges: tuple[IndexRange, ...]
    dimension: str | None = None

    @property
    def count(self) -> int:
        """How many windows the ranges hold."""
        return sum(stop - start for start, stop in self.ranges)

    def iter_keys(self) -> Iterator[str]:
        """The windows' keys, in time order."""
        instant, key_of = self.definition._ticks.instant, self.definition._key_of_instant
        for start, stop in self.ranges:
            for tick in range(start, stop):
                yield key_of(instant(tick))


@dataclass(frozen=True, slots=True)
class MissingPartitions:
    """Partitions of ``space`` (another asset's, or a dimension's) whose keys the upstream lacks."""

    space: PartitionSpace
    subset: AnySubset
    dimension: str | None = None

    @property
    def count(self) -> int:
        """How many partitions the subset holds."""
        return self.subset.count

    def iter_keys(self) -> Iterator[str]:
        """The partitions' keys, in ``space``'s order, a page at a time."""
        page = 1_000
        for start in range(0, self.subset.count, page):
            yield from subset_keys(self.space, self.subset, start, start + page)


@dataclass(frozen=True, slots=True)
class MissingKeys:
    """Keys a mapping names that the upstream definition does not have (sorted, unique)."""

    keys: tuple[str, ...]
    dimension: str | None = None

    @property
    def count(self) -> int:
        """How many keys."""
        return len(self.keys)

    def iter_keys(self) -> Iterator[str]:
        """The keys, in code point order."""
        return iter(self.keys)


NonexistentPart = Union[MissingWindows, MissingPartitions, MissingKeys]


@dataclass(frozen=True, slots=True)
class RequiredButNonexistent:
    """Upstream partitions a mapping requires that the upstream definition does not hold.

    ``parts`` never overlap within one dimension. Dagster merges the keys of all
    parts into one set of strings, so two dimensions that happen to miss the same
    key text count once there and twice in :attr:`count` here.
    """

    parts: tuple[NonexistentPart, ...] = ()

    @property
    def count(self) -> int:
        """How many keys the parts hold (O(ranges))."""
        return sum(part.count for part in self.parts)

    @property
    def is_empty(self) -> bool:
        """True when nothing required is missing."""
        return self.count == 0

    def __bool__(self) -> bool:
        return not self.is_empty

    def iter_keys(self) -> Iterator[str]:
        """Every key, part after part, lazily."""
        for part in self.parts:
            yield from part.iter_keys()

    def keys(self, limit: int | None = None) -> list[str]:
        """The first ``limit`` keys (all when None)."""
        return list(self.iter_keys() if limit is None else islice(self.iter_keys(), limit))

    def __or__(self, other: RequiredButNonexistent) -> RequiredButNonexistent:
        return RequiredButNonexistent(self.parts + other.parts)


NOTHING_MISSING = RequiredButNonexistent()


def missing(*parts: NonexistentPart) -> RequiredButNonexistent:
    """The union of the non-empty ``parts``."""
    return RequiredButNonexistent(tuple(part for part in parts if part.count))


@dataclass(frozen=True, slots=True)
class UpstreamPartitions:
    """The upstream partitions a downstream subset depends on.

    ``subset`` is over the upstream space and holds only partitions that exist;
    ``required_but_nonexistent`` holds what the mapping asks for beyond them.
    """

    subset: AnySubset
    required_but_nonexistent: RequiredButNonexistent = NOTHING_MISSING


def empty_like(subset: AnySubset) -> AnySubset:
    """The empty subset of the same kind."""
    return MultiPartitionSubset.empty() if isinstance(subset, MultiPartitionSubset) else PartitionSubset.empty()
