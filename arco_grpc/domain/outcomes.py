"""What became of each target's partitions: those that succeeded and those that failed for good.

Kept as compact subsets (index ranges) per target, so counting and retrying
cost what the ranges cost, never what the partitions count. A partition is
in at most one of the two: a success after a retry removes nothing from
``failed`` because a retry round takes its partitions out of ``failed``
when it opens.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """Per target (in target order): partitions that succeeded, and partitions that failed for good."""

    succeeded: tuple[AnySubset, ...]
    failed: tuple[AnySubset, ...]

    @classmethod
    def none(cls, targets: int) -> Outcomes:
        """No outcome yet for any of ``targets`` targets."""
        return cls((EMPTY,) * targets, (EMPTY,) * targets)

    @property
    def succeeded_count(self) -> int:
        """Partitions that succeeded, over every target."""
        return sum(subset.count for subset in self.succeeded)

    @property
    def failed_count(self) -> int:
        """Partitions that failed for good, over every target."""
        return sum(subset.count for subset in self.failed)

    def succeed(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` succeeded."""
        if partitions.is_empty:
            return self
        succeeded = list(self.succeeded)
        succeeded[target] = unite(succeeded[target], partitions)
        return Outcomes(tuple(succeeded), self.failed)

    def fail(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` failed for good."""
        if partitions.is_empty:
            return self
        failed = list(self.failed)
        failed[target] = unite(failed[target], partitions)
        return Outcomes(self.succeeded, tuple(failed))

    def retry(self, target: int, partitions: AnySubset) -> Outcomes:
        """``partitions`` of ``target`` are being retried: they are no longer failed."""
        failed = list(self.failed)
        failed[target] = without(failed[target], partitions)
        return Outcomes(self.succeeded, tuple(failed))
