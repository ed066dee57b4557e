"""One event per worker call: LeaseChunks appends a ChunksLeased and CompleteChunks a ChunksCompleted per backfill;
runs list in lease order within an event; logs of single chunk events project the same rows as batches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi, worker_service_pb2 as wapi
from arco_grpc.domain.backfill import CreateBackfill, decide
from arco_grpc.domain.chunk_events import ChunkFailed, ChunkLeased, ChunksCompleted, ChunksLeased, ChunkSucceeded
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.service.backfill_fold import project_backfills
from arco_grpc.service.backfill_projection import backfill_stream
from arco_grpc.service.convert_backfills import event_to_payload
from arco_grpc.store import ChunkQuery, EventStore, RunQuery, open_store
from arco_grpc.store.payloads import encode_event
from tests.domain.test_chunk_lifecycle import NOW, TTL, created
from tests.service.backfill_helpers import target
from tests.service.builders import key_range
from tests.service.test_worker_support import (  # noqa: F401 - served_workers is a fixture
    FAILED,
    Workers,
    served_workers,
)

JANUARY = key_range("2024-01-01", "2024-01-28")  # 28 daily partitions: chunks of 7


async def test_a_lease_call_appends_one_event_and_its_runs_list_in_lease_order(served_workers: Workers) -> None:
    w = served_workers
    backfill_id = await w.create("b-1", target("orders", JANUARY), max_concurrency=4)
    version = (await w.backfill(backfill_id)).state_version

    leased = await w.lease("w1", 3)

    events = await w.events(backfill_id)
    assert [e.type for e in events[-1:]] == ["ChunksLeased"] and events[-1].state_version == version + 1
    payload = events[-1].payload.chunks_leased
    assert payload.worker_id == "w1" and [(l.index, l.run_id) for l in payload.leases] == [
        (c.index, c.run_id) for c in leased
    ]
    assert [c.index for c in leased] == [0, 1, 2]
    paged, token = [], ""
    while True:  # one run per page: the pages must step through the runs of one event in order
        page = await w.runs.ListRuns(rapi.ListRunsRequest(backfill_id=backfill_id, page_size=1, page_token=token))
        paged.extend(page.runs)
        token = page.next_page_token
        if not token:
            break
    assert [r.run_id for r in paged] == [c.run_id for c in leased]


async def test_a_completion_call_appends_one_event_per_backfill(served_workers: Workers) -> None:
    w = served_workers
    first = await w.create("b-1", target("orders", JANUARY), max_concurrency=4)
    second = await w.create("b-2", target("orders", key_range("2024-02-01", "2024-02-28")), max_concurrency=4)
    leased = await w.lease("w1", 4)  # the backfills take turns: two chunks each
    assert sorted(c.backfill_id for c in leased) == sorted([first, first, second, second])
    versions = {b: (await w.backfill(b)).state_version for b in (first, second)}

    answer = await w.workers.CompleteChunks(wapi.CompleteChunksRequest(completions=[
        w.completion("w1", leased[0]), w.completion("w1", leased[1], FAILED, error="x"),
        w.completion("w1", leased[2]), w.completion("w1", leased[3]), w.completion("w1", leased[0]),
    ]))

    assert [r.error_code for r in answer.results] == [0] * 5
    assert answer.results[4] == answer.results[0]  # the repeat is answered as the first
    for backfill_id in (first, second):
        events = await w.events(backfill_id)
        assert [e.type for e in events if e.state_version > versions[backfill_id]] == ["ChunksCompleted"]
        ours = [c.run_id for c in leased if c.backfill_id == backfill_id]
        outcomes = events[-1].payload.chunks_completed.outcomes
        assert [getattr(o, o.WhichOneof("kind")).run_id for o in outcomes] == ours


async def append(store: EventStore, events: list[object], version: int) -> int:
    await store.append(
        backfill_stream("bf-test"), version, [encode_event(event_to_payload(e)) for e in events],  # type: ignore[arg-type]
        request=None, recorded_at=NOW, project=project_backfills,
    )
    return version + len(events)


async def projected_rows(db: Path, batched: bool) -> tuple[object, ...]:
    """The rows a log of two leases and their outcomes projects, as single chunk events or as batches."""
    store = await open_store(str(db))
    try:
        version = await append(store, list(decide(CreateBackfill(created(max_concurrency=2)), None)), 0)
        leases = [
            ChunkLeased("orders", 1, index, 1, f"run-{index}", f"rk-{index}", "w1", NOW + TTL, TTL,
                        PartitionSubset.of_range(index * 5, index * 5 + 5), 5)
            for index in (0, 1)
        ]
        outcomes = [
            ChunkSucceeded("orders", 1, 0, 1, "run-0", leases[0].partitions, (("rows", "5"),)),
            ChunkFailed("orders", 1, 1, 1, "run-1", leases[1].partitions, PartitionSubset.of_range(7, 8), "bad",
                        True, NOW + timedelta(seconds=10)),
        ]
        if batched:
            version = await append(store, [ChunksLeased(tuple(leases))], version)
            await append(store, [ChunksCompleted(tuple(outcomes))], version)
        else:
            version = await append(store, leases, version)
            await append(store, outcomes, version)
        chunks = await store.list_chunks(ChunkQuery("bf-test", (0, 0, 0), 10))
        runs = await store.list_runs(RunQuery("bf-test", 0, 10))
        backfill = await store.get_backfill("bf-test")
        assert backfill is not None
        # What differs by construction: the event sequences and versions.
        return (
            chunks,
            [replace(run, lease_sequence=0, lease_position=0) for run in runs],
            replace(backfill, state_version=0),
        )
    finally:
        await store.close()


async def test_single_chunk_events_and_batches_of_them_project_the_same_rows(tmp_path: Path) -> None:
    single = await projected_rows(tmp_path / "single.db", batched=False)
    batched = await projected_rows(tmp_path / "batched.db", batched=True)

    chunks, runs, backfill = batched
    assert [(c.chunk_index, c.state) for c in chunks] == [(0, 3), (1, 1)]  # SUCCEEDED; PENDING with its retry
    assert [(r.run_id, r.state) for r in runs] == [("run-0", 2), ("run-1", 3)]  # SUCCEEDED, FAILED
    assert backfill.leased_chunks == 0  # type: ignore[attr-defined]
    assert single == batched
