"""The assets of one backfill as a graph: which partitions wait for which.

Dagster's asset backfills (reference sections 4.5-4.7) gate a child partition
on the parent partitions it maps to, and only on parents that the backfill
targets: a parent outside the backfill never blocks. This module answers the
same questions on compact subsets, with no I/O and no ticks:

* :meth:`BackfillGraph.propagate` builds per-asset selections from a selection
  of the root assets, as Dagster's ``from_asset_partitions`` does;
* :meth:`BackfillGraph.required` says which in-backfill upstream partitions a
  set of partitions reads (on a self-dependency, the set's own partitions do
  not count: one run does them in order);
* :meth:`BackfillGraph.failure_closure` says which partitions will never run
  because an in-backfill partition they read (directly or transitively) failed;
* :meth:`BackfillGraph.gate` combines both for one chunk;
* :func:`blocked_by_missing_upstream` finds the partitions whose mapping
  requires upstream partitions that do not exist (Dagster fails the whole
  backfill; arco-grpc blocks only those partitions).

Costs grow with the number of index ranges, never with the number of
partitions, except :meth:`failure_closure` across a self-dependency, which
walks the chain one mapping step at a time (one step per partition after the
failure, each O(ranges)).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping import PartitionMapping, TimeWindowMapping, downstream_partitions, upstream_partitions
from arco_grpc.partitions.selection import AnySubset, none_of
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset


@dataclass(frozen=True, slots=True)
class GraphAsset:
    """One asset of a backfill: its partitions at the backfill's as_of, and what the backfill selects of them."""

    asset_key: str
    space: PartitionSpace
    selection: AnySubset


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """``downstream`` reads ``upstream`` through ``mapping`` (None: Dagster's default for the two definitions)."""

    upstream: str
    downstream: str
    mapping: PartitionMapping | None = None

    @property
    def is_self_dependency(self) -> bool:
        return self.upstream == self.downstream


@dataclass(frozen=True, slots=True)
class Gate:
    """What one chunk may do now.

    ``runnable``: the chunk's partitions that do not read a failed partition.
    ``upstream_failed``: the rest; they never run. ``waiting_on``: per upstream
    asset, the in-backfill partitions ``runnable`` reads that have not
    succeeded yet; the chunk may be leased when it is empty and ``runnable``
    is not.
    """

    runnable: AnySubset
    upstream_failed: AnySubset
    waiting_on: Mapping[str, AnySubset]

    @property
    def ready(self) -> bool:
        return bool(self.runnable) and not self.waiting_on


class BackfillGraph:
    """The targeted assets of one backfill and the dependencies among them.

    Dependencies whose upstream is not targeted are dropped: such parents never
    block (as in Dagster). A cycle through two or more targeted assets is
    refused; a self-dependency is allowed (its mapping must shift to earlier
    partitions, which ApplyAssets checks).
    """

    def __init__(self, assets: Sequence[GraphAsset], edges: Iterable[GraphEdge]) -> None:
        self._assets = {asset.asset_key: asset for asset in assets}
        if len(self._assets) != len(assets):
            raise ValueError("each asset may appear once in a backfill graph")
        kept = [e for e in edges if e.upstream in self._assets and e.downstream in self._assets]
        self._parents: dict[str, tuple[GraphEdge, ...]] = {
            key: tuple(e for e in kept if e.downstream == key) for key in self._assets
        }
        self._children: dict[str, tuple[GraphEdge, ...]] = {
            key: tuple(e for e in kept if e.upstream == key) for key in self._assets
        }
        self._edges = tuple(kept)
        self.order: tuple[str, ...] = self._topological_order([a.asset_key for a in assets])

    def with_selections(self, selections: Mapping[str, AnySubset]) -> BackfillGraph:
        """The same assets and dependencies over other selections (a retry round's, say)."""
        assets = [
            GraphAsset(key, self._assets[key].space, selections.get(key, none_of(self._assets[key].space)))
            for key in self._assets
        ]
        return BackfillGraph(assets, self._edges)

    def _topological_order(self, given: list[str]) -> tuple[str, ...]:
        """Upstream before downstream; among equals, the order the assets were given in (stable)."""
        pending = {key: {e.upstream for e in self._parents[key] if not e.is_self_dependency} for key in given}
        order: list[str] = []
        while pending:
            free = [key for key in given if key in pending and not pending[key]]
            if not free:
                cycle = sorted(pending)
                raise InvalidArgument(
                    f"the targeted assets {', '.join(cycle)} depend on each other in a cycle; "
                    "a backfill can only order assets whose dependencies form a DAG",
                    field="asset_keys",
                )
            for key in free:
                order.append(key)
                del pending[key]
            for waits in pending.values():
                waits.difference_update(free)
        return tuple(order)

    def asset(self, asset_key: str) -> GraphAsset:
        return self._assets[asset_key]

    def parents(self, asset_key: str) -> tuple[GraphEdge, ...]:
        """The in-backfill dependencies of ``asset_key`` (a self-dependency included)."""
        return self._parents[asset_key]

    def roots(self) -> tuple[str, ...]:
        """The assets with no targeted parent other than themselves, in topological order."""
        return tuple(key for key in self.order if all(e.is_self_dependency for e in self._parents[key]))

    def required(self, asset_key: str, partitions: AnySubset) -> dict[str, AnySubset]:
        """Per upstream asset, the in-backfill partitions that ``partitions`` read (empty ones left out)."""
        asset = self._assets[asset_key]
        needed: dict[str, AnySubset] = {}
        for edge in self._parents[asset_key]:
            upstream = self._assets[edge.upstream]
            mapped = upstream_partitions(edge.mapping, partitions, asset.space, upstream.space).subset
            mapped = mapped & upstream.selection
            if edge.is_self_dependency:
                mapped = mapped - partitions
            if mapped:
                needed[edge.upstream] = needed[edge.upstream] | mapped if edge.upstream in needed else mapped
        return needed

    def _direct_downstream(self, edge: GraphEdge, partitions: AnySubset) -> AnySubset:
        upstream, downstream = self._assets[edge.upstream], self._assets[edge.downstream]
        return downstream_partitions(edge.mapping, partitions, upstream.space, downstream.space) & downstream.selection

    def failure_closure(
        self, failed: Mapping[str, AnySubset], succeeded: Mapping[str, AnySubset] | None = None
    ) -> dict[str, AnySubset]:
        """Per asset, the selected partitions that read a failed one, directly or through others.

        ``failed`` partitions themselves are not in the result (they failed;
        they are not upstream-failed), nor are ``succeeded`` ones, and a
        failure does not reach through them (a partition that succeeded has
        its data, whatever happened upstream since). Assets with nothing
        downstream of a failure are left out.
        """
        done = succeeded or {}
        closure: dict[str, AnySubset] = {}
        for key in self.order:
            asset = self._assets[key]
            stop = _union(failed.get(key), done.get(key))
            reached = none_of(asset.space)
            for edge in self._parents[key]:
                if edge.is_self_dependency:
                    continue
                sources = _union(failed.get(edge.upstream), closure.get(edge.upstream))
                if sources is not None and sources:
                    reached = reached | self._direct_downstream(edge, sources)
            if stop is not None:
                reached = reached - stop
            frontier = _union(failed.get(key), reached)
            for edge in self._parents[key]:
                if edge.is_self_dependency and frontier is not None:
                    reached = reached | self._walk_self_dependency(edge, frontier, stop)
            if reached:
                closure[key] = reached
        return closure

    def _walk_self_dependency(self, edge: GraphEdge, start: AnySubset, stop: AnySubset | None) -> AnySubset:
        """Everything a self-dependency reaches from ``start`` without passing ``stop``, one step at a time.

        The usual self-dependency (each window reads the one before) takes one
        step per partition, so it is answered from the ranges instead: from the
        end of each run of ``start``, the selected partitions that follow
        without a gap or a stop.
        """
        asset = self._assets[edge.upstream]
        if _reads_the_previous_window(edge.mapping) and isinstance(start, PartitionSubset):
            allowed = asset.selection if stop is None else asset.selection - stop
            assert isinstance(allowed, PartitionSubset)
            runs = [
                (end, next(high for low, high in allowed.ranges if low <= end < high))
                for _, end in start.ranges
                if end in allowed
            ]
            return PartitionSubset.from_ranges(runs) - start
        return self._walk_by_steps(edge, start, stop)

    def _walk_by_steps(self, edge: GraphEdge, start: AnySubset, stop: AnySubset | None) -> AnySubset:
        """:meth:`_walk_self_dependency` by evaluating the mapping, one step per partition reached."""
        reached = none_of(self._assets[edge.upstream].space)
        frontier = start
        while frontier:
            step = self._direct_downstream(edge, frontier) - reached - start
            if stop is not None:
                step = step - stop
            reached = reached | step
            frontier = step
        return reached

    def gate(
        self,
        asset_key: str,
        partitions: AnySubset,
        succeeded: Mapping[str, AnySubset],
        upstream_failed: Mapping[str, AnySubset],
    ) -> Gate:
        """Whether a chunk of ``asset_key`` holding ``partitions`` may run now, and what of it.

        ``succeeded`` holds each asset's partitions that succeeded in this
        backfill; ``upstream_failed`` is :meth:`failure_closure` of its failed
        partitions (terminal failures only: an attempt that will be retried
        has not failed yet).
        """
        blocked = upstream_failed.get(asset_key)
        runnable = partitions - blocked if blocked is not None else partitions
        waiting: dict[str, AnySubset] = {}
        if runnable:
            for upstream, needed in self.required(asset_key, runnable).items():
                done = succeeded.get(upstream)
                missing = needed - done if done is not None else needed
                if missing:
                    waiting[upstream] = missing
        return Gate(runnable=runnable, upstream_failed=partitions - runnable, waiting_on=waiting)

    @classmethod
    def propagate(
        cls,
        spaces: Mapping[str, PartitionSpace],
        edges: Iterable[GraphEdge],
        root_selection: AnySubset,
    ) -> BackfillGraph:
        """Selections for every asset from one selection of the roots' partitions (Dagster's ``from_asset_partitions``).

        The roots (assets with no targeted parent but themselves) must share
        one partitions definition, as in Dagster; each other asset gets the
        partitions that read a selected partition of a targeted parent.
        Self-dependencies do not widen the selection: selecting a day of a
        self-dependent asset does not select every later day.

        Raises:
            InvalidArgument: the roots are partitioned differently, or the
                targets form a cycle.
        """
        edges = tuple(edges)
        keys = list(spaces)
        shape = cls([GraphAsset(key, spaces[key], none_of(spaces[key])) for key in keys], edges)
        roots = shape.roots()
        definitions = {key: getattr(spaces[key], "definition", None) for key in roots}
        first = next(iter(definitions.values()))
        if any(d != first for d in definitions.values()):
            raise InvalidArgument(
                f"the root assets {', '.join(roots)} are partitioned differently, so one selection cannot "
                "apply to all of them; give one selector per asset instead",
                field="selector",
            )
        selections: dict[str, AnySubset] = {}
        for key in shape.order:
            if key in roots:
                selections[key] = root_selection
                continue
            selected = none_of(spaces[key])
            for edge in shape.parents(key):
                if not edge.is_self_dependency and selections[edge.upstream]:
                    selected = selected | downstream_partitions(
                        edge.mapping, selections[edge.upstream], spaces[edge.upstream], spaces[key]
                    )
            selections[key] = selected
        return cls([GraphAsset(key, spaces[key], selections[key]) for key in keys], edges)


def _reads_the_previous_window(mapping: PartitionMapping | None) -> bool:
    return isinstance(mapping, TimeWindowMapping) and mapping.start_offset == mapping.end_offset == -1


def _union(first: AnySubset | None, second: AnySubset | None) -> AnySubset | None:
    if first is None:
        return second
    if second is None:
        return first
    return first | second


def blocked_by_missing_upstream(
    mapping: PartitionMapping | None,
    downstream_space: PartitionSpace,
    selection: AnySubset,
    upstream_space: PartitionSpace,
) -> AnySubset:
    """The selected partitions whose mapping requires upstream partitions that do not exist.

    Dagster fails the whole backfill when any candidate has such a parent
    (reference section 3.5); arco-grpc blocks only these partitions. Found by
    bisecting positions of ``selection``: a block of partitions whose mapped
    upstream is all there is cleared with one evaluation, so the cost is
    O(evaluations x log n) for each boundary between blocked and clear
    partitions (time windows have at most two: before the upstream's first and
    after its last partition).
    """
    blocked = none_of(downstream_space)
    pending = [(0, selection.count)]
    while pending:
        start, stop = pending.pop()
        part = selection.slice(start, stop)
        if not upstream_partitions(mapping, part, downstream_space, upstream_space).required_but_nonexistent:
            continue
        if stop - start == 1:
            blocked = blocked | part
            continue
        middle = (start + stop) // 2
        pending.append((middle, stop))
        pending.append((start, middle))
    return blocked
