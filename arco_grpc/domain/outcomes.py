"""What became of each target's partitions: succeeded, failed for good, or upstream failed.

Kept as compact subsets (index ranges) per target, so counting and retrying
cost what the ranges cost, never what the partitions count. A partition is
in at most one of the three: a success after a retry removes nothing from
``failed`` because a retry round takes its partitions out of ``failed`` (and
``upstream_failed``) when it opens. ``upstream_failed`` holds the partitions
that will not run because an upstream partition they read inside the
backfill failed (see ``planning.asset_graph``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.subset import PartitionSubset

EMPTY = PartitionSubset.empty()


def unite(first: AnySubset, second: AnySubset) -> AnySubset:
    """``first | second``; an empty operand of either kind is neutral."""
    if first.is_empty:
        return second
    if second.is_empty:
        return first
    return first | second  # type: ignore[operator]


def unite_all(base: AnySubset, parts: Sequence[AnySubset]) -> AnySubset:
    """``base`` united with every subset of ``parts``.

    One-dimensional parts are merged together first, then with ``base`` once:
    a batch of k chunks costs O(k log k + ranges of base), not k merges with base.
    """
    if len(parts) == 1:
        return unite(base, parts[0])
    single = [part for part in parts if isinstance(part, PartitionSubset)]
    merged: AnySubset = base
    if single:
        merged = unite(merged, PartitionSubset.from_ranges(chain.from_iterable(part.ranges for part in single)))
    for part in parts:
        if not isinstance(part, PartitionSubset):
            merged = unite(merged, part)
    return merged


def without(first: AnySubset, second: AnySubset) -> AnySubset:
    """``first - second``; an empty operand of either kind is neutral."""
    if first.is_empty or second.is_empty:
        return first
    return first - second  # type: ignore[operator]


def within(inner: AnySubset, outer: AnySubset) -> bool:
    """True when every partition of ``inner`` is in ``outer``."""
    return without(inner, outer).is_empty


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per target (in target order): partitions that succeeded, failed for good, and upstream failed."""

    succeeded: tuple[AnySubset, ...]
    failed: tuple[AnySubset, ...]
    upstream_failed: tuple[AnySubset, ...] = ()

    def __post_init__(self) -> None:
        if len(self.upstream_failed) != len(self.succeeded):
            object.__setattr__(self, "upstream_failed", (EMPTY,) * len(self.succeeded))

    @classmethod
    def none(cls, targets: int) -> Outcomes:
        """No outcome yet for any of ``targets`` targets."""
        return cls((EMPTY,) * targets, (EMPTY,) * targets, (EMPTY,) * targets)

    @property
    def succeeded_count(self) -> int:
        """Partitions that succeeded, over every target."""
        return sum(subset.count for subset in self.succeeded)

    @property
    def failed_count(self) -> int:
        """Partitions that failed for good, over every target."""
        return sum(subset.count for subset in self.failed)

    @property
    def upstream_failed_count(self) -> int:
        """Partitions that will not run because an upstream partition failed, over every target."""
        return sum(subset.count for subset in self.upstream_failed)

    def succeed(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` succeeded."""
        if partitions.is_empty:
            return self
        succeeded = list(self.succeeded)
        succeeded[target] = unite(succeeded[target], partitions)
        return Outcomes(tuple(succeeded), self.failed, self.upstream_failed)

    def fail(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` failed for good."""
        if partitions.is_empty:
            return self
        failed = list(self.failed)
        failed[target] = unite(failed[target], partitions)
        return Outcomes(self.succeeded, tuple(failed), self.upstream_failed)

    def record(self, succeeded: dict[int, list[AnySubset]], failed: dict[int, list[AnySubset]]) -> Outcomes:
        """The outcomes after ``succeeded[target]`` succeeded and ``failed[target]`` failed for good, per target."""
        if not succeeded and not failed:
            return self
        succeeded_now, failed_now = list(self.succeeded), list(self.failed)
        for target, parts in succeeded.items():
            succeeded_now[target] = unite_all(succeeded_now[target], parts)
        for target, parts in failed.items():
            failed_now[target] = unite_all(failed_now[target], parts)
        return Outcomes(tuple(succeeded_now), tuple(failed_now), self.upstream_failed)

    def retry(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` are being retried: they are no longer failed or upstream failed."""
        failed, upstream_failed = list(self.failed), list(self.upstream_failed)
        failed[target] = without(failed[target], partitions)
        upstream_failed[target] = without(upstream_failed[target], partitions)
        return Outcomes(self.succeeded, tuple(failed), tuple(upstream_failed))

    def block(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` will not run: an upstream partition they read failed."""
        if partitions.is_empty:
            return self
        upstream_failed = list(self.upstream_failed)
        upstream_failed[target] = unite(upstream_failed[target], partitions)
        return Outcomes(self.succeeded, self.failed, tuple(upstream_failed))
