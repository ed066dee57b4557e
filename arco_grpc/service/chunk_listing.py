"""ListChunks and GetChunk: computed planned chunks merged with stored chunk rows.

Plan order is (target position, round, index). Every round's chunks are
computed (round 1 from the plan, retry rounds from the partitions they
retry); a stored row at the same position replaces the computed chunk. A page
walks both sources from its start position at once, so it costs O(page +
stored rows in the range it crosses), however large the plan, and never
enumerates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc.errors import NotFound
from arco_grpc.service.backfill_chunks import FIRST_ROUND, LeaseExpiry, Rounds, planned_chunk, stored_chunk
from arco_grpc.service.backfill_plans import ResolvedPlan, ResolvedTarget
from arco_grpc.store import ChunkQuery, ChunkRecord, EventStore

Position = tuple[int, int, int]  # (target position, round, index)
START: Position = (0, 0, 0)
# A page ends early once its chunks list this many keys, so that a page of big
# chunks stays far below the message size limit.
MAX_KEYS_PER_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class ChunkFilter:
    """Which chunks a listing returns. None means no restriction."""

    states: frozenset[int] | None = None
    round: int | None = None
    target_position: int | None = None
    min_index: int = 0

    def admits(self, state: int) -> bool:
        """True when a chunk in ``state`` passes the state filter."""
        return self.states is None or state in self.states


class _StoredRows:
    """Stored chunk rows from a position on, fetched in batches as the walk needs them."""

    def __init__(self, store: EventStore, backfill_id: str, where: ChunkFilter, *, filter_states: bool, batch: int):
        self._store = store
        self._backfill_id = backfill_id
        self._where = where
        self._states = None
        if filter_states and where.states is not None:
            # Rows waiting to run read as CANCELLED in some rounds: fetch them too, the caller filters.
            raw = set(where.states) | ({bf.Chunk.STATE_PENDING} if bf.Chunk.STATE_CANCELLED in where.states else set())
            self._states = tuple(sorted(raw))
        self._batch = batch
        self._buffer: list[ChunkRecord] = []
        self._exhausted = False

    async def peek(self, position: Position) -> ChunkRecord | None:
        """The first row at or after ``position``, or None."""
        self._buffer = [row for row in self._buffer if row.position >= position]
        if not self._buffer and not self._exhausted:
            self._buffer = await self._store.list_chunks(
                ChunkQuery(
                    backfill_id=self._backfill_id,
                    start=position,
                    limit=self._batch,
                    target_position=self._where.target_position,
                    round=self._where.round,
                    min_index=self._where.min_index,
                    states=self._states,
                )
            )
            self._exhausted = len(self._buffer) < self._batch
        return self._buffer[0] if self._buffer else None


def _next_planned(plan: ResolvedPlan, rounds: Rounds, where: ChunkFilter, position: Position) -> Position | None:
    """The first planned chunk position at or after ``position`` that the filter admits."""
    for target in plan.targets[position[0] :]:
        t = target.position
        if where.target_position is not None and t != where.target_position:
            continue
        for round_number in range(FIRST_ROUND, rounds.current + 1):
            if where.round is not None and round_number != where.round:
                continue
            if (t, round_number) < position[:2]:
                continue  # this round of this target lies behind the position
            start = position[2] if (t, round_number) == position[:2] else 0
            found = rounds.next_planned_index(t, round_number, max(start, where.min_index), where.admits)
            if found is not None and found < rounds.chunk_count(target, round_number):
                return (t, round_number, found)
    return None


async def list_chunk_page(
    store: EventStore,
    plan: ResolvedPlan,
    rounds: Rounds,
    where: ChunkFilter,
    start: Position,
    page_size: int,
    lease_expiry: LeaseExpiry | None = None,
) -> tuple[list[bf.Chunk], Position | None]:
    """Up to ``page_size`` chunks from ``start`` in plan order, and the position to continue from (None at the end)."""
    include_planned = any(
        where.admits(state) for state in (bf.Chunk.STATE_PENDING, bf.Chunk.STATE_CANCELLED, bf.Chunk.STATE_UPSTREAM_FAILED)
    )
    # Without planned chunks only matching rows matter, so the database filters
    # them; with planned chunks every row counts (it hides its computed chunk).
    rows = _StoredRows(store, plan.backfill_id, where, filter_states=not include_planned, batch=page_size + 1)
    chunks: list[bf.Chunk] = []
    position = start
    keys = 0
    while len(chunks) < page_size and keys < MAX_KEYS_PER_PAGE:
        computed = _next_planned(plan, rounds, where, position) if include_planned else None
        row = await rows.peek(position)
        if computed is None and row is None:
            return chunks, None
        if row is not None and (computed is None or row.position <= computed):
            position = (row.target_position, row.round, row.chunk_index + 1)
            if where.admits(rounds.shown_state(row.state, row.round)):
                chunks.append(stored_chunk(plan, plan.targets[row.target_position], row, rounds, lease_expiry))
                keys += len(chunks[-1].partition_keys)
        else:
            assert computed is not None
            target = plan.targets[computed[0]]
            chunks.append(planned_chunk(plan, target, computed[2], rounds.backfill_state, rounds, computed[1]))
            keys += len(chunks[-1].partition_keys)
            position = (computed[0], computed[1], computed[2] + 1)
    more = (include_planned and _next_planned(plan, rounds, where, position) is not None) or (
        await rows.peek(position)
    ) is not None
    return chunks, position if more else None


def target_of(plan: ResolvedPlan, asset_key: str) -> ResolvedTarget:
    """The backfill's target for ``asset_key``.

    Raises:
        NotFound: the backfill does not target this asset.
    """
    target = plan.target_named(asset_key)
    if target is None:
        targets = ", ".join(repr(t.asset_key) for t in plan.targets)
        raise NotFound(
            f"backfill {plan.backfill_id} has no target {asset_key!r}; its targets are {targets}",
            reason="TARGET_NOT_FOUND",
            metadata={"backfill_id": plan.backfill_id, "asset_key": asset_key},
        )
    return target


async def get_chunk(
    store: EventStore,
    plan: ResolvedPlan,
    rounds: Rounds,
    asset_key: str,
    round_number: int,
    index: int,
    lease_expiry: LeaseExpiry | None = None,
) -> bf.Chunk:
    """One chunk: its row if it has one, else (round 1) the planned chunk.

    Raises:
        NotFound: the backfill has no such target or chunk.
    """
    target = target_of(plan, asset_key)
    rows = await store.list_chunks(
        ChunkQuery(
            backfill_id=plan.backfill_id,
            start=(target.position, round_number, index),
            limit=1,
            target_position=target.position,
            round=round_number,
        )
    )
    if rows and rows[0].chunk_index == index:
        return stored_chunk(plan, target, rows[0], rounds, lease_expiry)
    count = rounds.chunk_count(target, round_number) if round_number <= rounds.current else 0
    if 0 <= index < count:
        return planned_chunk(plan, target, index, rounds.backfill_state, rounds, round_number)
    where = (
        f"round {round_number} has chunks 0 to {count - 1}"
        if count
        else f"round {round_number} has no chunk of it"
    )
    raise NotFound(
        f"backfill {plan.backfill_id} has no chunk {index} of {asset_key!r} in round {round_number}: {where}",
        reason="CHUNK_NOT_FOUND",
        metadata={"backfill_id": plan.backfill_id, "asset_key": asset_key},
    )
