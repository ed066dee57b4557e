"""Status row updates: the updates of one row in one transaction join into one, with the same result."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from arco_grpc.domain.chunk_events import ChunkFailed, ChunkLeased, ChunkSucceeded
from arco_grpc.domain.partition_status import PartitionStatus
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.partition_status_rows import ChunkEventsUpdate, decode_status, encode_status
from arco_grpc.store.model import StatusUpdate
from arco_grpc.store.sqlite._transaction import SqliteTransaction

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
TTL = timedelta(seconds=30)


def _leased(index: int, start: int, stop: int) -> ChunkLeased:
    return ChunkLeased("a", 1, index, 1, f"run-{index}", f"rk-{index}", "w", NOW + TTL, TTL,
                       PartitionSubset.of_range(start, stop), stop - start)


def _succeeded(index: int, start: int, stop: int) -> ChunkSucceeded:
    return ChunkSucceeded("a", 1, index, 1, f"run-{index}", PartitionSubset.of_range(start, stop))


class _Replace:
    """An update that is not made of chunk events: it stores one fixed status."""

    def __init__(self, status: PartitionStatus) -> None:
        self.encoded = encode_status(status)

    def __call__(self, stored: bytes | None) -> bytes:
        return self.encoded

    def then(self, later: StatusUpdate) -> StatusUpdate:
        raise AssertionError("not chained in these tests")


def test_joined_updates_store_what_one_after_another_stores() -> None:
    stored = encode_status(PartitionStatus(PartitionSubset.of_range(0, 2), PartitionSubset.empty(), ()))
    updates = [
        ChunkEventsUpdate((_leased(1, 2, 4), _leased(2, 4, 6))),
        ChunkEventsUpdate((_succeeded(1, 2, 4),)),
        ChunkEventsUpdate((ChunkFailed("a", 1, 2, 1, "run-2", PartitionSubset.of_range(4, 6), None, "boom", False,
                                       None),)),
    ]
    one_by_one = stored
    for update in updates:
        one_by_one = update(one_by_one)
    joined = updates[0].then(updates[1]).then(updates[2])
    assert isinstance(joined, ChunkEventsUpdate) and len(joined.events) == 4
    assert joined(stored) == one_by_one
    status = decode_status(one_by_one)
    assert (status.materialized, status.failed) == (PartitionSubset.of_range(0, 4), PartitionSubset.of_range(4, 6))


def test_an_update_of_another_kind_is_chained_in_order() -> None:
    replace = _Replace(PartitionStatus(PartitionSubset.of_range(7, 9), PartitionSubset.empty(), ()))
    chained = ChunkEventsUpdate((_leased(1, 0, 2),)).then(replace)
    assert chained(None) == replace.encoded
    after = chained.then(ChunkEventsUpdate((_succeeded(3, 0, 1),)))
    assert decode_status(after(None)).materialized == PartitionSubset.from_ranges([(0, 1), (7, 9)])


def test_a_transaction_writes_each_status_row_once_with_its_updates_joined() -> None:
    transaction = SqliteTransaction(None)

    async def project() -> None:
        await transaction.update_partition_status("a", "space", ChunkEventsUpdate((_leased(1, 0, 2),)))
        await transaction.update_partition_status("b", "space", ChunkEventsUpdate((_leased(1, 0, 1),)))
        await transaction.update_partition_status("a", "space", ChunkEventsUpdate((_succeeded(1, 0, 2),)))

    asyncio.run(project())
    (rows,) = [rows for _, rows, _ in transaction.take_writes()]
    assert [(asset, space) for asset, space, _ in rows] == [("a", "space"), ("b", "space")]
    assert decode_status(rows[0][2](None)).materialized == PartitionSubset.of_range(0, 2)
