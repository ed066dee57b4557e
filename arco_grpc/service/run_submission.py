"""RunService's mutations: submit a run, re-execute one, cancel one.

A submitted run is a stream of one target and one chunk (see
``domain/submitted_run.py``); creating it reuses the backfill's resolution
(selector against the asset's partitions, reprocess policy, missing upstream)
and its projector, which records the run in the ledger as QUEUED. Dedupe
follows ``planning/run_dedupe.py``: the ledger's runs sharing the request's
scope key are compared with it before anything is created, and the stream id
is a function of the scope, so two racing submissions of one request meet on
one stream and the event table lets only one create it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf, run_service_pb2 as rapi
from arco_grpc.domain.backfill import (
    BackfillCreated,
    BackfillEvent,
    BackfillState,
    CancelBackfill,
    CreateBackfill,
    DispatchOrder,
    decide,
)
from arco_grpc.domain.chunk_events import RunState
from arco_grpc.domain.partition_status import ReprocessPolicy, remaining_selection, skipped_partitions
from arco_grpc.domain.submitted_run import SubmittedRun, is_submitted_run_id, lineage_of, submitted_run_id
from arco_grpc.errors import FailedPrecondition
from arco_grpc.partitions.selection import AnySubset, selector_for_subset
from arco_grpc.partitions.selector import Selector
from arco_grpc.planning.plan import plan_fingerprint
from arco_grpc.planning.run_dedupe import ExistingRun, LedgerEntry, resolve_submission
from arco_grpc.planning.run_keys import LogicalRunRequest, ReexecutionMode, ReexecutionScope, RunScope
from arco_grpc.service.appending import AfterCommit, DecisionRunner
from arco_grpc.service.backfill_app import BackfillApplication, fold_decided, refuse_nothing_to_run
from arco_grpc.service.backfill_book import BackfillBook
from arco_grpc.service.backfill_fold import project_backfills, queued_run_record
from arco_grpc.service.backfill_graph_targets import block_missing_upstream
from arco_grpc.service.backfill_plans import ResolvedTarget
from arco_grpc.service.backfill_projection import backfill_stream, projected_from_record
from arco_grpc.service.convert_backfills import skipped_to_proto
from arco_grpc.service.convert_chunk_events import decode_subset
from arco_grpc.service.convert_partitions import datetime_to_proto
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.live_backfills import LiveBackfills
from arco_grpc.service.partition_status_rows import read_partition_status
from arco_grpc.service.run_app import RunApplication, run_not_found
from arco_grpc.service.run_requests import ReexecuteRequest, SubmitRequest
from arco_grpc.store import BackfillRecord, EventStore, NewEvent, RunRecord

M = TypeVar("M", bound=Message)
_ENDED = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.LEASE_EXPIRED, RunState.RELEASED, RunState.CANCELLED})


def _ledger_entry(record: RunRecord) -> LedgerEntry:
    return LedgerEntry(record.run_id, record.run_key, record.origin_run_key)


class RunSubmissions:
    """SubmitRun, ReexecuteRun and CancelRun over the event store and the live streams."""

    def __init__(
        self,
        store: EventStore,
        live: LiveBackfills,
        backfills: BackfillApplication,
        runs: RunApplication,
        after_commit: AfterCommit | None = None,
        work_appeared: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._live = live
        self._plans = live.plans
        self._backfills = backfills
        self._runs = runs
        # Submissions share the group committer's transactions: a burst of sensor requests costs a few commits.
        self._runner = DecisionRunner(store, live.clock, after_commit, live.committer)
        self._work_appeared = work_appeared or (lambda: None)

    # -- submit -------------------------------------------------------------------

    async def submit(self, identity: RequestIdentity, request: SubmitRequest) -> rapi.SubmitRunResponse:
        """Queues the run ``request`` asks for, or answers with the run of the ledger it repeats."""
        return await self._create(
            identity, request.scope, request.asset_key, request.selector, request.tags, request.reprocess_policy,
            SubmittedRun(request.scope), rapi.SubmitRunResponse,
            lambda run, deduplicated, skipped: rapi.SubmitRunResponse(
                run=run, deduplicated=deduplicated, skipped=skipped
            ),
        )

    async def _create(
        self,
        identity: RequestIdentity,
        scope: RunScope,
        asset_key: str,
        selector: Selector,
        tags: tuple[tuple[str, str], ...],
        reprocess_policy: ReprocessPolicy,
        submitted: SubmittedRun,
        response_type: type[M],
        respond: Callable[[rapi.Run, bool, list[bf.SkippedPartitions]], M],
    ) -> M:
        """The answer ``respond`` builds from the run created (or, deduplicated, found), the skipped partitions."""
        run_id = submitted_run_id(scope)

        async def decision(now: datetime) -> tuple[int | None, list[NewEvent], M]:
            same_scope = await self._store.runs_in_scope(submitted.scope_key)
            found = resolve_submission(LogicalRunRequest(scope, asset_key), map(_ledger_entry, same_scope))
            if isinstance(found, ExistingRun):
                run = await self._runs.get(found.run_id)
                return None, [], respond(run, True, list(run.skipped))  # the answer alone is recorded
            created = await self._resolve(run_id, asset_key, selector, tags, reprocess_policy, submitted, now)
            _, encoded, _ = fold_decided(None, decide(CreateBackfill(created), None), now, identity.request_id)
            run = await self._runs.to_proto(queued_run_record((created, 1, now), 0), created)
            return 0, encoded, respond(run, False, list(run.skipped))

        async def create_and_load() -> M:
            response = await self._runner.run(
                identity, backfill_stream(run_id), decision, response_type, project_backfills
            )
            run: rapi.Run = getattr(response, "run")
            if run.state in (rapi.Run.STATE_QUEUED, rapi.Run.STATE_RUNNING):
                # Dispatch it before answering (workers may ask at once). Also when it was found, not created:
                # an earlier call may have created it and failed before loading it (its answer lost).
                await self._live.book(run.backfill_id)
                self._work_appeared()
            return response

        # Shielded: a client that hangs up after the commit must not leave the run undispatched.
        return await asyncio.shield(create_and_load())

    async def _resolve(
        self,
        run_id: str,
        asset_key: str,
        selector: Selector,
        tags: tuple[tuple[str, str], ...],
        reprocess_policy: ReprocessPolicy,
        submitted: SubmittedRun,
        now: datetime,
    ) -> BackfillCreated:
        asset = await self._plans.current_asset(asset_key, "asset_key")
        target, space, selection = await self._plans.resolve_new(asset, selector, 0, now)
        if reprocess_policy is not ReprocessPolicy.ALL:
            status = await read_partition_status(self._store, asset_key, target.status_space)
            skipped = skipped_partitions(status, selection, reprocess_policy)
            selection = remaining_selection(selection, skipped)
            target = replace(target, skipped=skipped, partition_count=selection.count)
        resolved = await block_missing_upstream(self._plans, [ResolvedTarget(0, target, space, selection)], [asset], now)
        # One chunk holds the whole run.
        target = replace(resolved[0].target, chunk_size=max(resolved[0].target.partition_count, 1))
        origin = submitted.origin.value.lower()
        created = BackfillCreated(
            backfill_id=run_id,
            targets=(target,),
            max_concurrency=1,
            order=DispatchOrder.FORWARD,
            tags=tags,
            title=f"{origin} run" + (f" of {submitted.origin_name}" if submitted.origin_name else ""),
            description="",
            creator=submitted.origin_name,
            as_of=now,
            fingerprint=plan_fingerprint([(target.asset_key, target.selector_fingerprint)]),
            reprocess_policy=reprocess_policy,
            submitted_run=submitted,
        )
        refuse_nothing_to_run(created)
        return created

    # -- re-execute ---------------------------------------------------------------

    async def reexecute(self, identity: RequestIdentity, request: ReexecuteRequest) -> rapi.ReexecuteRunResponse:
        """Queues a new run of an ended run's partitions (all, or the failed ones), linked to it."""
        first = await self._live.replayed(identity, rapi.ReexecuteRunResponse)
        if first is not None:
            return first  # type: ignore[return-value]
        parent = await self._store.get_run_by_id(request.run_id)
        if parent is None:
            raise run_not_found(request.run_id)
        state = RunState(parent.state)
        if state not in _ENDED:
            raise FailedPrecondition(
                f"run {parent.run_id} is {state.name}: only an ended run can be re-executed; wait for it, or cancel it",
                reason="RUN_NOT_ENDED",
                metadata={"run_id": parent.run_id, "state": state.name},
            )
        partitions = await self._partitions_to_rerun(parent, request.mode)
        stream = await self._stream_record(parent)
        plan = await self._plans.plan_of(projected_from_record(stream).backfill.spec)
        target = plan.target_named(parent.asset_key)
        assert target is not None
        selector = selector_for_subset(target.space, partitions)
        if selector is None:
            raise FailedPrecondition(
                f"the {partitions.count} partitions to re-run of run {parent.run_id} are too scattered to name "
                "compactly; re-run them with a backfill (BackfillService.CreateBackfill) instead",
                reason="TOO_SCATTERED",
                metadata={"run_id": parent.run_id},
            )
        scope = ReexecutionScope(parent.run_key, request.mode, request.request_id)
        parent_id, root_id = lineage_of(parent.run_id, parent.root_run_id)
        tags = dict(stream.tags)
        tags.update(request.tags)
        return await self._create(
            identity, scope, parent.asset_key, selector, tuple(sorted(tags.items())), ReprocessPolicy.ALL,
            SubmittedRun(scope, parent_id, root_id), rapi.ReexecuteRunResponse,
            lambda run, deduplicated, skipped: rapi.ReexecuteRunResponse(run=run),
        )

    async def _stream_record(self, run: RunRecord) -> BackfillRecord:
        record = await self._store.get_backfill(run.backfill_id)
        if record is None:
            raise run_not_found(run.run_id)
        return record

    async def _partitions_to_rerun(self, parent: RunRecord, mode: ReexecutionMode) -> AnySubset:
        ran = decode_subset(parent.partitions)
        if parent.partitions is None:  # cancelled while queued: it would have run its whole plan
            record = await self._stream_record(parent)
            plan = await self._plans.plan_of(projected_from_record(record).backfill.spec)
            ran = plan.targets[0].selection
        if mode is ReexecutionMode.ALL:
            return ran
        state = RunState(parent.state)
        if state is RunState.SUCCEEDED:
            raise FailedPrecondition(
                f"run {parent.run_id} succeeded: nothing failed, so FROM_FAILURE has nothing to run; use MODE_ALL",
                reason="NOTHING_FAILED",
                metadata={"run_id": parent.run_id},
            )
        if state is RunState.FAILED and parent.failed is not None:
            return decode_subset(parent.failed)
        return ran  # lapsed, released or cancelled: none of its partitions is known to have succeeded

    # -- cancel -------------------------------------------------------------------

    async def cancel(self, identity: RequestIdentity, run_id: str, reason: str) -> rapi.CancelRunResponse:
        """Cancels the submitted run ``run_id`` belongs to (its stream)."""
        first = await self._live.replayed(identity, rapi.CancelRunResponse)
        if first is not None:
            return first  # type: ignore[return-value]
        run = await self._store.get_run_by_id(run_id)
        if run is None:
            raise run_not_found(run_id)
        if not is_submitted_run_id(run.backfill_id):
            raise FailedPrecondition(
                f"run {run_id} is an attempt at a chunk of backfill {run.backfill_id}; cancel the backfill "
                "(BackfillService.CancelBackfill)",
                reason="BACKFILL_RUN",
                metadata={"run_id": run_id, "backfill_id": run.backfill_id},
            )
        before = await self._runs.to_proto(run)

        def answer(book: BackfillBook, events: list[BackfillEvent]) -> rapi.CancelRunResponse:
            after = rapi.Run()
            after.CopyFrom(before)
            if before.state == rapi.Run.STATE_QUEUED and book.backfill.state is BackfillState.CANCELLED:
                after.state = rapi.Run.STATE_CANCELLED
                after.end_time.CopyFrom(datetime_to_proto(self._live.clock()))
            return rapi.CancelRunResponse(run=after)

        return await self._backfills.decide_live(
            identity,
            run.backfill_id,
            lambda book: decide(CancelBackfill(reason), book.backfill),
            answer,
            rapi.CancelRunResponse,
        )
