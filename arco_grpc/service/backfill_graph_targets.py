"""What the dependencies among a new backfill's assets change about its targets, at creation.

* :func:`propagated_selectors`: one selection of the root targets spreads to
  the others through the partition mappings (Dagster's ``from_asset_partitions``);
  each result is recorded as a selector, so the plan resolves again exactly.
* :func:`block_missing_upstream`: partitions whose mapping requires upstream
  partitions that do not exist are left out with SKIP_REASON_MISSING_UPSTREAM,
  and so are the partitions that read them inside the backfill. Dagster fails
  the whole backfill instead (reference section 3.5). Every dependency counts,
  targeted or not, as in Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from arco_grpc.domain.outcomes import unite, without
from arco_grpc.domain.partition_status import Skipped, SkipReason
from arco_grpc.errors import InvalidArgument, NotFound
from arco_grpc.partitions.selection import AnySubset, all_of, select, selector_for_subset
from arco_grpc.partitions.selector import Selector
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.planning.asset_graph import BackfillGraph, GraphAsset, GraphEdge, blocked_by_missing_upstream
from arco_grpc.service.backfill_plans import AssetPartitioning, PlanResolver, ResolvedTarget, graph_of


async def propagated_selectors(
    plans: PlanResolver, assets: Sequence[AssetPartitioning], root_selector: Selector, as_of: datetime
) -> list[Selector]:
    """Per target (in ``assets`` order), the selector of what ``root_selector`` propagates to it.

    Raises:
        InvalidArgument: a target is unpartitioned, the roots are partitioned
            differently, the selector does not fit the roots, or a propagated
            selection is empty or has no compact selector.
    """
    spaces: dict[str, PartitionSpace] = {}
    for position, asset in enumerate(assets):
        space = await plans.current_space(asset, as_of)
        if space is None:
            raise InvalidArgument(
                f"asset {asset.key!r} is not partitioned; backfills run over partitions",
                field=f"targets[{position}].asset_key", reason="ASSET_NOT_PARTITIONED",
            )
        spaces[asset.key] = space
    edges = [GraphEdge(d.asset_key, a.key, d.mapping) for a in assets for d in a.dependencies if d.asset_key in spaces]
    shape = BackfillGraph([GraphAsset(key, space, all_of(space)) for key, space in spaces.items()], edges)
    try:
        root_selection = select(spaces[shape.roots()[0]], root_selector)
        graph = BackfillGraph.propagate(spaces, edges, root_selection)
    except InvalidArgument as error:
        raise InvalidArgument(error.message, field="root_selector", reason=error.reason) from None
    selectors = []
    for position, asset in enumerate(assets):
        subset = graph.asset(asset.key).selection
        selector = selector_for_subset(spaces[asset.key], subset)
        if selector is None:
            why = (
                "no partition" if subset.is_empty
                else f"{subset.count} partitions that neither a key range nor 10,000 keys can name"
            )
            raise InvalidArgument(
                f"root_selector propagates {why} to targets[{position}] ({asset.key!r}); "
                "give each target its own selector instead",
                field="root_selector", reason="PROPAGATION_NOT_EXPRESSIBLE",
            )
        selectors.append(selector)
    return selectors


async def block_missing_upstream(
    plans: PlanResolver, targets: Sequence[ResolvedTarget], assets: Sequence[AssetPartitioning], as_of: datetime
) -> list[ResolvedTarget]:
    """``targets`` with the partitions that need nonexistent upstream partitions left out (and recorded)."""
    by_key = {target.asset_key: target for target in targets}
    blocked: dict[str, AnySubset] = {}
    for target, asset in zip(targets, assets):
        for dependency in asset.dependencies:
            upstream = await _upstream_space(plans, dependency.asset_key, by_key, as_of)
            if upstream is None or target.selection.is_empty:
                continue
            found = blocked_by_missing_upstream(dependency.mapping, target.space, target.selection, upstream)
            if not found.is_empty:
                before = blocked.get(target.asset_key)
                blocked[target.asset_key] = found if before is None else unite(before, found)
    if not blocked:
        return list(targets)
    graph = graph_of(targets, assets)
    if graph is not None:
        for key, reached in graph.failure_closure(blocked).items():
            before = blocked.get(key)
            blocked[key] = reached if before is None else unite(before, reached)
    result = []
    for target in targets:
        found = blocked.get(target.asset_key)
        if found is None:
            result.append(target)
            continue
        selection = without(target.selection, found)
        skipped = (*target.target.skipped, Skipped(SkipReason.MISSING_UPSTREAM, found))
        pinned = replace(target.target, skipped=skipped, partition_count=selection.count)
        result.append(replace(target, target=pinned, selection=selection))
    return result


async def _upstream_space(
    plans: PlanResolver, asset_key: str, targets: dict[str, ResolvedTarget], as_of: datetime
) -> PartitionSpace | None:
    """The upstream asset's partitions at ``as_of`` (the target's own space when it is targeted); None: none."""
    if asset_key in targets:
        return targets[asset_key].space
    try:
        asset = await plans.current_asset(asset_key, "dependency")
    except NotFound:
        return None  # an asset the catalog does not define: nothing to check against
    return await plans.current_space(asset, as_of)

