import datetime

from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Run(_message.Message):
    __slots__ = ("run_id", "run_key", "backfill_id", "asset_key", "round", "chunk_index", "attempt", "worker_id", "state", "start_time", "end_time", "partitions", "partition_count", "failed_partition_count", "error_message", "metadata", "failed_partitions")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Run.State]
        STATE_RUNNING: _ClassVar[Run.State]
        STATE_SUCCEEDED: _ClassVar[Run.State]
        STATE_FAILED: _ClassVar[Run.State]
        STATE_LEASE_EXPIRED: _ClassVar[Run.State]
        STATE_RELEASED: _ClassVar[Run.State]
        STATE_CANCELLED: _ClassVar[Run.State]
    STATE_UNSPECIFIED: Run.State
    STATE_RUNNING: Run.State
    STATE_SUCCEEDED: Run.State
    STATE_FAILED: Run.State
    STATE_LEASE_EXPIRED: Run.State
    STATE_RELEASED: Run.State
    STATE_CANCELLED: Run.State
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    run_key: str
    backfill_id: str
    asset_key: str
    round: int
    chunk_index: int
    attempt: int
    worker_id: str
    state: Run.State
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    failed_partition_count: int
    error_message: str
    metadata: _containers.ScalarMap[str, str]
    failed_partitions: _partitions_pb2.PartitionSubset
    def __init__(self, run_id: _Optional[str] = ..., run_key: _Optional[str] = ..., backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., chunk_index: _Optional[int] = ..., attempt: _Optional[int] = ..., worker_id: _Optional[str] = ..., state: _Optional[_Union[Run.State, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., failed_partition_count: _Optional[int] = ..., error_message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., failed_partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("backfill_id", "asset_key", "round", "chunk_index", "page_size", "page_token")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    asset_key: str
    round: int
    chunk_index: int
    page_size: int
    page_token: str
    def __init__(self, backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., chunk_index: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
