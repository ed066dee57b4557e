"""Protobuf <-> pure values for assets and partition mappings."""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as pb
from arco_grpc.domain.catalog import Asset, AssetDependency, VersionedAsset
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.mapping import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    LastMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionMapping,
    PartitionMapping,
    SpecificPartitionsMapping,
    StaticMapping,
    TimeWindowMapping,
)
from arco_grpc.service.convert_partitions import datetime_to_proto, definition_from_proto, definition_to_proto

# -- mappings ---------------------------------------------------------------


def mapping_from_proto(message: pb.PartitionMapping) -> PartitionMapping:
    """The pure mapping of a PartitionMapping message.

    Raises:
        InvalidArgument: no kind is set, or the mapping is malformed (paths
            relative to PartitionMapping).
    """
    kind = message.WhichOneof("kind")
    if kind == "identity":
        return IdentityMapping()
    if kind == "all":
        return AllMapping()
    if kind == "last":
        return LastMapping()
    if kind == "specific_partitions":
        return SpecificPartitionsMapping(tuple(message.specific_partitions.partition_keys))
    if kind == "static":
        return StaticMapping(
            tuple((entry.upstream_key, tuple(entry.downstream_keys)) for entry in message.static.entries)
        )
    if kind == "time_window":
        window = message.time_window
        return TimeWindowMapping(window.start_offset, window.end_offset, window.allow_nonexistent_upstream_partitions)
    if kind == "multi_to_single_dimension":
        return MultiToSingleDimensionMapping(message.multi_to_single_dimension.partition_dimension_name or None)
    if kind == "multi_partition":
        return MultiPartitionMapping(tuple(_dimension_mappings(message.multi_partition)))
    raise InvalidArgument(
        "set exactly one kind of mapping (identity, all, last, specific_partitions, static, time_window, "
        "multi_to_single_dimension, multi_partition), or leave mapping unset for the default",
        field="",
    )


def _dimension_mappings(message: pb.MultiPartitionMapping) -> list[DimensionMapping]:
    entries = []
    for position, entry in enumerate(message.dimensions):
        inner = None
        if entry.HasField("mapping"):
            try:
                inner = mapping_from_proto(entry.mapping)
            except InvalidArgument as error:
                raise error.under(f"multi_partition.dimensions[{position}].mapping") from None
        entries.append(DimensionMapping(entry.upstream_dimension, entry.downstream_dimension, inner))
    return entries


def mapping_to_proto(mapping: PartitionMapping) -> pb.PartitionMapping:
    """The PartitionMapping message of a mapping."""
    if isinstance(mapping, IdentityMapping):
        return pb.PartitionMapping(identity=pb.IdentityMapping())
    if isinstance(mapping, AllMapping):
        return pb.PartitionMapping(all=pb.AllMapping())
    if isinstance(mapping, LastMapping):
        return pb.PartitionMapping(last=pb.LastMapping())
    if isinstance(mapping, SpecificPartitionsMapping):
        return pb.PartitionMapping(
            specific_partitions=pb.SpecificPartitionsMapping(partition_keys=mapping.partition_keys)
        )
    if isinstance(mapping, StaticMapping):
        return pb.PartitionMapping(
            static=pb.StaticMapping(
                entries=[
                    pb.StaticMappingEntry(upstream_key=upstream, downstream_keys=downstream)
                    for upstream, downstream in mapping.downstream_keys_by_upstream_key
                ]
            )
        )
    if isinstance(mapping, TimeWindowMapping):
        return pb.PartitionMapping(
            time_window=pb.TimeWindowMapping(
                start_offset=mapping.start_offset,
                end_offset=mapping.end_offset,
                allow_nonexistent_upstream_partitions=mapping.allow_nonexistent_upstream_partitions,
            )
        )
    if isinstance(mapping, MultiToSingleDimensionMapping):
        return pb.PartitionMapping(
            multi_to_single_dimension=pb.MultiToSingleDimensionMapping(
                partition_dimension_name=mapping.partition_dimension_name or ""
            )
        )
    return pb.PartitionMapping(
        multi_partition=pb.MultiPartitionMapping(
            dimensions=[
                pb.DimensionMapping(
                    upstream_dimension=entry.upstream_dimension,
                    downstream_dimension=entry.downstream_dimension,
                    mapping=None if entry.mapping is None else mapping_to_proto(entry.mapping),
                )
                for entry in mapping.dimensions
            ]
        )
    )


# -- assets -----------------------------------------------------------------


def asset_from_proto(message: pb.Asset) -> Asset:
    """The pure asset of an Asset message; output-only fields (version, update_time) are ignored.

    A chunk policy of 0 becomes 1 (its documented meaning), so equal
    definitions compare equal.

    Raises:
        InvalidArgument: a malformed definition or mapping (paths relative to Asset).
    """
    partitions = None
    if message.HasField("partitions"):
        try:
            partitions = definition_from_proto(message.partitions)
        except InvalidArgument as error:
            raise error.under("partitions") from None
    dependencies = []
    for position, dependency in enumerate(message.dependencies):
        mapping = None
        if dependency.HasField("mapping"):
            try:
                mapping = mapping_from_proto(dependency.mapping)
            except InvalidArgument as error:
                raise error.under(f"dependencies[{position}].mapping") from None
        dependencies.append(AssetDependency(dependency.asset_key, mapping))
    return Asset(
        key=message.key,
        partitions=partitions,
        dependencies=tuple(dependencies),
        max_partitions_per_chunk=message.chunk_policy.max_partitions_per_chunk or 1,
        description=message.description,
    )


def asset_to_proto(entry: VersionedAsset) -> pb.Asset:
    """The Asset message of a stored asset, in normalized form with its version and update time."""
    asset = entry.asset
    return pb.Asset(
        key=asset.key,
        partitions=None if asset.partitions is None else definition_to_proto(asset.partitions),
        dependencies=[
            pb.AssetDependency(
                asset_key=dependency.asset_key,
                mapping=None if dependency.mapping is None else mapping_to_proto(dependency.mapping),
            )
            for dependency in asset.dependencies
        ],
        chunk_policy=pb.ChunkPolicy(max_partitions_per_chunk=asset.max_partitions_per_chunk),
        description=asset.description,
        version=entry.version,
        update_time=datetime_to_proto(entry.updated_at),
    )
