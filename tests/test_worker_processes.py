"""Workers and servers as real processes: SIGKILL of either, 20 racing workers, pause/resume, graceful SIGTERM.

`arco serve` runs as a subprocess on a temporary SQLite file, and each worker
is an `arco worker --exec` subprocess whose shell command records what it did
in files under tmp_path (short lines appended with O_APPEND, so lines from
concurrent commands never interleave).
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rs, worker_service_pb2 as ws
from tests.worker.processes import (
    Client,
    ServerProcess,
    WorkerProcess,
    indices_of,
    lines_of,
    peak_overlap,
    process_alive,
    reap_orphans,
    start_server,
    start_worker,
    static_keys,
    wait_until,
)

ASSET = "letters"


class Cluster:
    """One server process on a fixed database and the worker processes started against it."""

    def __init__(self, tmp_path: Path, store_location: str) -> None:
        self.tmp_path = tmp_path
        self.db = store_location
        self.server: ServerProcess | None = None
        self.workers: list[WorkerProcess] = []
        self.client: Client | None = None

    async def start_server(self) -> ServerProcess:
        port = self.server.port if self.server else 0  # a restart keeps the address workers know
        self.server = await start_server(self.tmp_path, self.db, port)
        if self.client is None:
            self.client = Client(self.server.address)
        return self.server

    async def worker(self, command: str, worker_id: str, **options: object) -> WorkerProcess:
        assert self.server is not None
        worker = await start_worker(self.tmp_path, self.server.address, command, worker_id=worker_id, **options)  # type: ignore[arg-type]
        self.workers.append(worker)
        return worker

    async def close(self) -> None:
        for worker in self.workers:
            if worker.process.returncode is None:
                worker.process.kill()
                await worker.process.wait()
        if self.client is not None:
            await self.client.close()
        if self.server is not None and self.server.process.returncode is None:
            self.server.process.kill()
            await self.server.process.wait()
        reap_orphans(self.tmp_path / "pids")


@pytest.fixture
async def cluster(tmp_path: Path, store_location: str) -> AsyncIterator[Cluster]:
    started = Cluster(tmp_path, store_location)
    await started.start_server()
    yield started
    await started.close()


async def backfill(cluster: Cluster, keys: int, chunk_size: int, max_concurrency: int, **options: object) -> str:
    assert cluster.client is not None
    await cluster.client.apply_static(ASSET, static_keys(keys))
    return await cluster.client.create_backfill(ASSET, chunk_size=chunk_size, max_concurrency=max_concurrency,
                                                **options)  # type: ignore[arg-type]


async def completed(client: Client, backfill_id: str, timeout: float = 90) -> bf.Backfill:
    return await wait_until(lambda: client.state_is(backfill_id, bf.Backfill.STATE_COMPLETED), "COMPLETED", timeout)


def succeeded_indices(runs: list[rs.Run]) -> Counter[int]:
    """How many SUCCEEDED runs each partition index has."""
    return Counter(i for r in runs if r.state == rs.Run.STATE_SUCCEEDED for i in indices_of(r.partitions))


@pytest.mark.backends("sqlite", "postgres")
async def test_a_worker_killed_mid_chunk_loses_its_lease_and_the_chunk_completes_once(cluster: Cluster) -> None:
    client = cluster.client
    assert client is not None
    backfill_id = await backfill(cluster, keys=3, chunk_size=3, max_concurrency=1)
    # Attempt 1 hangs (its worker will be killed); any later attempt succeeds and says so.
    command = ('echo "$$" >> pids; echo "$ARCO_ATTEMPT $ARCO_RUN_KEY" >> started; '
               'if [ "$ARCO_ATTEMPT" = 1 ]; then sleep 300; fi; echo "$ARCO_RUN_KEY" >> finished')
    doomed = await cluster.worker(command, "doomed", lease_ttl=1.5)
    await wait_until(lambda: lines_of(cluster.tmp_path / "started"), "attempt 1 to start")
    doomed.process.kill()
    assert await doomed.process.wait() == -signal.SIGKILL

    await cluster.worker(command, "survivor", lease_ttl=5)
    await completed(client, backfill_id)
    runs = await client.all_runs(backfill_id)
    assert [(r.attempt, r.worker_id, r.state) for r in runs] == [
        (1, "doomed", rs.Run.STATE_LEASE_EXPIRED), (2, "survivor", rs.Run.STATE_SUCCEEDED)]
    assert runs[0].run_key != runs[1].run_key
    assert lines_of(cluster.tmp_path / "finished") == [runs[1].run_key]  # it ran to the end exactly once
    assert (await client.backfill(backfill_id)).progress.partitions_succeeded == 3


@pytest.mark.backends("sqlite", "postgres")
async def test_a_server_killed_again_and_again_loses_nothing_and_runs_nothing_twice(cluster: Cluster) -> None:
    client = cluster.client
    assert client is not None
    keys = 60
    backfill_id = await backfill(cluster, keys=keys, chunk_size=2, max_concurrency=4, max_attempts=20)
    done = cluster.tmp_path / "done"
    command = f'sleep 0.05; echo "$ARCO_RUN_KEY $ARCO_PARTITION_KEYS" >> {done}'
    workers = [await cluster.worker(command, f"w{n}", concurrency=2, lease_ttl=5) for n in range(2)]

    for kill, threshold in enumerate((4, 10, 16, 22), start=1):
        await wait_until(lambda: len(lines_of(done)) >= threshold, f"{threshold} chunks done before kill {kill}")
        assert cluster.server is not None
        cluster.server.process.kill()
        assert await cluster.server.process.wait() == -signal.SIGKILL
        await cluster.start_server()

    await completed(client, backfill_id)
    lines = [line.split() for line in lines_of(done)]
    run_keys = [line[0] for line in lines]
    assert len(run_keys) == len(set(run_keys)), "a run (one attempt) executed twice"
    runs = await client.all_runs(backfill_id)
    assert len({r.run_key for r in runs}) == len(runs)
    assert succeeded_indices(runs) == Counter(range(keys)), "every partition has exactly one successful run"
    # Every outcome a worker saw acknowledged is in the server's history.
    acknowledged = {key for w in workers for key in re.findall(r"succeeded .* run (rk-\w+)", w.output())}
    assert acknowledged and acknowledged <= {r.run_key for r in runs if r.state == rs.Run.STATE_SUCCEEDED}
    backfill_now = await client.backfill(backfill_id)
    assert (backfill_now.progress.partitions_succeeded, backfill_now.progress.partitions_failed) == (keys, 0)


async def test_twenty_workers_never_hold_more_chunks_than_max_concurrency(cluster: Cluster) -> None:
    client = cluster.client
    assert client is not None
    backfill_id = await backfill(cluster, keys=40, chunk_size=2, max_concurrency=3)
    log = cluster.tmp_path / "spans"
    command = f'echo "start $ARCO_RUN_KEY" >> {log}; sleep 0.3; echo "end $ARCO_RUN_KEY" >> {log}'
    for n in range(20):
        await cluster.worker(command, f"racer-{n:02d}", lease_ttl=10)
    await completed(client, backfill_id, timeout=120)

    running = peak = 0
    for line in lines_of(log):  # the file's order is the order of the appends
        running += 1 if line.startswith("start ") else -1
        peak = max(peak, running)
    assert peak == 3  # never more than 3, and the race did fill all 3 slots
    runs = await client.all_runs(backfill_id)
    assert len(runs) == 20 and {r.state for r in runs} == {rs.Run.STATE_SUCCEEDED}
    spans = [(r.start_time.ToNanoseconds(), r.end_time.ToNanoseconds()) for r in runs]
    assert peak_overlap(spans) <= 3
    assert len({r.worker_id for r in runs}) > 1


async def test_pause_lets_leased_chunks_finish_and_leases_nothing_until_resume(cluster: Cluster) -> None:
    client = cluster.client
    assert client is not None
    backfill_id = await backfill(cluster, keys=10, chunk_size=1, max_concurrency=2)
    started, gate = cluster.tmp_path / "started", cluster.tmp_path / "gate"
    command = f'echo "$ARCO_CHUNK_INDEX" >> {started}; while [ ! -e {gate} ]; do sleep 0.02; done'
    await cluster.worker(command, "w1", concurrency=3, lease_ttl=5)
    await wait_until(lambda: len(lines_of(started)) == 2, "two chunks to start")

    await client.backfills.PauseBackfill(api.PauseBackfillRequest(request_id="pause", backfill_id=backfill_id))
    gate.touch()  # the two leased chunks may finish now

    async def paused_and_idle() -> bool:
        b = await client.backfill(backfill_id)
        return b.state == bf.Backfill.STATE_PAUSED and b.progress.partitions_succeeded == 2 and \
            b.progress.partitions_running == 0

    await wait_until(paused_and_idle, "the leased chunks to finish while paused")
    # A probe worker long-polls for a second: a paused backfill hands out nothing.
    probe = await client.workers.LeaseChunks(ws.LeaseChunksRequest(
        worker_id="probe", max_chunks=5, wait_timeout=timedelta(seconds=1), lease_ttl=timedelta(seconds=5)))
    assert list(probe.chunks) == []
    assert sorted(lines_of(started)) == ["0", "1"]

    await client.backfills.ResumeBackfill(api.ResumeBackfillRequest(request_id="resume", backfill_id=backfill_id))
    await completed(client, backfill_id)
    order = [int(i) for i in lines_of(started)]
    assert sorted(order[:2]) == [0, 1] and sorted(order[2:]) == list(range(2, 10))  # each chunk once, from where it stopped
    runs = await client.all_runs(backfill_id)
    assert len(runs) == 10 and {r.state for r in runs} == {rs.Run.STATE_SUCCEEDED}


@pytest.mark.parametrize("mode", ["chunks-finish", "grace-runs-out", "second-signal"])
async def test_sigterm_stops_a_worker_gracefully_with_exit_code_zero(cluster: Cluster, mode: str) -> None:
    client = cluster.client
    assert client is not None
    backfill_id = await backfill(cluster, keys=8, chunk_size=2, max_concurrency=4)
    started, gate = cluster.tmp_path / "started", cluster.tmp_path / "gate"
    command = (f'echo "$$" >> pids; echo "$ARCO_CHUNK_INDEX" >> {started}; '
               f'while [ ! -e {gate} ]; do sleep 0.02; done; echo "$ARCO_CHUNK_INDEX" >> finished')
    grace = "0.2" if mode == "grace-runs-out" else "60"
    worker = await cluster.worker(command, "w1", concurrency=2, lease_ttl=30, extra=["--grace", grace])
    await wait_until(lambda: len(lines_of(started)) == 2, "two chunks to start")
    worker.process.send_signal(signal.SIGTERM)
    if mode != "grace-runs-out":
        # While it drains, the running commands go on.
        await wait_until(lambda: "stopping: waiting" in worker.output(), "the worker to start draining")
    if mode == "chunks-finish":
        gate.touch()  # now they end, within the grace
    if mode == "second-signal":
        worker.process.send_signal(signal.SIGTERM)  # no more patience: the grace becomes zero
    assert await asyncio.wait_for(worker.process.wait(), 60) == 0, worker.output()

    runs = await client.all_runs(backfill_id)
    chunks = {c.index: c for c in await client.all_chunks(backfill_id)}
    held = sorted(int(i) for i in lines_of(started))
    assert held == [0, 1] and len(runs) == 2  # it leased nothing once told to stop
    if mode == "chunks-finish":
        assert {r.state for r in runs} == {rs.Run.STATE_SUCCEEDED}
        assert sorted(lines_of(cluster.tmp_path / "finished")) == ["0", "1"]
    else:
        assert {r.state for r in runs} == {rs.Run.STATE_RELEASED}
        assert [chunks[i].state for i in held] == [bf.Chunk.STATE_PENDING] * 2
        assert not lines_of(cluster.tmp_path / "finished")  # terminated, not finished
        for pid in lines_of(cluster.tmp_path / "pids"):
            assert not process_alive(int(pid))


async def test_cancelling_a_backfill_terminates_the_running_commands(cluster: Cluster) -> None:
    client = cluster.client
    assert client is not None
    backfill_id = await backfill(cluster, keys=6, chunk_size=2, max_concurrency=2)
    started = cluster.tmp_path / "started"
    # The shell's child would sleep for minutes: only the stop can end it.
    command = f'echo "$$" >> pids; echo "$ARCO_CHUNK_INDEX" >> {started}; sleep 300; echo late >> finished'
    worker = await cluster.worker(command, "w1", concurrency=2, lease_ttl=3, extra=["--kill-grace", "2"])
    await wait_until(lambda: len(lines_of(started)) == 2, "two chunks to start")
    await client.backfills.CancelBackfill(api.CancelBackfillRequest(request_id="cancel", backfill_id=backfill_id))
    # The next heartbeat says stop; the commands are terminated and their chunks reported "cancelled"
    # (a lapsed lease would leave them running and record no message).
    cancelled = await wait_until(lambda: client.state_is(backfill_id, bf.Backfill.STATE_CANCELLED), "CANCELLED", 20)
    runs = await client.all_runs(backfill_id)
    assert len(runs) == 2 and {r.error_message for r in runs} == {"cancelled"}
    assert cancelled.progress.partitions_succeeded == 0 and not lines_of(cluster.tmp_path / "finished")
    assert worker.process.returncode is None  # the worker itself goes on, ready for other work
    for pid in lines_of(cluster.tmp_path / "pids"):
        await wait_until(lambda: not process_alive(int(pid)), f"command {pid} to be terminated", 10)
