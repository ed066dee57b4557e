"""`arco backfill ...` against a real server, the demo catalog right after `arco serve`, and crash safety."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import sqlite3
import sys
from pathlib import Path

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi, worker_service_pb2_grpc
from arco_grpc.cli import build_parser, main
from arco_grpc.planning.backfill_ids import backfill_id_for_request
from arco_grpc.server import FAULT_EXIT_AFTER_COMMIT_ENV, FAULT_EXIT_STATUS
from tests.service.backfill_helpers import Backfills, backfills  # noqa: F401 - fixture
from tests.service.builders import apply, asset, daily, dep, hourly
from tests.service.conftest import db_path, served, start  # noqa: F401 - fixtures
from tests.test_cli import STARTUP_TIMEOUT, running


async def arco(backfills: Backfills | None, *argv: str, server: str | None = None) -> tuple[int, str, str]:
    """Runs the ``arco`` command in a thread (it runs its own event loop); returns (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    address = server or (backfills.served.address if backfills else "127.0.0.1:1")
    code = await asyncio.to_thread(main, [*argv, "--server", address], out, err)
    return code, out.getvalue(), err.getvalue()


async def test_create_get_list_and_the_lifecycle_verbs(backfills: Backfills) -> None:
    code, out, _ = await arco(backfills, "backfill", "create", "--asset", "orders", "--range", "2024-01-01...2024-01-20",
                              "--tag", "team=data", "--title", "January", "--request-id", "cli-1")
    backfill_id = backfill_id_for_request("cli-1")
    assert code == 0
    assert out.splitlines()[0] == f"created backfill {backfill_id}: running, state_version 2"
    assert "20 partitions in 3 chunks" in out and "2024-01-01...2024-01-20" in out

    code, out, _ = await arco(backfills, "backfill", "pause", backfill_id, "--reason", "lunch break")
    assert (code, out.strip()) == (0, f"backfill {backfill_id}: paused, state_version 3, max_concurrency 10")
    code, out, _ = await arco(backfills, "backfill", "resume", backfill_id, "--expected-version", "3")
    assert "running, state_version 4" in out
    code, out, _ = await arco(backfills, "backfill", "update", backfill_id, "--max-concurrency", "2")
    assert "max_concurrency 2" in out

    code, out, _ = await arco(backfills, "backfill", "get", backfill_id)
    assert code == 0
    assert "lunch break" in out and "team=data" in out and "January" in out
    assert "20 total: 20 pending" in out

    code, out, _ = await arco(backfills, "backfill", "list", "--state", "running", "--asset", "orders")
    assert backfill_id in out.splitlines()[1]

    code, out, _ = await arco(backfills, "backfill", "chunks", backfill_id, "--page-size", "2")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ASSET", "ROUND", "INDEX", "STATE"]
    assert lines[1].split()[:7] == ["orders", "1", "0", "pending", "7", "2024-01-01", "2024-01-07"]
    token = lines[-1].removeprefix("more: --page-token ")
    code, out, _ = await arco(backfills, "backfill", "chunks", backfill_id, "--page-size", "2", "--page-token", token)
    assert out.splitlines()[1].split()[2] == "2" and "more:" not in out

    code, out, _ = await arco(backfills, "backfill", "cancel", backfill_id, "--reason", "done")
    assert "cancelled, state_version 7" in out
    code, out, _ = await arco(backfills, "backfill", "events", backfill_id)
    types = [line.split()[3] for line in out.splitlines()[1:]]
    assert types == ["BackfillCreated", "BackfillStarted", "BackfillPaused", "BackfillResumed",
                     "BackfillConcurrencyChanged", "BackfillCancelRequested", "BackfillCancelled"]


async def test_json_output_is_the_response_message(backfills: Backfills) -> None:
    code, out, _ = await arco(backfills, "backfill", "create", "--asset", "regions", "--keys", "us,eu",
                              "--validate-only", "--json")
    assert code == 0
    plan = json.loads(out)["plan"]
    assert (plan["partition_count"], plan["backfill_id"]) == ("2", "bf-preview00000")
    assert [c["first_key"] for c in plan["first_chunks"]] == ["us", "eu"]
    listed = await backfills.stub.ListBackfills(api.ListBackfillsRequest())
    assert list(listed.backfills) == []  # validate-only wrote nothing


async def test_time_ranges_backward_order_and_as_of(backfills: Backfills) -> None:
    code, out, _ = await arco(backfills, "backfill", "create", "--asset", "orders", "--from", "2024-03-01",
                              "--to", "2024-03-08", "--backward", "--as-of", "2024-06-01T00:00:00Z", "--json")
    assert code == 0
    response = json.loads(out)
    assert response["backfill"]["as_of"] == "2024-06-01T00:00:00Z"
    assert response["plan"]["first_chunks"][0]["first_key"] == "2024-03-07"


async def test_refusals_are_one_line_with_the_field(backfills: Backfills) -> None:
    code, _, err = await arco(backfills, "backfill", "create", "--asset", "scorecards")
    assert code == 1
    assert err.startswith("arco backfill create: INVALID_ARGUMENT:") and "(field: targets[0].asset_key)" in err
    code, _, err = await arco(backfills, "backfill", "get", "bf-aaaaaaaaaaaa")
    assert (code, err.split(":")[1].strip()) == (1, "NOT_FOUND")
    code, _, err = await arco(None, "backfill", "get", "bf-aaaaaaaaaaaa")
    assert code == 1 and "UNAVAILABLE" in err
    code, _, err = await arco(backfills, "backfill", "create", "--asset", "orders", "--from", "2024-01-01")
    assert (code, err.strip()) == (2, "arco backfill create: --from needs --to")


def test_argument_syntax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCO_SERVER", raising=False)
    parser = build_parser()
    args = parser.parse_args(["backfill", "create", "--asset", "a", "--asset", "b", "--range", "x...y", "--tag", "k=v=w"])
    assert (args.assets, args.range, args.tag, args.server) == (["a", "b"], ("x", "y"), [("k", "v=w")], "127.0.0.1:50051")
    for bad in (["--range", "x..y"], ["--range", "...y"], ["--tag", "novalue"], ["--all", "--keys", "a"],
                ["--as-of", "yesterday"], ["--reprocess", "sometimes"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["backfill", "create", "--asset", "a", *bad])
    monkeypatch.setenv("ARCO_SERVER", "example:1")
    assert build_parser().parse_args(["backfill", "list"]).server == "example:1"
    assert build_parser().parse_args(["backfill", "chunks", "bf-x", "--state", "leased"]).state == [2]


async def run_cli(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arco_grpc.cli", *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), STARTUP_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_demo_asset_can_be_backfilled_right_after_serve(tmp_path: Path) -> None:
    async with running(tmp_path, "--port", "0", "--db", str(tmp_path / "demo.db"), "--demo-catalog") as server:
        address = f"127.0.0.1:{server.port}"
        code, out, err = await run_cli("backfill", "create", "--asset", "sales/daily_orders", "--all",
                                       "--server", address)
        assert code == 0, err
        assert out.startswith("created backfill bf-") and "sales/daily_orders" in out
        code, out, err = await run_cli("backfill", "list", "--server", address)
        assert code == 0 and "sales/daily_orders" in out
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0


def backfill_rows(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as connection:
        backfills = connection.execute("SELECT COUNT(*) FROM backfills").fetchone()[0]
        created = connection.execute("SELECT COUNT(*) FROM events WHERE event_type = 'BackfillCreated'").fetchone()[0]
    return int(backfills), int(created)


async def test_a_crash_between_commit_and_reply_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "arco.db"
    request = api.CreateBackfillRequest(
        request_id="crash-1", targets=[api.BackfillTargetSpec(asset_key="sales/daily_orders")], title="crash test"
    )
    fault = {FAULT_EXIT_AFTER_COMMIT_ENV: "CreateBackfill"}
    async with running(tmp_path, "--port", "0", "--db", str(db), "--demo-catalog", env=fault) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await backfill_service_pb2_grpc.BackfillServiceStub(channel).CreateBackfill(request)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await asyncio.wait_for(server.process.wait(), 30) == FAULT_EXIT_STATUS
    assert backfill_rows(db) == (1, 1)  # committed before the process died

    async with running(tmp_path, "--port", "0", "--db", str(db), "--demo-catalog") as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = backfill_service_pb2_grpc.BackfillServiceStub(channel)
            retried = await stub.CreateBackfill(request)  # the client's retry, same request_id
            listed = await stub.ListBackfills(api.ListBackfillsRequest())
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 30) == 0

    assert retried.backfill.id == backfill_id_for_request("crash-1")
    assert (retried.backfill.title, retried.backfill.state_version) == ("crash test", 2)
    assert [b.id for b in listed.backfills] == [retried.backfill.id]
    assert backfill_rows(db) == (1, 1)


async def test_reprocess_missing_shows_what_it_skips(backfills: Backfills) -> None:
    code, _, _ = await arco(backfills, "backfill", "create", "--asset", "orders", "--range", "2024-01-01...2024-01-07",
                            "--chunk-size", "3", "--request-id", "cli-first")
    assert code == 0
    workers = worker_service_pb2_grpc.WorkerServiceStub(backfills.served.channel)
    [chunk] = (await workers.LeaseChunks(wapi.LeaseChunksRequest(worker_id="w", max_chunks=1))).chunks
    await workers.CompleteChunk(wapi.CompleteChunkRequest(completion=wapi.ChunkCompletion(
        lease=chunk.lease, worker_id="w", outcome=wapi.ChunkCompletion.OUTCOME_SUCCEEDED)))

    code, out, _ = await arco(backfills, "backfill", "create", "--asset", "orders", "--range", "2024-01-01...2024-01-07",
                              "--reprocess", "missing", "--validate-only")
    assert code == 0
    assert "4 partitions in 1 chunks" in out and "2024-01-04  2024-01-07" in out
    assert "skipped by the reprocess policy: 3 partitions (3 already_materialized)" in out


async def test_propagate_applies_the_selector_to_the_roots_only(backfills: Backfills) -> None:
    await backfills.catalog.ApplyAssets(apply(
        "cli-graph", asset("cli/hours", hourly("2024-01-01-00:00")), asset("cli/days", daily("2024-01-01"), dep("cli/hours")),
    ))
    code, out, _ = await arco(backfills, "backfill", "create", "--asset", "cli/days", "--asset", "cli/hours",
                              "--range", "2024-02-01-05:00...2024-02-02-01:00", "--propagate", "--validate-only", "--json")
    assert code == 0
    targets = json.loads(out)["plan"]["targets"]
    assert [(t["asset_key"], t["partition_count"]) for t in targets] == [("cli/hours", "21"), ("cli/days", "2")]
