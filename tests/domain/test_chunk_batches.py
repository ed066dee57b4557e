"""Batches of chunk events (ChunksLeased, ChunksCompleted): one event per call, folding as its entries would."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from arco_grpc.domain.backfill import Backfill, BackfillState, evolve
from arco_grpc.domain.chunk_events import ChunkFailed, ChunkLeased, ChunksCompleted, ChunksLeased, ChunkSucceeded
from arco_grpc.domain.chunks import (
    Chunk,
    ChunkKey,
    Report,
    decide_lease,
    decide_leases,
    decide_report,
    evolve_chunk,
    first_lease,
)
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.errors import FailedPrecondition
from arco_grpc.partitions.subset import PartitionSubset
from tests.domain.test_chunk_lifecycle import NOW, TTL, fold, running

NO_BACKOFF = RetryPolicy(max_attempts=3, initial_backoff=timedelta(0), max_backoff=timedelta(0))


def chunks(count: int) -> list[Chunk]:
    return [
        Chunk.planned(ChunkKey(0, 1, index), "orders", PartitionSubset.of_range(index * 5, index * 5 + 5))
        for index in range(count)
    ]


def one_by_one(backfill: Backfill, entries: tuple[object, ...]) -> Backfill:
    """The backfill after each entry folded as a separate event, its version then set back to one step."""
    folded = fold(backfill, list(entries))
    return replace(folded, version=backfill.version + 1)


def test_a_batch_of_leases_is_each_chunk_leased_as_decide_lease_would_in_one_event() -> None:
    backfill = running(max_concurrency=3)
    planned = chunks(2)

    event = decide_leases(backfill, planned, run_ids=["r0", "r1"], worker_id="w1", ttl=TTL, now=NOW)

    assert event.leases == tuple(
        decide_lease(backfill, chunk, run_id=run_id, worker_id="w1", ttl=TTL, now=NOW)
        for chunk, run_id in zip(planned, ["r0", "r1"])
    )
    assert (event.worker_id, event.lease_expires_at, event.lease_ttl) == ("w1", NOW + TTL, TTL)
    after = evolve(backfill, event)
    assert after == one_by_one(backfill, event.leases)
    assert (after.version, after.leased_chunks, after.partitions_running) == (backfill.version + 1, 2, 10)


def test_a_batch_of_leases_never_exceeds_the_concurrency_limit_nor_leases_a_chunk_twice() -> None:
    backfill = running(max_concurrency=2)
    with pytest.raises(FailedPrecondition, match="limit is 2: 3 more"):
        decide_leases(backfill, chunks(3), run_ids=["a", "b", "c"], worker_id="w", ttl=TTL, now=NOW)
    twice = [chunks(1)[0], chunks(1)[0]]
    with pytest.raises(ValueError, match="once per event"):
        decide_leases(backfill, twice, run_ids=["a", "b"], worker_id="w", ttl=TTL, now=NOW)
    with pytest.raises(ValueError):
        decide_leases(backfill, chunks(2), run_ids=["a"], worker_id="w", ttl=TTL, now=NOW)
    with pytest.raises(FailedPrecondition, match="PAUSED"):
        decide_leases(replace(backfill, state=BackfillState.PAUSED), chunks(1), run_ids=["a"], worker_id="w",
                      ttl=TTL, now=NOW)


def test_a_batch_holds_one_worker_expiry_and_ttl_and_at_least_one_entry() -> None:
    lease = decide_lease(running(), chunks(1)[0], run_id="r", worker_id="w1", ttl=TTL, now=NOW)
    with pytest.raises(ValueError, match="share"):
        ChunksLeased((lease, replace(lease, worker_id="w2")))
    with pytest.raises(ValueError, match="share"):
        ChunksLeased((lease, replace(lease, lease_expires_at=NOW)))
    with pytest.raises(ValueError, match="at least one"):
        ChunksLeased(())
    with pytest.raises(ValueError, match="at least one"):
        ChunksCompleted(())


def test_a_first_lease_is_the_planned_chunk_evolved() -> None:
    planned = chunks(1)[0]
    lease = decide_lease(running(), planned, run_id="r", worker_id="w1", ttl=TTL, now=NOW)

    assert first_lease(planned.key, lease, NOW) == evolve_chunk(planned, lease, NOW)


def test_a_batch_of_outcomes_folds_as_its_outcomes_one_by_one() -> None:
    backfill = running(max_concurrency=4, policy=NO_BACKOFF)
    planned = chunks(2) + [
        Chunk.planned(ChunkKey(0, 1, index), "orders", PartitionSubset.of_range(index * 5, index * 5 + 5))
        for index in (2, 3)
    ]
    leased = decide_leases(backfill, planned, run_ids=["r0", "r1", "r2", "r3"], worker_id="w", ttl=TTL, now=NOW)
    backfill = evolve(backfill, leased)
    held = [evolve_chunk(chunk, lease, NOW) for chunk, lease in zip(planned, leased.leases)]
    reports = [
        Report("r0", "w", True),
        Report("r1", "w", False, PartitionSubset.of_range(6, 7), "one bad"),  # partial: retried
        Report("r2", "w", False, None, "all bad"),  # whole: retried
        Report("r3", "w", True, None, "", (("rows", "5"),)),
    ]
    outcomes = tuple(
        outcome for chunk, report in zip(held, reports) for outcome in decide_report(backfill, chunk, report, NOW)
    )
    assert [type(outcome) for outcome in outcomes] == [ChunkSucceeded, ChunkFailed, ChunkFailed, ChunkSucceeded]

    after = evolve(backfill, ChunksCompleted(outcomes))

    assert after == one_by_one(backfill, outcomes)
    assert after.outcomes.succeeded[0] == PartitionSubset.from_ranges([(0, 6), (7, 10), (15, 20)])
    assert (after.leased_chunks, after.round_finished, after.version) == (0, 2, backfill.version + 1)


def test_outcomes_that_fail_for_good_count_as_failed_in_the_batch_as_alone() -> None:
    backfill = running(max_concurrency=2, policy=RetryPolicy(max_attempts=1))
    planned = chunks(2)
    leased = decide_leases(backfill, planned, run_ids=["a", "b"], worker_id="w", ttl=TTL, now=NOW)
    backfill = evolve(backfill, leased)
    held = [evolve_chunk(chunk, lease, NOW) for chunk, lease in zip(planned, leased.leases)]
    outcomes = (
        *decide_report(backfill, held[0], Report("a", "w", False, PartitionSubset.of_range(1, 3)), NOW),
        *decide_report(backfill, held[1], Report("b", "w", False), NOW),
    )

    after = evolve(backfill, ChunksCompleted(outcomes))  # type: ignore[arg-type]

    assert after == one_by_one(backfill, outcomes)
    assert after.outcomes.failed[0] == PartitionSubset.from_ranges([(1, 3), (5, 10)])
    assert after.outcomes.succeeded[0] == PartitionSubset.from_ranges([(0, 1), (3, 5)])
    assert after.round_done


def test_an_older_log_of_single_leases_folds_like_a_batch_of_them() -> None:
    backfill = running(max_concurrency=2)
    leases = tuple(
        ChunkLeased("orders", 1, chunk.key.index, 1, f"r{n}", f"k{n}", "w", NOW + TTL, TTL, chunk.remaining, 5)
        for n, chunk in enumerate(chunks(2))
    )

    assert evolve(backfill, ChunksLeased(leases)) == one_by_one(backfill, leases)
