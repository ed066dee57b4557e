"""The ``--exec`` handler: runs a shell command once per chunk, its environment describing the chunk.

The command sees ARCO_BACKFILL_ID, ARCO_ASSET, ARCO_PARTITION_KEYS,
ARCO_PARTITION_COUNT, ARCO_RUN_KEY, ARCO_RUN_ID, ARCO_ATTEMPT, ARCO_ROUND,
ARCO_CHUNK_INDEX, ARCO_FIRST_KEY and ARCO_LAST_KEY. ARCO_PARTITION_KEYS is
the keys joined by commas, or, for a long list (or keys holding a comma or a
newline), the path of a file with one key per line, and then
ARCO_PARTITION_KEYS_FILE=1. Exit status 0 is SUCCEEDED, anything else FAILED
with the tail of stderr as the message; a stdout line
``ARCO_FAILED_PARTITIONS=k1,k2`` makes the chunk a partial failure of those
keys, whatever the exit status. Other output is passed through, each line
prefixed with the chunk it belongs to.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import TextIO

from arco_grpc.worker._task import ChunkFailure, ChunkTask, PartialFailure

FAILED_PARTITIONS_PREFIX = "ARCO_FAILED_PARTITIONS="
MAX_INLINE_KEYS = 100
MAX_INLINE_BYTES = 8 * 1024
STDERR_TAIL_LINES = 20
LINE_LIMIT_BYTES = 1 << 20


class CommandFailed(ChunkFailure):
    """The command exited with a non-zero status (or was killed by a signal)."""


class CommandCancelled(ChunkFailure):
    """The chunk was cancelled and the command terminated."""


def keys_fit_inline(keys: Sequence[str]) -> bool:
    """True when the keys can go in ARCO_PARTITION_KEYS as comma-separated text."""
    if len(keys) > MAX_INLINE_KEYS or any("," in k or "\n" in k for k in keys):
        return False
    return len(",".join(keys).encode()) <= MAX_INLINE_BYTES


def chunk_environment(task: ChunkTask, keys: Sequence[str], keys_file: str | None) -> dict[str, str]:
    """The ARCO_* variables for ``task``; ``keys_file`` is where the keys were written when they do not fit inline."""
    environment = {
        "ARCO_BACKFILL_ID": task.backfill_id,
        "ARCO_ASSET": task.asset_key,
        "ARCO_PARTITION_KEYS": keys_file if keys_file is not None else ",".join(keys),
        "ARCO_PARTITION_COUNT": str(task.partition_count),
        "ARCO_RUN_KEY": task.run_key,
        "ARCO_RUN_ID": task.run_id,
        "ARCO_ATTEMPT": str(task.attempt),
        "ARCO_ROUND": str(task.round),
        "ARCO_CHUNK_INDEX": str(task.index),
        "ARCO_FIRST_KEY": task.first_key,
        "ARCO_LAST_KEY": task.last_key,
    }
    if keys_file is not None:
        environment["ARCO_PARTITION_KEYS_FILE"] = "1"
    return environment


def failed_partitions_in(line: str) -> tuple[str, ...] | None:
    """The keys an ``ARCO_FAILED_PARTITIONS=k1,k2`` line names, or None for any other line."""
    text = line.rstrip("\r\n")
    if not text.startswith(FAILED_PARTITIONS_PREFIX):
        return None
    return tuple(k.strip() for k in text[len(FAILED_PARTITIONS_PREFIX) :].split(",") if k.strip())


def exit_description(status: int) -> str:
    """``exit status 3`` or ``killed by SIGKILL`` for a subprocess return code."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


@contextlib.contextmanager
def _keys_file(keys: Sequence[str]) -> Iterator[str | None]:
    if keys_fit_inline(keys):
        yield None
        return
    handle, path = tempfile.mkstemp(prefix="arco-keys-", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.writelines(k + "\n" for k in keys)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class ExecHandler:
    """A chunk handler that runs ``command`` through the shell once per chunk (see the module docs).

    A stop from the server (``task.cancelled``) or a cancellation of the
    handler terminates the command's whole process group: SIGTERM, then
    SIGKILL after ``kill_grace`` seconds.
    """

    def __init__(
        self,
        command: str,
        *,
        kill_grace: float = 5.0,
        out: TextIO | None = None,
        err: TextIO | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self.kill_grace = kill_grace
        self._out = out
        self._err = err
        self._environment = dict(os.environ if environment is None else environment)

    async def __call__(self, task: ChunkTask) -> Mapping[str, str]:
        """Runs the command for ``task``; returns the run's metadata on success.

        Raises:
            PartialFailure: the command printed ``ARCO_FAILED_PARTITIONS=...``.
            CommandFailed: the command exited non-zero or was killed.
            CommandCancelled: the chunk was cancelled and the command terminated.
        """
        keys = await task.partition_keys()
        prefix = f"[{task.asset_key} r{task.round}#{task.index} a{task.attempt}] "
        with _keys_file(keys) as keys_file:
            process = await asyncio.create_subprocess_shell(
                self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**self._environment, **chunk_environment(task, keys, keys_file)},
                start_new_session=True,  # its own process group: terminate reaches the shell's children
                limit=LINE_LIMIT_BYTES,
            )
            failed: list[str] = []
            reported = False
            tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)

            async def read_stdout() -> None:
                nonlocal reported
                assert process.stdout is not None
                async for raw in process.stdout:
                    line = raw.decode(errors="replace")
                    keys_failed = failed_partitions_in(line)
                    if keys_failed is None:
                        _write(self._out or sys.stdout, prefix + line)
                    else:
                        reported = True
                        failed.extend(keys_failed)

            async def read_stderr() -> None:
                assert process.stderr is not None
                async for raw in process.stderr:
                    line = raw.decode(errors="replace")
                    tail.append(line.rstrip("\n"))
                    _write(self._err or sys.stderr, prefix + line)

            readers = asyncio.gather(read_stdout(), read_stderr(), process.wait())
            cancelled = asyncio.create_task(task.cancelled.wait())
            try:
                await asyncio.wait({readers, cancelled}, return_when=asyncio.FIRST_COMPLETED)
                if not readers.done():
                    await self._terminate(process)
                    raise CommandCancelled(f"cancelled: the command was {exit_description(process.returncode or 0)}")
            except asyncio.CancelledError:
                await self._terminate(process)
                raise
            finally:
                cancelled.cancel()
                readers.cancel()
                await asyncio.gather(readers, return_exceptions=True)
        status = process.returncode
        assert status is not None
        errors = "\n".join(tail).strip()
        if reported:
            detail = f" ({exit_description(status)})" if status else ""
            raise PartialFailure(failed, f"the command reported {len(set(failed))} failed partition(s){detail}"
                                 + (f": {errors}" if errors else ""))
        if status != 0:
            raise CommandFailed(f"the command failed with {exit_description(status)}" + (f": {errors}" if errors else ""))
        return {"exit_status": "0"}

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM to the process group, SIGKILL after ``kill_grace``; returns once the shell is gone."""
        if process.returncode is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), self.kill_grace)
        except asyncio.TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
        except asyncio.CancelledError:
            _signal_group(process.pid, signal.SIGKILL)  # no time left to wait: make sure it is gone
            raise


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _write(stream: TextIO, line: str) -> None:
    stream.write(line if line.endswith("\n") else line + "\n")
    stream.flush()
