"""`arco run`: the RunService client, against a real server on a manual clock."""

from __future__ import annotations

import json

import pytest

from arco_grpc.cli import build_parser
from tests.service.test_worker_support import FAILED, Workers, served_workers  # noqa: F401 - fixture
from tests.test_cli_backfill import arco


async def test_submit_dedupe_get_reexecute_list_and_cancel(served_workers: Workers) -> None:  # noqa: F811
    w = served_workers
    sensor = ("run", "submit", "--origin", "sensor", "--name", "new_files", "--run-key", "file-17",
              "--asset", "orders", "--range", "2024-02-01...2024-02-05")
    code, out, err = await arco(None, *sensor, "--request-id", "s-1", server=w.address)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("submitted run run-") and first.endswith(": queued")
    run_id = first.split()[2].rstrip(":")
    assert "origin          sensor new_files" in out and "origin_run_key  file-17" in out
    code, out, _ = await arco(None, *sensor, "--request-id", "s-2", server=w.address)
    assert out.splitlines()[0] == f"run {run_id} already in the ledger repeats this request: nothing was submitted"

    [leased] = await w.lease("w1")
    await w.complete("w1", leased, FAILED, ["2024-02-02"], "bad rows")
    code, out, _ = await arco(None, "run", "get", run_id, server=w.address)
    assert "state           failed" in out and "partitions      5 (1 failed)" in out and "error           bad rows" in out

    code, out, _ = await arco(None, "run", "reexecute", run_id, "--request-id", "re-1", "--json", server=w.address)
    child = json.loads(out)["run"]
    assert code == 0 and (child["parent_run_id"], child["root_run_id"]) == (run_id, run_id)
    assert (child["partition_count"], child["origin"]) == ("1", "RUN_ORIGIN_MANUAL")

    code, out, _ = await arco(None, "run", "list", "--origin", "sensor", "--name", "new_files", server=w.address)
    assert [line.split()[:5] for line in out.splitlines()] == [
        ["RUN", "ID", "ORIGIN", "ASSET", "STATE"], [run_id, "sensor", "new_files", "orders", "failed"]
    ]
    code, out, _ = await arco(None, "run", "list", "--state", "queued", "--page-size", "1", server=w.address)
    assert [line.split()[0] for line in out.splitlines()[1:]] == [child["run_id"]]

    code, out, _ = await arco(None, "run", "cancel", child["run_id"], "--reason", "not today", server=w.address)
    assert code == 0 and "state           cancelled" in out


async def test_refusals_are_one_line_naming_the_field(served_workers: Workers) -> None:  # noqa: F811
    code, out, err = await arco(None, "run", "submit", "--origin", "schedule", "--name", "nightly", "--asset", "orders",
                                "--keys", "2024-01-01", server=served_workers.address)
    assert (code, out) == (1, "")
    assert err.startswith("arco run submit: INVALID_ARGUMENT") and "(field: scheduled_time)" in err
    code, _, err = await arco(None, "run", "get", "run-0000", server=served_workers.address)
    assert code == 1 and err.startswith("arco run get: NOT_FOUND")
    code, _, err = await arco(None, "run", "submit", "--asset", "orders", "--to", "2024-01-01",
                              server=served_workers.address)
    assert (code, err.strip()) == (2, "arco run submit: --to needs --from")


def test_argument_syntax() -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "list", "--state", "queued", "--state", "STATE_FAILED", "--origin", "backfill"])
    assert (args.state, args.origin) == ([7, 3], "backfill")
    for bad in (["list", "--state", "bogus"], ["reexecute", "run-1", "--mode", "sideways"],
                ["submit", "--asset", "a", "--origin", "backfill"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", *bad])
