"""``arco backfill create|get|list|pause|resume|cancel|update|chunks|events|watch``: a client of BackfillService.

Every verb takes ``--server HOST:PORT`` (env ARCO_SERVER; default
127.0.0.1:50051) and ``--json``. Mutations send a fresh request id (a UUID)
unless ``--request-id`` is given; pass the same one again to retry safely.
"""

from __future__ import annotations

import argparse
import getpass
import os
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TextIO


from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, partitions_pb2 as pb
from arco_grpc.cli import _render as render
from arco_grpc.cli._calls import Call, Show, call_and_show
from arco_grpc.cli._watch import run_watch

DEFAULT_SERVER = "127.0.0.1:50051"
RANGE_SEPARATOR = "..."  # Dagster's key-range text: keys may never contain it


_REPROCESS = {
    "all": bf.REPROCESS_POLICY_ALL,
    "missing": bf.REPROCESS_POLICY_MISSING,
    "failed-and-missing": bf.REPROCESS_POLICY_FAILED_AND_MISSING,
}


def state_parser(prefix: str, enum: Any) -> Callable[[str], int]:
    """An argument type reading a state name of ``enum`` (``running`` or ``STATE_RUNNING``) as its number."""
    def parse(text: str) -> int:
        name = text.upper()
        name = name if name.startswith(prefix) else prefix + name
        try:
            return int(enum.Value(name))
        except ValueError:
            names = ", ".join(n[len(prefix) :].lower() for n in enum.keys()[1:])
            raise argparse.ArgumentTypeError(f"{text!r} is not a state; use one of {names}") from None

    return parse


def parse_instant(text: str) -> datetime:
    """An ISO 8601 time argument (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time; write e.g. 2024-01-31 or 2024-01-31T12:00:00+02:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # naive times are UTC


def parse_tag(text: str) -> tuple[str, str]:
    """A KEY=VALUE tag argument."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not a tag; write KEY=VALUE")
    return key, value


def _key_range(text: str) -> tuple[str, str]:
    start, sep, end = text.partition(RANGE_SEPARATOR)
    if not sep or not start or not end or RANGE_SEPARATOR in end:
        raise argparse.ArgumentTypeError(f"{text!r} is not a key range; write START...END (both keys included)")
    return start, end


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Adds --server and --json, which every client verb takes."""
    parser.add_argument("--server", default=os.environ.get("ARCO_SERVER", DEFAULT_SERVER),
                        help="the server's HOST:PORT (env ARCO_SERVER; default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the response as JSON")


def _mutation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backfill_id", help="the backfill's id (bf-...)")
    parser.add_argument("--reason", default="", help="why; recorded in the event")
    parser.add_argument("--expected-version", type=int, default=0,
                        help="only if the backfill is at this state_version (else ABORTED)")
    parser.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(parser)


def _paged(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--page-size", type=int, default=default, help="items per page (default %(default)s)")
    parser.add_argument("--page-token", default="", help="continue from a previous page's token")


def add_backfill_commands(commands: Any) -> None:
    """Adds ``backfill`` and its verbs to the subcommands."""
    backfill = commands.add_parser("backfill", help="create, steer and inspect backfills",
                                   description="Create, steer and inspect backfills on a running server.")
    verbs = backfill.add_subparsers(dest="verb", required=True)

    create = verbs.add_parser("create", help="create a backfill (or preview it with --validate-only)")
    create.add_argument("--asset", action="append", required=True, dest="assets",
                        help="an asset to backfill; repeat for several (the selector applies to each)")
    add_selector_options(create)
    create.add_argument("--chunk-size", type=int, default=0, help="partitions per chunk (default: the asset's policy)")
    create.add_argument("--max-concurrency", type=int, default=0, help="chunks leased at once (default 10)")
    create.add_argument("--backward", action="store_true", help="dispatch from the last partition to the first")
    create.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE", help="a tag; repeatable")
    create.add_argument("--title", default="", help="a short title")
    create.add_argument("--description", default="", help="a description")
    create.add_argument("--creator", default=None, help="who asks (default: the login name)")
    create.add_argument("--as-of", type=parse_instant, metavar="TIME", help="evaluation time (default: now, on the server)")
    create.add_argument("--reprocess", choices=sorted(_REPROCESS), default="all",
                        help="which selected partitions run, judged from their status (default: all)")
    create.add_argument("--propagate", action="store_true",
                        help="apply the selector to the root assets only; the others get what reads it (root_selector)")
    create.add_argument("--validate-only", action="store_true", help="check and show the plan; write nothing")
    create.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    add_common_options(create)

    get = verbs.add_parser("get", help="show one backfill with its progress and transitions")
    get.add_argument("backfill_id")
    add_common_options(get)

    listing = verbs.add_parser("list", help="list backfills, newest first")
    listing.add_argument("--state", type=state_parser("STATE_", bf.Backfill.State), action="append", default=[],
                         help="only in this state (repeatable): created, running, paused, cancelling, ...")
    listing.add_argument("--asset", default="", help="only backfills of this asset")
    listing.add_argument("--tag", type=parse_tag, action="append", default=[], metavar="KEY=VALUE",
                         help="only backfills with this tag (repeatable: all must match)")
    _paged(listing, 50)
    add_common_options(listing)

    for verb, text in (("pause", "stop dispatching new chunks"), ("resume", "dispatch again after a pause"),
                       ("cancel", "stop for good; chunks never leased are cancelled")):
        _mutation(verbs.add_parser(verb, help=text))
    update = verbs.add_parser("update", help="change max_concurrency of a live backfill")
    update.add_argument("--max-concurrency", type=int, required=True, help="the new limit (at least 1)")
    _mutation(update)

    chunks = verbs.add_parser("chunks", help="list a backfill's chunks in plan order")
    chunks.add_argument("backfill_id")
    chunks.add_argument("--state", type=state_parser("STATE_", bf.Chunk.State), action="append", default=[],
                        help="only in this state (repeatable): pending, leased, succeeded, failed, cancelled")
    chunks.add_argument("--round", type=int, default=0, help="only this round (default: all)")
    chunks.add_argument("--asset", default="", help="only this target asset")
    chunks.add_argument("--start", type=int, default=0, help="start at this chunk index")
    _paged(chunks, 20)
    add_common_options(chunks)

    events = verbs.add_parser("events", help="a backfill's events, oldest first (its audit log)")
    events.add_argument("backfill_id")
    _paged(events, 100)
    add_common_options(events)

    watch = verbs.add_parser("watch", help="a live progress bar until the backfill ends (resumes after disconnects)",
                             description="Follows a backfill until it is cancelled or completed: a progress bar "
                                         "(partitions done, failed, running; rate; ETA), or with --json every "
                                         "stream message (snapshot, events, progress, heartbeats) as one JSON "
                                         "line. Reconnects by itself and resumes after the last event received.")
    watch.add_argument("backfill_id")
    add_common_options(watch)


def add_selector_options(parser: argparse.ArgumentParser) -> None:
    """Adds --all, --range, --keys and --from/--to: the partitions a verb selects (read by selector_from_args)."""
    selector = parser.add_mutually_exclusive_group()
    selector.add_argument("--all", action="store_true", help="every partition (the default; a backfill: at as_of)")
    selector.add_argument("--range", type=_key_range, metavar="START...END",
                          help="partition keys START to END, both included (Dagster's 'a...b' form)")
    selector.add_argument("--keys", metavar="K1,K2,...", help="these partition keys")
    selector.add_argument("--from", dest="time_from", type=parse_instant, metavar="TIME",
                          help="time windows starting at or after TIME (ISO 8601; naive means UTC); needs --to")
    parser.add_argument("--to", dest="time_to", type=parse_instant, metavar="TIME",
                        help="with --from: time windows starting before TIME")


def selector_from_args(args: argparse.Namespace) -> pb.PartitionSelector:
    """The selector of the options :func:`add_selector_options` added.

    Raises:
        ValueError: --from without --to, or --to without --from.
    """
    if args.range:
        return pb.PartitionSelector(key_range=pb.PartitionKeyRange(start=args.range[0], end=args.range[1]))
    if args.keys:
        return pb.PartitionSelector(keys=pb.PartitionKeyList(keys=[k.strip() for k in args.keys.split(",") if k.strip()]))
    if args.time_from:
        if not args.time_to:
            raise ValueError("--from needs --to")
        return pb.PartitionSelector(
            time_range=pb.PartitionTimeRange(start=render.timestamp(args.time_from), end=render.timestamp(args.time_to))
        )
    if args.time_to:
        raise ValueError("--to needs --from")
    return pb.PartitionSelector(all=pb.AllPartitions())


def _create_request(args: argparse.Namespace) -> api.CreateBackfillRequest:
    selector = selector_from_args(args)
    request = api.CreateBackfillRequest(
        request_id=args.request_id or ("" if args.validate_only else str(uuid.uuid4())),
        targets=[
            api.BackfillTargetSpec(asset_key=asset, selector=None if args.propagate else selector)
            for asset in args.assets
        ],
        root_selector=selector if args.propagate else None,
        chunk_size=args.chunk_size,
        max_concurrency=args.max_concurrency,
        order=bf.Backfill.ORDER_BACKWARD if args.backward else bf.Backfill.ORDER_FORWARD,
        tags=dict(args.tag),
        title=args.title,
        description=args.description,
        creator=_login() if args.creator is None else args.creator,
        validate_only=args.validate_only,
        reprocess_policy=_REPROCESS[args.reprocess],
    )
    if args.as_of:
        request.as_of.CopyFrom(render.timestamp(args.as_of))
    return request


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _call(args: argparse.Namespace) -> tuple[Call, Show]:
    """The RPC a verb makes, and how its answer is shown to a person."""
    verb = args.verb
    if verb == "create":
        request = _create_request(args)
        return (lambda s: s.CreateBackfill(request)), render.create_response
    if verb == "get":
        return (lambda s: s.GetBackfill(api.GetBackfillRequest(backfill_id=args.backfill_id))), render.get_response
    if verb == "list":
        request = api.ListBackfillsRequest(states=args.state, asset_key=args.asset, tags=dict(args.tag),
                                           page_size=args.page_size, page_token=args.page_token)
        return (lambda s: s.ListBackfills(request)), render.list_response
    if verb in ("pause", "resume", "cancel", "update"):
        fields = dict(request_id=args.request_id or str(uuid.uuid4()), backfill_id=args.backfill_id,
                      expected_state_version=args.expected_version, reason=args.reason)
        if verb == "update":
            fields["max_concurrency"] = args.max_concurrency
        method = verb.capitalize() + "Backfill"
        request_type = getattr(api, method + "Request")
        return (lambda s: getattr(s, method)(request_type(**fields))), render.mutation_response
    if verb == "chunks":
        request = api.ListChunksRequest(backfill_id=args.backfill_id, states=args.state, round=args.round,
                                        asset_key=args.asset, start_index=args.start, page_size=args.page_size,
                                        page_token=args.page_token)
        return (lambda s: s.ListChunks(request)), render.chunks_response
    if verb == "events":
        request = api.ListBackfillEventsRequest(backfill_id=args.backfill_id, page_size=args.page_size,
                                                page_token=args.page_token)
        return (lambda s: s.ListBackfillEvents(request)), render.events_response
    raise AssertionError(f"unhandled backfill verb {verb!r}")


def run_backfill(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Runs a backfill verb against the server; returns the exit code (1 when the server refused)."""
    if args.verb == "watch":
        return run_watch(args, out, err)
    try:
        call, show = _call(args)
    except ValueError as error:
        print(f"arco backfill {args.verb}: {error}", file=err)
        return 2
    return call_and_show("backfill", args, backfill_service_pb2_grpc.BackfillServiceStub, call, show, out, err)
