"""Partition status (Dagster's latest-finished-attempt rule, in flight showing over it) and reprocess policies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.domain.chunk_events import (
    ChunkEvent,
    ChunkFailed,
    ChunkLeased,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunkSucceeded,
)
from arco_grpc.domain.partition_status import (
    PartitionStatus,
    ReprocessPolicy,
    SkipReason,
    apply_chunk_event,
    apply_chunk_events,
    remaining_selection,
    skipped_partitions,
)
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.chunks import chunk_count, chunk_selection

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
S = PartitionSubset.from_indices
R = PartitionSubset.of_range


def leased(partitions: PartitionSubset) -> ChunkLeased:
    return ChunkLeased("a", 1, 0, 1, "run", "rk", "w", AT, timedelta(seconds=30), partitions, partitions.count)


def succeeded(partitions: PartitionSubset) -> ChunkSucceeded:
    return ChunkSucceeded("a", 1, 0, 1, "run", partitions)


def failed(partitions: PartitionSubset, only: PartitionSubset | None = None) -> ChunkFailed:
    return ChunkFailed("a", 1, 0, 1, "run", partitions, only, "boom", False, None)


def lapsed(partitions: PartitionSubset, exhausted: bool = False) -> ChunkLeaseExpired:
    return ChunkLeaseExpired("a", 1, 0, 1, "run", partitions, will_retry=not exhausted, attempts_exhausted=exhausted)


def test_a_lease_shows_in_progress_and_its_outcome_replaces_it() -> None:
    status = apply_chunk_events(PartitionStatus(), [leased(R(0, 4))])
    assert status.visible() == (PartitionSubset.empty(), PartitionSubset.empty(), R(0, 4))
    status = apply_chunk_event(status, failed(R(0, 4), S([1, 2])))
    assert status.visible() == (S([0, 3]), S([1, 2]), PartitionSubset.empty())


def test_a_failure_after_a_materialization_shows_failed_and_a_success_heals_it() -> None:
    status = apply_chunk_events(PartitionStatus(), [leased(R(0, 3)), succeeded(R(0, 3)), leased(S([1])), failed(S([1]))])
    assert status.visible()[:2] == (S([0, 2]), S([1]))
    status = apply_chunk_events(status, [leased(S([1])), succeeded(S([1]))])
    assert status.visible()[:2] == (R(0, 3), PartitionSubset.empty())


def test_an_attempt_without_outcome_leaves_the_previous_status() -> None:
    status = apply_chunk_events(PartitionStatus(), [leased(R(0, 2)), succeeded(R(0, 2)), leased(R(0, 4))])
    assert status.visible() == (PartitionSubset.empty(), PartitionSubset.empty(), R(0, 4))
    assert apply_chunk_event(status, lapsed(R(0, 4))).visible() == (R(0, 2), PartitionSubset.empty(), PartitionSubset.empty())
    assert apply_chunk_event(status, ChunkReleased("a", 1, 0, 1, "run", R(0, 4))).visible()[0] == R(0, 2)
    # A lapse that uses up the retries is the backfill giving up: failed.
    assert apply_chunk_event(status, lapsed(R(0, 4), exhausted=True)).visible()[:2] == (PartitionSubset.empty(), R(0, 4))


def test_overlapping_attempts_keep_partitions_in_progress_until_the_last_ends() -> None:
    status = apply_chunk_events(PartitionStatus(), [leased(R(0, 4)), leased(R(2, 6))])
    status = apply_chunk_event(status, succeeded(R(0, 4)))
    assert status.visible() == (R(0, 2), PartitionSubset.empty(), R(2, 6))
    status = apply_chunk_event(status, failed(R(2, 6)))
    assert status.visible() == (R(0, 2), R(2, 6), PartitionSubset.empty())
    assert status.in_flight == ()


def test_multi_partition_subsets_take_the_same_rules() -> None:
    cell = MultiPartitionSubset.rectangle(R(0, 2), R(0, 2))
    corner = MultiPartitionSubset.from_pairs([(1, 1)])
    status = apply_chunk_events(PartitionStatus(), [leased(cell), failed(cell, corner)])  # type: ignore[arg-type]
    materialized, lost, running = status.visible()
    assert (materialized.count, lost, running.is_empty) == (3, corner, True)


def test_policies_skip_with_reasons() -> None:
    status = apply_chunk_events(
        PartitionStatus(), [leased(R(0, 6)), succeeded(R(0, 2)), failed(R(2, 6), R(2, 4)), leased(R(8, 10))]
    )
    selection = R(0, 12)
    assert skipped_partitions(status, selection, ReprocessPolicy.ALL) == ()
    missing = {s.reason: s.partitions for s in skipped_partitions(status, selection, ReprocessPolicy.MISSING)}
    assert missing == {
        SkipReason.ALREADY_MATERIALIZED: S([0, 1, 4, 5]), SkipReason.IN_FLIGHT: R(8, 10), SkipReason.FAILED: R(2, 4)
    }
    both = skipped_partitions(status, R(3, 9), ReprocessPolicy.FAILED_AND_MISSING)
    assert [(s.reason, s.partitions) for s in both] == [
        (SkipReason.ALREADY_MATERIALIZED, R(4, 6)), (SkipReason.IN_FLIGHT, S([8]))
    ]


# -- reference model: one state per partition -------------------------------------------------------------

span = st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda t: R(t[0], t[0] + t[1]))


@st.composite
def histories(draw: st.DrawFn) -> list[ChunkEvent]:
    """Valid attempt histories: every outcome ends an attempt that was leased and is still open."""
    events: list[ChunkEvent] = []
    open_attempts: list[PartitionSubset] = []
    for _ in range(draw(st.integers(0, 14))):
        if not open_attempts or draw(st.booleans()):
            attempt = draw(span)
            open_attempts.append(attempt)
            events.append(leased(attempt))
            continue
        attempt = open_attempts.pop(draw(st.integers(0, len(open_attempts) - 1)))
        kind = draw(st.integers(0, 4))
        if kind == 0:
            events.append(succeeded(attempt))
        elif kind == 1:
            events.append(failed(attempt, attempt & draw(span)))
        elif kind == 2:
            events.append(lapsed(attempt, exhausted=draw(st.booleans())))
        else:
            events.append(ChunkReleased("a", 1, 0, 1, "run", attempt))
    return events


def model(events: list[ChunkEvent]) -> tuple[set[int], set[int], set[int]]:
    outcome: dict[int, str] = {}
    in_flight: dict[int, int] = {}
    for event in events:
        keys = set(event.partitions.indices())  # type: ignore[union-attr]
        if isinstance(event, ChunkLeased):
            for key in keys:
                in_flight[key] = in_flight.get(key, 0) + 1
            continue
        for key in keys:
            in_flight[key] -= 1
        if isinstance(event, ChunkSucceeded):
            outcome.update((key, "ok") for key in keys)
        elif isinstance(event, ChunkFailed):
            bad = set(event.failed_partitions.indices())  # type: ignore[union-attr]
            outcome.update((key, "failed" if key in bad else "ok") for key in keys)
        elif isinstance(event, ChunkLeaseExpired) and event.attempts_exhausted:
            outcome.update((key, "failed") for key in keys)
    running = {key for key, depth in in_flight.items() if depth > 0}
    done = {key for key, state in outcome.items() if state == "ok"} - running
    lost = {key for key, state in outcome.items() if state == "failed"} - running
    return done, lost, running


@settings(max_examples=300, deadline=None)
@given(histories())
def test_status_matches_a_per_partition_model(events: list[ChunkEvent]) -> None:
    visible = apply_chunk_events(PartitionStatus(), events).visible()
    assert tuple(set(part.indices()) for part in visible) == model(events)  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(histories(), st.lists(span, min_size=1, max_size=4), st.sampled_from(list(ReprocessPolicy)),
       st.integers(1, 7), st.sampled_from(list(DispatchOrder)))
def test_the_plan_covers_the_selection_minus_the_skipped_exactly_once(
    events: list[ChunkEvent], parts: list[PartitionSubset], policy: ReprocessPolicy, size: int, order: DispatchOrder
) -> None:
    selection = PartitionSubset.empty()
    for part in parts:
        selection = selection | part
    skipped = skipped_partitions(apply_chunk_events(PartitionStatus(), events), selection, policy)
    remaining = remaining_selection(selection, skipped)
    planned: list[int] = []
    for index in range(chunk_count(remaining.count, size)):
        planned.extend(chunk_selection(remaining, size, index, order).indices())
    left_out: set[int] = set()
    for entry in skipped:
        indices = set(entry.partitions.indices())  # type: ignore[union-attr]
        assert not indices & left_out  # one reason per partition
        left_out |= indices
    assert len(planned) == len(set(planned))  # no partition twice
    assert not set(planned) & left_out  # no skipped partition runs
    assert set(planned) | left_out == set(selection.indices())  # every other selected partition runs


@st.composite
def batched_histories(draw: st.DrawFn) -> list[ChunkEvent]:
    """Runs of leases, then of successes, over chunk-like spans (disjoint or not): what batches look like."""
    attempts = draw(st.lists(span, min_size=1, max_size=6))
    order = draw(st.permutations(range(len(attempts))))
    return [leased(a) for a in attempts] + [succeeded(attempts[i]) for i in order]


@settings(max_examples=300, deadline=None)
@given(st.one_of(histories(), batched_histories()))
def test_a_batch_applied_at_once_equals_its_events_one_by_one(events: list[ChunkEvent]) -> None:
    one_by_one = PartitionStatus()
    for event in events:
        one_by_one = apply_chunk_event(one_by_one, event)
    assert apply_chunk_events(PartitionStatus(), events) == one_by_one
