"""`arco demo` end to end, as `make demo` runs it: a server, two workers, one failure, its retry, COMPLETED."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path


async def test_the_demo_ends_completed_after_retrying_exactly_the_failed_partition(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arco_grpc.cli", "demo", "--keep", str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 110)
    out = stdout.decode()
    assert process.returncode == 0, out + stderr.decode()
    assert "366 partitions of sales/daily_orders (2024-01-01...2024-12-31) in 53 chunks of 7, max concurrency 3" in out
    assert "round 1 ended STATE_COMPLETED: 365 succeeded, 1 failed" in out
    assert "opened round 2 with 1 partition(s): 2024-06-15" in out
    assert re.search(r"backfill bf-\w+ COMPLETED: 366/366 partitions succeeded, 0 failed", out)
    # 53 first attempts, the automatic retry of the failed day in round 1, and its run in round 2.
    assert re.search(r"runs: 55 \(2 failed, 53 succeeded\); retried: 1 partition\(s\) in round 2", out)
    assert "workers exited with worker-1 0, worker-2 0" in out
    # Both workers did work, and the failing day's message reached the run history through stderr.
    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in (1, 2)]
    assert all("succeeded" in log for log in logs)
    assert "simulated failure: 2024-06-15" in "".join(logs)

