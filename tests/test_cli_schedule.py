"""`arco schedule`: the ScheduleService client, against a real server on a manual clock."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.service.test_schedules import FIXED_NOW, Schedules, schedules, start_schedules  # noqa: F401 - fixtures
from tests.test_cli_backfill import arco
from tests.worker.processes import wait_until


async def test_create_get_list_pause_and_resume(schedules: Schedules) -> None:  # noqa: F811
    server = f"127.0.0.1:{schedules.running.port}"
    start = (FIXED_NOW - timedelta(hours=3)).isoformat()
    code, out, err = await arco(None, "schedule", "create", "hourly", "--cron", "0 * * * *", "--asset", "events",
                                "--catch-up", "all-missed", "--max-catch-up-runs", "2", "--start", start,
                                "--tag", "team=data", server=server)
    assert code == 0, err
    assert out.startswith("schedule hourly  running  '0 * * * *' (UTC)  -> events")
    assert "catch-up: all_missed (window 365 days, at most 2 runs)" in out

    async def launched() -> str | None:
        _, shown, _ = await arco(None, "schedule", "get", "hourly", server=server)
        return shown if "launched 2 ticks; skipped 1 over_catch_up_limit" in shown else None

    shown = await wait_until(launched, "the woken loop to catch up the backdated schedule")
    assert "2025-01-01T00:00:00Z  2024-12-31-23:00" in shown and "latest ticks:" in shown

    code, out, _ = await arco(None, "schedule", "pause", "hourly", "--note", "maintenance", server=server)
    assert code == 0 and "paused" in out.splitlines()[0] and "note: maintenance" in out and "(paused)" in out
    code, out, _ = await arco(None, "schedule", "resume", "hourly", "--json", server=server)
    assert code == 0 and json.loads(out)["schedule"]["state"] == "STATE_RUNNING"
    code, out, _ = await arco(None, "schedule", "list", server=server)
    assert code == 0 and out.splitlines()[1].split()[:4] == ["hourly", "running", "0", "*"]


async def test_a_refused_create_is_one_line_naming_the_field(schedules: Schedules) -> None:  # noqa: F811
    code, out, err = await arco(None, "schedule", "create", "bad", "--cron", "0 * *", "--asset", "events",
                                server=f"127.0.0.1:{schedules.running.port}")
    assert (code, out) == (1, "")
    assert err.startswith("arco schedule create: INVALID_ARGUMENT") and "cron_schedule" in err
