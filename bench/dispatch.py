"""Dispatch benchmark (not a test): prints lease/complete rates against a bare gRPC echo, in one run.

A shared machine's speed can drift within minutes, so every load runs once per round
(3 rounds by default), ratios are taken within a round, and medians are printed.

Starts, in this process, a bare grpc.aio echo server and then a real arco
server on a temporary SQLite file (synchronous=FULL, as in production), and
drives both over loopback from a separate client process (so the server has
one core to itself, as it would in production, and both measurements share
the same arrangement). It prints:

- the echo rate: unary calls per second with 16 concurrent callers;
- the single-chunk cycle rate: 16 concurrent workers, each leasing one chunk
  and completing it, cycles per second, and its ratio to the echo rate
  (target: at least 25%);
- the batched rate: workers leasing 64 chunks at a time and completing them
  with CompleteChunks, chunks per second (target: at least 20,000);
- a 10,000-partition backfill run end to end by 4 no-op workers (chunk size 10), wall time;
- the same single-chunk and batched loads against a canned WorkerService (answers built
  per call as arco builds them, but no decisions and no storage): the ceiling gRPC and
  protobuf alone leave on this machine, and arco's share of it;
- the CPU the client process used per call or chunk (client and server share the machine).

Run: .venv/bin/python bench/dispatch.py [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, catalog_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as w, worker_service_pb2_grpc  # noqa: E402
from arco_grpc.planning.backfill_ids import backfill_id_for_request  # noqa: E402
from arco_grpc.server import RunningServer, start_server  # noqa: E402
from arco_grpc.service.convert_partitions import datetime_to_proto  # noqa: E402
from arco_grpc.store import open_store  # noqa: E402
from arco_grpc.store.opening import is_postgres  # noqa: E402
from arco_grpc.store.postgres import PostgresEventStore  # noqa: E402
from arco_grpc.store.postgres._connection import StatementCounter  # noqa: E402

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
CONCURRENCY = 16
BATCH = 64
ECHO_METHOD = "/bench.Echo/Echo"
PAYLOAD = b"x" * 96  # about the size of a LeaseChunksRequest
# Statements sent to a PostgreSQL store (each a network round trip once prepared).
STATEMENTS = StatementCounter()


# -- servers (this process) ------------------------------------------------------------


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def start_echo() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


class CannedWorkers(worker_service_pb2_grpc.WorkerServiceServicer):
    """Answers as arco's WorkerService does, with no decisions and no storage: the ceiling of the wire alone."""

    def __init__(self) -> None:
        self._leased = 0

    async def LeaseChunks(self, request: w.LeaseChunksRequest, context: object) -> w.LeaseChunksResponse:  # noqa: N802
        chunks = []
        expires = datetime_to_proto(NOW + timedelta(seconds=60))
        for _ in range(request.max_chunks):
            self._leased += 1
            index = self._leased
            run_id = f"{index:032x}"
            key = minute_key(index)
            chunks.append(w.LeasedChunk(
                lease=w.ChunkLease(run_id=run_id, backfill_id="canned"), backfill_id="canned", asset_key="minutely",
                index=index, attempt=1, run_id=run_id, run_key=f"canned:minutely:{index}:1", partition_keys=[key],
                partitions=p.PartitionSubset(ranges=[p.IndexRange(start=index, end=index + 1)]), partition_count=1,
                first_key=key, last_key=key, lease_expire_time=expires,
            ))
        return w.LeaseChunksResponse(chunks=chunks)

    async def CompleteChunk(self, request: w.CompleteChunkRequest, context: object) -> w.CompleteChunkResponse:  # noqa: N802
        return w.CompleteChunkResponse()

    async def CompleteChunks(self, request: w.CompleteChunksRequest, context: object) -> w.CompleteChunksResponse:  # noqa: N802
        return w.CompleteChunksResponse()


async def start_canned() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(CannedWorkers(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


def catalog() -> capi.ApplyAssetsRequest:
    minutely = p.PartitionsDefinition(
        time_window=p.TimeWindowPartitions(cron_schedule="* * * * *", start="2005-12-27-00:00", fmt="%Y-%m-%d-%H:%M")
    )
    return capi.ApplyAssetsRequest(
        request_id="bench-catalog",
        assets=[a.Asset(key="minutely", partitions=minutely, chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=1))],
    )


async def create_backfill(channel: grpc.aio.Channel, request_id: str, partitions: int, chunk_size: int,
                          concurrency: int) -> str:
    """A backfill over the first ``partitions`` minutes of 2006 (and on); returns its id."""
    stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
    selector = p.PartitionSelector(key_range=p.PartitionKeyRange(start="2006-01-01-00:00", end=minute_key(partitions - 1)))
    response = await stub.CreateBackfill(api.CreateBackfillRequest(
        request_id=request_id, targets=[api.BackfillTargetSpec(asset_key="minutely", selector=selector)],
        chunk_size=chunk_size, max_concurrency=concurrency,
    ))
    return response.backfill.id


def minute_key(offset: int) -> str:
    """The key of the minute ``offset`` minutes after 2006-01-01 00:00."""
    return (datetime(2006, 1, 1) + timedelta(minutes=offset)).strftime("%Y-%m-%d-%H:%M")


# -- clients (the other process) -----------------------------------------------------------


async def _echo_load(port: int, seconds: float) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(ECHO_METHOD)
        await call(PAYLOAD)
        calls = 0
        deadline = time.perf_counter() + seconds

        async def caller() -> None:
            nonlocal calls
            while time.perf_counter() < deadline:
                await call(PAYLOAD)
                calls += 1

        await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
        return calls


async def _cycle_load(port: int, seconds: float, batch: int) -> tuple[int, int]:
    """Workers lease ``batch`` chunks and complete them; returns (chunks completed, lease calls)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        done = leases = 0
        deadline = time.perf_counter() + seconds

        async def worker(number: int) -> None:
            nonlocal done, leases
            worker_id = f"w{number}"
            while time.perf_counter() < deadline:
                got = await stub.LeaseChunks(w.LeaseChunksRequest(worker_id=worker_id, max_chunks=batch))
                leases += 1
                if not got.chunks:
                    continue
                completions = [
                    w.ChunkCompletion(lease=c.lease, worker_id=worker_id, outcome=w.ChunkCompletion.OUTCOME_SUCCEEDED)
                    for c in got.chunks
                ]
                if batch == 1:
                    await stub.CompleteChunk(w.CompleteChunkRequest(completion=completions[0]))
                else:
                    await stub.CompleteChunks(w.CompleteChunksRequest(completions=completions))
                done += len(completions)

        await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
        return done, leases


async def _drain(port: int, workers: int) -> int:
    """No-op workers until nothing is left to lease (long polls of 0.2 s); returns chunks completed."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        done = 0

        async def worker(number: int) -> None:
            nonlocal done
            worker_id = f"e2e-{number}"
            while True:
                got = await stub.LeaseChunks(w.LeaseChunksRequest(
                    worker_id=worker_id, max_chunks=8, wait_timeout={"nanos": 200_000_000}
                ))
                if not got.chunks:
                    return
                await stub.CompleteChunks(w.CompleteChunksRequest(completions=[
                    w.ChunkCompletion(lease=c.lease, worker_id=worker_id, outcome=w.ChunkCompletion.OUTCOME_SUCCEEDED)
                    for c in got.chunks
                ]))
                done += len(got.chunks)

        await asyncio.gather(*(worker(n) for n in range(workers)))
        return done


def _client(kind: str, port: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    before = cpu_seconds()  # after the imports
    if kind == "echo":
        result: object = asyncio.run(_echo_load(port, seconds))
    elif kind == "drain":
        result = asyncio.run(_drain(port, 4))
    else:
        result = asyncio.run(_cycle_load(port, seconds, int(kind)))
    out.put((result, cpu_seconds() - before))


async def in_client_process(kind: str, port: int, seconds: float) -> tuple[object, float]:
    """Runs a load in a fresh client process while this process keeps serving; returns its result and the
    CPU seconds the client used."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_client, args=(kind, port, seconds, out))
    process.start()
    result, client_cpu = await asyncio.to_thread(out.get)
    await asyncio.to_thread(process.join)
    return result, client_cpu


# -- the run -----------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time used by this (the server) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Measured:
    """One load's result and the CPU it cost the server (this process) and the client process, in seconds."""

    result: Any
    server_cpu: float
    client_cpu: float

    def per(self, count: int) -> str:
        """Server and client CPU per one of ``count`` calls or chunks, as text."""
        return f"server CPU {self.server_cpu / count * 1e6:5.0f} us, client {self.client_cpu / count * 1e6:4.0f} us"


async def measure(kind: str, port: int, seconds: float) -> Measured:
    """Runs a client load; returns its result and the CPU it cost."""
    before = cpu_seconds()
    result, client_cpu = await in_client_process(kind, port, seconds)
    return Measured(result, cpu_seconds() - before, client_cpu)


@dataclass(frozen=True)
class Round:
    """One round's loads, measured back to back: the echo, the canned ceiling and arco's two cycle loads."""

    echo: Measured
    canned_single: Measured
    canned_batched: Measured
    single: Measured
    single_appends: float  # appends per group commit
    single_statements: float  # PostgreSQL statements per group commit (reads included; 0 on SQLite)
    batched: Measured
    batched_appends: float
    batched_statements: float


async def measure_arco(running: RunningServer, request_id: str, kind: str, concurrency: int,
                       seconds: float) -> tuple[Measured, float, float]:
    """Runs a cycle load against a fresh backfill (cancelled afterwards); returns it, its appends per commit and
    its PostgreSQL statements per commit."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        await create_backfill(channel, request_id, 5_000_000, 1, concurrency)
        commits, units, statements = running.committer.commits, running.committer.units, STATEMENTS.statements
        measured = await measure(kind, running.port, seconds)
        done = max(1, running.committer.commits - commits)
        appends = (running.committer.units - units) / done
        sent = (STATEMENTS.statements - statements) / done
        await cancel(channel, request_id)
    return measured, appends, sent


async def measure_round(number: int, echo_port: int, canned_port: int, running: RunningServer,
                        seconds: float) -> Round:
    """One round: every load once, in the same minute, so the ratios compare like with like."""
    return Round(
        await measure("echo", echo_port, seconds),
        await measure("1", canned_port, seconds),
        await measure(str(BATCH), canned_port, seconds),
        *await measure_arco(running, f"bench-single-{number}", "1", CONCURRENCY, seconds),
        *await measure_arco(running, f"bench-batched-{number}", str(BATCH), CONCURRENCY * BATCH, seconds),
    )


def report(rounds: list[Round], seconds: float) -> None:
    """Each round's rates and ratios, then the median of each over the rounds."""

    def rate(measured: Measured) -> float:
        result = measured.result
        return (result if isinstance(result, int) else result[0]) / seconds

    for number, one in enumerate(rounds, 1):
        print(f"round {number}: echo {rate(one.echo):,.0f} calls/s; single {rate(one.single):,.0f} cycles/s "
              f"({rate(one.single) / rate(one.echo):.1%} of echo, canned {rate(one.canned_single) / rate(one.echo):.1%}); "
              f"batched {rate(one.batched):,.0f} chunks/s (canned {rate(one.canned_batched):,.0f})")

    def median_of(figure: Callable[[Round], float]) -> float:
        return statistics.median(figure(one) for one in rounds)

    def cpu(pick: Callable[[Round], Measured], side: str) -> float:
        """Median CPU per call, cycle or chunk of a load, in microseconds, on ``side`` (server or client)."""
        return median_of(lambda one: getattr(pick(one), f"{side}_cpu") / (rate(pick(one)) * seconds) * 1e6)

    def statements(figure: Callable[[Round], float]) -> str:
        """PostgreSQL's statements per commit (each a round trip; reads of the load included), if it serves."""
        return f", {median_of(figure):.1f} PostgreSQL statements per commit" if median_of(figure) else ""

    echo = median_of(lambda one: rate(one.echo))
    single_ratio = median_of(lambda one: rate(one.single) / rate(one.echo))
    canned_ratio = median_of(lambda one: rate(one.canned_single) / rate(one.echo))
    batched = median_of(lambda one: rate(one.batched))
    print(f"medians over {len(rounds)} round(s), ratios taken within each round:")
    print(f"echo:                       {echo:10,.0f} calls/s   (server CPU {cpu(lambda one: one.echo, 'server'):5.0f} us, "
          f"client {cpu(lambda one: one.echo, 'client'):4.0f} us per call)")
    print(f"canned WorkerService:       {median_of(lambda one: rate(one.canned_single)):10,.0f} cycles/s  "
          f"({canned_ratio:.1%} of echo), batched {median_of(lambda one: rate(one.canned_batched)):,.0f} chunks/s "
          "(no decisions, no storage: the wire's ceiling)")
    print(f"single-chunk cycles:        {median_of(lambda one: rate(one.single)):10,.0f} cycles/s  "
          f"(server CPU {cpu(lambda one: one.single, 'server'):5.0f} us, client {cpu(lambda one: one.single, 'client'):4.0f} us "
          f"per cycle, {median_of(lambda one: one.single_appends):.1f} appends per commit{statements(lambda one: one.single_statements)})")
    print(f"  ratio to echo:            {single_ratio:10.1%}   (target: at least 25%; "
          f"{median_of(lambda one: rate(one.single) / rate(one.canned_single)):.0%} of canned)")
    print(f"batched (max_chunks {BATCH}):   {batched:10,.0f} chunks/s  "
          f"(server CPU {cpu(lambda one: one.batched, 'server'):5.0f} us, client {cpu(lambda one: one.batched, 'client'):4.0f} us "
          f"per chunk, {median_of(lambda one: one.batched_appends):.1f} appends per commit{statements(lambda one: one.batched_statements)})")
    print(f"  ratio to 20,000 chunks/s: {batched / 20_000:10.1%}   (target: at least 100%; "
          f"{median_of(lambda one: rate(one.batched) / rate(one.canned_batched)):.0%} of canned)")


async def end_to_end(running: RunningServer) -> None:
    """A 10,000-partition backfill drained by 4 no-op workers; prints its wall time."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        started = time.perf_counter()
        backfill_id = await create_backfill(channel, "bench-e2e", 10_000, 10, 32)
        completed, _ = await in_client_process("drain", running.port, 0)
        elapsed = time.perf_counter() - started
        backfill = (await backfill_service_pb2_grpc.BackfillServiceStub(channel).GetBackfill(
            api.GetBackfillRequest(backfill_id=backfill_id)
        )).backfill
    state = bf.Backfill.State.Name(backfill.state)
    print(f"10,000-partition backfill:  {elapsed:10.2f} s end to end ({completed} chunks of 10, 4 no-op workers, "
          f"{backfill.progress.partitions_succeeded} partitions succeeded, {state})")


async def main(seconds: float, rounds: int, location: str | None) -> None:
    where = "SQLite synchronous=FULL" if location is None else f"the store at {location}"
    print(f"dispatch benchmark: {CONCURRENCY} concurrent callers, {seconds:g} s per measurement, {rounds} round(s), "
          f"clients in a separate process, {where}")
    echo, echo_port = await start_echo()
    canned, canned_port = await start_canned()
    with tempfile.TemporaryDirectory() as directory:
        if location is not None and is_postgres(location):
            store = await PostgresEventStore.open(location, connection_init=STATEMENTS.attach)
        else:
            store = await open_store(location or str(Path(directory) / "bench.db"))
        running = await start_server(store, clock=lambda: NOW)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                await catalog_service_pb2_grpc.CatalogServiceStub(channel).ApplyAssets(catalog())
            measured = [
                await measure_round(number, echo_port, canned_port, running, seconds) for number in range(1, rounds + 1)
            ]
            report(measured, seconds)
            await end_to_end(running)
        finally:
            await running.stop(grace=1)
            await echo.stop(None)
            await canned.stop(None)


async def cancel(channel: grpc.aio.Channel, request_id: str) -> None:
    """Cancels the backfill created by ``request_id`` (its leftover chunks stay out of the next measurement)."""
    stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
    await stub.CancelBackfill(api.CancelBackfillRequest(
        request_id=f"cancel-{request_id}", backfill_id=backfill_id_for_request(request_id)
    ))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every load; medians are printed")
    parser.add_argument("--store", default=None,
                        help="an empty store to serve from, e.g. postgresql://USER@HOST/DB (default: a temporary SQLite file)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.rounds, arguments.store))
