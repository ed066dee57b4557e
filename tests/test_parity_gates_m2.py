"""Milestone-2 parity gates: properties the backfill lifecycle must keep under concurrency."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import grpc

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from tests.service.backfill_helpers import create, serve_backfills, target
from tests.service.conftest import ServerStarter, db_path, start  # noqa: F401 - fixtures

S = bf.Backfill
CLIENTS = 12
OPERATIONS_PER_CLIENT = 40
# (state before, event type) -> state after; events absent from a state's row are illegal there.
LEGAL_MOVES: dict[tuple[int, str], int] = {
    (S.STATE_UNSPECIFIED, "BackfillCreated"): S.STATE_CREATED,
    (S.STATE_CREATED, "BackfillStarted"): S.STATE_RUNNING,
    (S.STATE_RUNNING, "BackfillPaused"): S.STATE_PAUSED,
    (S.STATE_PAUSED, "BackfillResumed"): S.STATE_RUNNING,
    (S.STATE_CREATED, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_RUNNING, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_PAUSED, "BackfillCancelRequested"): S.STATE_CANCELLING,
    (S.STATE_CANCELLING, "BackfillCancelled"): S.STATE_CANCELLED,
}
Mutation = api.PauseBackfillRequest | api.ResumeBackfillRequest | api.CancelBackfillRequest


@dataclass
class Outcomes:
    """What the clients saw: every acknowledged request with its first answer, and the refusals."""

    acknowledged: dict[str, tuple[Mutation, bf.Backfill]] = field(default_factory=dict)
    refused: dict[grpc.StatusCode, int] = field(default_factory=dict)


async def client(number: int, address: str, backfill_id: str, outcomes: Outcomes) -> None:
    rng = random.Random(number)
    seen_version = 2
    mine: list[str] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
        for n in range(OPERATIONS_PER_CLIENT):
            if mine and rng.random() < 0.2:
                request, _ = outcomes.acknowledged[rng.choice(mine)]  # a client retry: replay exactly
            else:
                roll = rng.random()
                # Cancels only near the end, so that most of the race is pause against resume.
                late = n >= OPERATIONS_PER_CLIENT - 4
                kind = "Cancel" if late and roll < 0.1 else ("Pause" if roll < 0.5 else "Resume")
                request = getattr(api, f"{kind}BackfillRequest")(
                    request_id=f"c{number}-{n}", backfill_id=backfill_id, reason=f"client {number} op {n}",
                    expected_state_version=seen_version if rng.random() < 0.3 else 0,
                )
            method = type(request).__name__.removesuffix("Request")
            try:
                response = await getattr(stub, method)(request)
            except grpc.aio.AioRpcError as error:
                allowed = {grpc.StatusCode.FAILED_PRECONDITION}
                if request.expected_state_version:
                    allowed.add(grpc.StatusCode.ABORTED)
                assert error.code() in allowed, (request, error.code(), error.details())
                outcomes.refused[error.code()] = outcomes.refused.get(error.code(), 0) + 1
                continue
            first = outcomes.acknowledged.setdefault(request.request_id, (request, response.backfill))
            assert first == (request, response.backfill), "a replay must return the first answer"
            mine.append(request.request_id)
            seen_version = max(seen_version, response.backfill.state_version)
            await asyncio.sleep(0)  # let the others interleave


async def all_events(stub: backfill_service_pb2_grpc.BackfillServiceStub, backfill_id: str) -> list[api.BackfillEvent]:
    events: list[api.BackfillEvent] = []
    token = ""
    while True:
        page = await stub.ListBackfillEvents(
            api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=50, page_token=token)
        )
        events.extend(page.events)
        token = page.next_page_token
        if not token:
            return events


async def test_parity_m2_backfill_pause_resume_cancel_transitions_are_monotonic(start: ServerStarter) -> None:
    backfills = await serve_backfills(await start())
    created = await backfills.stub.CreateBackfill(create("create-1", target("orders")))
    backfill_id = created.backfill.id
    outcomes = Outcomes()

    await asyncio.gather(*(
        client(number, backfills.served.address, backfill_id, outcomes) for number in range(CLIENTS)
    ))

    events = await all_events(backfills.stub, backfill_id)
    # state_version strictly increasing, no gaps.
    assert [e.state_version for e in events] == list(range(1, len(events) + 1))
    # Every accepted transition is legal; remember the state after each version.
    state_at = {0: S.STATE_UNSPECIFIED}
    state = S.STATE_UNSPECIFIED
    for event in events:
        if event.type == "BackfillConcurrencyChanged":
            assert state not in (S.STATE_CANCELLED, S.STATE_COMPLETED)
        else:
            assert (state, event.type) in LEGAL_MOVES, f"illegal {event.type} in {S.State.Name(state)}"
            state = LEGAL_MOVES[(state, event.type)]
        state_at[event.state_version] = state
    # The final state is the last event's.
    final = (await backfills.stub.GetBackfill(api.GetBackfillRequest(backfill_id=backfill_id))).backfill
    assert (final.state, final.state_version) == (state, events[-1].state_version)
    # Nothing acknowledged was lost, nothing refused was written.
    by_request: dict[str, list[api.BackfillEvent]] = {}
    for event in events:
        by_request.setdefault(event.request_id, []).append(event)
    assert set(by_request) <= set(outcomes.acknowledged) | {"create-1"}
    for request_id, (request, answer) in outcomes.acknowledged.items():
        written = by_request.get(request_id, [])
        if written:  # its events are one contiguous batch ending at the answer's version
            versions = [e.state_version for e in written]
            assert versions == list(range(versions[0], versions[0] + len(versions)))
            assert versions[-1] == answer.state_version
        assert state_at[answer.state_version] == answer.state, request_id
        if request.expected_state_version:
            first_version = written[0].state_version - 1 if written else answer.state_version
            assert first_version == request.expected_state_version
    # The race really raced: changes were made, refused and replayed.
    assert len(events) > 20
    assert outcomes.refused.get(grpc.StatusCode.ABORTED, 0) > 0
    assert sum(1 for e in events if e.type == "BackfillPaused") > 5


async def test_parity_m2_retry_failed_only_targets_failed_partitions_deterministically(tmp_path) -> None:  # noqa: ANN001
    """RetryFailedPartitions retries exactly the failed partitions, deterministically.

    "Deterministically" means: a retry round's chunks are a pure function of
    the failed partitions, the chunk size and the dispatch order, and its run
    keys a pure function of (backfill id, asset, round, index, attempt). So
    two backfills over the same selection with the same failures get the same
    round-2 chunks (index by index, the same keys) and the same run keys up to
    their backfill id; and one backfill shows the same round-2 chunks and run
    keys after a server restart. Its history (RetryRoundOpened) records the
    retried subset, which equals the failed subset.
    """
    from arco_grpc.planning.chunks import run_key
    from tests.service.builders import key_range
    from tests.service.test_worker_support import ManualClock, no_backoff, start_workers, stop_workers

    failing = ["2024-03-02", "2024-03-03", "2024-03-11", "2024-03-29", "2024-03-30", "2024-03-31"]
    selection = target("orders", key_range("2024-03-01", "2024-03-31"))
    w = await start_workers(tmp_path / "arco.db", ManualClock())
    try:
        ids = [await w.create(f"twin-{n}", selection, chunk_size=5, retry_policy=no_backoff(max_attempts=1))
               for n in range(2)]
        for backfill_id in ids:
            await w.drain("w1", backfill_id, failing=failing)
        failed = {}
        for backfill_id in ids:
            done = await w.backfill(backfill_id)
            assert done.state == S.STATE_COMPLETED
            failed[backfill_id] = [(r.start, r.end) for r in done.outcomes[0].failed.ranges]

        retried = {}
        for backfill_id in ids:
            answer = await w.backfills.RetryFailedPartitions(
                api.RetryFailedPartitionsRequest(request_id=f"retry-{backfill_id}", backfill_id=backfill_id)
            )
            retried[backfill_id] = [(r.start, r.end) for r in answer.retried[0].partitions.ranges]
            history = (await w.events(backfill_id))[-1]
            assert history.type == "RetryRoundOpened"
            recorded = history.payload.retry_round_opened.targets[0]
            assert [(r.start, r.end) for r in recorded.partitions.ranges] == failed[backfill_id]
        assert retried[ids[0]] == failed[ids[0]] == retried[ids[1]] == failed[ids[1]]  # exactly the failures

        def structure(chunks: list[bf.Chunk], backfill_id: str) -> list[tuple[int, list[str], bool]]:
            return [
                (c.index, list(c.partition_keys), c.run_key == run_key(backfill_id, "orders", 2, c.index, 1))
                for c in chunks
            ]

        before = {backfill_id: structure(await w.chunks(backfill_id, round=2), backfill_id) for backfill_id in ids}
        assert before[ids[0]] == before[ids[1]]
        assert [keys for _, keys, _ in before[ids[0]]] == [failing[:5], failing[5:]]
        assert all(matches for _, _, matches in before[ids[0]])

        await stop_workers(w)
        w = await start_workers(w.db, w.clock)
        after = {backfill_id: structure(await w.chunks(backfill_id, round=2), backfill_id) for backfill_id in ids}
        assert after == before
        leased = [c for c in await w.lease("w2", 10) if c.backfill_id == ids[0]]
        assert [(c.round, c.index, list(c.partition_keys), c.run_key) for c in leased] == [
            (2, index, keys, run_key(ids[0], "orders", 2, index, 1)) for index, keys, _ in before[ids[0]]
        ]
    finally:
        await stop_workers(w)
