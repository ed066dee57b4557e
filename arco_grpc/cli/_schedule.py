"""``arco schedule create|get|list|pause|resume``: a client of ScheduleService.

Every verb takes ``--server HOST:PORT`` (env ARCO_SERVER) and ``--json``, as
``arco backfill`` does. Mutations send a fresh request id (a UUID) unless
``--request-id`` is given; pass the same one again to retry safely.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import timedelta, timezone
from typing import Any, TextIO

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, schedule_service_pb2 as api
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2_grpc, schedules_pb2 as sc
from arco_grpc.cli import _render as render
from arco_grpc.cli._backfill import add_common_options, parse_instant, parse_tag
from arco_grpc.cli._calls import Call, Show, call_and_show

_POLICIES = {"latest-only": sc.CATCH_UP_POLICY_LATEST_ONLY, "all-missed": sc.CATCH_UP_POLICY_ALL_MISSED}
_REPROCESS = {
    "all": bf.REPROCESS_POLICY_ALL,
    "missing": bf.REPROCESS_POLICY_MISSING,
    "failed-and-missing": bf.REPROCESS_POLICY_FAILED_AND_MISSING,
}


def add_schedule_commands(commands: Any) -> None:
    """Adds ``schedule`` and its verbs to the subcommands."""
    schedule = commands.add_parser("schedule", help="create, steer and inspect schedules",
                                   description="Create, steer and inspect schedules on a running server.")
    verbs = schedule.add_subparsers(dest="verb", required=True)

    create = verbs.add_parser("create", help="create a schedule: a cron that materializes a time-partitioned asset")
    create.add_argument("name", help="the schedule's unique name")
    create.add_argument("--cron", required=True, help="a five-field cron expression, e.g. '0 * * * *'")
    create.add_argument("--timezone", default="UTC", help="the IANA zone of the cron (default %(default)s)")
    create.add_argument("--asset", required=True, help="the time-window partitioned asset each tick materializes")
    create.add_argument("--catch-up", choices=sorted(_POLICIES), default="latest-only",
                        help="which missed ticks launch after downtime (default: latest-only)")
    create.add_argument("--catch-up-window-hours", type=float, default=0,
                        help="all-missed: only ticks this recent launch (default: 365 days)")
    create.add_argument("--max-catch-up-runs", type=int, default=0, help="all-missed: at most this many (default 5)")
    create.add_argument("--reprocess", choices=sorted(_REPROCESS), default="all",
                        help="what a tick does when its partition already has a status (default: all)")
    create.add_argument("--start", type=parse_instant, metavar="TIME",
                        help="ticks after TIME are due (ISO 8601; naive means UTC; default: now)")
    create.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE",
                        help="a tag; repeatable")
    create.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(create)

    get = verbs.add_parser("get", help="show one schedule: cursor, pending ticks, counts, latest ticks")
    get.add_argument("name")
    add_common_options(get)

    listing = verbs.add_parser("list", help="list schedules in creation order")
    listing.add_argument("--page-size", type=int, default=50, help="items per page (default %(default)s)")
    listing.add_argument("--page-token", default="", help="continue from a previous page's token")
    add_common_options(listing)

    for verb, text in (("pause", "stop launching ticks"), ("resume", "launch ticks again (the paused time is skipped)")):
        steer = verbs.add_parser(verb, help=text)
        steer.add_argument("name")
        steer.add_argument("--note", default="", help="why; shown on the schedule")
        steer.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
        add_common_options(steer)


def _create_request(args: argparse.Namespace) -> api.CreateScheduleRequest:
    request = api.CreateScheduleRequest(
        request_id=args.request_id or str(uuid.uuid4()), name=args.name, cron_schedule=args.cron,
        timezone=args.timezone, asset_key=args.asset, catch_up_policy=_POLICIES[args.catch_up],  # type: ignore[arg-type]
        max_catch_up_runs=args.max_catch_up_runs, reprocess_policy=_REPROCESS[args.reprocess],  # type: ignore[arg-type]
        tags=dict(args.tag),
    )
    if args.catch_up_window_hours:
        request.catch_up_window.FromTimedelta(timedelta(hours=args.catch_up_window_hours))
    if args.start:
        request.start_time.CopyFrom(render.timestamp(args.start))
    return request


def _when(stamp: Any) -> str:
    return stamp.ToDatetime(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _short(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def show_schedule(schedule: sc.Schedule, out: TextIO) -> None:
    """A schedule for a person: definition, state, cursor, counts, pending and latest ticks."""
    state = _short(sc.Schedule.State, schedule.state, "STATE_")
    print(f"schedule {schedule.name}  {state}  '{schedule.cron_schedule}' ({schedule.timezone})  "
          f"-> {schedule.asset_key}", file=out)
    policy = _short(sc.CatchUpPolicy, schedule.catch_up_policy, "CATCH_UP_POLICY_")
    window = schedule.catch_up_window.ToTimedelta()
    if not window % timedelta(days=1):
        window = f"{window.days} days"  # type: ignore[assignment]
    print(f"  catch-up: {policy} (window {window}, at most {schedule.max_catch_up_runs} runs)", file=out)
    if schedule.note:
        print(f"  note: {schedule.note}", file=out)
    nxt = _when(schedule.next_tick_time) if schedule.HasField("next_tick_time") else "- (paused)"
    print(f"  evaluated through {_when(schedule.evaluated_through)}; next tick {nxt}", file=out)
    skips = ", ".join(
        f"{entry.count} {_short(sc.TickSkipReason, entry.reason, 'TICK_SKIP_REASON_')}"
        for entry in schedule.skipped_tick_counts
    )
    print(f"  launched {schedule.launched_tick_count} ticks; skipped {skips or 'none'}", file=out)
    for title, ticks in (("pending", schedule.pending_ticks), ("latest ticks", schedule.last_ticks)):
        if ticks:
            rows = [
                (_when(t.scheduled_time), t.partition_key, t.run_key,
                 _short(sc.TickSkipReason, t.skip_reason, "TICK_SKIP_REASON_") if t.skip_reason else t.run_id or "-")
                for t in ticks
            ]
            print(f"  {title}:", file=out)
            render.table(("TICK", "PARTITION", "RUN KEY", "RUN / SKIPPED"), rows, out)


def _show_one(response: Message, out: TextIO) -> None:
    show_schedule(response.schedule, out)  # type: ignore[attr-defined]


def _show_list(response: Message, out: TextIO) -> None:
    assert isinstance(response, api.ListSchedulesResponse)
    rows = [
        (s.name, _short(sc.Schedule.State, s.state, "STATE_"), s.cron_schedule, s.asset_key,
         _when(s.next_tick_time) if s.HasField("next_tick_time") else "-", s.launched_tick_count)
        for s in response.schedules
    ]
    render.table(("NAME", "STATE", "CRON", "ASSET", "NEXT TICK", "LAUNCHED"), rows, out)
    if response.next_page_token:
        print(f"more: --page-token {response.next_page_token}", file=out)


def _call(args: argparse.Namespace) -> tuple[Call, Show]:
    """The RPC a verb makes, and how its answer is shown to a person."""
    if args.verb == "create":
        request = _create_request(args)
        return (lambda s: s.CreateSchedule(request)), _show_one
    if args.verb == "get":
        return (lambda s: s.GetSchedule(api.GetScheduleRequest(name=args.name))), _show_one
    if args.verb == "list":
        listing = api.ListSchedulesRequest(page_size=args.page_size, page_token=args.page_token)
        return (lambda s: s.ListSchedules(listing)), _show_list
    fields = dict(request_id=args.request_id or str(uuid.uuid4()), name=args.name, note=args.note)
    if args.verb == "pause":
        return (lambda s: s.PauseSchedule(api.PauseScheduleRequest(**fields))), _show_one
    return (lambda s: s.ResumeSchedule(api.ResumeScheduleRequest(**fields))), _show_one


def run_schedule(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs a schedule verb against the server; returns the exit code (1 when the server refused)."""
    call, show = _call(args)
    return call_and_show("schedule", args, schedule_service_pb2_grpc.ScheduleServiceStub, call, show, out, err)
