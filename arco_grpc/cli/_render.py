"""How ``arco backfill`` shows answers to a person: short summaries and aligned tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, partitions_pb2 as pb

_EDGE_KEYS = 3  # keys shown of a chunk on one line


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """The Timestamp of an aware datetime."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(timezone.utc))
    return stamp


def time_text(stamp: timestamp_pb2.Timestamp, present: bool = True) -> str:
    """A Timestamp as UTC ISO 8601 to the second (``2024-01-31T12:00:00Z``), or "-" when not ``present``."""
    if not present:
        return "-"
    return stamp.ToDatetime(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _name(enum: Any, value: int) -> str:
    if value == 0:
        return "-"
    return str(enum.Name(value)).removeprefix("STATE_").removeprefix("ORDER_").lower()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO) -> None:
    """Prints ``rows`` under ``headers`` in left-aligned columns."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


def selector_text(selector: pb.PartitionSelector) -> str:
    """A selector in words: all, keys a,b, range a...b, time [start, end), or per dimension."""
    kind = selector.WhichOneof("kind")
    if kind == "key_range":
        return f"{selector.key_range.start}...{selector.key_range.end}"
    if kind == "time_range":
        return f"[{time_text(selector.time_range.start)}, {time_text(selector.time_range.end)})"
    if kind == "keys":
        keys = list(selector.keys.keys)
        shown = ",".join(keys[:_EDGE_KEYS]) + (f",... ({len(keys)} keys)" if len(keys) > _EDGE_KEYS else "")
        return f"keys {shown}"
    if kind == "multi":
        return " x ".join(f"{d.dimension}={selector_text(d.selector)}" for d in selector.multi.dimensions)
    return "all"


def _targets(targets: Sequence[bf.BackfillTarget], out: TextIO) -> None:
    table(
        ("ASSET", "SELECTION", "PARTITIONS", "CHUNK SIZE", "CHUNKS"),
        [(t.asset_key, selector_text(t.selector), t.partition_count, t.chunk_size, t.chunk_count) for t in targets],
        out,
    )


def _chunk_rows(chunks: Sequence[bf.Chunk]) -> list[tuple[object, ...]]:
    return [
        (c.asset_key, c.round, c.index, _name(bf.Chunk.State, c.state), c.partition_count, c.first_key, c.last_key,
         c.run_key)
        for c in chunks
    ]


_CHUNK_HEADERS = ("ASSET", "ROUND", "INDEX", "STATE", "PARTITIONS", "FIRST", "LAST", "RUN KEY")


def create_response(response: Message, out: TextIO) -> None:
    """CreateBackfill: what was created (or would be), and the plan's edges."""
    assert isinstance(response, api.CreateBackfillResponse)
    plan = response.plan
    if response.HasField("backfill"):
        b = response.backfill
        print(f"created backfill {b.id}: {_name(bf.Backfill.State, b.state)}, state_version {b.state_version}",
              file=out)
    else:
        print(f"plan of backfill {plan.backfill_id} (validate only: nothing was written)", file=out)
    print(f"as_of {time_text(plan.as_of)}: {plan.partition_count} partitions in {plan.chunk_count} chunks", file=out)
    if plan.skipped_partition_count:
        reasons = ", ".join(
            f"{count} {name.removeprefix('SKIP_REASON_').lower()}" for name, count in sorted(plan.skipped_by_reason.items())
        )
        print(f"skipped by the reprocess policy: {plan.skipped_partition_count} partitions ({reasons})", file=out)
    _targets(plan.targets, out)
    print("first and last chunks:", file=out)
    gap = [("...",) + ("",) * 7] if plan.last_chunks and plan.chunk_count > len(plan.first_chunks) + len(plan.last_chunks) else []
    table(_CHUNK_HEADERS, [*_chunk_rows(plan.first_chunks), *gap, *_chunk_rows(plan.last_chunks)], out)


def backfill(b: bf.Backfill, out: TextIO) -> None:
    """One backfill in full: fields, targets, progress, transitions."""
    p = b.progress
    fields = [
        ("id", b.id), ("state", _name(bf.Backfill.State, b.state)), ("state_version", b.state_version),
        ("title", b.title or "-"), ("creator", b.creator or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(b.tags.items())) or "-"),
        ("order", _name(bf.Backfill.Order, b.order)), ("max_concurrency", b.max_concurrency),
        ("as_of", time_text(b.as_of)), ("created", time_text(b.create_time)), ("updated", time_text(b.update_time)),
        ("ended", time_text(b.end_time, b.HasField("end_time"))),
        ("partitions", f"{p.partitions_total} total: {p.partitions_pending} pending, {p.partitions_running} running, "
                       f"{p.partitions_succeeded} succeeded, {p.partitions_failed} failed, "
                       + (f"{p.partitions_upstream_failed} upstream failed, " if p.partitions_upstream_failed else "")
                       + (f"{p.partitions_skipped} skipped, " if p.partitions_skipped else "")
                       + f"{p.partitions_cancelled} cancelled"),
        ("chunks", ", ".join(f"{n} {k.removeprefix('STATE_').lower()}" for k, n in sorted(p.chunks_by_state.items()))
         or "-"),
    ]
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name.ljust(width)}  {value}", file=out)
    print(file=out)
    _targets(b.targets, out)
    if b.transitions:
        print(file=out)
        table(
            ("VERSION", "FROM", "TO", "TIME", "REQUEST", "REASON"),
            [(t.state_version, _name(bf.Backfill.State, t.from_state), _name(bf.Backfill.State, t.to_state),
              time_text(t.time), t.request_id or "-", t.reason) for t in b.transitions],
            out,
        )


def get_response(response: Message, out: TextIO) -> None:
    """GetBackfill."""
    assert isinstance(response, api.GetBackfillResponse)
    backfill(response.backfill, out)


def mutation_response(response: Message, out: TextIO) -> None:
    """Pause, Resume, Cancel, Update: the backfill after the request."""
    b = getattr(response, "backfill")
    print(f"backfill {b.id}: {_name(bf.Backfill.State, b.state)}, state_version {b.state_version}, "
          f"max_concurrency {b.max_concurrency}", file=out)


def _more(token: str, out: TextIO) -> None:
    if token:
        print(f"more: --page-token {token}", file=out)


def list_response(response: Message, out: TextIO) -> None:
    """ListBackfills: one line per backfill."""
    assert isinstance(response, api.ListBackfillsResponse)
    table(
        ("ID", "STATE", "VERSION", "CREATED", "ASSETS", "PARTITIONS", "TITLE"),
        [(b.id, _name(bf.Backfill.State, b.state), b.state_version, time_text(b.create_time),
          ",".join(t.asset_key for t in b.targets), b.progress.partitions_total, b.title) for b in response.backfills],
        out,
    )
    _more(response.next_page_token, out)


def chunks_response(response: Message, out: TextIO) -> None:
    """ListChunks: one line per chunk."""
    assert isinstance(response, api.ListChunksResponse)
    table(_CHUNK_HEADERS, _chunk_rows(response.chunks), out)
    _more(response.next_page_token, out)


def _event_details(event: api.BackfillEvent) -> str:
    payload = getattr(event.payload, event.payload.WhichOneof("kind") or "created")
    if event.type == "BackfillCreated":
        return f"{len(payload.targets)} targets, {sum(t.partition_count for t in payload.targets)} partitions"
    return ", ".join(f"{field.name}={value}" for field, value in payload.ListFields())


def events_response(response: Message, out: TextIO) -> None:
    """ListBackfillEvents: one line per event."""
    assert isinstance(response, api.ListBackfillEventsResponse)
    table(
        ("SEQUENCE", "VERSION", "TIME", "TYPE", "REQUEST", "DETAILS"),
        [(e.sequence, e.state_version, time_text(e.time), e.type, e.request_id or "-", _event_details(e))
         for e in response.events],
        out,
    )
    _more(response.next_page_token, out)


def rpc_error(error: grpc.aio.AioRpcError) -> str:
    """A failed call in one line: the status, the message and the bad fields."""
    text = f"{error.code().name}: {error.details()}"
    for key, value in error.trailing_metadata() or ():
        if key == rpc_status.GRPC_DETAILS_METADATA_KEY:
            bad_request = error_details_pb2.BadRequest()
            for detail in status_pb2.Status.FromString(value).details:
                if detail.Is(bad_request.DESCRIPTOR):
                    detail.Unpack(bad_request)
            fields = [violation.field for violation in bad_request.field_violations]
            if fields:
                text += f" (field: {', '.join(fields)})"
    return text
