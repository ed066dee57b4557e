"""A person's description of what a mapping makes each downstream partition read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping._kinds import (
    AllMapping,
    IdentityMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.partitions.multi import MultiPartitionsDefinition

if TYPE_CHECKING:
    from arco_grpc.partitions.evaluate import PartitionsDefinition

# Descriptions name at most this many keys of a mapping.
_KEYS_NAMED = 5


def _named(keys: tuple[str, ...]) -> str:
    shown = ", ".join(repr(key) for key in keys[:_KEYS_NAMED])
    more = len(keys) - _KEYS_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def _windows(mapping: TimeWindowMapping) -> str:
    text = "the upstream partitions whose time windows overlap its own"
    if mapping.start_offset or mapping.end_offset:
        text += (
            f", after moving its window's start by {mapping.start_offset} and its end by {mapping.end_offset} "
            "downstream windows (a shift past the first or last upstream partition is cut off there)"
        )
    if mapping.allow_nonexistent_upstream_partitions:
        return text + "; windows outside the upstream partitions are ignored"
    return text + "; windows outside the upstream partitions are reported as required but nonexistent"


def _reads(mapping: PartitionMapping) -> str:
    """What one downstream partition reads, for single-dimension kinds."""
    if isinstance(mapping, IdentityMapping):
        return "the upstream partition with the same key"
    if isinstance(mapping, AllMapping):
        return "every upstream partition"
    if isinstance(mapping, LastMapping):
        return "the last upstream partition"
    if isinstance(mapping, SpecificPartitionsMapping):
        return f"the upstream partitions {_named(mapping.partition_keys)}"
    if isinstance(mapping, StaticMapping):
        count = len(mapping.downstream_keys_by_upstream_key)
        return f"the upstream partitions whose entry in the static map ({count} entries) lists its key"
    if isinstance(mapping, TimeWindowMapping):
        return _windows(mapping)
    return "what its mapping says"


def describe_mapping(
    mapping: PartitionMapping,
    *,
    inferred: bool = False,
    upstream: PartitionsDefinition | None = None,
    downstream: PartitionsDefinition | None = None,
) -> str:
    """One or two sentences: what each downstream partition reads through ``mapping``.

    ``inferred`` says the dependency declared no mapping and this is Dagster's
    default; the definitions, when given, let a multi-to-single mapping name its
    dimension.
    """
    prefix = "No mapping is declared, so Dagster's default applies. " if inferred else ""
    if isinstance(mapping, MultiToSingleDimensionMapping):
        return prefix + _describe_multi_to_single(mapping, upstream, downstream)
    if isinstance(mapping, MultiPartitionMapping):
        return prefix + _describe_multi_partition(mapping, upstream)
    return prefix + f"Each downstream partition reads {_reads(mapping)}."


def _describe_multi_to_single(
    mapping: MultiToSingleDimensionMapping,
    upstream: PartitionsDefinition | None,
    downstream: PartitionsDefinition | None,
) -> str:
    name = mapping.partition_dimension_name
    if name is None and upstream is not None and downstream is not None:
        from arco_grpc.partitions.mapping._multi import single_dimension_of

        multi, single = (upstream, downstream) if isinstance(upstream, MultiPartitionsDefinition) else (downstream, upstream)
        if isinstance(multi, MultiPartitionsDefinition):
            try:
                name = multi.dimension_names[single_dimension_of(mapping, multi, single)[0]]
            except InvalidArgument:
                name = None
    where = "the matching dimension" if name is None else f"dimension {name!r}"
    return (
        f"A multi partition and a single-dimension partition depend on each other when the multi key's part in "
        f"{where} corresponds to the single key (the same key, or overlapping time windows)."
    )


def _describe_multi_partition(mapping: MultiPartitionMapping, upstream: PartitionsDefinition | None) -> str:
    sentences = [
        f"Upstream dimension {entry.upstream_dimension!r} maps onto downstream dimension "
        f"{entry.downstream_dimension!r}: a downstream key's part reads {_reads(entry.mapping or IdentityMapping())}."
        for entry in mapping.dimensions
    ]
    mapped = {entry.upstream_dimension for entry in mapping.dimensions}
    if isinstance(upstream, MultiPartitionsDefinition):
        sentences += [
            f"Every partition of upstream dimension {name!r} is read."
            for name in upstream.dimension_names
            if name not in mapped
        ]
    elif len(mapped) < 2:
        sentences.append("Upstream dimensions not listed are read whole.")
    return " ".join(sentences)
