"""Dagster's default mapping inference and ``validate_partition_mapping`` rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.mapping._kinds import (
    MAPPING_FIELDS,
    AllMapping,
    IdentityMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.multi import MultiPartitionsDefinition
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition

if TYPE_CHECKING:
    from arco_grpc.partitions.evaluate import PartitionsDefinition


def definition_kind(definition: PartitionsDefinition | None) -> str:
    """A person's name for the kind of ``definition``."""
    if definition is None:
        return "unpartitioned"
    if isinstance(definition, StaticPartitionsDefinition):
        return "static"
    if isinstance(definition, TimeWindowPartitionsDefinition):
        return "time window"
    if isinstance(definition, DynamicPartitionsDefinition):
        return "dynamic"
    return "multi"


def infer_mapping(upstream: PartitionsDefinition | None, downstream: PartitionsDefinition | None) -> PartitionMapping:
    """Dagster's default mapping when a dependency names none (``infer_partition_mapping``)."""
    if upstream is None or downstream is None:
        return AllMapping()
    if isinstance(upstream, MultiPartitionsDefinition) != isinstance(downstream, MultiPartitionsDefinition):
        if _single_to_multi_problem(upstream, downstream, None) is None:
            return MultiToSingleDimensionMapping()
    if isinstance(upstream, TimeWindowPartitionsDefinition) and isinstance(downstream, TimeWindowPartitionsDefinition):
        return TimeWindowMapping()
    return IdentityMapping()


def validate_mapping(
    mapping: PartitionMapping, upstream: PartitionsDefinition | None, downstream: PartitionsDefinition | None
) -> None:
    """Checks that ``mapping`` can relate these definitions, as Dagster's validation does.

    An unpartitioned upstream is never checked (Dagster skips it too).

    Raises:
        InvalidArgument: the mapping does not fit the definitions; the field is
            relative to the PartitionMapping message.
    """
    if upstream is None:
        return
    kind = MAPPING_FIELDS[type(mapping)]
    if isinstance(mapping, IdentityMapping):
        if downstream is None or type(upstream) is not type(downstream):
            raise InvalidArgument(
                f"an identity mapping needs both assets partitioned the same way, but upstream is "
                f"{definition_kind(upstream)} and downstream is {definition_kind(downstream)}; choose another mapping",
                field=kind,
            )
    elif isinstance(mapping, StaticMapping):
        _validate_static(mapping, upstream, downstream)
    elif isinstance(mapping, TimeWindowMapping):
        _validate_time_windows(upstream, downstream, kind)
    elif isinstance(mapping, MultiToSingleDimensionMapping):
        problem = _single_to_multi_problem(upstream, downstream, mapping.partition_dimension_name)
        if problem is not None:
            field = kind if mapping.partition_dimension_name is None else f"{kind}.partition_dimension_name"
            raise InvalidArgument(problem, field=field)
    elif isinstance(mapping, MultiPartitionMapping):
        _validate_multi(mapping, upstream, downstream)
    # All, Last and SpecificPartitions fit any definitions.


def _validate_static(
    mapping: StaticMapping, upstream: PartitionsDefinition, downstream: PartitionsDefinition | None
) -> None:
    if not isinstance(upstream, StaticPartitionsDefinition) or not isinstance(downstream, StaticPartitionsDefinition):
        raise InvalidArgument(
            f"a static mapping relates two static definitions, but upstream is {definition_kind(upstream)} "
            f"and downstream is {definition_kind(downstream)}",
            field="static",
        )
    upstream_keys, downstream_keys = set(upstream.keys), set(downstream.keys)
    for position, (upstream_key, targets) in enumerate(mapping.downstream_keys_by_upstream_key):
        at = f"static.entries[{position}]"
        if upstream_key not in upstream_keys:
            raise InvalidArgument(
                f"{upstream_key!r} is not a key of the upstream asset's static partitions",
                field=f"{at}.upstream_key",
            )
        for index, key in enumerate(targets):
            if key not in downstream_keys:
                raise InvalidArgument(
                    f"{key!r} is not a key of the downstream asset's static partitions",
                    field=f"{at}.downstream_keys[{index}]",
                )


def _validate_time_windows(upstream: PartitionsDefinition, downstream: PartitionsDefinition | None, field: str) -> None:
    if not isinstance(upstream, TimeWindowPartitionsDefinition) or not isinstance(
        downstream, TimeWindowPartitionsDefinition
    ):
        raise InvalidArgument(
            f"a time window mapping relates two time window definitions, but upstream is "
            f"{definition_kind(upstream)} and downstream is {definition_kind(downstream)}",
            field=field,
        )
    if upstream.timezone != downstream.timezone:
        raise InvalidArgument(
            f"a time window mapping needs both definitions in one timezone, but upstream is in "
            f"{upstream.timezone!r} and downstream in {downstream.timezone!r}",
            field=field,
        )


def _single_to_multi_problem(
    upstream: PartitionsDefinition, downstream: PartitionsDefinition | None, dimension_name: str | None
) -> str | None:
    """Why a multi-to-single-dimension mapping cannot relate the two, or None when it can."""
    if downstream is None or isinstance(upstream, MultiPartitionsDefinition) == isinstance(
        downstream, MultiPartitionsDefinition
    ):
        return (
            "a multi-to-single-dimension mapping needs exactly one of the two assets to be multi-partitioned, "
            f"but upstream is {definition_kind(upstream)} and downstream is {definition_kind(downstream)}"
        )
    upstream_is_multi = isinstance(upstream, MultiPartitionsDefinition)
    multi, single = (upstream, downstream) if upstream_is_multi else (downstream, upstream)
    assert isinstance(multi, MultiPartitionsDefinition)
    dimensions = list(multi.dimensions)
    if dimension_name is not None:
        dimensions = [d for d in dimensions if d.name == dimension_name]
        if not dimensions:
            return f"the multi definition has no dimension {dimension_name!r}; it has {list(multi.dimension_names)}"
    matching = [d for d in dimensions if d.definition == single]
    if len(matching) > 1:
        return "both dimensions equal the single-dimension definition; set partition_dimension_name to pick one"
    if matching:
        return None
    timed = [d for d in dimensions if isinstance(d.definition, TimeWindowPartitionsDefinition)]
    if len(timed) == 1 and isinstance(single, TimeWindowPartitionsDefinition):
        time_dimension = timed[0].definition
        assert isinstance(time_dimension, TimeWindowPartitionsDefinition)
        if time_dimension.timezone != single.timezone:
            return (
                f"the time dimension {timed[0].name!r} is in {time_dimension.timezone!r} but the single-dimension "
                f"definition is in {single.timezone!r}; time windows can only be mapped within one timezone"
            )
        return None
    return (
        "a multi-to-single-dimension mapping needs the single-dimension definition to equal one dimension of the "
        "multi definition, or both to be time windows with exactly one time dimension in the multi definition"
    )


def _validate_multi(
    mapping: MultiPartitionMapping, upstream: PartitionsDefinition, downstream: PartitionsDefinition | None
) -> None:
    if not isinstance(upstream, MultiPartitionsDefinition) or not isinstance(downstream, MultiPartitionsDefinition):
        raise InvalidArgument(
            f"a multi-partition mapping relates two multi definitions, but upstream is {definition_kind(upstream)} "
            f"and downstream is {definition_kind(downstream)}",
            field="multi_partition",
        )
    upstream_used: dict[str, int] = {}
    downstream_used: dict[str, int] = {}
    for position, entry in enumerate(mapping.dimensions):
        at = f"multi_partition.dimensions[{position}]"
        for name, definition, used, side in (
            (entry.upstream_dimension, upstream, upstream_used, "upstream"),
            (entry.downstream_dimension, downstream, downstream_used, "downstream"),
        ):
            if definition.dimension_index(name) is None:
                raise InvalidArgument(
                    f"the {side} asset has no dimension {name!r}; "
                    f"its dimensions are {list(definition.dimension_names)}",
                    field=f"{at}.{side}_dimension",
                )
            if name in used:
                raise InvalidArgument(
                    f"{side} dimension {name!r} is mapped twice (entries {used[name]} and {position})",
                    field=f"{at}.{side}_dimension",
                )
            used[name] = position
        inner = entry.mapping or IdentityMapping()
        if isinstance(inner, (MultiPartitionMapping, MultiToSingleDimensionMapping)):
            raise InvalidArgument(
                "a dimension's mapping relates two single dimensions; it cannot be a multi mapping",
                field=f"{at}.mapping",
            )
        up_dimension = upstream.dimensions[upstream.dimension_index(entry.upstream_dimension) or 0].definition
        down_dimension = downstream.dimensions[downstream.dimension_index(entry.downstream_dimension) or 0].definition
        try:
            validate_mapping(inner, up_dimension, down_dimension)
        except InvalidArgument as error:
            raise error.under(f"{at}.mapping") from None


def self_dependency_allowed(mapping: PartitionMapping | None, definition: PartitionsDefinition | None) -> bool:
    """Whether an asset may depend on itself through ``mapping`` (Dagster's rule).

    Only on strictly earlier time windows: a time window mapping with negative
    start and end offsets, or for a multi definition with one time dimension,
    such a mapping on that dimension.
    """
    if isinstance(mapping, TimeWindowMapping):
        return mapping.start_offset < 0 and mapping.end_offset < 0
    if isinstance(mapping, MultiPartitionMapping) and isinstance(definition, MultiPartitionsDefinition):
        timed = [d.name for d in definition.dimensions if isinstance(d.definition, TimeWindowPartitionsDefinition)]
        if len(timed) != 1:
            return False
        for entry in mapping.dimensions:
            if entry.upstream_dimension == timed[0] and isinstance(entry.mapping, TimeWindowMapping):
                return entry.mapping.start_offset < 0 and entry.mapping.end_offset < 0
    return False
