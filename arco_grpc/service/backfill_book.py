"""A live backfill in memory: its folded state and what dispatch needs to hand out its chunks.

Every event of a live backfill is decided against its book and folded into it
at once (:meth:`BackfillBook.apply`), before the append commits, so the next
decision sees it without reading the store; the same fold gives the rows the
append writes. Dispatch state, rebuilt from the projections at startup:

- ``cursors``: per target, the next never-leased chunk of the current round
  (chunks go out in plan order, so every chunk below a cursor has a row);
- ``ready`` (plan order) and ``waiting`` (by due time): chunks that go back
  to the queue after a failure, a lapse or a release (a chunk is in ``ready``
  only while PENDING);
- ``leases``: the chunks leased now, with the expiry heartbeats extend (in
  memory only; the recorded expiry is the lease event's).

When the targets depend on each other (``plan.graph``), a chunk of a
downstream target goes out only once every upstream partition it reads inside
the current round has succeeded: a target's cursor stops at its first chunk
that must wait (chunks go out in order), and passes over chunks that will never
run because a failure upstream blocked all of their partitions. When a
partition fails for good, the partitions downstream of it (transitively, inside
the round) become UPSTREAM_FAILED in the same batch (PartitionsUpstreamFailed).
"""

from __future__ import annotations

import heapq
from bisect import insort
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as bf
from arco_grpc.domain.backfill import Backfill, BackfillEvent, BackfillState, settle
from arco_grpc.domain.chunk_events import ChunkState, PartitionsUpstreamFailed, RetryRoundOpened, UpstreamFailedTarget
from arco_grpc.domain.chunks import Chunk, ChunkKey
from arco_grpc.domain.outcomes import unite, without
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.planning.asset_graph import BackfillGraph
from arco_grpc.planning.chunks import chunk_count, chunk_selection, chunk_selections, chunks_within
from arco_grpc.service.backfill_fold import FoldState, Writes, fold_event
from arco_grpc.service.backfill_messages import TRANSITION_LIMIT, backfill_to_proto
from arco_grpc.service.backfill_plans import ResolvedPlan
from arco_grpc.service.backfill_projection import Projected
from arco_grpc.service.convert_backfills import event_to_payload
from arco_grpc.service.in_flight import HeldPartitions, InFlight
from arco_grpc.store import ChunkStateCount, NewEvent, TransitionRecord
from arco_grpc.store.payloads import encode_event


@dataclass(slots=True)
class LiveLease:
    """A chunk leased now: the expiry heartbeats extend, and the ttl they extend by."""

    key: ChunkKey
    run_id: str
    worker_id: str
    expires_at: datetime
    ttl: timedelta


@dataclass(slots=True)
class Staging:
    """What some decisions on live backfills will append: per backfill its events, and the rows they write."""

    writes: Writes
    appends: dict[str, tuple[int, list[NewEvent]]]
    books: list[BackfillBook]

    @classmethod
    def empty(cls) -> Staging:
        """Nothing staged yet."""
        return cls(Writes(), {}, [])

    @property
    def event_count(self) -> int:
        """How many events are staged."""
        return sum(len(events) for _, events in self.appends.values())


LeaseListener = Callable[["BackfillBook", LiveLease], None]
RetryListener = Callable[["BackfillBook", datetime], None]


def round_sources(plan: ResolvedPlan, round_number: int, retried: dict[int, AnySubset]) -> list[AnySubset]:
    """Per target: the partitions the round chunks (round 1: the selection; later: what it retries)."""
    if round_number == 1:
        return [target.selection for target in plan.targets]
    return [retried.get(target.position, PartitionSubset.empty()) for target in plan.targets]


class BackfillBook:
    """One live backfill; see the module docstring. Mutated only by synchronous code (no await inside)."""

    def __init__(
        self,
        projected: Projected,
        plan: ResolvedPlan,
        sources: Sequence[AnySubset],
        cursors: Sequence[int],
        chunks: dict[ChunkKey, Chunk],
        transitions: Sequence[TransitionRecord],
        chunk_counts: Sequence[ChunkStateCount],
        in_flight: InFlight | None = None,
    ) -> None:
        self.projected = projected
        self.backfill_id = projected.backfill.backfill_id  # never changes
        self.plan = plan
        self.asset_keys = frozenset(target.asset_key for target in plan.targets)  # never changes
        self.sources = list(sources)
        self.round_chunk_counts = [chunk_count(s.count, t.target.chunk_size) for s, t in zip(sources, plan.targets)]
        self.cursors = list(cursors)
        self.chunks = chunks
        self.ready: list[ChunkKey] = []
        self.waiting: list[tuple[datetime, ChunkKey]] = []
        self.leases: dict[str, LiveLease] = {}
        self.transitions: deque[TransitionRecord] = deque(transitions, maxlen=TRANSITION_LIMIT)
        # (round, chunk state) -> [chunks, their partitions, of those the ones not succeeded]
        self.tallies: dict[tuple[int, int], list[int]] = {}
        for count in chunk_counts:
            tally = self._tally((count.round, count.state))
            tally[0] += count.chunks
            tally[1] += count.partitions
            tally[2] += count.remaining
        self.broken = False
        self.on_lease: LeaseListener | None = None
        self.on_retry: RetryListener | None = None
        # Dependency gating (None: the targets do not depend on each other).
        self.graph: BackfillGraph | None = None
        self._gated: list[bool] = [False] * len(plan.targets)
        # Per target: chunks below this index that never run (all upstream failed), past the cursor.
        self._blocked_to: list[int] = [0] * len(plan.targets)
        self._failed_seen = -1
        self._set_graph()
        # The partitions every stream's runs hold (shared by the books): a chunk holding some of another
        # stream's waits, and the runs it waited for are remembered until it is leased.
        self.in_flight = in_flight
        self.waits: dict[ChunkKey, tuple[str, ...]] = {}

    def _set_graph(self) -> None:
        graph = self.plan.graph
        if graph is None:
            return
        if self.backfill.round > 1:
            graph = graph.with_selections({t.asset_key: s for t, s in zip(self.plan.targets, self.sources)})
        self.graph = graph
        self._gated = [bool(graph.parents(t.asset_key)) for t in self.plan.targets]
        self._blocked_to = [0] * len(self.plan.targets)

    # -- reading -----------------------------------------------------------------------

    @property
    def backfill(self) -> Backfill:
        """The folded state."""
        return self.projected.backfill

    @property
    def created_sequence(self) -> int:
        """Creation order, for fair dispatch."""
        return self.projected.created_sequence

    @property
    def tags(self) -> dict[str, str]:
        """The backfill's tags."""
        return dict(self.backfill.spec.tags)

    def proto(self) -> bf.Backfill:
        """The Backfill message as of the book's state (decided events included)."""
        counts = tuple(
            ChunkStateCount(round_number, state, chunks, partitions, remaining)
            for (round_number, state), (chunks, partitions, remaining) in sorted(self.tallies.items())
            if chunks
        )
        return backfill_to_proto(self.projected.record, tuple(self.transitions), counts)

    def dispatching(self) -> bool:
        """True when the backfill may lease one more chunk now."""
        backfill = self.backfill
        return backfill.state is BackfillState.RUNNING and backfill.leased_chunks < backfill.max_concurrency

    def next_due(self) -> datetime | None:
        """When the earliest waiting chunk becomes leasable."""
        return self.waiting[0][0] if self.waiting else None

    def leasable_count(self, now: datetime, assets: frozenset[str] | None, limit: int) -> int:
        """How many chunks (of ``assets`` only, when given) are leasable now, counting up to ``limit``."""
        if limit <= 0:
            return 0
        if self._contended(assets):
            return len(self.next_chunks(now, assets, limit))
        while self.waiting and self.waiting[0][0] <= now:
            insort(self.ready, heapq.heappop(self.waiting)[1])
        targets = self.plan.targets
        count = 0
        if assets is None:
            count = len(self.ready)
        else:
            count = sum(1 for key in self.ready if targets[key.target].asset_key in assets)
        for target in targets:
            if count >= limit:
                break
            if assets is None or target.asset_key in assets:
                if self._gated[target.position]:
                    count += len(self._gated_chunks(target.position, limit - count))
                else:
                    count += self.round_chunk_counts[target.position] - self.cursors[target.position]
        return min(count, limit)

    def next_chunks(self, now: datetime, assets: frozenset[str] | None, limit: int) -> list[Chunk]:
        """Up to ``limit`` leasable chunks in plan order (of ``assets`` only, when given); changes nothing.

        Plan order is (target, round, index): within a target, the chunks
        waiting for a retry (leased before, so below the target's cursor)
        come before the never-leased ones from the cursor on.
        """
        while self.waiting and self.waiting[0][0] <= now:
            insort(self.ready, heapq.heappop(self.waiting)[1])
        targets = self.plan.targets
        round_number = self.backfill.round
        order = self.plan.order
        picked: list[Chunk] = []
        ready = self.ready
        next_ready = 0
        for target in targets:
            position = target.position
            while next_ready < len(ready) and ready[next_ready].target < position:
                next_ready += 1
            if assets is not None and target.asset_key not in assets:
                continue
            while next_ready < len(ready) and ready[next_ready].target == position and len(picked) < limit:
                picked.append(self.chunks[ready[next_ready]])
                next_ready += 1
            if self._gated[position]:
                picked.extend(self._gated_chunks(position, limit - len(picked)))
                if len(picked) >= limit:
                    break
                continue
            cursor = self.cursors[position]
            stop = min(self.round_chunk_counts[position], cursor + limit - len(picked))
            if cursor < stop:
                asset_key = target.asset_key
                selections = chunk_selections(self.sources[position], target.target.chunk_size, cursor, stop, order)
                picked.extend(
                    Chunk.planned(ChunkKey(position, round_number, index), asset_key, partitions)
                    for index, partitions in zip(range(cursor, stop), selections)
                )
            if len(picked) >= limit:
                break
        if self._contended(assets):
            return self._not_in_flight(picked)
        return picked

    def _contended(self, assets: frozenset[str] | None) -> bool:
        """Whether another stream holds leases on one of this book's assets (of ``assets``, when given)."""
        in_flight = self.in_flight
        return in_flight is not None and any(
            in_flight.held_by_others(target.asset_key, self.backfill_id)
            for target in self.plan.targets
            if assets is None or target.asset_key in assets
        )

    def _not_in_flight(self, picked: list[Chunk]) -> list[Chunk]:
        """``picked`` without the chunks holding partitions other streams' runs hold now, and without the later
        chunks of their targets (chunks go out in plan order); remembers whom each held chunk waits for."""
        in_flight = self.in_flight
        assert in_flight is not None
        targets = self.plan.targets
        held_back: set[int] = set()
        kept = []
        for chunk in picked:
            position = chunk.key.target
            if position in held_back:
                continue
            target = targets[position]
            blockers = in_flight.blockers(target.asset_key, self.backfill_id, target.target.status_space, chunk.remaining)
            if blockers:
                before = self.waits.get(chunk.key, ())
                self.waits[chunk.key] = before + tuple(run for run in blockers if run not in before)
                held_back.add(position)
                continue
            kept.append(chunk)
        return kept

    def _gated_chunks(self, position: int, limit: int) -> list[Chunk]:
        """Up to ``limit`` never-leased chunks of a gated target that may go out now, in plan order.

        Stops at the first chunk that must wait for its upstream partitions;
        passes over chunks whose partitions are all upstream failed (and
        remembers where such a run of them ends). Changes nothing else.
        """
        graph = self.graph
        assert graph is not None
        target = self.plan.targets[position]
        asset_key, size, order = target.asset_key, target.target.chunk_size, self.plan.order
        source = self.sources[position]
        outcomes = self.backfill.outcomes
        blocked = outcomes.upstream_failed[position]
        succeeded = {t.asset_key: outcomes.succeeded[t.position] for t in self.plan.targets}
        round_number = self.backfill.round
        count = self.round_chunk_counts[position]
        index = max(self.cursors[position], self._blocked_to[position])
        picked: list[Chunk] = []
        front = True  # still in the run of blocked chunks right after the cursor
        while index < count and len(picked) < limit:
            partitions = chunk_selection(source, size, index, order)
            runnable = without(partitions, blocked)
            if runnable.is_empty:
                index += 1
                if front:
                    self._blocked_to[position] = index
                continue
            front = False
            if not graph.gate(asset_key, runnable, succeeded, {}).ready:
                break
            picked.append(Chunk(ChunkKey(position, round_number, index), asset_key, partitions, partitions.count, runnable))
            index += 1
        return picked

    def _upstream_failed_now(self) -> PartitionsUpstreamFailed | None:
        """The partitions that new failures for good keep from running, or None when there are none."""
        graph = self.graph
        backfill = self.backfill
        if graph is None or backfill.partitions_failed == self._failed_seen:
            return None
        self._failed_seen = backfill.partitions_failed
        outcomes = backfill.outcomes
        targets = self.plan.targets
        failed = {t.asset_key: outcomes.failed[t.position] for t in targets if not outcomes.failed[t.position].is_empty}
        if not failed:
            return None
        succeeded = {t.asset_key: outcomes.succeeded[t.position] for t in targets}
        closure = graph.failure_closure(failed, succeeded)
        blocked = []
        for target in targets:
            position = target.position
            reached = closure.get(target.asset_key)
            if reached is None:
                continue
            before = outcomes.upstream_failed[position]
            new = without(reached, before)
            if new.is_empty:
                continue
            source, size, order = self.sources[position], target.target.chunk_size, self.plan.order
            ended = without(
                chunks_within(source, size, order, unite(reached, before)), chunks_within(source, size, order, before)
            )
            ended = ended & PartitionSubset.of_range(self.cursors[position], self.round_chunk_counts[position])
            blocked.append(UpstreamFailedTarget(target.asset_key, new, ended.count))
        return PartitionsUpstreamFailed(tuple(blocked)) if blocked else None

    # -- folding -----------------------------------------------------------------------

    def apply(self, events: Sequence[BackfillEvent], at: datetime, request_id: str | None, staging: Staging) -> None:
        """Folds decided ``events`` into the book, then what they lead to (partitions upstream failed,
        ``settle``), and stages it all."""
        if not events:
            return
        self._fold(events, at, request_id, staging)
        blocked = self._upstream_failed_now()
        if blocked is not None:
            self._fold([blocked], at, request_id, staging)
        consequences = settle(self.backfill)
        if consequences:
            self._fold(consequences, at, request_id, staging)

    def _fold(self, events: Sequence[BackfillEvent], at: datetime, request_id: str | None, staging: Staging) -> None:
        backfill_id = self.backfill_id
        if backfill_id not in staging.appends:
            staging.appends[backfill_id] = (self.backfill.version, [])
            staging.books.append(self)
        encoded = staging.appends[backfill_id][1]
        state = FoldState(self.projected, self.chunks)
        transitions_before = len(staging.writes.transitions)
        for event in events:
            encoded.append(encode_event(event_to_payload(event)))
            changes = fold_event(
                state, event, payload=b"", sequence=0, at=at, request_id=request_id, writes=staging.writes
            )
            self.projected = state.projected
            for before, after in changes:
                self._track(before, after, at)
            if isinstance(event, RetryRoundOpened):
                self._open_round(event)
        self.transitions.extend(staging.writes.transitions[transitions_before:])

    def _tally(self, round_state: tuple[int, int]) -> list[int]:
        tally = self.tallies.get(round_state)
        if tally is None:
            tally = self.tallies[round_state] = [0, 0, 0]
        return tally

    def _track(self, before: Chunk | None, after: Chunk, at: datetime) -> None:
        key = after.key
        if before is not None:
            tally = self._tally((key.round, before.state))
            tally[0] -= 1
            tally[1] -= before.partition_count
            tally[2] -= before.remaining.count
            if before.lease is not None:
                self.leases.pop(before.lease.run_id, None)
                if self.in_flight is not None:
                    self.in_flight.release(after.asset_key, before.lease.run_id)
            if before.state is ChunkState.PENDING and key in self.ready:
                self.ready.remove(key)
        elif key.round == self.backfill.round and key.index >= self.cursors[key.target]:
            self.cursors[key.target] = key.index + 1
        state = after.state
        tally = self._tally((key.round, state))
        tally[0] += 1
        tally[1] += after.partition_count
        tally[2] += after.remaining.count
        if state is ChunkState.LEASED:
            lease = after.lease
            assert lease is not None
            live = LiveLease(key, lease.run_id, lease.worker_id, lease.expires_at, lease.ttl)
            self.leases[live.run_id] = live
            self._hold(after, lease.run_id, lease.partitions)
            self.waits.pop(key, None)
            if self.on_lease is not None:
                self.on_lease(self, live)
        elif state is ChunkState.PENDING:
            if after.retry_at is not None and after.retry_at > at:
                heapq.heappush(self.waiting, (after.retry_at, key))
                if self.on_retry is not None:
                    self.on_retry(self, after.retry_at)
            else:
                insort(self.ready, key)
        elif state.is_terminal:
            self.chunks.pop(key, None)

    def _hold(self, chunk: Chunk, run_id: str, partitions: AnySubset) -> None:
        if self.in_flight is not None:
            space = self.plan.targets[chunk.key.target].target.status_space
            self.in_flight.hold(chunk.asset_key, run_id, HeldPartitions(self.backfill_id, space, partitions))

    def _open_round(self, event: RetryRoundOpened) -> None:
        retried = {self.backfill.target_position(t.asset_key): t.partitions for t in event.targets}
        self.sources = round_sources(self.plan, event.round, retried)
        self.round_chunk_counts = [
            chunk_count(s.count, t.target.chunk_size) for s, t in zip(self.sources, self.plan.targets)
        ]
        self.cursors = [0] * len(self.plan.targets)
        # Chunks of earlier rounds never run again: they read as CANCELLED.
        self.chunks.clear()
        self.ready.clear()
        self.waiting.clear()
        self._failed_seen = -1
        self._set_graph()

    def restore_leases(self, now: datetime) -> list[LiveLease]:
        """Registers the leases of loaded chunks, each lapsing no sooner than one ttl after ``now``.

        After a restart, live workers get the time to heartbeat again before their leases can lapse.
        """
        restored = []
        for chunk in self.chunks.values():
            lease = chunk.lease
            if chunk.state is ChunkState.LEASED and lease is not None:
                live = LiveLease(chunk.key, lease.run_id, lease.worker_id, max(lease.expires_at, now + lease.ttl), lease.ttl)
                self.leases[live.run_id] = live
                self._hold(chunk, lease.run_id, lease.partitions)
                restored.append(live)
            elif chunk.state is ChunkState.PENDING:
                if chunk.retry_at is not None and chunk.retry_at > now:
                    heapq.heappush(self.waiting, (chunk.retry_at, chunk.key))
                else:
                    insort(self.ready, chunk.key)
        return restored
