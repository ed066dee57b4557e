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

from collections import Counter
from dataclasses import dataclass

from arco_grpc.domain.partition_status import intersect
from arco_grpc.partitions.selection import AnySubset


@dataclass(frozen=True, slots=True)
class HeldPartitions:
    """One run's partitions of one asset, while its lease is held."""

    stream_id: str
    space: str
    partitions: AnySubset


class InFlight:
    """The leased partitions of every asset, by run."""

    def __init__(self) -> None:
        self._by_asset: dict[str, dict[str, HeldPartitions]] = {}
        # Per asset, how many held runs each stream has: the common case (one stream leasing an asset)
        # then answers without comparing subsets.
        self._streams: dict[str, Counter[str]] = {}

    def hold(self, asset_key: str, run_id: str, held: HeldPartitions) -> None:
        """Records that run ``run_id`` holds ``held`` (a second call for the run replaces the first)."""
        runs = self._by_asset.setdefault(asset_key, {})
        if run_id in runs:
            self.release(asset_key, run_id)
            runs = self._by_asset.setdefault(asset_key, {})
        runs[run_id] = held
        self._streams.setdefault(asset_key, Counter())[held.stream_id] += 1

    def release(self, asset_key: str, run_id: str) -> None:
        """Records that run ``run_id`` ended or lost its lease (unknown runs are ignored)."""
        runs = self._by_asset.get(asset_key)
        held = None if runs is None else runs.pop(run_id, None)
        if held is None:
            return
        streams = self._streams[asset_key]
        streams[held.stream_id] -= 1
        if not streams[held.stream_id]:
            del streams[held.stream_id]
        if not runs:
            del self._by_asset[asset_key]
            del self._streams[asset_key]

    def forget(self, stream_id: str) -> None:
        """Drops every run of ``stream_id`` (its book is reloaded; it registers its leases again)."""
        for asset_key, runs in list(self._by_asset.items()):
            for run_id in [run_id for run_id, held in runs.items() if held.stream_id == stream_id]:
                self.release(asset_key, run_id)

    def held_by_others(self, asset_key: str, stream_id: str) -> bool:
        """Whether streams other than ``stream_id`` hold leases on ``asset_key`` now."""
        streams = self._streams.get(asset_key)
        return bool(streams) and not (len(streams) == 1 and stream_id in streams)

    def blockers(self, asset_key: str, stream_id: str, space: str, partitions: AnySubset) -> tuple[str, ...]:
        """The runs of other streams holding any of ``partitions`` of ``asset_key`` now (ids, sorted)."""
        if not self.held_by_others(asset_key, stream_id):
            return ()
        return tuple(sorted(
            run_id
            for run_id, held in self._by_asset[asset_key].items()
            if held.stream_id != stream_id and held.space == space
            and not intersect(held.partitions, partitions).is_empty
        ))
