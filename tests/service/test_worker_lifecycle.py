"""WorkerService: lease, heartbeat, complete (idempotent), stale leases, release, validation."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, worker_service_pb2 as wapi
from arco_grpc.planning.chunks import run_key
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.conftest import FIXED_NOW, call_failure
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    OK,
    Workers,
    no_backoff,
    seconds,
    served_workers,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")

C = bf.Chunk
B = bf.Backfill
JANUARY = key_range("2024-01-01", "2024-01-20")  # 20 daily partitions: chunks of 7, 7, 6


async def test_a_lease_carries_everything_a_worker_needs_and_shows_in_chunks_and_runs(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), tags={"team": "red"})

    [chunk] = await w.lease("w1", ttl=60)

    assert (chunk.backfill_id, chunk.asset_key, chunk.round, chunk.index, chunk.attempt) == (backfill_id, "orders", 1, 0, 1)
    assert list(chunk.partition_keys) == [f"2024-01-{d:02d}" for d in range(1, 8)]
    assert (chunk.partition_count, chunk.first_key, chunk.last_key) == (7, "2024-01-01", "2024-01-07")
    assert chunk.run_key == run_key(backfill_id, "orders", 1, 0, 1)
    assert chunk.lease.run_id == chunk.run_id and chunk.lease.backfill_id == backfill_id
    assert chunk.lease_expire_time.ToDatetime() == (FIXED_NOW + timedelta(seconds=60)).replace(tzinfo=None)
    assert dict(chunk.tags) == {"team": "red"}
    stored = await w.chunk(backfill_id, "orders", 0)
    assert (stored.state, stored.run_id, stored.worker_id, stored.attempt) == (C.STATE_LEASED, chunk.run_id, "w1", 1)
    run = (await w.runs.GetRun(rapi.GetRunRequest(run_id=chunk.run_id))).run
    assert (run.state, run.run_key, run.worker_id, run.partition_count) == (rapi.Run.STATE_RUNNING, chunk.run_key, "w1", 7)
    progress = (await w.backfill(backfill_id)).progress
    assert (progress.partitions_running, progress.partitions_pending) == (7, 13)
    assert dict(progress.chunks_by_state) == {"STATE_PENDING": 2, "STATE_LEASED": 1}


async def test_heartbeats_extend_leases_in_memory_and_name_the_lost_ones(served_workers: Workers) -> None:
    w = served_workers
    await w.create("c-1", target("orders", JANUARY))
    [mine] = await w.lease("w1", ttl=10)
    [theirs] = await w.lease("w2", ttl=10)
    events_before = len(await w.events(mine.backfill_id))

    await w.advance(8)
    beat = await w.heartbeat("w1", [mine, theirs], ttl=20)

    assert [e.lease.run_id for e in beat.extended] == [mine.run_id]
    assert beat.extended[0].lease_expire_time.ToDatetime() == (FIXED_NOW + timedelta(seconds=28)).replace(tzinfo=None)
    assert [lost.run_id for lost in beat.lost] == [theirs.run_id]  # another worker's lease is not this worker's
    assert not beat.stop
    assert await w.advance(10) == 1  # t=18: theirs (expiry 10) lapses, mine (extended to 28) does not
    assert (await w.chunk(mine.backfill_id, "orders", 0)).state == C.STATE_LEASED
    assert (await w.chunk(mine.backfill_id, "orders", 1)).state == C.STATE_PENDING
    # Heartbeats write nothing: only the lapse was recorded.
    assert await w.event_types(mine.backfill_id) == [*((await w.event_types(mine.backfill_id))[:events_before]),
                                                     "ChunkLeaseExpired"]


async def test_completing_succeeds_once_and_a_repeat_returns_the_first_answer(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    [chunk] = await w.lease("w1")

    first = await w.complete("w1", chunk, metadata={"rows": "7"})
    events = await w.event_types(backfill_id)
    again = await w.complete("w1", chunk, metadata={"rows": "7"})

    assert (first.chunk_state, first.will_retry) == (C.STATE_SUCCEEDED, False)
    assert again == first
    assert await w.event_types(backfill_id) == events  # nothing new written
    assert events[-1] == "ChunkSucceeded"
    run = (await w.runs.GetRun(rapi.GetRunRequest(run_id=chunk.run_id))).run
    assert (run.state, dict(run.metadata), run.HasField("end_time")) == (rapi.Run.STATE_SUCCEEDED, {"rows": "7"}, True)
    assert (await w.chunk(backfill_id, "orders", 0)).state == C.STATE_SUCCEEDED


async def test_a_stale_lease_is_failed_precondition_and_changes_nothing(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff())
    [chunk] = await w.lease("w1", ttl=5)
    await w.advance(6)  # lapses
    [again] = await w.lease("w2")  # the same chunk, attempt 2
    assert (again.index, again.attempt) == (chunk.index, 2)
    events = await w.event_types(backfill_id)

    late = await call_failure(w.complete("w1", chunk))
    wrong_worker = await call_failure(w.complete("w1", again))
    [other] = await w.lease("w3")
    await w.complete("w3", other)
    other_outcome = await call_failure(w.complete("w3", other, FAILED, error="no, it failed"))

    assert late.code == grpc.StatusCode.FAILED_PRECONDITION and late.reason == "STALE_LEASE"
    assert wrong_worker.code == grpc.StatusCode.FAILED_PRECONDITION
    assert wrong_worker.reason == "LEASE_HELD_BY_ANOTHER_WORKER"
    assert other_outcome.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await w.event_types(backfill_id) == [*events, "ChunksLeased", "ChunkSucceeded"]  # only w3's own work
    assert (await w.chunk(backfill_id, "orders", 0)).run_id == again.run_id
    assert (await w.complete("w2", again)).chunk_state == C.STATE_SUCCEEDED


async def test_a_lapsed_lease_reported_late_is_refused_and_unknown_runs_are_not_found(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    [chunk] = await w.lease("w1", ttl=5)
    await w.advance(6)

    late = await call_failure(w.complete("w1", chunk))
    missing = wapi.LeasedChunk(lease=wapi.ChunkLease(run_id="run-nope", backfill_id=backfill_id))
    unknown = await call_failure(w.complete("w1", missing))

    assert late.code == grpc.StatusCode.FAILED_PRECONDITION and "LEASE_EXPIRED" in late.message
    assert unknown.code == grpc.StatusCode.NOT_FOUND


async def test_release_gives_the_chunk_back_without_using_an_attempt(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=1))
    [chunk] = await w.lease("w1")

    released = await w.workers.ReleaseChunks(wapi.ReleaseChunksRequest(worker_id="w1", leases=[chunk.lease]))
    ignored = await w.workers.ReleaseChunks(wapi.ReleaseChunksRequest(worker_id="w1", leases=[chunk.lease]))
    [again] = await w.lease("w2")

    assert (released.released_count, ignored.released_count) == (1, 0)
    assert (again.index, again.attempt) == (0, 2)
    assert again.run_key == run_key(backfill_id, "orders", 1, 0, 2)
    run = (await w.runs.GetRun(rapi.GetRunRequest(run_id=chunk.run_id))).run
    assert run.state == rapi.Run.STATE_RELEASED
    # max_attempts 1: a failure now is final, so the release did not count as one.
    assert (await w.complete("w2", again, FAILED)).chunk_state == C.STATE_FAILED
    assert (await w.chunk(backfill_id, "orders", 0)).failed_attempts == 1


async def test_a_lease_retried_with_its_request_id_returns_the_leases_still_held(served_workers: Workers) -> None:
    w = served_workers
    await w.create("c-1", target("orders", JANUARY))

    first = await w.lease("w1", 2, request_id="lease-1")
    again = await w.lease("w1", 2, request_id="lease-1")
    await w.complete("w1", first[0])
    later = await w.lease("w1", 2, request_id="lease-1")
    reused = await call_failure(w.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w1", max_chunks=3,
                                                                              request_id="lease-1")))

    assert [c.run_id for c in again] == [c.run_id for c in first] and len(first) == 2
    assert [c.run_id for c in later] == [first[1].run_id]
    assert reused.code == grpc.StatusCode.INVALID_ARGUMENT and reused.reason == "REQUEST_ID_REUSED"
    assert [c.index for c in await w.lease("w1", 5)] == [2]  # the replays leased nothing more


async def test_every_chunk_done_completes_the_backfill_with_counts(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY), retry_policy=no_backoff(max_attempts=1))

    assert await w.drain("w1", backfill_id, failing=["2024-01-09", "2024-01-10"]) == 3

    backfill = await w.backfill(backfill_id)
    assert backfill.state == B.STATE_COMPLETED and backfill.HasField("end_time")
    progress = backfill.progress
    assert (progress.partitions_succeeded, progress.partitions_failed, progress.partitions_pending) == (18, 2, 0)
    assert dict(progress.chunks_by_state) == {"STATE_SUCCEEDED": 2, "STATE_FAILED": 1}
    events = await w.events(backfill_id)
    completed = events[-1].payload.completed
    assert (events[-1].type, completed.partitions_succeeded, completed.partitions_failed) == ("BackfillCompleted", 18, 2)
    assert [(o.asset_key, o.succeeded_count, o.failed_count) for o in backfill.outcomes] == [("orders", 18, 2)]
    assert [(r.start, r.end) for r in backfill.outcomes[0].failed.ranges] == [(8, 10)]
    assert backfill.transitions[-1].to_state == B.STATE_COMPLETED


async def test_heartbeat_progress_goes_to_the_progress_sink(served_workers: Workers, monkeypatch) -> None:  # noqa: ANN001
    w = served_workers
    await w.create("c-1", target("orders", JANUARY))
    [chunk] = await w.lease("w1")
    published: list[tuple[object, ...]] = []
    monkeypatch.setattr(w.running.watch_hub, "publish_progress", lambda *args: published.append(args))

    await w.workers.Heartbeat(wapi.HeartbeatRequest(
        worker_id="w1", leases=[chunk.lease],
        progress=[wapi.ChunkProgress(lease=chunk.lease, fraction=0.5, message="half"),
                  wapi.ChunkProgress(lease=wapi.ChunkLease(run_id="run-x", backfill_id=chunk.backfill_id), fraction=1)],
    ))

    assert published == [(chunk.backfill_id, "orders", 1, 0, chunk.run_id, 0.5, "half", FIXED_NOW)]


async def test_bad_worker_requests_are_invalid_argument_and_change_nothing(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    [chunk] = await w.lease("w1")
    events = await w.event_types(backfill_id)
    cases = [
        (w.workers.LeaseChunks(wapi.LeaseChunksRequest(max_chunks=1)), "worker_id"),
        (w.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w", max_chunks=-1)), "max_chunks"),
        (w.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w", wait_timeout=seconds(61))), "wait_timeout"),
        (w.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w", lease_ttl=seconds(0.5))), "lease_ttl"),
        (w.workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w\n")), "worker_id"),
        (w.complete("w1", chunk, outcome=0), "completion.outcome"),
        (w.complete("w1", chunk, OK, failed=["2024-01-02"]), "completion.failed_partition_keys"),
        (w.complete("w1", chunk, FAILED, failed=["2024-01-09"]), "completion.failed_partition_keys"),
        (w.complete("w1", chunk, FAILED, failed=["yesterday"]), "completion.failed_partition_keys[0]"),
        (w.complete("w1", wapi.LeasedChunk(lease=wapi.ChunkLease(run_id="r", backfill_id="bf-x"))),
         "completion.lease.backfill_id"),
        (w.workers.Heartbeat(wapi.HeartbeatRequest(worker_id="w1", leases=[wapi.ChunkLease(backfill_id=backfill_id)])),
         "leases[0].run_id"),
    ]
    for call, field in cases:
        failure = await call_failure(call)
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, field
        assert failure.violations[0][0] == field
    assert await w.event_types(backfill_id) == events
    assert (await w.complete("w1", chunk)).chunk_state == C.STATE_SUCCEEDED


async def test_a_completion_batch_answers_each_completion(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("c-1", target("orders", JANUARY))
    chunks = await w.lease("w1", 3)
    stale = wapi.ChunkCompletion(lease=wapi.ChunkLease(run_id="run-none", backfill_id=backfill_id), worker_id="w1",
                                 outcome=OK)

    answer = await w.workers.CompleteChunks(wapi.CompleteChunksRequest(completions=[
        w.completion("w1", chunks[0]), stale, w.completion("w1", chunks[1], FAILED, error="x"),
        w.completion("w1", chunks[0]), w.completion("w1", chunks[2]),
    ]))

    codes = [r.error_code for r in answer.results]
    assert codes == [0, grpc.StatusCode.NOT_FOUND.value[0], 0, 0, 0]
    assert [r.response.chunk_state for r in answer.results if not r.error_code] == [
        C.STATE_SUCCEEDED, C.STATE_PENDING, C.STATE_SUCCEEDED, C.STATE_SUCCEEDED
    ]
    # One event for the call, holding each outcome once (the repeat of chunk 0 wrote nothing).
    completed = [e.payload.chunks_completed for e in await w.events(backfill_id) if e.type == "ChunksCompleted"]
    assert [[o.WhichOneof("kind") for o in c.outcomes] for c in completed] == [["succeeded", "failed", "succeeded"]]


async def test_leases_granted_together_lapse_together_unless_extended_or_ended(served_workers: Workers) -> None:
    """One call's leases share a deadline: each still lapses on its own expiry, and only if still held."""
    w = served_workers
    backfill_id = await w.create(
        "c-1", target("orders", key_range("2024-01-01", "2024-01-28")), retry_policy=no_backoff(10)
    )  # 4 chunks of 7
    first, extended, *_ = await w.lease("w1", 4, ttl=10)
    await w.complete("w1", first)
    await w.advance(8)
    await w.heartbeat("w1", [extended], ttl=20)

    assert await w.advance(2) == 2  # t=10: the two others lapse; the extended one runs on to t=28
    states = [(await w.chunk(backfill_id, "orders", index)).state for index in range(4)]
    assert states == [C.STATE_SUCCEEDED, C.STATE_LEASED, C.STATE_PENDING, C.STATE_PENDING]
    assert await w.advance(18) == 1

    # t=28. A deadline passed and the clock moved back: a lease with that same expiry lapses all the same.
    assert len(await w.lease("w2", 2, ttl=10)) == 2  # until t=38
    assert await w.advance(10) == 2
    w.clock.now -= timedelta(seconds=10)
    assert len(await w.lease("w2", 1, ttl=10)) == 1  # until t=38 again
    assert await w.advance(10) == 1
