"""A standby takes over a backfill in flight: workers given both addresses carry on, nothing is lost or run twice."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rs
from tests.loopback import free_port
from tests.worker.processes import (
    ARCO,
    LISTENING,
    STARTUP_SECONDS,
    Client,
    indices_of,
    lines_of,
    reap_orphans,
    start_server,
    start_worker,
    static_keys,
    wait_until,
)

pytestmark = pytest.mark.backends("sqlite", "postgres")


async def test_a_standby_finishes_a_backfill_its_serving_server_started_when_that_one_is_killed(
    tmp_path: Path, store_location: str
) -> None:
    first = await start_server(tmp_path, store_location)
    standby_port = free_port()
    standby = await asyncio.create_subprocess_exec(
        *ARCO, "serve", "--port", str(standby_port), "--db", store_location, "--standby", "--grace", "1",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    # Both addresses, in order: gRPC's pick_first connects to the one that answers.
    both = f"ipv4:127.0.0.1:{first.port},127.0.0.1:{standby_port}"
    client = Client(both)
    workers = []
    try:
        assert standby.stdout is not None
        waiting = (await asyncio.wait_for(standby.stdout.readline(), STARTUP_SECONDS)).decode()
        assert waiting.startswith("standby:"), waiting
        keys = 40
        await client.apply_static("letters", static_keys(keys))
        backfill_id = await client.create_backfill("letters", chunk_size=2, max_concurrency=4, max_attempts=20)
        done = tmp_path / "done"
        command = f'sleep 0.05; echo "$ARCO_RUN_KEY $ARCO_PARTITION_KEYS" >> {done}'
        workers = [await start_worker(tmp_path, both, command, worker_id=f"w{n}", concurrency=2) for n in range(2)]

        await wait_until(lambda: len(lines_of(done)) >= 6, "6 chunks done before the kill")
        first.process.kill()
        assert await first.process.wait() == -signal.SIGKILL
        serving = (await asyncio.wait_for(standby.stdout.readline(), STARTUP_SECONDS)).decode().strip()
        assert LISTENING.match(serving) and serving.endswith(f":{standby_port}"), serving

        finished = await wait_until(
            lambda: client.state_is(backfill_id, bf.Backfill.STATE_COMPLETED), "COMPLETED on the standby", 90
        )
        assert (finished.progress.partitions_succeeded, finished.progress.partitions_failed) == (keys, 0)
        run_keys = [line.split()[0] for line in lines_of(done)]
        assert len(run_keys) == len(set(run_keys)), "a run (one attempt) executed twice"
        runs = await client.all_runs(backfill_id)
        succeeded = Counter(i for r in runs if r.state == rs.Run.STATE_SUCCEEDED for i in indices_of(r.partitions))
        assert succeeded == Counter(range(keys)), "every partition has exactly one successful run"
        acknowledged = {key for w in workers for key in re.findall(r"succeeded .* run (rk-\w+)", w.output())}
        assert acknowledged and acknowledged <= {r.run_key for r in runs if r.state == rs.Run.STATE_SUCCEEDED}
    finally:
        await client.close()
        for process in [first.process, standby, *(w.process for w in workers)]:
            if process.returncode is None:
                process.kill()
                await process.wait()
        reap_orphans(tmp_path / "pids")
