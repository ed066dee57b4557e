"""Partition status benchmark (not a test): prints what the status projection and reprocess policies cost.

- the status row update a batch of 64 leases, then of 64 successes, adds to an append (decode, apply, encode:
  what the store runs in the transaction), against a row already holding many ranges;
- a MISSING plan over 10^7 partitions whose status has thousands of ranges: skipped subsets, the remaining
  selection and three chunks found by position (never listing keys).

Run: .venv/bin/python bench/partition_status.py
"""

from __future__ import annotations

import sys
import timeit
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc.domain.backfill import DispatchOrder  # noqa: E402
from arco_grpc.domain.chunk_events import ChunkLeased, ChunkSucceeded  # noqa: E402
from arco_grpc.domain.partition_status import (  # noqa: E402
    PartitionStatus,
    ReprocessPolicy,
    apply_chunk_events,
    remaining_selection,
    skipped_partitions,
)
from arco_grpc.partitions.subset import PartitionSubset  # noqa: E402
from arco_grpc.planning.chunks import chunk_count, chunk_selection  # noqa: E402
from arco_grpc.service.partition_status_rows import decode_status, encode_status  # noqa: E402

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
TOTAL = 10_000_000
STRIDE = 9_973


def spread(offset: int, width: int, count: int) -> PartitionSubset:
    return PartitionSubset.from_ranges((i * STRIDE + offset, i * STRIDE + offset + width) for i in range(count))


def per_call(work: object, number: int) -> float:
    return timeit.timeit(work, number=number) / number  # type: ignore[arg-type]


def updates(status: PartitionStatus) -> None:
    """Prints the cost of the status updates of a 64-lease event, then of a 64-success event, on ``status``."""
    stored = encode_status(status)
    chunks = [PartitionSubset.of_range(TOTAL + i * 10, TOTAL + i * 10 + 10) for i in range(64)]
    leases = [ChunkLeased("a", 1, i, 1, "r", "k", "w", AT, timedelta(seconds=30), c, 10) for i, c in enumerate(chunks)]
    successes = [ChunkSucceeded("a", 1, i, 1, "r", c) for i, c in enumerate(chunks)]
    after_leases = encode_status(apply_chunk_events(decode_status(stored), leases))

    def update(row: bytes, events: list) -> bytes:  # type: ignore[type-arg]
        return encode_status(apply_chunk_events(decode_status(row), events))

    ranges = sum(len(part.ranges) for part in (status.materialized, status.failed, *status.in_flight))  # type: ignore[union-attr]
    lease_us = per_call(lambda: update(stored, leases), 200) * 1e6
    success_us = per_call(lambda: update(after_leases, successes), 200) * 1e6
    print(f"status row of {ranges:,} ranges ({len(stored):,} bytes): 64 leases {lease_us:,.0f} us "
          f"({lease_us / 64:.1f} us/chunk), 64 successes {success_us:,.0f} us ({success_us / 64:.1f} us/chunk)")


def main() -> None:
    updates(PartitionStatus(PartitionSubset.of_range(0, TOTAL // 2), spread(6000, 1, 2)))
    status = PartitionStatus(spread(0, 5000, 1000), spread(6000, 1, 1000), (spread(7000, 60, 50),))
    updates(status)

    selection = PartitionSubset.of_range(0, TOTAL)

    def plan() -> None:
        skipped = skipped_partitions(status, selection, ReprocessPolicy.MISSING)
        remaining = remaining_selection(selection, skipped)
        count = chunk_count(remaining.count, 60)
        for index in (0, count // 2, count - 1):
            chunk_selection(remaining, 60, index, DispatchOrder.FORWARD)

    skipped = sum(s.partitions.count for s in skipped_partitions(status, selection, ReprocessPolicy.MISSING))
    print(f"MISSING over {TOTAL:,} partitions ({skipped:,} skipped in ~2,050 ranges): "
          f"{per_call(plan, 50) * 1e3:.1f} ms for skips, remaining selection and 3 chunks")


if __name__ == "__main__":
    main()
