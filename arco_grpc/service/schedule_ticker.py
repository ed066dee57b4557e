"""The tick loop: the server evaluates its schedules' ticks itself and launches them, once each.

One pass over every schedule, in creation order, follows the protocol of
:mod:`arco_grpc.planning.schedule_ticks`:

1. launch the ticks left pending (by a crash, or by a pause's or resume's
   decisions), oldest first, recording each launch (TickLaunched or
   TickSkipped) after the launcher answers;
2. decide the ticks in (cursor, now] (TicksDecided: the cursor moves, the
   launches become pending) and commit that before launching anything;
3. launch the new pending ticks as in 1.

A crash anywhere therefore leaves either a decision whose launches are
pending (launched at the next start, and a tick launched but not recorded is
launched again: the launcher finds its run by the tick's deterministic run
key) or nothing decided (decided again, identically). Paused schedules go
through the same pass: their due ticks are decided as PAUSED.

Between passes the loop sleeps until the earliest next tick of a running
schedule (at most :data:`MAX_SLEEP` seconds, so a wall clock that jumps is
noticed), or until :meth:`ScheduleTicker.wake` (a schedule was created,
paused or resumed). Passes never overlap; :meth:`ScheduleTicker.tick` runs one
at the clock's now and returns when it is done (tests move a manual clock and
call it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.domain.schedule import ScheduleAggregate
from arco_grpc.errors import ArcoError
from arco_grpc.planning.schedule_ticks import Schedule, TickLaunch
from arco_grpc.service.appending import Clock
from arco_grpc.service.schedule_app import ScheduleApplication, next_tick_after

logger = logging.getLogger(__name__)

# The longest the loop sleeps without looking at the clock again.
MAX_SLEEP = 60.0
# How soon a pass that failed for some schedule is retried.
RETRY_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class LaunchedTick:
    """What launching a tick gave: its run (``run_id``, ``run_key``), or the reprocess policy's ``skip_reason``."""

    run_key: str
    run_id: str = ""
    skip_reason: SkipReason | None = None


class TickLauncher(Protocol):
    """Launches a tick's run. A repeated launch of one tick (same run key) must return the same run and create
    nothing: the loop launches a tick again when a crash came between the launch and its record."""

    async def launch(self, schedule: Schedule, tick: TickLaunch, reprocess_policy: ReprocessPolicy) -> LaunchedTick:
        """Launches ``tick`` of ``schedule``, or skips it when ``reprocess_policy`` says its partition is done."""


class ScheduleTicker:
    """The task that evaluates and launches every schedule's ticks."""

    def __init__(self, app: ScheduleApplication, launcher: TickLauncher, clock: Clock) -> None:
        self._app = app
        self._launcher = launcher
        self._clock = clock
        self._wake = asyncio.Event()
        self._pass = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._next_due: datetime | None = None
        self._failed = False  # the last pass failed for some schedule

    def wake(self) -> None:
        """Makes the loop run a pass now (a schedule was created, paused or resumed)."""
        self._wake.set()

    def start(self) -> None:
        """Starts the loop; its first pass launches what a crash left pending."""
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name="schedule-ticker")

    async def close(self) -> None:
        """Stops the loop (a launch in progress is abandoned: the next start launches it again)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def tick(self) -> int:
        """One pass over every schedule at the clock's now; returns how many ticks it launched or skipped."""
        async with self._pass:
            ended = 0
            self._failed = False
            next_due: datetime | None = None
            for schedule in await self._app.all_schedules():
                try:
                    ended += await self._advance(schedule)
                except ArcoError as error:
                    logger.warning("schedule %r: ticks not evaluated, retried at the next pass: %s", schedule.name, error)
                    self._failed = True
                except Exception:  # noqa: BLE001 - a failing launcher must not stop the other schedules
                    logger.exception("schedule %r: launching failed, retried at the next pass", schedule.name)
                    self._failed = True
                after = await self._app.load(schedule.name)
                due = None if after is None else next_tick_after(after)
                if due is not None and (next_due is None or due < next_due):
                    next_due = due
            self._next_due = next_due
            return ended

    async def _advance(self, schedule: ScheduleAggregate) -> int:
        ended = await self._launch_pending(schedule)
        await self._app.decide_due(schedule)
        decided = await self._app.load(schedule.name)
        return ended + (await self._launch_pending(decided) if decided is not None else 0)

    async def _launch_pending(self, schedule: ScheduleAggregate) -> int:
        """Launches every pending tick of ``schedule``, oldest first, recording each after its launch."""
        if not schedule.ticks.pending:
            return 0
        pure = schedule.tick_schedule(await self._app.partitions_of(schedule.spec))
        for tick in schedule.ticks.pending:
            launched = await self._launcher.launch(pure, tick, schedule.spec.reprocess_policy)
            await self._app.record_launch(schedule.name, tick, launched.run_id, launched.skip_reason)
        return len(schedule.ticks.pending)

    async def _forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the loop must outlive a bug in one pass
                logger.exception("evaluating schedules failed")
            delay = RETRY_AFTER if self._failed else MAX_SLEEP
            if self._next_due is not None:
                delay = min(max((self._next_due - self._clock()).total_seconds(), 0.0), delay)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
