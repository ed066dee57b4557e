"""``arco run submit|get|list|reexecute|cancel``: a client of RunService, the one ledger of runs.

Every verb takes ``--server HOST:PORT`` (env ARCO_SERVER) and ``--json``, as
``arco backfill`` does. Mutations send a fresh request id (a UUID) unless
``--request-id`` is given; pass the same one again to retry safely (for a
manual launch, that is the only thing that repeats it).
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any, TextIO

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rapi, run_service_pb2_grpc
from arco_grpc.cli import _render as render
from arco_grpc.cli._backfill import (
    add_common_options,
    add_selector_options,
    parse_instant,
    parse_tag,
    selector_from_args,
    state_parser,
)
from arco_grpc.cli._calls import Call, Show, call_and_show

_ORIGINS = {"schedule": rapi.RUN_ORIGIN_SCHEDULE, "sensor": rapi.RUN_ORIGIN_SENSOR, "manual": rapi.RUN_ORIGIN_MANUAL}
_LISTED_ORIGINS = {**_ORIGINS, "backfill": rapi.RUN_ORIGIN_BACKFILL}
_MODES = {"from-failure": rapi.ReexecuteRunRequest.MODE_FROM_FAILURE, "all": rapi.ReexecuteRunRequest.MODE_ALL}
_REPROCESS = {
    "all": bf.REPROCESS_POLICY_ALL,
    "missing": bf.REPROCESS_POLICY_MISSING,
    "failed-and-missing": bf.REPROCESS_POLICY_FAILED_AND_MISSING,
}


def add_run_commands(commands: Any) -> None:
    """Adds ``run`` and its verbs to the subcommands."""
    run = commands.add_parser("run", help="submit, re-execute, cancel and inspect runs of every origin",
                              description="The run ledger of a running server: backfill chunks, schedule ticks, "
                                          "sensor requests and manual launches.")
    verbs = run.add_subparsers(dest="verb", required=True)

    submit = verbs.add_parser("submit", help="queue a run of some partitions of one asset")
    submit.add_argument("--asset", required=True, help="the partitioned asset to materialize")
    add_selector_options(submit)
    submit.add_argument("--origin", choices=sorted(_ORIGINS), default="manual",
                        help="who asks (default: manual); it sets the dedupe scope")
    submit.add_argument("--name", default="", help="schedule or sensor: its name")
    submit.add_argument("--run-key", default="",
                        help="sensor: a run with this key for this sensor, ever, is this run; "
                             "schedule: tells apart several runs of one tick")
    submit.add_argument("--scheduled-time", type=parse_instant, metavar="TIME",
                        help="schedule, required: the tick's scheduled time (ISO 8601; naive means UTC)")
    submit.add_argument("--reprocess", choices=sorted(_REPROCESS), default="all",
                        help="which selected partitions run, judged from their status (default: all)")
    submit.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE",
                        help="a tag; repeatable")
    submit.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(submit)

    get = verbs.add_parser("get", help="show one run: key, origin, lineage, state, times")
    get.add_argument("run_id")
    add_common_options(get)

    listing = verbs.add_parser("list", help="list runs oldest first, filtered")
    listing.add_argument("--backfill", default="", help="only runs of this backfill (or submitted run's stream)")
    listing.add_argument("--asset", default="", help="only runs of this asset")
    listing.add_argument("--partition", default="", help="with --asset: only runs that hold this partition key")
    listing.add_argument("--origin", choices=sorted(_LISTED_ORIGINS), help="only runs of this origin")
    listing.add_argument("--name", default="", help="with --origin schedule or sensor: only runs of this name")
    listing.add_argument("--state", type=state_parser("STATE_", rapi.Run.State), action="append", default=[],
                         help="only in this state (repeatable): queued, running, succeeded, failed, ...")
    listing.add_argument("--page-size", type=int, default=50, help="items per page (default %(default)s)")
    listing.add_argument("--page-token", default="", help="continue from a previous page's token")
    add_common_options(listing)

    reexecute = verbs.add_parser("reexecute", help="queue a new run of an ended run's partitions, linked to it")
    reexecute.add_argument("run_id")
    reexecute.add_argument("--mode", choices=sorted(_MODES), default="from-failure",
                           help="only the failed partitions (default), or all of them")
    reexecute.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE",
                           help="a tag added to the parent's; repeatable")
    reexecute.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(reexecute)

    cancel = verbs.add_parser("cancel", help="cancel a submitted run (a running one stops at its next heartbeat)")
    cancel.add_argument("run_id")
    cancel.add_argument("--reason", default="", help="why; recorded in the event")
    cancel.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(cancel)


def _submit_request(args: argparse.Namespace) -> rapi.SubmitRunRequest:
    request = rapi.SubmitRunRequest(
        request_id=args.request_id or str(uuid.uuid4()), origin=_ORIGINS[args.origin],  # type: ignore[arg-type]
        origin_name=args.name, asset_key=args.asset, selector=selector_from_args(args), run_key=args.run_key,
        tags=dict(args.tag), reprocess_policy=_REPROCESS[args.reprocess],  # type: ignore[arg-type]
    )
    if args.scheduled_time:
        request.scheduled_time.CopyFrom(render.timestamp(args.scheduled_time))
    return request


def _short(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower() if value else "-"


def _origin(run: rapi.Run) -> str:
    origin = _short(rapi.RunOrigin, run.origin, "RUN_ORIGIN_")
    return f"{origin} {run.origin_name}" if run.origin_name else origin


def show_run(run: rapi.Run, out: TextIO) -> None:
    """One run for a person: identity, origin, lineage, state and times."""
    fields = [
        ("run_id", run.run_id), ("run_key", run.run_key), ("origin", _origin(run)),
        ("origin_run_key", run.origin_run_key or "-"),
        ("scheduled", render.time_text(run.scheduled_time, run.HasField("scheduled_time"))),
        ("stream", run.backfill_id), ("asset", run.asset_key), ("attempt", run.attempt),
        ("state", _short(rapi.Run.State, run.state, "STATE_")),
        ("partitions", f"{run.partition_count} ({run.failed_partition_count} failed)"),
        ("parent", run.parent_run_id or "-"), ("root", run.root_run_id or "-"),
        ("waited_for", ", ".join(run.waited_for_run_ids) or "-"), ("worker", run.worker_id or "-"),
        ("submitted", render.time_text(run.submit_time, run.HasField("submit_time"))),
        ("started", render.time_text(run.start_time, run.HasField("start_time"))),
        ("ended", render.time_text(run.end_time, run.HasField("end_time"))),
        ("error", run.error_message or "-"),
    ]
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name.ljust(width)}  {value}", file=out)


def _show_submitted(response: Message, out: TextIO) -> None:
    assert isinstance(response, rapi.SubmitRunResponse)
    run = response.run
    if response.deduplicated:
        print(f"run {run.run_id} already in the ledger repeats this request: nothing was submitted", file=out)
    else:
        print(f"submitted run {run.run_id}: {_short(rapi.Run.State, run.state, 'STATE_')}", file=out)
    for skipped in response.skipped:
        reason = _short(bf.SkipReason, skipped.reason, "SKIP_REASON_")
        print(f"skipped by the reprocess policy: {skipped.partition_count} partitions ({reason})", file=out)
    show_run(run, out)


def _show_one(response: Message, out: TextIO) -> None:
    show_run(response.run, out)  # type: ignore[attr-defined]


def _show_list(response: Message, out: TextIO) -> None:
    assert isinstance(response, rapi.ListRunsResponse)
    rows = [
        (r.run_id, _origin(r), r.asset_key, _short(rapi.Run.State, r.state, "STATE_"), r.partition_count,
         r.run_key, r.parent_run_id or "-")
        for r in response.runs
    ]
    render.table(("RUN ID", "ORIGIN", "ASSET", "STATE", "PARTITIONS", "RUN KEY", "PARENT"), rows, out)
    if response.next_page_token:
        print(f"more: --page-token {response.next_page_token}", file=out)


def _call(args: argparse.Namespace) -> tuple[Call, Show]:
    """The RPC a verb makes, and how its answer is shown to a person."""
    if args.verb == "submit":
        submit = _submit_request(args)
        return (lambda s: s.SubmitRun(submit)), _show_submitted
    if args.verb == "get":
        return (lambda s: s.GetRun(rapi.GetRunRequest(run_id=args.run_id))), _show_one
    if args.verb == "list":
        listing = rapi.ListRunsRequest(
            backfill_id=args.backfill, asset_key=args.asset, partition_key=args.partition,
            origin=_LISTED_ORIGINS[args.origin] if args.origin else rapi.RUN_ORIGIN_UNSPECIFIED,  # type: ignore[arg-type]
            origin_name=args.name, states=args.state, page_size=args.page_size, page_token=args.page_token,
        )
        return (lambda s: s.ListRuns(listing)), _show_list
    request_id = args.request_id or str(uuid.uuid4())
    if args.verb == "reexecute":
        again = rapi.ReexecuteRunRequest(request_id=request_id, run_id=args.run_id, mode=_MODES[args.mode],  # type: ignore[arg-type]
                                         tags=dict(args.tag))
        return (lambda s: s.ReexecuteRun(again)), _show_one
    cancel = rapi.CancelRunRequest(request_id=request_id, run_id=args.run_id, reason=args.reason)
    return (lambda s: s.CancelRun(cancel)), _show_one


def run_runs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs a run verb against the server; returns the exit code (1 when the server refused, 2 for bad options)."""
    try:
        call, show = _call(args)
    except ValueError as error:
        print(f"arco run {args.verb}: {error}", file=err)
        return 2
    return call_and_show("run", args, run_service_pb2_grpc.RunServiceStub, call, show, out, err)
