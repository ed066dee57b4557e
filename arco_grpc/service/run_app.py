"""RunService reads: one run, and runs oldest first with filters, from the runs projection (the ledger)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as rapi
from arco_grpc.domain.backfill import BackfillCreated
from arco_grpc.domain.partition_status import intersect
from arco_grpc.errors import InvalidArgument, NotFound
from arco_grpc.partitions.selection import AnySubset, select
from arco_grpc.partitions.selector import KeyList
from arco_grpc.service.backfill_plans import (
    PinnedSpaceKey,
    PlanResolver,
    ResolvedPlan,
    ResolvedTarget,
    pinned_space_key,
)
from arco_grpc.service.backfill_projection import decode_spec
from arco_grpc.service.convert_backfills import skipped_to_proto
from arco_grpc.service.convert_chunk_events import decode_subset
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto
from arco_grpc.service.live_backfills import not_found
from arco_grpc.store import EventStore, RunQuery, RunRecord

# A listing filtered by partition reads at most this many ledger rows per page; a page may then hold fewer
# runs than asked (its token continues the scan), so one request's cost stays bounded.
MAX_SCANNED_PER_PAGE = 10_000
_QUEUED = int(rapi.Run.STATE_QUEUED)
_BACKFILL = int(rapi.RUN_ORIGIN_BACKFILL)


def run_not_found(run_id: str) -> NotFound:
    """The error for a run id the ledger does not hold."""
    return NotFound(f"no run has id {run_id!r}", reason="RUN_NOT_FOUND", metadata={"run_id": run_id})


@dataclass(frozen=True, slots=True)
class RunFilter:
    """What ListRuns keeps: every set filter must hold (see ListRunsRequest)."""

    backfill_id: str = ""
    asset_key: str = ""
    round: int | None = None
    chunk_index: int | None = None
    origin: int | None = None
    origin_name: str = ""
    partition_key: str = ""
    states: tuple[int, ...] = ()


def _run_message(record: RunRecord, partitions: AnySubset | None) -> rapi.Run:
    run = rapi.Run(
        run_id=record.run_id,
        run_key=record.run_key,
        backfill_id=record.backfill_id,
        asset_key=record.asset_key,
        round=record.round,
        chunk_index=record.chunk_index,
        attempt=record.attempt,
        worker_id=record.worker_id,
        state=record.state,  # type: ignore[arg-type]
        partitions=subset_to_proto(partitions if partitions is not None else decode_subset(record.partitions)),
        partition_count=record.partition_count,
        failed_partition_count=record.failed_count,
        error_message=record.error,
        metadata=dict(record.metadata),
        failed_partitions=subset_to_proto(decode_subset(record.failed)),
        origin=record.origin,  # type: ignore[arg-type]
        origin_name=record.origin_name,
        parent_run_id=record.parent_run_id,
        root_run_id=record.root_run_id or record.run_id,
        waited_for_run_ids=record.waited_for,
        origin_run_key=record.origin_run_key or "",
    )
    if record.state != _QUEUED and record.partitions is not None:
        run.start_time.CopyFrom(datetime_to_proto(record.created_at))
    if record.ended_at is not None:
        run.end_time.CopyFrom(datetime_to_proto(record.ended_at))
    if record.scheduled_at is not None:
        run.scheduled_time.CopyFrom(datetime_to_proto(record.scheduled_at))
    run.submit_time.CopyFrom(datetime_to_proto(record.submitted_at or record.created_at))
    return run


def _submitted_message(record: RunRecord, target: ResolvedTarget) -> rapi.Run:
    """The Run message of a submitted run: ``target`` (its stream's) has what it would run and what its
    reprocess policy left out."""
    run = _run_message(record, target.selection if record.partitions is None else None)
    run.skipped.extend(skipped_to_proto(entry) for entry in target.target.skipped)
    return run


class _StreamSpecs:
    """The specs of the streams of one listing's ledger rows: read together a batch of rows at a time,
    decoded on first use (a page that fills early decodes none of the rest of its batch)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._stored: dict[str, bytes] = {}
        self._decoded: dict[str, BackfillCreated] = {}

    async def read(self, backfill_ids: Iterable[str]) -> None:
        """Reads the specs of the streams ``backfill_ids`` names that are not read yet, in one store call.

        Raises:
            NotFound: a stream has no backfill row.
        """
        missing = {backfill_id for backfill_id in backfill_ids if backfill_id not in self._stored}
        if not missing:
            return
        self._stored.update(await self._store.backfill_specs(sorted(missing)))
        absent = sorted(missing - self._stored.keys())
        if absent:
            raise not_found(absent[0])

    def __getitem__(self, backfill_id: str) -> BackfillCreated:
        spec = self._decoded.get(backfill_id)
        if spec is None:
            spec = self._decoded[backfill_id] = decode_spec(self._stored[backfill_id])
        return spec


class RunApplication:
    """Reads of the run ledger."""

    def __init__(self, store: EventStore, plans: PlanResolver) -> None:
        self._store = store
        self._plans = plans

    async def _plan(self, backfill_id: str) -> ResolvedPlan:
        cached = self._plans.cached_plan(backfill_id)
        if cached is not None:
            return cached
        record = await self._store.get_backfill(backfill_id)
        if record is None:
            raise not_found(backfill_id)
        return await self._plans.plan_of(decode_spec(record.spec))

    async def to_proto(self, record: RunRecord, spec: BackfillCreated | None = None) -> rapi.Run:
        """The Run message of a ledger row (``spec``: its stream's, when the stream is not stored yet)."""
        if record.origin == _BACKFILL:
            return _run_message(record, None)
        # A submitted run: its plan (cached) has what it would run and what its reprocess policy left out.
        plan = await self._plans.plan_of(spec) if spec is not None else await self._plan(record.backfill_id)
        return _submitted_message(record, plan.targets[0])

    async def _page(self, records: Sequence[RunRecord], specs: _StreamSpecs) -> list[rapi.Run]:
        """The Run messages of a page of ledger rows, the specs of their streams read together."""
        await specs.read(r.backfill_id for r in records if r.origin != _BACKFILL)
        page = []
        for record in records:
            if record.origin == _BACKFILL:
                page.append(_run_message(record, None))
                continue
            # A submitted run's stream has one target; resolving it alone skips the rest of the plan (its graph).
            plan = self._plans.cached_plan(record.backfill_id)
            if plan is not None:
                page.append(_submitted_message(record, plan.targets[0]))
            else:
                page.append(_submitted_message(record, await self._plans.resolved_target(specs[record.backfill_id], 0)))
        return page

    async def get(self, run_id: str) -> rapi.Run:
        """One run.

        Raises:
            NotFound: no run has this id.
        """
        record = await self._store.get_run_by_id(run_id)
        if record is None:
            raise run_not_found(run_id)
        return await self.to_proto(record)

    async def _target_position(self, where: RunFilter) -> int | None:
        """The position of ``where``'s asset among its backfill's targets (None without an asset).

        Raises:
            NotFound: no such backfill, or it does not target the asset.
        """
        record = await self._store.get_backfill(where.backfill_id)
        if record is None:
            raise not_found(where.backfill_id)
        if not where.asset_key:
            return None
        if where.asset_key not in record.asset_keys:
            raise NotFound(
                f"backfill {where.backfill_id} has no target {where.asset_key!r}; its targets are "
                + ", ".join(repr(key) for key in record.asset_keys),
                reason="TARGET_NOT_FOUND",
                metadata={"backfill_id": where.backfill_id, "asset_key": where.asset_key},
            )
        return record.asset_keys.index(where.asset_key)

    async def _holds_key(
        self, record: RunRecord, key: str, spec: BackfillCreated, wanted: dict[PinnedSpaceKey, AnySubset | None]
    ) -> bool:
        """Whether run ``record`` (of stream ``spec``) holds partition ``key``, read in its own target's space.

        ``wanted`` caches the key's subset per space: streams created against the same asset version,
        dynamic keys and as_of share it, so most rows cost a lookup and an intersection.
        """
        position = next((i for i, target in enumerate(spec.targets) if target.asset_key == record.asset_key), None)
        if position is None:
            return False
        target = spec.targets[position]
        space_key = pinned_space_key(target, spec.as_of)
        if space_key not in wanted:
            space = await self._plans.pinned_space(target, spec.as_of)
            try:
                wanted[space_key] = select(space, KeyList((key,)))
            except InvalidArgument:
                wanted[space_key] = None  # the key is not a partition of that stream's definition
        subset = wanted[space_key]
        if subset is None:
            return False
        if record.partitions is not None:
            held = decode_subset(record.partitions)
        else:  # a submitted run that never started holds its whole plan
            held = (await self._plans.resolved_target(spec, position)).selection
        return not intersect(subset, held).is_empty

    async def list(
        self, where: RunFilter, after: tuple[int, int] | None, limit: int
    ) -> tuple[list[rapi.Run], tuple[int, int] | None]:
        """Up to ``limit`` runs oldest first (after ``after``, a (lease sequence, lease position) pair, when
        given), and the pair to continue after (None at the end).

        Raises:
            NotFound: no such backfill, or it does not target the asset.
        """
        target = await self._target_position(where) if where.backfill_id else None
        after_sequence, after_position = (0, None) if after is None else after
        query = RunQuery(
            where.backfill_id, after_sequence, limit + 1, target, where.round, where.chunk_index, after_position,
            asset_key=where.asset_key, origin=where.origin, origin_name=where.origin_name, states=where.states,
        )
        if not where.partition_key:
            rows = await self._store.list_runs(query)
            page = await self._page(rows[:limit], _StreamSpecs(self._store))
            if len(rows) <= limit:
                return page, None
            last = rows[limit - 1]
            return page, (last.lease_sequence, last.lease_position)
        return await self._list_holding(query, where.partition_key, limit)

    async def _list_holding(self, query: RunQuery, key: str, limit: int) -> tuple[list[rapi.Run], tuple[int, int] | None]:
        """Runs of ``query`` that hold partition ``key``, scanning at most :data:`MAX_SCANNED_PER_PAGE` rows."""
        specs = _StreamSpecs(self._store)
        wanted: dict[PinnedSpaceKey, AnySubset | None] = {}
        found: list[RunRecord] = []
        scanned = 0
        batch = max(limit * 4, 100)
        while True:
            rows = await self._store.list_runs(replace(query, limit=batch))
            await specs.read(row.backfill_id for row in rows)
            for row in rows:
                scanned += 1
                if await self._holds_key(row, key, specs[row.backfill_id], wanted):
                    found.append(row)
                    if len(found) == limit + 1:
                        last = found[limit - 1]
                        return await self._page(found[:limit], specs), (last.lease_sequence, last.lease_position)
            if len(rows) < batch:
                return await self._page(found, specs), None
            last_row = rows[-1]
            if scanned >= MAX_SCANNED_PER_PAGE:
                return await self._page(found, specs), (last_row.lease_sequence, last_row.lease_position)
            query = replace(query, after_sequence=last_row.lease_sequence, after_position=last_row.lease_position)
