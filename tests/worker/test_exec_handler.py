"""The ``--exec`` handler on its own: the environment a command sees and how its exit maps to an outcome.

Real shell commands, no server: a ChunkTask is built by hand.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
from pathlib import Path

import pytest

from arco_grpc.worker import ChunkTask, CommandCancelled, CommandFailed, ExecHandler, PartialFailure
from arco_grpc.worker._exec import chunk_environment, exit_description, failed_partitions_in, keys_fit_inline
from arco_grpc.worker._task import StaticKeys
from tests.worker.processes import process_alive

WAIT = 30


def make_task(keys: tuple[str, ...] = ("2024-01-01", "2024-01-02", "2024-01-03"), **fields: object) -> ChunkTask:
    values: dict[str, object] = dict(
        backfill_id="bf-abc", asset_key="sales/daily", round=2, index=5, attempt=3, run_id="run-1",
        run_key="rk-1", partition_count=len(keys), first_key=keys[0], last_key=keys[-1], tags={},
        cancelled=asyncio.Event(), key_source=StaticKeys(keys), progress_sink=lambda p: None,
    )
    values.update(fields)
    return ChunkTask(**values)  # type: ignore[arg-type]


def handler(command: str, **kwargs: object) -> tuple[ExecHandler, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return ExecHandler(command, out=out, err=err, **kwargs), out, err  # type: ignore[arg-type]


def test_short_key_lists_go_inline_and_long_or_awkward_ones_in_a_file() -> None:
    assert keys_fit_inline(["a"] * 100)
    assert not keys_fit_inline(["a"] * 101)
    assert not keys_fit_inline(["x" * 5000, "y" * 5000])  # over 8 KiB
    assert not keys_fit_inline(["a,b"])  # a comma would split a key
    assert not keys_fit_inline(["a\nb"])


def test_environment_names_every_field_of_the_chunk() -> None:
    task = make_task()
    env = chunk_environment(task, ("2024-01-01", "2024-01-02", "2024-01-03"), None)
    assert env == {
        "ARCO_BACKFILL_ID": "bf-abc", "ARCO_ASSET": "sales/daily",
        "ARCO_PARTITION_KEYS": "2024-01-01,2024-01-02,2024-01-03", "ARCO_PARTITION_COUNT": "3",
        "ARCO_RUN_KEY": "rk-1", "ARCO_RUN_ID": "run-1", "ARCO_ATTEMPT": "3", "ARCO_ROUND": "2",
        "ARCO_CHUNK_INDEX": "5", "ARCO_FIRST_KEY": "2024-01-01", "ARCO_LAST_KEY": "2024-01-03",
    }
    with_file = chunk_environment(task, ("a",), "/tmp/keys.txt")
    assert with_file["ARCO_PARTITION_KEYS"] == "/tmp/keys.txt" and with_file["ARCO_PARTITION_KEYS_FILE"] == "1"


def test_failed_partitions_line_is_parsed_and_other_lines_are_not() -> None:
    assert failed_partitions_in("ARCO_FAILED_PARTITIONS=a, b,,c\n") == ("a", "b", "c")
    assert failed_partitions_in("ARCO_FAILED_PARTITIONS=\n") == ()
    assert failed_partitions_in("progress: ARCO_FAILED_PARTITIONS=a") is None
    assert failed_partitions_in("hello") is None
    assert exit_description(3) == "exit status 3"
    assert exit_description(-signal.SIGKILL) == "killed by SIGKILL"


async def test_the_command_sees_the_chunk_in_its_environment_and_output_is_prefixed() -> None:
    run, out, err = handler('echo "$ARCO_ASSET $ARCO_ROUND $ARCO_CHUNK_INDEX $ARCO_ATTEMPT $ARCO_PARTITION_KEYS"; '
                            'echo warning >&2')
    metadata = await run(make_task())
    assert metadata == {"exit_status": "0"}
    assert out.getvalue() == "[sales/daily r2#5 a3] sales/daily 2 5 3 2024-01-01,2024-01-02,2024-01-03\n"
    assert err.getvalue() == "[sales/daily r2#5 a3] warning\n"


async def test_a_long_key_list_arrives_as_a_file_that_is_removed_afterwards(tmp_path: Path) -> None:
    keys = tuple(f"key-{n:04d}" for n in range(250))
    seen = tmp_path / "seen"
    run, _, _ = handler(f'echo "$ARCO_PARTITION_KEYS_FILE $ARCO_PARTITION_KEYS" > {seen}; '
                        f'cat "$ARCO_PARTITION_KEYS" >> {seen}')
    await run(make_task(keys))
    flag, path = seen.read_text().splitlines()[0].split()
    assert flag == "1"
    assert seen.read_text().splitlines()[1:] == list(keys)
    assert not os.path.exists(path)


async def test_non_zero_exit_is_a_failure_with_the_tail_of_stderr() -> None:
    run, _, _ = handler("for n in $(seq 1 30); do echo line $n >&2; done; exit 3")
    with pytest.raises(CommandFailed) as caught:
        await run(make_task())
    message = str(caught.value)
    assert message.startswith("the command failed with exit status 3: ")
    assert "line 30" in message and "line 11" in message and "line 10\n" not in message  # the last 20 lines


async def test_failed_partitions_line_makes_a_partial_failure_whatever_the_exit_status() -> None:
    for status in (0, 1):
        run, out, _ = handler(f"echo hello; echo ARCO_FAILED_PARTITIONS=2024-01-02; exit {status}")
        with pytest.raises(PartialFailure) as caught:
            await run(make_task())
        assert caught.value.failed_keys == ("2024-01-02",)
        assert out.getvalue() == "[sales/daily r2#5 a3] hello\n"  # the marker line is not passed through


async def test_cancel_terminates_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    task = make_task()
    # The shell's child (sleep) must die too, not only the shell.
    run, _, _ = handler(f"sleep 60 & echo $! > {pid_file}; wait", kill_grace=5)
    running = asyncio.create_task(run(task))
    await wait_for_file(pid_file)
    task.cancelled.set()
    with pytest.raises(CommandCancelled):
        await asyncio.wait_for(running, WAIT)
    assert not process_alive(int(pid_file.read_text()))


async def test_a_command_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    task = make_task()
    run, _, _ = handler(f"trap '' TERM; echo ready > {ready}; while true; do sleep 0.05; done", kill_grace=0.5)
    running = asyncio.create_task(run(task))
    await wait_for_file(ready)
    task.cancelled.set()
    with pytest.raises(CommandCancelled, match="killed by SIGKILL"):
        await asyncio.wait_for(running, WAIT)


async def test_cancelling_the_handler_coroutine_terminates_the_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    run, _, _ = handler(f"echo $$ > {pid_file}; exec sleep 60")
    running = asyncio.create_task(run(make_task()))
    await wait_for_file(pid_file)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(running, WAIT)
    assert not process_alive(int(pid_file.read_text()))


async def wait_for_file(path: Path) -> None:
    async def poll() -> None:
        while not (path.exists() and path.read_text().strip()):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), WAIT)

