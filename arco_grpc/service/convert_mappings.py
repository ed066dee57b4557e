"""Mapped selections -> GetUpstreamPartitions / GetDownstreamPartitions responses."""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api
from arco_grpc.partitions.selection import subset_keys
from arco_grpc.service.catalog_app import MappedSelection
from arco_grpc.service.convert_assets import mapping_to_proto
from arco_grpc.service.convert_partitions import datetime_to_proto, subset_to_proto

# Required-but-nonexistent keys listed in one response; the count is always exact.
MAX_NONEXISTENT_KEYS = 100


def _ends(mapped: MappedSelection) -> tuple[str, str]:
    """The first and last key of the mapped subset ("" when empty)."""
    first = subset_keys(mapped.space, mapped.subset, 0, 1)
    last = subset_keys(mapped.space, mapped.subset, 0, 1, descending=True)
    return (first[0] if first else ""), (last[0] if last else "")


def upstream_response(mapped: MappedSelection) -> api.GetUpstreamPartitionsResponse:
    """The GetUpstreamPartitions answer for a selection mapped toward upstream."""
    first, last = _ends(mapped)
    return api.GetUpstreamPartitionsResponse(
        subset=subset_to_proto(mapped.subset),
        count=mapped.subset.count,
        first_key=first,
        last_key=last,
        required_but_nonexistent_keys=mapped.required_but_nonexistent.keys(MAX_NONEXISTENT_KEYS),
        required_but_nonexistent_count=mapped.required_but_nonexistent.count,
        mapping=mapping_to_proto(mapped.mapping),
        mapping_inferred=mapped.inferred,
        mapping_description=mapped.description,
        selected_count=mapped.selected_count,
        as_of=datetime_to_proto(mapped.as_of),
    )


def downstream_response(mapped: MappedSelection) -> api.GetDownstreamPartitionsResponse:
    """The GetDownstreamPartitions answer for a selection mapped toward downstream."""
    first, last = _ends(mapped)
    return api.GetDownstreamPartitionsResponse(
        subset=subset_to_proto(mapped.subset),
        count=mapped.subset.count,
        first_key=first,
        last_key=last,
        mapping=mapping_to_proto(mapped.mapping),
        mapping_inferred=mapped.inferred,
        mapping_description=mapped.description,
        selected_count=mapped.selected_count,
        as_of=datetime_to_proto(mapped.as_of),
    )
