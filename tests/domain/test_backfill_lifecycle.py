"""The backfill state machine: legal transitions, no-ops, refusals, versions."""

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.domain.backfill import (
    Backfill,
    BackfillCancelled,
    BackfillCancelRequested,
    BackfillCreated,
    BackfillPaused,
    BackfillStarted,
    BackfillState,
    CancelBackfill,
    CreateBackfill,
    DispatchOrder,
    PauseBackfill,
    ResumeBackfill,
    Target,
    UpdateBackfill,
    decide,
    evolve,
)
from arco_grpc.errors import Aborted, FailedPrecondition, InvalidArgument
from arco_grpc.partitions.selector import AllPartitions

CREATED = BackfillCreated(
    backfill_id="bf-test",
    targets=(Target("orders", AllPartitions(), "fp", partition_count=10, chunk_size=3),),
    max_concurrency=2,
    order=DispatchOrder.FORWARD,
    tags=(),
    title="t",
    description="",
    creator="me",
    as_of=datetime(2024, 1, 1, tzinfo=timezone.utc),
    fingerprint="fp",
)


def fold(events, backfill=None):
    for event in events:
        backfill = evolve(backfill, event)
    return backfill


def running() -> Backfill:
    return fold(decide(CreateBackfill(CREATED), None))


def test_create_starts_the_backfill_at_version_two():
    events = decide(CreateBackfill(CREATED), None)
    assert events == [CREATED, BackfillStarted()]
    backfill = fold(events)
    assert (backfill.state, backfill.version) == (BackfillState.RUNNING, 2)
    assert backfill.spec.targets[0].chunk_count == 4


def test_create_twice_is_refused():
    with pytest.raises(FailedPrecondition):
        decide(CreateBackfill(CREATED), running())


def test_pause_resume_round_trip_and_no_ops():
    backfill = running()
    paused = fold(decide(PauseBackfill("lunch"), backfill), backfill)
    assert (paused.state, paused.version) == (BackfillState.PAUSED, 3)
    assert decide(PauseBackfill("again"), paused) == []
    resumed = fold(decide(ResumeBackfill("back"), paused), paused)
    assert (resumed.state, resumed.version) == (BackfillState.RUNNING, 4)
    assert decide(ResumeBackfill(), resumed) == []


def test_cancel_without_leases_goes_straight_to_cancelled():
    backfill = running()
    events = decide(CancelBackfill("wrong range"), backfill)
    assert events == [BackfillCancelRequested("wrong range"), BackfillCancelled(partitions_cancelled=10)]
    cancelled = fold(events, backfill)
    assert (cancelled.state, cancelled.version) == (BackfillState.CANCELLED, 4)
    assert decide(CancelBackfill(), cancelled) == []


def test_cancel_with_leased_chunks_waits_in_cancelling():
    from dataclasses import replace

    backfill = replace(running(), leased_chunks=1)
    assert decide(CancelBackfill(), backfill) == [BackfillCancelRequested("")]


@pytest.mark.parametrize("command", [PauseBackfill(), ResumeBackfill(), UpdateBackfill(5)])
def test_terminal_backfills_refuse_changes(command):
    cancelled = fold(decide(CancelBackfill(), running()), running())
    with pytest.raises(FailedPrecondition):
        decide(command, cancelled)


def test_cancel_of_a_completed_backfill_is_refused():
    from arco_grpc.domain.backfill import BackfillCompleted

    completed = evolve(running(), BackfillCompleted(10, 0))
    with pytest.raises(FailedPrecondition):
        decide(CancelBackfill(), completed)


def test_stale_expected_version_is_aborted_even_for_a_no_op():
    backfill = running()
    with pytest.raises(Aborted) as caught:
        decide(ResumeBackfill(expected_version=1), backfill)
    assert caught.value.metadata["state_version"] == "2"
    assert decide(PauseBackfill(expected_version=2), backfill) == [BackfillPaused("")]


def test_update_concurrency():
    backfill = running()
    assert decide(UpdateBackfill(2), backfill) == []
    changed = fold(decide(UpdateBackfill(7, "more"), backfill), backfill)
    assert changed.max_concurrency == 7
    with pytest.raises(InvalidArgument):
        decide(UpdateBackfill(0), backfill)


COMMANDS = st.sampled_from(
    [PauseBackfill(), ResumeBackfill(), CancelBackfill(), UpdateBackfill(1), UpdateBackfill(3)]
)

LEGAL = {
    (BackfillState.RUNNING, BackfillState.PAUSED),
    (BackfillState.PAUSED, BackfillState.RUNNING),
    (BackfillState.RUNNING, BackfillState.CANCELLING),
    (BackfillState.PAUSED, BackfillState.CANCELLING),
    (BackfillState.CANCELLING, BackfillState.CANCELLED),
}


@given(st.lists(COMMANDS, max_size=30))
def test_any_command_sequence_only_makes_legal_moves_and_counts_versions(commands):
    backfill = running()
    for command in commands:
        try:
            events = decide(command, backfill)
        except FailedPrecondition:
            continue
        for event in events:
            after = evolve(backfill, event)
            assert after.version == backfill.version + 1
            if after.state != backfill.state:
                assert (backfill.state, after.state) in LEGAL
            backfill = after
    assert backfill.version >= 2
    if backfill.state.is_terminal:
        with pytest.raises(FailedPrecondition):
            decide(PauseBackfill(), backfill)
