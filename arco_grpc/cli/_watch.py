"""``arco backfill watch ID``: a live progress bar (or JSON lines) that survives disconnects.

The command follows WatchBackfill with follow off, so the stream ends when
the backfill is terminal. When the connection drops (UNAVAILABLE, a server
restart, a network error) or the server says the watcher fell behind, it
reconnects with backoff and resumes after the last sequence it received: no
event is shown twice or missed.

The bar's counts come from the backfill's snapshot (GetBackfill's numbers);
events refresh them (at most every :data:`REFRESH_SECONDS`, with GetBackfill)
and move the bar; chunk progress shows as the latest worker message.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, TextIO

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from tqdm import tqdm

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc.cli import _render as render
from arco_grpc.service.watch_keepalive import CLIENT_CHANNEL_OPTIONS

# Statuses after which the command reconnects and resumes; any other ends it.
RESUMABLE = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # fell too far behind: resume after the sequence the server names
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,  # a connection torn down mid-stream can surface as UNKNOWN
})
FIRST_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0
REFRESH_SECONDS = 0.5


def _state_name(state: int) -> str:
    return str(bf.Backfill.State.Name(state)).removeprefix("STATE_").lower()  # type: ignore[arg-type]


def resume_after_sequence(error: grpc.aio.AioRpcError) -> int | None:
    """The ``resume_after_sequence`` the server put in the error's ErrorInfo, if any."""
    for key, value in error.trailing_metadata() or ():
        if key != rpc_status.GRPC_DETAILS_METADATA_KEY:
            continue
        for detail in status_pb2.Status.FromString(value).details:
            info = error_details_pb2.ErrorInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and "resume_after_sequence" in info.metadata:
                return int(info.metadata["resume_after_sequence"])
    return None


@dataclass
class _Bar:
    """The progress bar: partitions done (succeeded + failed) of the total, with failed and running alongside."""

    out: TextIO
    bar: tqdm | None = None
    backfill: bf.Backfill | None = None
    latest_progress: api.ChunkProgressUpdate | None = None

    def show(self, backfill: bf.Backfill) -> None:
        self.backfill = backfill
        progress = backfill.progress
        done = progress.partitions_succeeded + progress.partitions_failed + progress.partitions_upstream_failed
        if self.bar is None:
            self.bar = tqdm(total=progress.partitions_total, initial=done, unit="partition", file=self.out,
                            dynamic_ncols=True, smoothing=0.1)
        self.bar.total = progress.partitions_total
        self.bar.update(done - self.bar.n)
        self._describe()

    def progress(self, update: api.ChunkProgressUpdate) -> None:
        self.latest_progress = update
        self._describe()

    def _describe(self) -> None:
        if self.bar is None or self.backfill is None:
            return
        progress = self.backfill.progress
        postfix = {
            "state": _state_name(self.backfill.state),
            "failed": progress.partitions_failed,
            "running": progress.partitions_running,
        }
        if progress.partitions_upstream_failed:
            postfix["upstream failed"] = progress.partitions_upstream_failed
        latest = self.latest_progress
        if latest is not None:
            postfix["chunk"] = f"{latest.asset_key}#{latest.index} {latest.fraction:.0%} {latest.message}"[:60]
        self.bar.set_postfix(postfix, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Watcher:
    """One ``arco backfill watch``: the cursor, the output, and the reconnect loop."""

    def __init__(self, server: str, backfill_id: str, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.server = server
        self.backfill_id = backfill_id
        self.as_json = as_json
        self.out = out
        self.err = err
        self.cursor = 0
        self.bar = _Bar(err)
        self._refreshed = 0.0
        self._stale = False
        self.received = False

    def _request(self) -> api.WatchBackfillRequest:
        # JSON lines print every event from the first; the bar starts from a snapshot on every connect.
        return api.WatchBackfillRequest(
            backfill_id=self.backfill_id, after_sequence=self.cursor, include_snapshot=not self.as_json, follow=False
        )

    def _print_json(self, message: api.WatchBackfillResponse) -> None:
        line = json_format.MessageToDict(message, preserving_proto_field_name=True)
        print(json.dumps(line, separators=(",", ":")), file=self.out, flush=True)

    async def _refresh(self, stub: backfill_service_pb2_grpc.BackfillServiceStub, force: bool = False) -> None:
        now = time.monotonic()
        if not (force or (self._stale and now - self._refreshed >= REFRESH_SECONDS)):
            return
        self._refreshed, self._stale = now, False
        answer = await stub.GetBackfill(api.GetBackfillRequest(backfill_id=self.backfill_id))
        self.bar.show(answer.backfill)

    async def _follow(self, stub: backfill_service_pb2_grpc.BackfillServiceStub) -> None:
        async for message in stub.WatchBackfill(self._request()):
            self.received = True
            kind = message.WhichOneof("kind")
            if kind == "snapshot":
                self.cursor = max(self.cursor, message.snapshot.sequence)
            elif kind == "event":
                self.cursor = message.event.sequence
            if self.as_json:
                self._print_json(message)
                continue
            if kind == "snapshot":
                self.bar.show(message.snapshot.backfill)
            elif kind == "event":
                self._stale = True
                await self._refresh(stub)
            elif kind == "progress":
                self.bar.progress(message.progress)
            else:
                await self._refresh(stub)
        if not self.as_json:
            await self._refresh(stub, force=True)

    async def run(self) -> int:
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            self.received = False
            try:
                async with grpc.aio.insecure_channel(self.server, options=CLIENT_CHANNEL_OPTIONS) as channel:
                    await self._follow(backfill_service_pb2_grpc.BackfillServiceStub(channel))
                return self._finish()
            except grpc.aio.AioRpcError as error:
                if error.code() not in RESUMABLE:
                    self.bar.close()
                    print(f"arco backfill watch: {render.rpc_error(error)}", file=self.err)
                    return 1
                resume = resume_after_sequence(error)
                if resume is not None:
                    self.cursor = max(self.cursor, resume)
            if self.received:
                backoff = FIRST_BACKOFF_SECONDS  # that connection worked: start backing off afresh
            await asyncio.sleep(backoff)  # the server may be restarting: wait before reconnecting
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _finish(self) -> int:
        self.bar.close()
        backfill = self.bar.backfill
        if not self.as_json and backfill is not None:
            progress = backfill.progress
            print(
                f"backfill {self.backfill_id} {_state_name(backfill.state)}: "
                f"{progress.partitions_succeeded} succeeded, {progress.partitions_failed} failed, "
                + (f"{progress.partitions_upstream_failed} upstream failed, " if progress.partitions_upstream_failed else "")
                + f"{progress.partitions_cancelled} cancelled of {progress.partitions_total}",
                file=self.out,
            )
        return 0


def run_watch(args: Any, out: TextIO, err: TextIO) -> int:
    """Runs ``arco backfill watch``; returns the exit code (0 once the backfill is terminal)."""
    watcher = _Watcher(args.server, args.backfill_id, args.json, out, err)
    try:
        return asyncio.run(watcher.run())
    except KeyboardInterrupt:
        watcher.bar.close()
        print(f"arco backfill watch: stopped; resume with the events after sequence {watcher.cursor}", file=err)
        return 130
