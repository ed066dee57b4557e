"""The backfill application: resolve, decide, append, answer; and the reads.

No business rule lives here (the lifecycle is ``domain/backfill.py``, the
plan ``planning/``, retries ``domain/retry_round.py``). A backfill's events
live in one stream, ``backfill/{id}``. Creation decides against the backfill
row; every later decision is made against the backfill's live book (its
state in memory, see ``live_backfills``), where workers' decisions are made
too, so that both always see each other's events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc.domain.backfill import BackfillCommand, BackfillCreated, BackfillEvent, CreateBackfill, decide
from arco_grpc.domain.chunk_events import RetryRoundOpened
from arco_grpc.domain.partition_status import ReprocessPolicy, SkipReason, remaining_selection, skipped_partitions
from arco_grpc.domain.retry_round import RetryFailedPartitions, decide_retry
from arco_grpc.errors import FailedPrecondition, InvalidArgument
from arco_grpc.planning.backfill_ids import PREVIEW_BACKFILL_ID, backfill_id_for_request
from arco_grpc.planning.plan import plan_fingerprint
from arco_grpc.service.appending import AfterCommit, DecisionRunner
from arco_grpc.service.backfill_book import BackfillBook, Staging
from arco_grpc.service.backfill_chunks import LeaseExpiry, Rounds
from arco_grpc.service.backfill_fold import project_backfills
from arco_grpc.service.backfill_graph_targets import block_missing_upstream, propagated_selectors
from arco_grpc.service.backfill_messages import TRANSITION_LIMIT, backfill_to_proto, plan_to_proto
from arco_grpc.service.backfill_plans import AssetPartitioning, ResolvedPlan, ResolvedTarget, graph_of
from arco_grpc.service.backfill_projection import Projected, apply_event, backfill_stream, projected_from_record
from arco_grpc.service.backfill_requests import CreateRequest
from arco_grpc.service.chunk_listing import ChunkFilter, Position, get_chunk, list_chunk_page, target_of
from arco_grpc.service.convert_backfills import created_to_proto, event_to_payload, stored_event_to_proto
from arco_grpc.service.convert_partitions import subset_to_proto
from arco_grpc.service.idempotency import RequestIdentity
from arco_grpc.service.live_backfills import LiveBackfills, not_found
from arco_grpc.service.partition_status_rows import read_partition_status
from arco_grpc.store import BackfillFilter, EventStore, NewEvent, RequestRecord, TransitionRecord
from arco_grpc.store.payloads import encode_event

M = TypeVar("M", bound=Message)


def fold_decided(
    current: Projected | None, events: Sequence[BackfillEvent], at: datetime, request_id: str
) -> tuple[Projected, list[NewEvent], list[TransitionRecord]]:
    """What appending ``events`` will make of ``current``: the state, the encoded events, the transitions."""
    encoded, transitions = [], []
    projected = current
    for event in events:
        new_event = encode_event(event_to_payload(event))
        projected, transition = apply_event(
            projected, event, payload=new_event.payload, sequence=0, at=at, request_id=request_id
        )
        encoded.append(new_event)
        if transition is not None:
            transitions.append(transition)
    assert projected is not None
    return projected, encoded, transitions


def refuse_nothing_to_run(created: BackfillCreated) -> None:
    """Raises FailedPrecondition when a target of ``created`` has no partition left to run (its metadata names
    the skip reasons, so a caller can tell why)."""
    for position, target in enumerate(created.targets):
        if target.partition_count:
            continue
        metadata = {
            "asset_key": target.asset_key,
            "skipped": str(target.skipped_count),
            "skip_reasons": ",".join(entry.reason.name for entry in target.skipped),
        }
        if any(entry.reason is SkipReason.MISSING_UPSTREAM for entry in target.skipped):
            raise FailedPrecondition(
                f"every selected partition of targets[{position}] ({target.asset_key!r}) is left out: "
                f"{target.skipped_count} skipped, some because they need upstream partitions that do not "
                "exist (see the plan with validate_only); nothing would run. Drop the target or change its "
                "selector",
                reason="NOTHING_TO_RUN",
                metadata=metadata,
            )
        raise FailedPrecondition(
            f"reprocess policy {created.reprocess_policy.name} skips every selected partition of "
            f"targets[{position}] ({target.asset_key!r}: {target.skipped_count} skipped); nothing would run. "
            "Drop the target, widen its selector, or use REPROCESS_POLICY_ALL",
            reason="NOTHING_TO_REPROCESS",
            metadata=metadata,
        )


class BackfillApplication:
    """Use cases of BackfillService over an event store and the live backfills."""

    def __init__(
        self,
        store: EventStore,
        live: LiveBackfills,
        after_commit: AfterCommit | None = None,
        work_appeared: Callable[[], None] | None = None,
        lease_expiry: LeaseExpiry | None = None,
    ) -> None:
        self._store = store
        self._live = live
        self._runner = DecisionRunner(store, live.clock, after_commit)
        self._plans = live.plans
        self._work_appeared = work_appeared or (lambda: None)
        self._lease_expiry = lease_expiry

    def now(self) -> datetime:
        """The current time, from the injected clock."""
        return self._live.clock()

    # -- create -----------------------------------------------------------------

    async def _resolve(self, backfill_id: str, request: CreateRequest, as_of: datetime) -> tuple[BackfillCreated, ResolvedPlan]:
        targets: list[ResolvedTarget] = []
        assets = [
            await self._plans.current_asset(wanted.asset_key, f"targets[{position}].asset_key")
            for position, wanted in enumerate(request.targets)
        ]
        selectors = [wanted.selector for wanted in request.targets]
        if request.root_selector is not None:
            selectors = await propagated_selectors(self._plans, assets, request.root_selector, as_of)
        for position, (asset, selector) in enumerate(zip(assets, selectors)):
            field = f"targets[{position}]"
            try:
                target, space, selection = await self._plans.resolve_new(asset, selector, request.chunk_size, as_of)
            except InvalidArgument as error:
                raise error.under(field) from None
            if request.reprocess_policy is not ReprocessPolicy.ALL:
                # Judged once, now, and frozen in the event: later status changes do not move the plan.
                status = await read_partition_status(self._store, target.asset_key, target.status_space)
                skipped = skipped_partitions(status, selection, request.reprocess_policy)
                selection = remaining_selection(selection, skipped)
                target = replace(target, skipped=skipped, partition_count=selection.count)
            targets.append(ResolvedTarget(position, target, space, selection))
        targets = await block_missing_upstream(self._plans, targets, assets, as_of)
        try:
            graph = graph_of(targets, assets)
        except InvalidArgument as error:
            raise InvalidArgument(error.message, field="targets", reason="TARGETS_IN_A_CYCLE") from None
        if graph is not None and graph.order != tuple(t.asset_key for t in targets):
            # Upstream targets first: plan order is dispatch order, so parents go out before their children.
            by_key = {t.asset_key: t for t in targets}
            targets = [replace(by_key[key], position=position) for position, key in enumerate(graph.order)]
        created = BackfillCreated(
            backfill_id=backfill_id,
            targets=tuple(t.target for t in targets),
            max_concurrency=request.max_concurrency,
            order=request.order,
            tags=request.tags,
            title=request.title,
            description=request.description,
            creator=request.creator,
            as_of=as_of,
            fingerprint=plan_fingerprint([(t.asset_key, t.target.selector_fingerprint) for t in targets]),
            retry_policy=request.retry_policy,
            reprocess_policy=request.reprocess_policy,
        )
        return created, ResolvedPlan(backfill_id, request.order, tuple(targets), graph)

    async def create(self, identity: RequestIdentity | None, request: CreateRequest) -> api.CreateBackfillResponse:
        """Creates and starts a backfill, or (validate_only) returns the plan it would have."""
        backfill_id = backfill_id_for_request(request.request_id) if request.request_id else PREVIEW_BACKFILL_ID
        if request.validate_only or identity is None:
            created, plan = await self._resolve(backfill_id, request, request.as_of or self.now())
            return api.CreateBackfillResponse(plan=plan_to_proto(created_to_proto(created), plan))

        async def decision(now: datetime) -> tuple[int, list[NewEvent], api.CreateBackfillResponse]:
            record = await self._store.get_backfill(backfill_id)
            existing = None if record is None else projected_from_record(record).backfill
            created, plan = await self._resolve(backfill_id, request, request.as_of or now)
            if existing is None:
                refuse_nothing_to_run(created)
            events = decide(CreateBackfill(created), existing)
            projected, encoded, transitions = fold_decided(None, events, now, request.request_id)
            response = api.CreateBackfillResponse(
                backfill=backfill_to_proto(projected.record, transitions, ()),
                plan=plan_to_proto(created_to_proto(created), plan),
            )
            return 0, encoded, response

        async def create_and_load() -> api.CreateBackfillResponse:
            response = await self._runner.run(
                identity, backfill_stream(backfill_id), decision, api.CreateBackfillResponse, project_backfills
            )
            await self._live.book(backfill_id)  # dispatch it before answering: workers may ask at once
            return response

        # Shielded: a client that hangs up after the commit must not leave the backfill undispatched.
        return await asyncio.shield(create_and_load())

    # -- lifecycle --------------------------------------------------------------

    async def decide_live(
        self,
        identity: RequestIdentity,
        backfill_id: str,
        decide_events: Callable[[BackfillBook], list[BackfillEvent]],
        answer: Callable[[BackfillBook, list[BackfillEvent]], M],
        response_type: type[M],
    ) -> M:
        """Replay check, decide against the live book, fold, append with the answer, wait until durable.

        Any stream with a live book (backfills and submitted runs alike) is decided this way.
        """
        first = await self._live.replayed(identity, response_type)
        if first is not None:
            return first  # type: ignore[return-value]
        book = await self._live.book(backfill_id)
        now = self.now()
        events = decide_events(book)
        staging = Staging.empty()
        book.apply(events, now, identity.request_id, staging)
        response = answer(book, events)
        request = RequestRecord(
            identity.request_id, identity.method, identity.body_fingerprint, response.SerializeToString()
        )
        if events:
            self._work_appeared()
        result = await self._live.commit(staging, at=now, method=identity.method, request=request)
        if result.replayed:
            return response_type.FromString(result.response or b"")
        return response

    async def change(
        self, identity: RequestIdentity, backfill_id: str, command: BackfillCommand, response_type: type[M]
    ) -> M:
        """Carries out Pause, Resume, Cancel or Update on a backfill; answers with the backfill after it."""
        return await self.decide_live(
            identity,
            backfill_id,
            lambda book: decide(command, book.backfill),
            lambda book, events: response_type(backfill=book.proto()),
            response_type,
        )

    async def retry_failed(
        self, identity: RequestIdentity, backfill_id: str, command: RetryFailedPartitions
    ) -> api.RetryFailedPartitionsResponse:
        """Opens the next round over the failed partitions; see BackfillService.RetryFailedPartitions."""

        def decide_round(book: BackfillBook) -> list[BackfillEvent]:
            return list(decide_retry(command, book.backfill, [target.selection for target in book.plan.targets]))

        def answer(book: BackfillBook, events: list[BackfillEvent]) -> api.RetryFailedPartitionsResponse:
            opened = events[0]
            assert isinstance(opened, RetryRoundOpened)
            return api.RetryFailedPartitionsResponse(
                backfill=book.proto(),
                round=opened.round,
                retried=[
                    api.RetriedPartitions(
                        asset_key=target.asset_key,
                        partitions=subset_to_proto(target.partitions),
                        partition_count=target.partitions.count,
                        chunk_count=target.chunk_count,
                    )
                    for target in opened.targets
                ],
            )

        return await self.decide_live(
            identity, backfill_id, decide_round, answer, api.RetryFailedPartitionsResponse
        )

    # -- reads ------------------------------------------------------------------

    async def get(self, backfill_id: str) -> bf.Backfill:
        """One backfill with its progress and latest transitions.

        Raises:
            NotFound: no backfill has this id.
        """
        details = await self._store.backfill_details(backfill_id, TRANSITION_LIMIT)
        if details is None:
            raise not_found(backfill_id)
        return backfill_to_proto(details.record, details.transitions, details.chunk_counts)

    async def list(
        self, where: BackfillFilter, before_sequence: int | None, limit: int
    ) -> tuple[list[bf.Backfill], int | None]:
        """Up to ``limit`` backfills, newest first, and the creation sequence to continue before (None at the end)."""
        rows = await self._store.list_backfills(where, before_sequence, limit + 1)
        page = [backfill_to_proto(record, (), counts, with_outcomes=False) for record, counts in rows[:limit]]
        return page, (rows[limit - 1][0].created_sequence if len(rows) > limit else None)

    async def _plan_and_rounds(self, backfill_id: str) -> tuple[ResolvedPlan, Rounds]:
        record = await self._store.get_backfill(backfill_id)
        if record is None:
            raise not_found(backfill_id)
        backfill = projected_from_record(record).backfill
        rows = await self._store.backfill_rounds(backfill_id) if record.round > 1 else []
        plan = await self._plans.plan_of(backfill.spec)
        return plan, Rounds.of(record.round, record.state, rows, plan, backfill.outcomes.upstream_failed)

    async def list_chunks(
        self, backfill_id: str, where_assets: str, where: ChunkFilter, start: Position, page_size: int
    ) -> tuple[list[bf.Chunk], Position | None]:
        """One page of chunks in plan order, and the position to continue from.

        Raises:
            NotFound: no such backfill, or it does not target ``where_assets``.
        """
        plan, rounds = await self._plan_and_rounds(backfill_id)
        if where_assets:
            where = ChunkFilter(where.states, where.round, target_of(plan, where_assets).position, where.min_index)
        return await list_chunk_page(self._store, plan, rounds, where, start, page_size, self._lease_expiry)

    async def get_chunk(self, backfill_id: str, asset_key: str, round_number: int, index: int) -> bf.Chunk:
        """One chunk, planned or stored.

        Raises:
            NotFound: no such backfill, target or chunk.
        """
        plan, rounds = await self._plan_and_rounds(backfill_id)
        return await get_chunk(self._store, plan, rounds, asset_key, round_number, index, self._lease_expiry)

    async def list_events(self, backfill_id: str, after_version: int, limit: int) -> tuple[list[api.BackfillEvent], int | None]:
        """Up to ``limit`` events after ``after_version``, oldest first, and the version to continue after.

        Raises:
            NotFound: no backfill has this id.
        """
        stream = backfill_stream(backfill_id)
        if await self._store.stream_version(stream) == 0:
            raise not_found(backfill_id)
        stored = await self._store.read_stream(stream, after_version, limit + 1)
        page = [stored_event_to_proto(backfill_id, event) for event in stored[:limit]]
        return page, (stored[limit - 1].stream_version if len(stored) > limit else None)
