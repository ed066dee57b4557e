import datetime

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_ORIGIN_UNSPECIFIED: _ClassVar[RunOrigin]
    RUN_ORIGIN_BACKFILL: _ClassVar[RunOrigin]
    RUN_ORIGIN_SCHEDULE: _ClassVar[RunOrigin]
    RUN_ORIGIN_SENSOR: _ClassVar[RunOrigin]
    RUN_ORIGIN_MANUAL: _ClassVar[RunOrigin]
RUN_ORIGIN_UNSPECIFIED: RunOrigin
RUN_ORIGIN_BACKFILL: RunOrigin
RUN_ORIGIN_SCHEDULE: RunOrigin
RUN_ORIGIN_SENSOR: RunOrigin
RUN_ORIGIN_MANUAL: RunOrigin

class Run(_message.Message):
    __slots__ = ("run_id", "run_key", "backfill_id", "asset_key", "round", "chunk_index", "attempt", "worker_id", "state", "start_time", "end_time", "partitions", "partition_count", "failed_partition_count", "error_message", "metadata", "failed_partitions", "origin", "origin_name", "parent_run_id", "root_run_id", "waited_for_run_ids", "scheduled_time", "origin_run_key", "submit_time", "skipped")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Run.State]
        STATE_RUNNING: _ClassVar[Run.State]
        STATE_SUCCEEDED: _ClassVar[Run.State]
        STATE_FAILED: _ClassVar[Run.State]
        STATE_LEASE_EXPIRED: _ClassVar[Run.State]
        STATE_RELEASED: _ClassVar[Run.State]
        STATE_CANCELLED: _ClassVar[Run.State]
        STATE_QUEUED: _ClassVar[Run.State]
    STATE_UNSPECIFIED: Run.State
    STATE_RUNNING: Run.State
    STATE_SUCCEEDED: Run.State
    STATE_FAILED: Run.State
    STATE_LEASE_EXPIRED: Run.State
    STATE_RELEASED: Run.State
    STATE_CANCELLED: Run.State
    STATE_QUEUED: Run.State
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
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WAITED_FOR_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
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
    origin: RunOrigin
    origin_name: str
    parent_run_id: str
    root_run_id: str
    waited_for_run_ids: _containers.RepeatedScalarFieldContainer[str]
    scheduled_time: _timestamp_pb2.Timestamp
    origin_run_key: str
    submit_time: _timestamp_pb2.Timestamp
    skipped: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.SkippedPartitions]
    def __init__(self, run_id: _Optional[str] = ..., run_key: _Optional[str] = ..., backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., chunk_index: _Optional[int] = ..., attempt: _Optional[int] = ..., worker_id: _Optional[str] = ..., state: _Optional[_Union[Run.State, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., failed_partition_count: _Optional[int] = ..., error_message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., failed_partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., origin: _Optional[_Union[RunOrigin, str]] = ..., origin_name: _Optional[str] = ..., parent_run_id: _Optional[str] = ..., root_run_id: _Optional[str] = ..., waited_for_run_ids: _Optional[_Iterable[str]] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin_run_key: _Optional[str] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., skipped: _Optional[_Iterable[_Union[_backfills_pb2.SkippedPartitions, _Mapping]]] = ...) -> None: ...

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
    __slots__ = ("backfill_id", "asset_key", "round", "chunk_index", "page_size", "page_token", "origin", "origin_name", "partition_key", "states")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    asset_key: str
    round: int
    chunk_index: int
    page_size: int
    page_token: str
    origin: RunOrigin
    origin_name: str
    partition_key: str
    states: _containers.RepeatedScalarFieldContainer[Run.State]
    def __init__(self, backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., chunk_index: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., origin: _Optional[_Union[RunOrigin, str]] = ..., origin_name: _Optional[str] = ..., partition_key: _Optional[str] = ..., states: _Optional[_Iterable[_Union[Run.State, str]]] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SubmitRunRequest(_message.Message):
    __slots__ = ("request_id", "origin", "origin_name", "asset_key", "selector", "run_key", "scheduled_time", "tags", "reprocess_policy")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    origin: RunOrigin
    origin_name: str
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    run_key: str
    scheduled_time: _timestamp_pb2.Timestamp
    tags: _containers.ScalarMap[str, str]
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    def __init__(self, request_id: _Optional[str] = ..., origin: _Optional[_Union[RunOrigin, str]] = ..., origin_name: _Optional[str] = ..., asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., run_key: _Optional[str] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ...) -> None: ...

class SubmitRunResponse(_message.Message):
    __slots__ = ("run", "deduplicated", "skipped")
    RUN_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    run: Run
    deduplicated: bool
    skipped: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.SkippedPartitions]
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ..., deduplicated: _Optional[bool] = ..., skipped: _Optional[_Iterable[_Union[_backfills_pb2.SkippedPartitions, _Mapping]]] = ...) -> None: ...

class ReexecuteRunRequest(_message.Message):
    __slots__ = ("request_id", "run_id", "mode", "tags")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[ReexecuteRunRequest.Mode]
        MODE_FROM_FAILURE: _ClassVar[ReexecuteRunRequest.Mode]
        MODE_ALL: _ClassVar[ReexecuteRunRequest.Mode]
    MODE_UNSPECIFIED: ReexecuteRunRequest.Mode
    MODE_FROM_FAILURE: ReexecuteRunRequest.Mode
    MODE_ALL: ReexecuteRunRequest.Mode
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    run_id: str
    mode: ReexecuteRunRequest.Mode
    tags: _containers.ScalarMap[str, str]
    def __init__(self, request_id: _Optional[str] = ..., run_id: _Optional[str] = ..., mode: _Optional[_Union[ReexecuteRunRequest.Mode, str]] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ReexecuteRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("request_id", "run_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    run_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...
