import datetime

from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Asset(_message.Message):
    __slots__ = ("key", "partitions", "dependencies", "chunk_policy", "description", "version", "update_time")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_POLICY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key: str
    partitions: _partitions_pb2.PartitionsDefinition
    dependencies: _containers.RepeatedCompositeFieldContainer[AssetDependency]
    chunk_policy: ChunkPolicy
    description: str
    version: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionsDefinition, _Mapping]] = ..., dependencies: _Optional[_Iterable[_Union[AssetDependency, _Mapping]]] = ..., chunk_policy: _Optional[_Union[ChunkPolicy, _Mapping]] = ..., description: _Optional[str] = ..., version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssetDependency(_message.Message):
    __slots__ = ("asset_key", "mapping")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    mapping: PartitionMapping
    def __init__(self, asset_key: _Optional[str] = ..., mapping: _Optional[_Union[PartitionMapping, _Mapping]] = ...) -> None: ...

class PartitionMapping(_message.Message):
    __slots__ = ("identity", "all", "last", "specific_partitions", "static", "time_window", "multi_to_single_dimension", "multi_partition")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    STATIC_FIELD_NUMBER: _ClassVar[int]
    TIME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MULTI_TO_SINGLE_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MULTI_PARTITION_FIELD_NUMBER: _ClassVar[int]
    identity: IdentityMapping
    all: AllMapping
    last: LastMapping
    specific_partitions: SpecificPartitionsMapping
    static: StaticMapping
    time_window: TimeWindowMapping
    multi_to_single_dimension: MultiToSingleDimensionMapping
    multi_partition: MultiPartitionMapping
    def __init__(self, identity: _Optional[_Union[IdentityMapping, _Mapping]] = ..., all: _Optional[_Union[AllMapping, _Mapping]] = ..., last: _Optional[_Union[LastMapping, _Mapping]] = ..., specific_partitions: _Optional[_Union[SpecificPartitionsMapping, _Mapping]] = ..., static: _Optional[_Union[StaticMapping, _Mapping]] = ..., time_window: _Optional[_Union[TimeWindowMapping, _Mapping]] = ..., multi_to_single_dimension: _Optional[_Union[MultiToSingleDimensionMapping, _Mapping]] = ..., multi_partition: _Optional[_Union[MultiPartitionMapping, _Mapping]] = ...) -> None: ...

class IdentityMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AllMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LastMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SpecificPartitionsMapping(_message.Message):
    __slots__ = ("partition_keys",)
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class StaticMapping(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[StaticMappingEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[StaticMappingEntry, _Mapping]]] = ...) -> None: ...

class StaticMappingEntry(_message.Message):
    __slots__ = ("upstream_key", "downstream_keys")
    UPSTREAM_KEY_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_KEYS_FIELD_NUMBER: _ClassVar[int]
    upstream_key: str
    downstream_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, upstream_key: _Optional[str] = ..., downstream_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class TimeWindowMapping(_message.Message):
    __slots__ = ("start_offset", "end_offset", "allow_nonexistent_upstream_partitions")
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    ALLOW_NONEXISTENT_UPSTREAM_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    start_offset: int
    end_offset: int
    allow_nonexistent_upstream_partitions: bool
    def __init__(self, start_offset: _Optional[int] = ..., end_offset: _Optional[int] = ..., allow_nonexistent_upstream_partitions: _Optional[bool] = ...) -> None: ...

class MultiToSingleDimensionMapping(_message.Message):
    __slots__ = ("partition_dimension_name",)
    PARTITION_DIMENSION_NAME_FIELD_NUMBER: _ClassVar[int]
    partition_dimension_name: str
    def __init__(self, partition_dimension_name: _Optional[str] = ...) -> None: ...

class MultiPartitionMapping(_message.Message):
    __slots__ = ("dimensions",)
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    dimensions: _containers.RepeatedCompositeFieldContainer[DimensionMapping]
    def __init__(self, dimensions: _Optional[_Iterable[_Union[DimensionMapping, _Mapping]]] = ...) -> None: ...

class DimensionMapping(_message.Message):
    __slots__ = ("upstream_dimension", "downstream_dimension", "mapping")
    UPSTREAM_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    upstream_dimension: str
    downstream_dimension: str
    mapping: PartitionMapping
    def __init__(self, upstream_dimension: _Optional[str] = ..., downstream_dimension: _Optional[str] = ..., mapping: _Optional[_Union[PartitionMapping, _Mapping]] = ...) -> None: ...

class ChunkPolicy(_message.Message):
    __slots__ = ("max_partitions_per_chunk",)
    MAX_PARTITIONS_PER_CHUNK_FIELD_NUMBER: _ClassVar[int]
    max_partitions_per_chunk: int
    def __init__(self, max_partitions_per_chunk: _Optional[int] = ...) -> None: ...
