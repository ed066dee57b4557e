"""Watching a backfill that workers run: chunk events, heartbeat progress, and the end at COMPLETED."""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi, worker_service_pb2_grpc
from tests.service.conftest import db_path  # noqa: F401 - fixture
from tests.service.watch_support import (
    WatchStarter,
    event_log,
    events_of,
    kinds,
    new_backfill,
    read_to_end,
    read_until,
    start_watching,  # noqa: F401 - fixture
)


async def test_a_worker_run_backfill_streams_chunk_events_and_progress_then_ends(start_watching: WatchStarter) -> None:
    server = await start_watching()
    workers = worker_service_pb2_grpc.WorkerServiceStub(server.backfills.served.channel)
    backfill_id = await new_backfill(server.stub, "run-by-workers", asset="regions", chunk_size=1)
    one = server.stub.WatchBackfill(
        api.WatchBackfillRequest(backfill_id=backfill_id, include_snapshot=True, follow=False)
    )
    running = server.stub.WatchBackfills(api.WatchBackfillsRequest(states=[bf.Backfill.STATE_RUNNING]))
    first = await read_until(one, lambda m: m.WhichOneof("kind") == "heartbeat")
    assert first[0].snapshot.backfill.progress.partitions_pending == 3
    await read_until(running, lambda m: m.WhichOneof("kind") == "heartbeat")

    leased = (await workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w1", max_chunks=3))).chunks
    assert len(leased) == 3
    # Progress goes through the worker service's Heartbeat, not the event log.
    await workers.Heartbeat(wapi.HeartbeatRequest(
        worker_id="w1", leases=[chunk.lease for chunk in leased],
        progress=[wapi.ChunkProgress(lease=leased[1].lease, fraction=0.5, message="half way")],
    ))
    progress = await read_until(one, lambda m: m.WhichOneof("kind") == "progress")
    update = progress[-1].progress
    assert (update.backfill_id, update.asset_key, update.round, update.index, update.run_id) == (
        backfill_id, "regions", leased[1].round, leased[1].index, leased[1].lease.run_id)
    assert (update.fraction, update.message) == (0.5, "half way")

    await workers.CompleteChunks(wapi.CompleteChunksRequest(completions=[
        wapi.ChunkCompletion(lease=chunk.lease, worker_id="w1", outcome=wapi.ChunkCompletion.OUTCOME_SUCCEEDED)
        for chunk in leased
    ]))
    # Follow off: the stream ends by itself after BackfillCompleted.
    rest = await read_to_end(one)
    received = events_of(first + progress + rest)
    log = await event_log(server.stub, backfill_id)
    assert received == [event for event in log if event.sequence > first[0].snapshot.sequence]
    assert received[-1].type == "BackfillCompleted"
    assert "progress" not in kinds(rest)

    # A dashboard of RUNNING backfills saw the chunk events and the move out of RUNNING.
    seen = events_of(await read_until(running, lambda m: m.event.type == "BackfillCompleted"))
    assert seen == received
    running.cancel()
