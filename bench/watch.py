"""Watch-stream benchmark (not a test): many watchers while events commit at a steady rate.

Starts ``arco serve`` as a subprocess on a temporary SQLite file (so its
resident memory can be read from /proc/PID/status), creates backfills, and
opens WatchBackfill streams from several client processes (each process holds
its share of the streams, a hundred per channel). A driver in this process
then commits events at a target rate with pause/resume mutations spread over
the backfills, and every watcher measures each event's delivery latency:
receipt time minus the event's recorded time (the server's clock when the
mutation was decided, so the figure includes the commit itself).

Prints the achieved commit rate, p50/p90/p99/max latency over every
delivered event, whether every watcher got every event of its backfill in
order, and the server's VmRSS before the watchers connect and after the run
(and its peak, VmHWM). Targets: p99 < 250 ms, RSS growth < 100 MB.

Run: .venv/bin/python bench/watch.py [--watchers 1000] [--backfills 100] [--rate 1000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2_grpc, catalog_service_pb2_grpc  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, partitions_pb2 as p  # noqa: E402
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as w, worker_service_pb2_grpc  # noqa: E402
from arco_grpc.service.watch_keepalive import CLIENT_CHANNEL_OPTIONS  # noqa: E402

STREAMS_PER_CHANNEL = 100
LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process, in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- client processes ----------------------------------------------------------


async def client_main(address: str, backfill_ids: list[str], streams: int) -> None:
    """Holds ``streams`` watchers over ``backfill_ids`` (round robin); prints "ready", then results on "stop"."""
    channels = [grpc.aio.insecure_channel(address, options=CLIENT_CHANNEL_OPTIONS)
                for _ in range(max(1, -(-streams // STREAMS_PER_CHANNEL)))]
    latencies_us: list[int] = []
    per_stream: list[list[int]] = [[] for _ in range(streams)]
    disorder = 0
    ready = asyncio.Event()
    subscribed = 0

    async def watch(n: int) -> None:
        nonlocal disorder, subscribed
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channels[n // STREAMS_PER_CHANNEL])
        call = stub.WatchBackfill(api.WatchBackfillRequest(backfill_id=backfill_ids[n % len(backfill_ids)],
                                                           include_snapshot=True, follow=True))
        last = 0
        async for message in call:
            kind = message.WhichOneof("kind")
            if kind == "snapshot":
                last = message.snapshot.sequence
                subscribed += 1
                if subscribed == streams:
                    ready.set()
            elif kind == "event":
                received = time.time()
                event = message.event
                latencies_us.append(int((received - (event.time.seconds + event.time.nanos / 1e9)) * 1e6))
                if event.sequence <= last:
                    disorder += 1
                last = event.sequence
                per_stream[n].append(event.sequence)

    tasks = [asyncio.create_task(watch(n)) for n in range(streams)]
    await ready.wait()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    counts = [len(sequences) for sequences in per_stream]
    print(json.dumps({"latencies_us": latencies_us, "disorder": disorder, "counts": counts,
                      "backfills": [backfill_ids[n % len(backfill_ids)] for n in range(streams)]}), flush=True)
    for channel in channels:
        await channel.close()


# -- the driver ---------------------------------------------------------------------


async def start_server(db: Path) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arco_grpc.cli", "serve", "--port", "0", "--db", str(db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
    match = LISTENING.match(line)
    if not match:
        raise RuntimeError(f"unexpected server output {line!r}")
    return process, f"127.0.0.1:{match.group(1)}"


async def setup(address: str, backfills: int) -> list[str]:
    """Backfills of 1,000 one-partition chunks each."""
    async with grpc.aio.insecure_channel(address) as channel:
        catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        static = p.PartitionsDefinition(static=p.StaticPartitions(keys=[f"k{n}" for n in range(1000)]))
        await catalog.ApplyAssets(capi.ApplyAssetsRequest(
            request_id="bench-catalog", assets=[a.Asset(key="bench", partitions=static)]))
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
        ids = []
        for n in range(backfills):
            response = await stub.CreateBackfill(api.CreateBackfillRequest(
                request_id=f"bench-{n}", targets=[api.BackfillTargetSpec(asset_key="bench")], chunk_size=1))
            ids.append(response.backfill.id)
        return ids


async def drive_workers(address: str, rate: float, seconds: float, batch: int, rpc_ms: list[float]) -> float:
    """Workers leasing ``batch`` chunks and completing them (two events per chunk) at ``rate`` events per second.

    Each lease appends ChunkLeased, each completion ChunkSucceeded, in the
    backfills' own streams: what watchers of a running backfill see. Some
    completions report progress in a heartbeat first (not events; coalesced).
    Returns the elapsed time; ``rpc_ms`` gets each LeaseChunks and CompleteChunks latency.
    """
    async with grpc.aio.insecure_channel(address) as channel:
        stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        loop = asyncio.get_running_loop()
        started = loop.time()
        produced = 0

        async def work(worker: str) -> None:
            nonlocal produced
            asked = time.perf_counter()
            leased = await stub.LeaseChunks(w.LeaseChunksRequest(worker_id=worker, max_chunks=batch))
            rpc_ms.append((time.perf_counter() - asked) * 1e3)
            leases = [chunk.lease for chunk in leased.chunks]
            if leases:
                progress = [w.ChunkProgress(lease=lease, fraction=0.5, message="halfway") for lease in leases[:4]]
                await stub.Heartbeat(w.HeartbeatRequest(worker_id=worker, leases=leases, progress=progress))
            asked = time.perf_counter()
            await stub.CompleteChunks(w.CompleteChunksRequest(completions=[
                w.ChunkCompletion(lease=lease, worker_id=worker, outcome=w.ChunkCompletion.OUTCOME_SUCCEEDED)
                for lease in leases
            ]))
            rpc_ms.append((time.perf_counter() - asked) * 1e3)
            produced += 2 * len(leases)

        pending: set[asyncio.Task[None]] = set()
        launched = 0
        while (now := loop.time()) - started < seconds:
            while launched * 2 * batch < (now - started) * rate and len(pending) < 16:
                task = asyncio.create_task(work(f"bench-worker-{launched % 16}"))
                pending.add(task)
                task.add_done_callback(pending.discard)
                launched += 1
            await asyncio.sleep(0.001)
        await asyncio.gather(*pending)
        return loop.time() - started


async def events_after_setup(address: str, ids: list[str]) -> dict[str, int]:
    """Per backfill, how many events it has beyond the two of its creation (ListBackfillEvents)."""
    counts = {}
    async with grpc.aio.insecure_channel(address) as channel:
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
        for backfill_id in ids:
            total, token = 0, ""
            while True:
                page = await stub.ListBackfillEvents(
                    api.ListBackfillEventsRequest(backfill_id=backfill_id, page_size=1000, page_token=token))
                total += len(page.events)
                token = page.next_page_token
                if not token:
                    break
            counts[backfill_id] = total - 2
    return counts


async def drive(address: str, ids: list[str], rate: float, seconds: float) -> tuple[int, float, dict[str, int]]:
    """Pause/resume mutations at ``rate`` per second for ``seconds``; returns (events, elapsed, events per backfill)."""
    paused = {backfill_id: False for backfill_id in ids}
    busy: set[str] = set()
    per_backfill = {backfill_id: 0 for backfill_id in ids}
    async with grpc.aio.insecure_channel(address) as channel:
        stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)

        async def mutate(backfill_id: str, step: int) -> None:
            request_id = f"drive-{backfill_id}-{step}"
            if paused[backfill_id]:
                await stub.ResumeBackfill(api.ResumeBackfillRequest(request_id=request_id, backfill_id=backfill_id))
            else:
                await stub.PauseBackfill(api.PauseBackfillRequest(request_id=request_id, backfill_id=backfill_id))
            paused[backfill_id] = not paused[backfill_id]
            per_backfill[backfill_id] += 1
            busy.discard(backfill_id)

        loop = asyncio.get_running_loop()
        started = loop.time()
        pending: set[asyncio.Task[None]] = set()
        step = 0
        while (now := loop.time()) - started < seconds:
            due = int((now - started) * rate) - step
            for _ in range(due):
                backfill_id = ids[step % len(ids)]
                if backfill_id in busy:  # one mutation per backfill in flight, so each appends exactly one event
                    step += 1
                    continue
                busy.add(backfill_id)
                task = asyncio.create_task(mutate(backfill_id, step))
                pending.add(task)
                task.add_done_callback(pending.discard)
                step += 1
            await asyncio.sleep(0.001)
        await asyncio.gather(*pending)
        elapsed = loop.time() - started
    return sum(per_backfill.values()), elapsed, per_backfill


def percentile(sorted_values: list[int], fraction: float) -> float:
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index] / 1000


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        server, address = await start_server(Path(directory) / "bench.db")
        try:
            ids = await setup(address, args.backfills)
            rss_before = rss_kib(server.pid)
            shares = [args.watchers // args.clients + (1 if n < args.watchers % args.clients else 0)
                      for n in range(args.clients)]
            clients = []
            first = 0
            for share in shares:
                # Watcher g (over all processes) watches backfill g mod the number of backfills.
                mine = [ids[(first + n) % len(ids)] for n in range(min(share, len(ids)))]
                first += share
                clients.append(await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--client", address, "--streams", str(share), "--ids", ",".join(mine),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**30,
                ))
            for client in clients:
                assert client.stdout is not None
                line = await asyncio.wait_for(client.stdout.readline(), 300)
                assert line.strip() == b"ready", line
            rss_connected = rss_kib(server.pid)
            cpu_before = cpu_seconds(server.pid)
            rpc_ms: list[float] = []
            if args.driver == "workers":
                elapsed = await drive_workers(address, args.rate, args.seconds, args.batch, rpc_ms)
            else:
                _, elapsed, _ = await drive(address, ids, args.rate, args.seconds)
            server_cpu = cpu_seconds(server.pid) - cpu_before
            # Let the last events arrive: heartbeat-free wait on the clients' side is not observable; give 2 s.
            await asyncio.sleep(2)
            rss_after, rss_peak = rss_kib(server.pid), rss_kib(server.pid, "VmHWM")
            per_backfill = await events_after_setup(address, ids)
            events = sum(per_backfill.values())
            results = []
            for client in clients:
                assert client.stdin is not None and client.stdout is not None
                client.stdin.write(b"stop\n")
                await client.stdin.drain()
                results.append(json.loads(await client.stdout.readline()))
                await client.wait()
        finally:
            server.terminate()
            await server.wait()
    latencies = sorted(value for result in results for value in result["latencies_us"])
    complete = sum(1 for result in results for count, backfill_id in zip(result["counts"], result["backfills"])
                   if count == per_backfill[backfill_id])
    disorder = sum(result["disorder"] for result in results)
    print(f"driver: {args.driver}" + (f" (LeaseChunks of {args.batch}, Heartbeat with progress, CompleteChunks)"
                                       if args.driver == "workers" else " (PauseBackfill/ResumeBackfill)"))
    print(f"watchers: {args.watchers} over {args.backfills} backfills ({args.watchers / args.backfills:.0f} per "
          f"backfill), {args.clients} client processes, {STREAMS_PER_CHANNEL} streams per channel")
    print(f"committed: {events} events in {elapsed:.1f} s = {events / elapsed:.0f} events/s "
          f"(target {args.rate:.0f}); delivered {len(latencies)} event messages "
          f"= {len(latencies) / elapsed:.0f} messages/s")
    print(f"delivery latency (commit -> receipt): p50 {percentile(latencies, 0.50):.1f} ms, "
          f"p90 {percentile(latencies, 0.90):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
          f"max {latencies[-1] / 1000:.1f} ms")
    if rpc_ms:
        rpc_ms.sort()
        print(f"writer RPCs (LeaseChunks, CompleteChunks) took: p50 {rpc_ms[len(rpc_ms) // 2]:.1f} ms, "
              f"p99 {rpc_ms[int(len(rpc_ms) * 0.99)]:.1f} ms (the commit is part of the delivery latency)")
    print(f"server CPU during the run: {server_cpu:.1f} s of {elapsed:.1f} s ({server_cpu / elapsed:.0%} of a core), "
          f"{server_cpu / max(events, 1) * 1e3:.2f} ms per committed event; machine has {os.cpu_count()} cores, "
          "shared by the server, the client processes and the driver")
    print(f"watchers that got every event of their backfill: {complete}/{args.watchers}; out of order: {disorder}")
    print(f"server VmRSS: {rss_before / 1024:.1f} MiB before watchers, {rss_connected / 1024:.1f} MiB with them "
          f"connected, {rss_after / 1024:.1f} MiB after the run (growth {(rss_after - rss_before) / 1024:.1f} MiB); "
          f"peak VmHWM {rss_peak / 1024:.1f} MiB")
    p99 = percentile(latencies, 0.99)
    growth_mib = (rss_after - rss_before) / 1024
    print(f"targets: p99 < 250 ms: {'met' if p99 < 250 else 'MISSED'}; "
          f"RSS growth < 100 MB: {'met' if growth_mib * 1.048576 < 100 else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--backfills", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1000.0, help="events committed per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes holding the watchers")
    parser.add_argument("--driver", choices=("workers", "mutations"), default="workers",
                        help="what commits events: workers leasing and completing chunks, or pause/resume calls")
    parser.add_argument("--batch", type=int, default=16, help="chunks per LeaseChunks (workers driver)")
    parser.add_argument("--client", metavar="ADDRESS", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ids", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.client:
        asyncio.run(client_main(arguments.client, arguments.ids.split(","), arguments.streams))
    else:
        asyncio.run(main(arguments))
