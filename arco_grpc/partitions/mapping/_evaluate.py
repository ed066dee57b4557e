"""Evaluate a partition mapping on a compact subset, in either direction.

Both spaces must be evaluated at the same moment (the same ``as_of`` and
dynamic keys), as Dagster evaluates both definitions at one current time.
Results never list keys the definitions allow arithmetic for: see the kind
modules for each kind's cost.

Where this differs from Dagster 1.13.29 on purpose:

* An empty subset maps to an empty subset for every kind (the union over no
  partitions). Dagster's All, Last and SpecificPartitions mappings return their
  upstream partitions even for an empty downstream subset.
* SpecificPartitions keys that the upstream definition does not have are reported
  as required but nonexistent. Dagster returns them as upstream partitions
  (``upstream_key_not_in_definition``) or raises ValueError for a time-window key
  that does not parse; a subset of indices cannot hold them, and a missing
  dependency is what required-but-nonexistent means.
* MultiToSingleDimension honours ``partition_dimension_name`` (Dagster ignores it).
"""

from __future__ import annotations

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping._kinds import (
    MAPPING_FIELDS,
    AllMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
)
from arco_grpc.partitions.mapping._multi import map_multi_partition, map_multi_to_single
from arco_grpc.partitions.mapping._result import UpstreamPartitions
from arco_grpc.partitions.mapping._single import Mapped, all_of, map_partitions, none_of
from arco_grpc.partitions.mapping._validate import infer_mapping
from arco_grpc.partitions.multi import MultiSpace
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.subset import PartitionSubset

# The kinds that say which upstream partitions to read without looking at the
# downstream partition, so they also serve an unpartitioned downstream asset.
_IGNORE_DOWNSTREAM = (AllMapping, LastMapping, SpecificPartitionsMapping)


def mapping_in_effect(
    mapping: PartitionMapping | None, upstream_space: PartitionSpace | None, downstream_space: PartitionSpace | None
) -> PartitionMapping:
    """``mapping``, or Dagster's default for the two definitions when it is None."""
    if mapping is not None:
        return mapping
    return infer_mapping(
        None if upstream_space is None else upstream_space.definition,  # type: ignore[attr-defined]
        None if downstream_space is None else downstream_space.definition,  # type: ignore[attr-defined]
    )


def _check_subset(subset: AnySubset | None, space: PartitionSpace, name: str) -> AnySubset:
    wanted = MultiPartitionSubset if isinstance(space, MultiSpace) else PartitionSubset
    if not isinstance(subset, wanted):
        raise TypeError(f"the {name} subset must be a {wanted.__name__} of the {name} space, got {subset!r}")
    return subset


def _map(
    mapping: PartitionMapping, source: PartitionSpace, target: PartitionSpace, subset: AnySubset, toward_upstream: bool
) -> Mapped:
    try:
        if isinstance(mapping, MultiToSingleDimensionMapping):
            return map_multi_to_single(mapping, source, target, subset, toward_upstream=toward_upstream)
        if isinstance(mapping, MultiPartitionMapping):
            return map_multi_partition(mapping, source, target, subset, toward_upstream=toward_upstream)
        return map_partitions(mapping, source, target, subset, toward_upstream=toward_upstream)
    except InvalidArgument as error:
        # Kind modules name fields inside their own oneof member; "" means the mapping itself.
        if error.violations and error.violations[0].field == "":
            raise InvalidArgument(error.message, field=MAPPING_FIELDS[type(mapping)]) from None
        raise


def upstream_partitions(
    mapping: PartitionMapping | None,
    downstream_subset: AnySubset | None,
    downstream_space: PartitionSpace | None,
    upstream_space: PartitionSpace | None,
) -> UpstreamPartitions:
    """The upstream partitions that the partitions in ``downstream_subset`` read.

    ``mapping`` None means Dagster's default for the two definitions. A None
    ``downstream_space`` is an unpartitioned downstream asset (then
    ``downstream_subset`` is ignored); only the all, last and specific-partitions
    mappings apply to it. The result's subset is over ``upstream_space``.

    Raises:
        InvalidArgument: the upstream asset is unpartitioned, or the mapping cannot
            relate the two definitions where Dagster's evaluation fails too (field
            relative to the PartitionMapping message).
        TypeError: the subset's kind does not fit ``downstream_space``.
    """
    if upstream_space is None:
        raise InvalidArgument("the upstream asset is not partitioned: every downstream partition depends on all of it")
    chosen = mapping_in_effect(mapping, upstream_space, downstream_space)
    if downstream_space is None:
        if not isinstance(chosen, _IGNORE_DOWNSTREAM):
            raise InvalidArgument(
                f"the downstream asset is not partitioned, so a {MAPPING_FIELDS[type(chosen)]} mapping has no "
                "downstream partitions to map; use all, last or specific_partitions",
                field=MAPPING_FIELDS[type(chosen)],
            )
        # A stand-in one-partition source: these kinds never look at it.
        stand_in = PartitionSubset.of_range(0, 1)
        subset, nonexistent = _map(chosen, upstream_space, upstream_space, stand_in, toward_upstream=True)
        return UpstreamPartitions(subset, nonexistent)
    subset = _check_subset(downstream_subset, downstream_space, "downstream")
    if not subset:
        return UpstreamPartitions(none_of(upstream_space))
    mapped, nonexistent = _map(chosen, downstream_space, upstream_space, subset, toward_upstream=True)
    return UpstreamPartitions(mapped, nonexistent)


def downstream_partitions(
    mapping: PartitionMapping | None,
    upstream_subset: AnySubset | None,
    upstream_space: PartitionSpace | None,
    downstream_space: PartitionSpace | None,
) -> AnySubset:
    """The downstream partitions that read any partition in ``upstream_subset``.

    ``mapping`` None means Dagster's default. A None ``upstream_space`` is an
    unpartitioned upstream asset: every downstream partition reads it. Downstream
    partitions that do not exist are left out, as Dagster filters them.

    Raises:
        InvalidArgument: the downstream asset is unpartitioned, or the mapping cannot
            relate the two definitions where Dagster's evaluation fails too.
        TypeError: the subset's kind does not fit ``upstream_space``.
    """
    if downstream_space is None:
        raise InvalidArgument("the downstream asset is not partitioned: it reads its upstream partitions as a whole")
    if upstream_space is None:
        return all_of(downstream_space)
    chosen = mapping_in_effect(mapping, upstream_space, downstream_space)
    subset = _check_subset(upstream_subset, upstream_space, "upstream")
    if not subset:
        return none_of(downstream_space)
    return _map(chosen, upstream_space, downstream_space, subset, toward_upstream=False)[0]
