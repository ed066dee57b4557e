"""Pause, resume, cancel and update through a real server, and the history they leave."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from tests.service.backfill_helpers import (  # noqa: F401 - backfills is a fixture
    Backfills,
    backfills,
    create,
    event_count,
    serve_backfills,
    table_counts,
    target,
)
from tests.service.conftest import ServerStarter, call_failure, stop

S = bf.Backfill


async def make(backfills: Backfills, request_id: str = "c-1", **fields: object) -> str:
    return (await backfills.stub.CreateBackfill(create(request_id, target("orders"), **fields))).backfill.id


def pause(backfill_id: str, request_id: str, **fields: object) -> api.PauseBackfillRequest:
    return api.PauseBackfillRequest(request_id=request_id, backfill_id=backfill_id, **fields)  # type: ignore[arg-type]


def resume(backfill_id: str, request_id: str, **fields: object) -> api.ResumeBackfillRequest:
    return api.ResumeBackfillRequest(request_id=request_id, backfill_id=backfill_id, **fields)  # type: ignore[arg-type]


def cancel(backfill_id: str, request_id: str, **fields: object) -> api.CancelBackfillRequest:
    return api.CancelBackfillRequest(request_id=request_id, backfill_id=backfill_id, **fields)  # type: ignore[arg-type]


async def test_pause_resume_cancel_move_the_state_and_raise_the_version_by_one(backfills: Backfills) -> None:
    backfill_id = await make(backfills)
    paused = (await backfills.stub.PauseBackfill(pause(backfill_id, "p-1", reason="lunch"))).backfill
    resumed = (await backfills.stub.ResumeBackfill(resume(backfill_id, "r-1", reason="back"))).backfill
    cancelled = (await backfills.stub.CancelBackfill(cancel(backfill_id, "x-1", reason="wrong range"))).backfill

    assert [(b.state, b.state_version) for b in (paused, resumed, cancelled)] == [
        (S.STATE_PAUSED, 3), (S.STATE_RUNNING, 4), (S.STATE_CANCELLED, 6),
    ]
    got = (await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert got == cancelled
    assert [(t.from_state, t.to_state, t.state_version, t.reason, t.request_id) for t in got.transitions] == [
        (S.STATE_UNSPECIFIED, S.STATE_CREATED, 1, "created", "c-1"),
        (S.STATE_CREATED, S.STATE_RUNNING, 2, "started when created", "c-1"),
        (S.STATE_RUNNING, S.STATE_PAUSED, 3, "lunch", "p-1"),
        (S.STATE_PAUSED, S.STATE_RUNNING, 4, "back", "r-1"),
        (S.STATE_RUNNING, S.STATE_CANCELLING, 5, "wrong range", "x-1"),
        (S.STATE_CANCELLING, S.STATE_CANCELLED, 6,
         "no chunk was leased: 366 unfinished partitions cancelled", "x-1"),
    ]
    assert got.HasField("end_time") and got.create_time.seconds <= got.update_time.seconds
    assert got.progress.partitions_cancelled == 366 and got.progress.partitions_pending == 0
    assert got.progress.chunks_by_state == {"STATE_CANCELLED": 53}


async def test_asking_for_the_current_state_writes_nothing_but_is_remembered(
    backfills: Backfills, db_path: Path
) -> None:
    backfill_id = await make(backfills)
    await backfills.stub.PauseBackfill(pause(backfill_id, "p-1"))
    before = event_count(db_path)

    again = await backfills.stub.PauseBackfill(pause(backfill_id, "p-2", reason="still lunch"))

    assert (again.backfill.state, again.backfill.state_version) == (S.STATE_PAUSED, 3)
    assert event_count(db_path) == before
    # Remembered: after a resume, replaying p-2 still returns the no-op answer.
    await backfills.stub.ResumeBackfill(resume(backfill_id, "r-1"))
    assert await backfills.stub.PauseBackfill(pause(backfill_id, "p-2", reason="still lunch")) == again
    assert event_count(db_path) == before + 1


async def test_a_replayed_request_returns_the_first_answer_and_writes_nothing(
    backfills: Backfills, db_path: Path
) -> None:
    backfill_id = await make(backfills)
    first = await backfills.stub.PauseBackfill(pause(backfill_id, "p-1", reason="x"))
    await backfills.stub.ResumeBackfill(resume(backfill_id, "r-1"))
    before = table_counts(db_path)

    replayed = await backfills.stub.PauseBackfill(pause(backfill_id, "p-1", reason="x"))

    assert replayed == first and replayed.backfill.state == S.STATE_PAUSED
    assert table_counts(db_path) == before
    now = (await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert now.state == S.STATE_RUNNING


@pytest.mark.parametrize("method", ["PauseBackfill", "ResumeBackfill"])
async def test_the_same_request_id_with_another_body_is_refused(backfills: Backfills, method: str) -> None:
    backfill_id = await make(backfills)
    await backfills.stub.PauseBackfill(pause(backfill_id, "p-1", reason="x"))
    request = pause(backfill_id, "p-1", reason="y") if method == "PauseBackfill" else resume(backfill_id, "p-1")
    failure = await call_failure(getattr(backfills.stub, method)(request))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


async def test_a_stale_expected_version_is_aborted_and_writes_nothing(backfills: Backfills, db_path: Path) -> None:
    backfill_id = await make(backfills)
    await backfills.stub.PauseBackfill(pause(backfill_id, "p-1", expected_state_version=2))
    before = table_counts(db_path)

    failure = await call_failure(backfills.stub.ResumeBackfill(resume(backfill_id, "r-1", expected_state_version=2)))

    assert (failure.code, failure.reason) == (grpc.StatusCode.ABORTED, "STATE_VERSION_MISMATCH")
    assert failure.metadata["state_version"] == "3"
    assert table_counts(db_path) == before
    # Even a no-op is refused when the version is stale.
    failure = await call_failure(backfills.stub.PauseBackfill(pause(backfill_id, "p-2", expected_state_version=2)))
    assert failure.code == grpc.StatusCode.ABORTED


async def test_illegal_transitions_are_failed_precondition(backfills: Backfills, db_path: Path) -> None:
    backfill_id = await make(backfills)
    await backfills.stub.CancelBackfill(cancel(backfill_id, "x-1"))
    before = table_counts(db_path)

    for call in (
        backfills.stub.PauseBackfill(pause(backfill_id, "p-1")),
        backfills.stub.ResumeBackfill(resume(backfill_id, "r-1")),
        backfills.stub.UpdateBackfill(
            api.UpdateBackfillRequest(request_id="u-1", backfill_id=backfill_id, max_concurrency=3)
        ),
    ):
        failure = await call_failure(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_BACKFILL_TRANSITION")
    # Cancelling a cancelled backfill asks for the state it is in: a no-op.
    again = await backfills.stub.CancelBackfill(cancel(backfill_id, "x-2"))
    assert again.backfill.state_version == 4
    assert table_counts(db_path)["events"] == before["events"]


async def test_resume_of_a_running_backfill_is_a_no_op(backfills: Backfills, db_path: Path) -> None:
    backfill_id = await make(backfills)
    before = event_count(db_path)
    answer = await backfills.stub.ResumeBackfill(resume(backfill_id, "r-1"))
    assert (answer.backfill.state, answer.backfill.state_version) == (S.STATE_RUNNING, 2)
    assert event_count(db_path) == before


async def test_update_changes_max_concurrency_without_a_state_change(backfills: Backfills) -> None:
    backfill_id = await make(backfills, max_concurrency=4)
    updated = await backfills.stub.UpdateBackfill(
        api.UpdateBackfillRequest(request_id="u-1", backfill_id=backfill_id, max_concurrency=8, reason="more")
    )
    assert (updated.backfill.max_concurrency, updated.backfill.state_version) == (8, 3)
    assert len(updated.backfill.transitions) == 2  # no state changed
    events = await backfills.stub.ListBackfillEvents(api.ListBackfillEventsRequest(backfill_id=backfill_id))
    change = events.events[-1]
    assert change.type == "BackfillConcurrencyChanged"
    assert (change.payload.concurrency_changed.max_concurrency,
            change.payload.concurrency_changed.previous_max_concurrency) == (8, 4)
    same = await backfills.stub.UpdateBackfill(
        api.UpdateBackfillRequest(request_id="u-2", backfill_id=backfill_id, max_concurrency=8)
    )
    assert same.backfill.state_version == 3
    for bad in (0, 10_001):
        failure = await call_failure(backfills.stub.UpdateBackfill(
            api.UpdateBackfillRequest(request_id=f"u-{bad}", backfill_id=backfill_id, max_concurrency=bad)
        ))
        assert failure.violations[0][0] == "max_concurrency"


@pytest.mark.parametrize(
    ("request_fields", "code", "field"),
    [
        ({"backfill_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "backfill_id"),
        ({"backfill_id": "orders"}, grpc.StatusCode.INVALID_ARGUMENT, "backfill_id"),
        ({"backfill_id": "bf-aaaaaaaaaaaa"}, grpc.StatusCode.NOT_FOUND, None),
        ({"request_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "request_id"),
        ({"expected_state_version": -1}, grpc.StatusCode.INVALID_ARGUMENT, "expected_state_version"),
        ({"reason": "r" * 1025}, grpc.StatusCode.INVALID_ARGUMENT, "reason"),
    ],
)
async def test_bad_mutations_are_refused_with_the_field(
    backfills: Backfills, request_fields: dict[str, object], code: grpc.StatusCode, field: str | None
) -> None:
    backfill_id = await make(backfills)
    fields: dict[str, object] = {"request_id": "p-1", "backfill_id": backfill_id, **request_fields}
    failure = await call_failure(backfills.stub.PauseBackfill(api.PauseBackfillRequest(**fields)))  # type: ignore[arg-type]
    assert failure.code == code
    if field is not None:
        assert [f for f, _ in failure.violations] == [field]


async def test_events_are_the_audit_log_oldest_first_and_paginated(backfills: Backfills) -> None:
    backfill_id = await make(backfills)
    for n in range(4):
        await backfills.stub.PauseBackfill(pause(backfill_id, f"p-{n}", reason=f"pause {n}"))
        await backfills.stub.ResumeBackfill(resume(backfill_id, f"r-{n}", reason=f"resume {n}"))

    seen: list[api.BackfillEvent] = []
    token = ""
    while True:
        page = await backfills.stub.ListBackfillEvents(
            api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=3, page_token=token)
        )
        assert len(page.events) <= 3
        seen.extend(page.events)
        token = page.next_page_token
        if not token:
            break
    assert [e.state_version for e in seen] == list(range(1, 11))
    assert [e.sequence for e in seen] == sorted(e.sequence for e in seen)
    assert [e.type for e in seen[:4]] == ["BackfillCreated", "BackfillStarted", "BackfillPaused", "BackfillResumed"]
    assert seen[2].payload.paused.reason == "pause 0" and seen[2].request_id == "p-0"
    assert seen[0].payload.created.targets[0].asset_key == "orders"
    # A token is bound to its backfill.
    other = await make(backfills, "c-2")
    first_page = await backfills.stub.ListBackfillEvents(api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=2))
    failure = await call_failure(backfills.stub.ListBackfillEvents(
        api.ListBackfillEventsRequest(backfill_id=other, page_token=first_page.next_page_token)
    ))
    assert failure.violations[0][0] == "page_token"
    missing = await call_failure(backfills.stub.ListBackfillEvents(
        api.ListBackfillEventsRequest(backfill_id="bf-aaaaaaaaaaaa")
    ))
    assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_state_survives_a_restart(start: ServerStarter) -> None:
    first = await serve_backfills(await start())
    backfill_id = await make(first)
    paused = await first.stub.PauseBackfill(pause(backfill_id, "p-1", reason="before restart"))
    await stop(first.served)

    second = await serve_backfills(await start())
    got = (await second.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert got == paused.backfill
    assert await second.stub.PauseBackfill(pause(backfill_id, "p-1", reason="before restart")) == paused
    resumed = await second.stub.ResumeBackfill(resume(backfill_id, "r-1", expected_state_version=3))
    assert resumed.backfill.state_version == 4
