"""Schedule ticks launched as runs of the ledger, through the same submission as RunService.SubmitRun.

A tick's run is a SCHEDULE run scoped to (schedule, scheduled time) with the
tick's partition key as its request key, so launching one tick twice (a
crash between the launch and its record) finds the first run and creates
nothing. Its partition follows the schedule's reprocess policy: when the
policy leaves it out (already materialized, failed, or in flight in another
run), the tick is skipped with that reason instead of launching a run that
would run nothing; so is a tick whose partition needs upstream partitions
that do not exist (MISSING_UPSTREAM). A tick whose partition a backfill is running is launched,
and its run waits in dispatch until that run ends (see ``in_flight``).
"""

from __future__ import annotations

from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason
from arco_grpc.errors import FailedPrecondition
from arco_grpc.partitions.selector import KeyList
from arco_grpc.planning.schedule_ticks import Schedule, TickLaunch
from arco_grpc.planning.run_keys import ScheduleScope
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.run_requests import SubmitRequest
from arco_grpc.service.run_submission import RunSubmissions
from arco_grpc.service.schedule_ticker import LaunchedTick

SCHEDULE_TAG = "arco/schedule"


class SubmittingLauncher:
    """The :class:`~arco_grpc.service.schedule_ticker.TickLauncher` that submits each tick as a run."""

    def __init__(self, submissions: RunSubmissions) -> None:
        self._submissions = submissions

    async def launch(self, schedule: Schedule, tick: TickLaunch, reprocess_policy: ReprocessPolicy) -> LaunchedTick:
        """Submits the tick's run (or finds it again), or skips the tick as the reprocess policy says."""
        request = SubmitRequest(
            request_id=f"tick/{tick.run_key}",
            scope=ScheduleScope(schedule.name, tick.scheduled_time, tick.partition_key),
            asset_key=schedule.asset_key,
            selector=KeyList((tick.partition_key,)),
            tags=((SCHEDULE_TAG, schedule.name),),
            reprocess_policy=reprocess_policy,
        )
        identity = RequestIdentity(request.request_id, "LaunchScheduleRun", tick.run_key)
        try:
            submitted = await self._submissions.submit(identity, request)
        except FailedPrecondition as error:
            reasons = error.metadata.get("skip_reasons", "")
            if error.reason not in ("NOTHING_TO_REPROCESS", "NOTHING_TO_RUN") or not reasons:
                raise
            # One partition, so one reason: already materialized, failed, in flight, or missing upstream.
            return LaunchedTick(run_key=tick.run_key, skip_reason=SkipReason[reasons.split(",")[0]])
        return LaunchedTick(run_key=submitted.run.run_key, run_id=submitted.run.run_id)
