"""The partition status projection: how chunk events reach the status rows, and how rows are read.

A row holds one asset's status in one status space (StoredPartitionStatus
bytes). The fold of a backfill's events (``backfill_fold``) collects the chunk
events of each (asset, space) it sees; :func:`write_partition_statuses` hands
the store one pure update per row, which the store applies to the row as it
is when the transaction writes. So the projector reads nothing (the
group-commit fast path stays open), live appends and rebuilds run the same
code, and a rebuilt row equals the live one.

A status space names the index space the rows' subsets are in: a digest of
the asset's partitions definition, and for each dynamic definition it reads
keys from, how many deletions preceded the keys used (a deletion shifts the
indices of every later key; additions go last and shift nothing). A changed
definition, or a deleted dynamic key, starts a new space: statuses recorded
under the old one stay with it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from arco_grpc._gen.arco.orchestration.v1 import events_pb2
from arco_grpc.domain.chunk_events import ChunkEvent
from arco_grpc.domain.partition_status import PartitionStatus, apply_chunk_events
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.store import EventStore, Transaction
from arco_grpc.store.model import StatusUpdate

# (asset key, status space) -> the chunk events that change its row, in order.
StatusChanges = dict[tuple[str, str], list[ChunkEvent]]


def status_space(partitions_definition: bytes, dynamic_deletions: Sequence[tuple[str, int]]) -> str:
    """The status space of a definition (its deterministic PartitionsDefinition bytes) and its dynamic
    definitions' deletion counts, as (name, deletions) sorted by name."""
    digest = hashlib.sha256(b"arco/partition-status-space/v1\x1f" + partitions_definition)
    for name, deletions in dynamic_deletions:
        digest.update(f"\x1f{name}\x1f{deletions}".encode())
    return "ps-" + digest.hexdigest()[:24]


def _ranges(bounds: Sequence[int]) -> PartitionSubset:
    flat = iter(bounds)
    return PartitionSubset(tuple(zip(flat, flat)))  # stored canonical; the constructor checks it


def _bounds(subset: PartitionSubset) -> list[int]:
    return list(chain.from_iterable(subset.ranges))


def _subset_from_stored(message: events_pb2.StoredSubset) -> AnySubset:
    if message.bands:
        return MultiPartitionSubset(tuple(
            (band.first_start, band.first_end, _ranges(band.second_bounds)) for band in message.bands
        ))
    return _ranges(message.bounds)


def _stored_subset(subset: AnySubset) -> events_pb2.StoredSubset:
    if isinstance(subset, MultiPartitionSubset):
        return events_pb2.StoredSubset(bands=[
            events_pb2.StoredBand(first_start=start, first_end=stop, second_bounds=_bounds(second))
            for start, stop, second in subset.bands
        ])
    return events_pb2.StoredSubset(bounds=_bounds(subset))


def decode_status(stored: bytes | None) -> PartitionStatus:
    """The status a row holds (the empty status for no row)."""
    if stored is None:
        return PartitionStatus()
    message = events_pb2.StoredPartitionStatus.FromString(stored)
    return PartitionStatus(
        _subset_from_stored(message.materialized),
        _subset_from_stored(message.failed),
        tuple(_subset_from_stored(level) for level in message.in_progress),
    )


def encode_status(status: PartitionStatus) -> bytes:
    """The row's bytes (deterministic, so a rebuilt row equals the live one byte for byte)."""
    message = events_pb2.StoredPartitionStatus(
        materialized=_stored_subset(status.materialized),
        failed=_stored_subset(status.failed),
        in_progress=[_stored_subset(level) for level in status.in_flight],
    )
    return message.SerializeToString(deterministic=True)


# The statuses this process encoded last, by their bytes: a row's next update starts from the bytes its
# last one wrote, so it skips decoding them. A miss decodes; bounded (and shared by every store's writer).
_DECODED: dict[bytes, PartitionStatus] = {}
_DECODED_LIMIT = 256
_DECODED_LOCK = threading.Lock()  # several stores (several writer threads) may share this process


def _decoded(stored: bytes | None) -> PartitionStatus:
    if stored is None:
        return PartitionStatus()
    with _DECODED_LOCK:
        cached = _DECODED.get(stored)
    return decode_status(stored) if cached is None else cached


def _remember(encoded: bytes, status: PartitionStatus) -> None:
    with _DECODED_LOCK:
        if len(_DECODED) >= _DECODED_LIMIT:
            _DECODED.pop(next(iter(_DECODED)))  # the oldest
        _DECODED[encoded] = status


@dataclass(frozen=True, slots=True)
class ChunkEventsUpdate:
    """The :class:`~arco_grpc.store.model.StatusUpdate` of a row by chunk events, in order.

    Updates of one row chain into one (their events joined), so a transaction
    holding many appends decodes and encodes the row once.
    """

    events: tuple[ChunkEvent, ...]

    def __call__(self, stored: bytes | None) -> bytes:
        status = apply_chunk_events(_decoded(stored), self.events)
        encoded = encode_status(status)
        _remember(encoded, status)
        return encoded

    def then(self, later: StatusUpdate) -> StatusUpdate:
        """This update, then ``later``."""
        if isinstance(later, ChunkEventsUpdate):
            return ChunkEventsUpdate(self.events + later.events)
        return _Chained(self, later)


@dataclass(frozen=True, slots=True)
class _Chained:
    """Two updates of one row, applied in order (for updates that cannot be joined)."""

    first: StatusUpdate
    second: StatusUpdate

    def __call__(self, stored: bytes | None) -> bytes:
        return self.second(self.first(stored))

    def then(self, later: StatusUpdate) -> StatusUpdate:
        return _Chained(self, later)


def note_chunk_event(changes: StatusChanges, asset_key: str, space: str, event: ChunkEvent) -> None:
    """Collects a chunk event for the status row of its asset (targets without a space have none)."""
    if space:
        changes.setdefault((asset_key, space), []).append(event)


async def write_partition_statuses(transaction: Transaction, changes: StatusChanges) -> None:
    """Hands the store one update per status row that ``changes`` touch."""
    for (asset_key, space), events in changes.items():
        await transaction.update_partition_status(asset_key, space, ChunkEventsUpdate(tuple(events)))


class DynamicDeletions:
    """How many key deletions a dynamic definition's stream holds up to a version (cached: it never changes)."""

    def __init__(self, store: EventStore, capacity: int = 1024) -> None:
        self._store = store
        self._capacity = capacity
        self._counts: dict[tuple[str, int], int] = {}

    async def at(self, name: str, version: int) -> int:
        """Deletion events among the first ``version`` events of definition ``name``'s stream."""
        cached = self._counts.get((name, version))
        if cached is not None:
            return cached
        events = await self._store.read_stream(f"dynamic/{name}", 0, limit=version) if version else []
        count = sum(1 for event in events if event.event_type == "DynamicPartitionsDeleted")
        if len(self._counts) >= self._capacity:
            self._counts.clear()
        self._counts[(name, version)] = count
        return count

    async def space(self, partitions_definition: bytes, dynamic_versions: Sequence[tuple[str, int]]) -> str:
        """The status space of a definition read with these (name, stream version) dynamic keys, sorted by name."""
        deletions = [(name, await self.at(name, version)) for name, version in dynamic_versions]
        return status_space(partitions_definition, deletions)


async def read_partition_status(store: EventStore, asset_key: str, space: str) -> PartitionStatus:
    """The stored status of ``asset_key`` in ``space`` (empty when nothing ran there yet)."""
    return decode_status(await store.partition_status(asset_key, space))
