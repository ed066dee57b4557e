"""`arco worker` arguments: defaults, validation, and a server that cannot lease is an error, not a hang."""

from __future__ import annotations

import asyncio
import io

import grpc
import pytest

from arco_grpc.cli import build_parser, main


def test_worker_arguments_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCO_SERVER", raising=False)
    args = build_parser().parse_args(["worker", "--exec", "make partitions", "--asset", "a", "--asset", "b",
                                      "--tag", "team=data", "--concurrency", "4", "--lease-ttl", "12"])
    assert (args.command, args.exec_command, args.server) == ("worker", "make partitions", "127.0.0.1:50051")
    assert (args.assets, args.tag, args.concurrency, args.lease_ttl) == (["a", "b"], [("team", "data")], 4, 12.0)
    assert (args.grace, args.kill_grace, args.worker_id) == (30.0, 5.0, None)


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["worker"], "--exec"),
        (["worker", "--exec", "x", "--concurrency", "0"], "not at least 1"),
        (["worker", "--exec", "x", "--lease-ttl", "0.5"], "out of range 1-3600"),
        (["worker", "--exec", "x", "--poll-timeout", "soon"], "not a number of seconds"),
        (["worker", "--exec", "x", "--tag", "novalue"], "KEY=VALUE"),
    ],
)
def test_bad_worker_arguments_are_usage_errors(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


async def test_a_server_that_cannot_lease_ends_the_worker_with_status_1() -> None:
    server = grpc.aio.server()  # serves nothing: every call is UNIMPLEMENTED
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    out, err = io.StringIO(), io.StringIO()
    try:
        code = await asyncio.wait_for(
            asyncio.to_thread(main, ["worker", "--server", f"127.0.0.1:{port}", "--exec", "true"], out, err), 30
        )
    finally:
        await server.stop(0)
    assert code == 1
    assert "the server refused to lease: UNIMPLEMENTED" in err.getvalue()
