"""Partitions in flight: which runs hold which partitions of each asset right now, across every stream.

No partition of an asset is ever in two runs at once, whatever their origins
(backfill chunks, schedule ticks, sensor and manual runs): before a chunk is
leased, dispatch asks :meth:`InFlight.blockers` for the runs of other streams
holding any of its partitions, and the chunk waits while there are some.
(Within one stream the plan never gives a partition to two live chunks.)

Partitions are compared as index subsets within one status space (the
asset's definition and dynamic-key versions, the space partition status is
kept in); runs planned against different definitions of one asset are not
compared. The registry is memory only: every live book registers its leases
when it loads (``BackfillBook.restore_leases``) and each lease as it is
granted, so after a restart it is whole again before the port opens.
"""

from __future__ import annotations

from dataclasses import dataclass

from arco_grpc.domain.partition_status import intersect
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.subset import PartitionSubset


# Not frozen: one is made per chunk leased (a frozen dataclass's __init__ costs several times more).
@dataclass(slots=True)
class HeldPartitions:
    """One run's partitions of one asset, while its lease is held."""

    stream_id: str
    space: str
    partitions: AnySubset


class InFlight:
    """The leased partitions of every asset, by stream and run."""

    def __init__(self) -> None:
        # asset -> stream -> run -> what it holds. Grouping by stream lets a chunk compare itself with other
        # streams' runs only, and the common case (one stream leasing an asset) answer at once.
        self._held: dict[str, dict[str, dict[str, HeldPartitions]]] = {}
        self._stream_of: dict[tuple[str, str], str] = {}  # (asset, run) -> stream

    def hold(self, asset_key: str, run_id: str, held: HeldPartitions) -> None:
        """Records that run ``run_id`` holds ``held`` (a second call for the run replaces the first)."""
        self.release(asset_key, run_id)
        self._held.setdefault(asset_key, {}).setdefault(held.stream_id, {})[run_id] = held
        self._stream_of[(asset_key, run_id)] = held.stream_id

    def release(self, asset_key: str, run_id: str) -> None:
        """Records that run ``run_id`` ended or lost its lease (unknown runs are ignored)."""
        stream_id = self._stream_of.pop((asset_key, run_id), None)
        if stream_id is None:
            return
        streams = self._held[asset_key]
        runs = streams[stream_id]
        del runs[run_id]
        if not runs:
            del streams[stream_id]
            if not streams:
                del self._held[asset_key]

    def forget(self, stream_id: str) -> None:
        """Drops every run of ``stream_id`` (its book is reloaded; it registers its leases again)."""
        for asset_key, streams in list(self._held.items()):
            for run_id in list(streams.get(stream_id, ())):
                self.release(asset_key, run_id)

    def held_by_others(self, asset_key: str, stream_id: str) -> bool:
        """Whether streams other than ``stream_id`` hold leases on ``asset_key`` now."""
        streams = self._held.get(asset_key)
        return bool(streams) and not (len(streams) == 1 and stream_id in streams)

    def blockers(self, asset_key: str, stream_id: str, space: str, partitions: AnySubset) -> tuple[str, ...]:
        """The runs of other streams holding any of ``partitions`` of ``asset_key`` now (ids, sorted)."""
        if not self.held_by_others(asset_key, stream_id):
            return ()
        return tuple(sorted(
            run_id
            for other, runs in self._held[asset_key].items() if other != stream_id
            for run_id, held in runs.items()
            if held.space == space and _overlap(held.partitions, partitions)
        ))


def _overlap(first: AnySubset, second: AnySubset) -> bool:
    """Whether two subsets share an index (disjoint bounds answer without intersecting)."""
    if isinstance(first, PartitionSubset) and isinstance(second, PartitionSubset):
        if not first.ranges or not second.ranges:
            return False
        if first.ranges[-1][1] <= second.ranges[0][0] or second.ranges[-1][1] <= first.ranges[0][0]:
            return False
    return not intersect(first, second).is_empty
