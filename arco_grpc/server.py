"""Assembles the gRPC server: servicers (errors mapped to statuses), health, reflection, shutdown.

The only module that picks a store backend (from an explicit location) and
the wall clock; everything below it gets both injected.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import TextIO

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import error_details_pb2  # noqa: F401 - registers google.rpc details for reflection clients
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from arco_grpc._gen.arco.orchestration.v1 import (
    backfill_service_pb2,
    backfill_service_pb2_grpc,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    run_service_pb2,
    run_service_pb2_grpc,
    schedule_service_pb2,
    schedule_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
)
from arco_grpc.service import (
    AfterCommit,
    BackfillApplication,
    BackfillServicer,
    CatalogApplication,
    CatalogServicer,
    Clock,
    map_errors,
)
from arco_grpc.service.backfill_plans import PlanResolver
from arco_grpc.service.dispatch import Dispatcher, RunIds
from arco_grpc.service.group_commit import GroupCommitter
from arco_grpc.service.live_backfills import LiveBackfills
from arco_grpc.service.run_app import RunApplication
from arco_grpc.service.run_servicer import RunServicer
from arco_grpc.service.run_submission import RunSubmissions
from arco_grpc.service.schedule_app import ScheduleApplication
from arco_grpc.service.schedule_servicer import ScheduleServicer
from arco_grpc.service.schedule_launcher import SubmittingLauncher
from arco_grpc.service.schedule_ticker import ScheduleTicker, TickLauncher
from arco_grpc.service.watch_hub import WatchConfig, WatchHub
from arco_grpc.service.watch_streams import WatchStreams
from arco_grpc.service.worker_app import WorkerApplication
from arco_grpc.service.worker_servicer import WorkerServicer
from arco_grpc.store import EventStore, StoreUnavailable, open_store
from arco_grpc.store.serving import ServingLock, serving_lock

logger = logging.getLogger(__name__)


def _service(module: ModuleType, name: str) -> ServiceDescriptor:
    return module.DESCRIPTOR.services_by_name[name]  # type: ignore[no-any-return]


CATALOG_SERVICE = _service(catalog_service_pb2, "CatalogService").full_name
BACKFILL_SERVICE = _service(backfill_service_pb2, "BackfillService").full_name
WORKER_SERVICE = _service(worker_service_pb2, "WorkerService").full_name
RUN_SERVICE = _service(run_service_pb2, "RunService").full_name
SCHEDULE_SERVICE = _service(schedule_service_pb2, "ScheduleService").full_name
ARCO_SERVICES = (CATALOG_SERVICE, BACKFILL_SERVICE, WORKER_SERVICE, RUN_SERVICE, SCHEDULE_SERVICE)
# Test-only fault injection: a comma-separated list of method names (such as
# "CreateBackfill"). The server process then exits with status 137 (as if
# killed) right after such a request's append commits, before it answers, so
# tests can prove that a client's retry finds the committed answer. The
# schedule tick loop's own appends are named "DecideTicks" (a TicksDecided
# event) and "LaunchTick" (a TickLaunched or TickSkipped event).
FAULT_EXIT_AFTER_COMMIT_ENV = "ARCO_FAULT_EXIT_AFTER_COMMIT"
FAULT_EXIT_STATUS = 137
# Test-only: seconds (may be negative or fractional) added to the wall clock of
# `arco serve`, so that a test can restart a server process "hours later" and
# watch it catch up the schedule ticks it missed. Never set it in production.
CLOCK_OFFSET_ENV = "ARCO_CLOCK_OFFSET_SECONDS"
DEFAULT_GRACE_SECONDS = 10.0
# Dispatch allocates many short-lived objects per chunk (events, rows, messages): with CPython's default of
# a young collection every 700 allocations, the collector took about a tenth of the server's CPU under
# load (bench/dispatch.py); every 10,000 cuts that by two thirds at a negligible cost in memory.
GC_THRESHOLDS = (10_000, 10, 10)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
SERVER_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # gRPC shares a port between processes by default; a second server on the
    # same port (and maybe another database) must fail instead.
    ("grpc.so_reuseport", 0),
    # Long-lived streams (progress watchers) stay healthy behind proxies: the
    # server pings idle connections, and accepts client keepalive pings every
    # 10 s or more, even without calls in flight.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


def utc_now() -> datetime:
    """The wall clock, in UTC: the server's only source of time."""
    return datetime.now(timezone.utc)


def fault_hook_from_env(environ: dict[str, str] | None = None) -> AfterCommit | None:
    """The after-commit hook :data:`FAULT_EXIT_AFTER_COMMIT_ENV` asks for, or None (the normal case)."""
    value = (os.environ if environ is None else environ).get(FAULT_EXIT_AFTER_COMMIT_ENV, "")
    methods = {name.strip() for name in value.split(",") if name.strip()}
    if not methods:
        return None
    logger.warning("fault injection on: the process exits after committing %s", ", ".join(sorted(methods)))

    def exit_after_commit(method: str) -> None:
        if method in methods:
            logging.shutdown()
            os._exit(FAULT_EXIT_STATUS)

    return exit_after_commit


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """The wall clock, shifted by :data:`CLOCK_OFFSET_ENV` seconds when that test-only variable is set.

    Raises:
        ValueError: the variable is set but is not a number.
    """
    value = (os.environ if environ is None else environ).get(CLOCK_OFFSET_ENV, "").strip()
    if not value:
        return utc_now
    try:
        offset = timedelta(seconds=float(value))
    except (ValueError, OverflowError):
        raise ValueError(f"{CLOCK_OFFSET_ENV} must be a number of seconds, got {value!r}") from None
    logger.warning("test clock on: the server's clock runs %s ahead of the wall clock", offset)

    def shifted_now() -> datetime:
        return utc_now() + offset

    return shifted_now


def tune_gc() -> None:
    """Sets the collector's thresholds to :data:`GC_THRESHOLDS`, unless the process already collects less often."""
    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


@dataclass(slots=True)
class RunningServer:
    """A started server and what it owns."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    app: CatalogApplication
    backfills: BackfillApplication
    store: EventStore
    watch_hub: WatchHub
    workers: WorkerApplication
    dispatcher: Dispatcher
    committer: GroupCommitter
    schedules: ScheduleApplication
    schedule_ticker: ScheduleTicker

    async def stop(self, grace: float | None = DEFAULT_GRACE_SECONDS) -> None:
        """Reports NOT_SERVING, lets in-flight calls finish within ``grace`` seconds, closes the store.

        Waiting LeaseChunks calls answer at once (empty); appends decided
        before the stop are committed before the store closes.
        """
        await self.health.enter_graceful_shutdown()
        await self.watch_hub.close()  # watch streams end UNAVAILABLE now (clients resume), not at the grace's end
        self.dispatcher.stop_waiting()
        await self.server.stop(grace)
        await self.schedule_ticker.close()
        await self.dispatcher.close()
        await self.committer.close()
        await self.store.close()


async def start_server(
    store: EventStore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock = utc_now,
    prepare: Callable[[CatalogApplication], Awaitable[None]] | None = None,
    after_commit: AfterCommit | None = None,
    watch: WatchConfig | None = None,
    run_ids: RunIds | None = None,
    launcher: TickLauncher | None = None,
) -> RunningServer:
    """Starts serving on ``host:port`` (0 picks a free port) over ``store``.

    ``prepare`` runs against the application before the port opens (the demo
    catalog uses it). ``after_commit`` is the test-only fault hook (see
    :func:`fault_hook_from_env`). ``watch`` sets the watch streams' limits
    (tests shorten them). ``run_ids`` chooses run ids (default: a random prefix and a counter). ``launcher``
    launches schedule ticks (default: each tick submitted as a run, :class:`SubmittingLauncher`). Live backfills are
    loaded before the port opens, each lease held getting one ttl of grace
    from now. The store is owned by the returned server from then on. The
    process's garbage collector is tuned for serving (:func:`tune_gc`).

    Raises:
        OSError: the address cannot be bound.
    """
    tune_gc()
    app = CatalogApplication(store, clock)
    if prepare is not None:
        await prepare(app)
    server = grpc.aio.server(options=SERVER_OPTIONS)
    committer = GroupCommitter(store, after_commit)
    committer.start()
    live = LiveBackfills(store, PlanResolver(store), committer, clock)
    dispatcher = Dispatcher(live, run_ids)
    try:
        await live.load_live()
    except BaseException:
        await committer.close()
        raise
    dispatcher.start()
    backfills = BackfillApplication(
        store, live, after_commit, work_appeared=dispatcher.notify, lease_expiry=dispatcher.lease_expiry
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(
        map_errors(CatalogServicer(app), _service(catalog_service_pb2, "CatalogService")), server
    )
    watch_hub = WatchHub(store, watch)
    await watch_hub.start()
    workers = WorkerApplication(live, dispatcher, progress=watch_hub)
    worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(
        map_errors(WorkerServicer(workers), _service(worker_service_pb2, "WorkerService")), server
    )
    runs = RunApplication(store, live.plans)
    submissions = RunSubmissions(store, live, backfills, runs, after_commit, work_appeared=dispatcher.notify)
    run_service_pb2_grpc.add_RunServiceServicer_to_server(
        map_errors(RunServicer(runs, submissions), _service(run_service_pb2, "RunService")), server
    )
    backfill_service_pb2_grpc.add_BackfillServiceServicer_to_server(
        map_errors(
            BackfillServicer(backfills, WatchStreams(watch_hub, backfills)),
            _service(backfill_service_pb2, "BackfillService"),
        ),
        server,
    )
    schedules = ScheduleApplication(store, live.plans, clock, after_commit)
    schedule_ticker = ScheduleTicker(schedules, launcher or SubmittingLauncher(submissions), clock)
    schedules.on_change(schedule_ticker.wake)
    schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(
        map_errors(ScheduleServicer(schedules), _service(schedule_service_pb2, "ScheduleService")), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*ARCO_SERVICES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    address = _address(host, port)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as error:
        await watch_hub.close()
        await dispatcher.close()
        await committer.close()
        raise OSError(f"cannot listen on {address}: {error}") from error
    await server.start()
    schedule_ticker.start()  # its first pass launches what a crash left pending
    for name in ("", *ARCO_SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(
        server=server, port=bound, health=health_servicer, app=app, backfills=backfills, store=store,
        watch_hub=watch_hub, workers=workers, dispatcher=dispatcher, committer=committer, schedules=schedules,
        schedule_ticker=schedule_ticker,
    )


def _hint(host: str, port: int) -> str:
    target = _address("127.0.0.1" if host in ("0.0.0.0", "::", "") else host, port)
    return (
        "talk to it with: node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge "
        f"http://{target} --list-services\n"
        "  (or: grpcurl -plaintext "
        f"{target} list; health: grpc.health.v1.Health/Check)"
    )


async def serve(
    *,
    host: str,
    port: int,
    db: str,
    demo_catalog: bool = False,
    grace: float = DEFAULT_GRACE_SECONDS,
    standby: bool = False,
    out: TextIO,
) -> int:
    """Serves until SIGTERM or SIGINT, then shuts down gracefully; returns the exit code.

    With ``standby``, waits for the database's serving lock while another server holds it, then serves
    (SIGTERM or SIGINT while waiting exit without serving).

    Raises:
        StoreUnavailable: the database cannot be opened, another server serves it (not a standby), or the
            serving lock was lost while serving (store/serving.py).
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    waited = False

    def on_standby(database: str) -> None:
        nonlocal waited
        waited = True
        print(f"standby: another server serves {database}; waiting to take over", file=out, flush=True)

    store = await open_store(db)
    try:
        async with serving_lock(db, standby_until=stopping if standby else None, on_standby=on_standby) as lock:
            if lock is None:  # stopped while a standby
                await store.close()
                return 0
            logger.info("%s %s", "standby took over" if waited else "serving", lock.database)
            await _serve_store(store, lock, stopping, host=host, port=port, demo_catalog=demo_catalog, grace=grace,
                               out=out)
    except BaseException:
        await store.close()  # idempotent: a stopped server closed it already
        raise
    if lock.lost.is_set():
        raise StoreUnavailable(
            f"lost the serving lock of {lock.database} (its PostgreSQL session ended) and stopped, so that two "
            "servers never serve one database; start the server again"
        )
    return 0


async def _serve_store(store: EventStore, lock: ServingLock, stopping: asyncio.Event, *, host: str, port: int,
                       demo_catalog: bool, grace: float, out: TextIO) -> None:
    prepare = None
    if demo_catalog:
        from arco_grpc.demo import apply_demo_catalog

        prepare = apply_demo_catalog
    running = await start_server(
        store, host=host, port=port, clock=clock_from_env(), prepare=prepare, after_commit=fault_hook_from_env()
    )
    print(f"listening on {host}:{running.port}", file=out, flush=True)
    print(_hint(host, running.port), file=out, flush=True)
    stop_asked, lock_lost = asyncio.create_task(stopping.wait()), asyncio.create_task(lock.lost.wait())
    await asyncio.wait({stop_asked, lock_lost}, return_when=asyncio.FIRST_COMPLETED)
    stop_asked.cancel()
    lock_lost.cancel()
    if lock.lost.is_set():
        logger.error("lost the serving lock of %s: stopping", lock.database)
    logger.info("shutting down: health NOT_SERVING, draining calls for up to %.0f s", grace)
    await running.stop(grace)
    logger.info("stopped cleanly")
