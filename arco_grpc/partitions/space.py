"""A partitions definition evaluated at one moment: an ordered, indexable universe.

A definition (static keys, a cron schedule, a dynamic name, two dimensions)
says how partitions are made; which partitions exist also depends on the
evaluation time (time windows that have ended) and on the keys a dynamic
definition holds. A :class:`PartitionSpace` fixes both, so every question
(count, key at an index, index of a key) has one answer and no I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator


class PartitionSpace(ABC):
    """The partitions of one definition at one moment, in the definition's order.

    Indices run from 0 to ``count - 1``. Implementations answer every method
    without listing all partitions (O(1) or O(log n) per call).
    """

    @property
    @abstractmethod
    def count(self) -> int:
        """How many partitions exist."""

    @abstractmethod
    def key_at(self, index: int) -> str:
        """The canonical key of partition ``index``.

        Raises:
            IndexError: ``index`` is not in ``[0, count)``.
        """

    @abstractmethod
    def index_of(self, key: str) -> int | None:
        """The index of ``key``, or None when ``key`` is not a canonical key of a partition."""

    def keys(self, start: int, stop: int) -> list[str]:
        """The keys of partitions ``start`` to ``stop - 1`` (clipped to the space)."""
        start, stop = max(start, 0), min(stop, self.count)
        return [self.key_at(i) for i in range(start, stop)]

    def iter_keys(self, start: int = 0, stop: int | None = None) -> Iterator[str]:
        """Yields keys lazily, in order, from ``start`` to ``stop - 1``."""
        stop = self.count if stop is None else min(stop, self.count)
        for i in range(max(start, 0), stop):
            yield self.key_at(i)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.index_of(key) is not None

    def first_key(self) -> str | None:
        """The first key, or None when the space is empty."""
        return self.key_at(0) if self.count else None

    def last_key(self) -> str | None:
        """The last key, or None when the space is empty."""
        return self.key_at(self.count - 1) if self.count else None

    def check_index(self, index: int) -> None:
        """Raises IndexError unless ``index`` is in ``[0, count)``."""
        if not 0 <= index < self.count:
            raise IndexError(f"partition index {index} is out of range [0, {self.count})")
