import datetime

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as _run_service_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeaseChunksRequest(_message.Message):
    __slots__ = ("worker_id", "max_chunks", "asset_keys", "tags", "wait_timeout", "lease_ttl", "request_id")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    max_chunks: int
    asset_keys: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.ScalarMap[str, str]
    wait_timeout: _duration_pb2.Duration
    lease_ttl: _duration_pb2.Duration
    request_id: str
    def __init__(self, worker_id: _Optional[str] = ..., max_chunks: _Optional[int] = ..., asset_keys: _Optional[_Iterable[str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., wait_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lease_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class LeaseChunksResponse(_message.Message):
    __slots__ = ("chunks",)
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[LeasedChunk]
    def __init__(self, chunks: _Optional[_Iterable[_Union[LeasedChunk, _Mapping]]] = ...) -> None: ...

class LeasedChunk(_message.Message):
    __slots__ = ("lease", "backfill_id", "asset_key", "round", "index", "attempt", "run_id", "run_key", "partition_keys", "partitions", "partition_count", "first_key", "last_key", "lease_expire_time", "tags", "origin", "origin_name")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LEASE_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_KEY_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    lease: ChunkLease
    backfill_id: str
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    run_key: str
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    first_key: str
    last_key: str
    lease_expire_time: _timestamp_pb2.Timestamp
    tags: _containers.ScalarMap[str, str]
    origin: _run_service_pb2.RunOrigin
    origin_name: str
    def __init__(self, lease: _Optional[_Union[ChunkLease, _Mapping]] = ..., backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., run_key: _Optional[str] = ..., partition_keys: _Optional[_Iterable[str]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., first_key: _Optional[str] = ..., last_key: _Optional[str] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., origin: _Optional[_Union[_run_service_pb2.RunOrigin, str]] = ..., origin_name: _Optional[str] = ...) -> None: ...

class ChunkLease(_message.Message):
    __slots__ = ("run_id", "backfill_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    backfill_id: str
    def __init__(self, run_id: _Optional[str] = ..., backfill_id: _Optional[str] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("worker_id", "leases", "progress", "lease_ttl")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    leases: _containers.RepeatedCompositeFieldContainer[ChunkLease]
    progress: _containers.RepeatedCompositeFieldContainer[ChunkProgress]
    lease_ttl: _duration_pb2.Duration
    def __init__(self, worker_id: _Optional[str] = ..., leases: _Optional[_Iterable[_Union[ChunkLease, _Mapping]]] = ..., progress: _Optional[_Iterable[_Union[ChunkProgress, _Mapping]]] = ..., lease_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ChunkProgress(_message.Message):
    __slots__ = ("lease", "fraction", "message")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    lease: ChunkLease
    fraction: float
    message: str
    def __init__(self, lease: _Optional[_Union[ChunkLease, _Mapping]] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("extended", "stop", "lost")
    EXTENDED_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    extended: _containers.RepeatedCompositeFieldContainer[ExtendedLease]
    stop: _containers.RepeatedCompositeFieldContainer[ChunkLease]
    lost: _containers.RepeatedCompositeFieldContainer[ChunkLease]
    def __init__(self, extended: _Optional[_Iterable[_Union[ExtendedLease, _Mapping]]] = ..., stop: _Optional[_Iterable[_Union[ChunkLease, _Mapping]]] = ..., lost: _Optional[_Iterable[_Union[ChunkLease, _Mapping]]] = ...) -> None: ...

class ExtendedLease(_message.Message):
    __slots__ = ("lease", "lease_expire_time")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    lease: ChunkLease
    lease_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, lease: _Optional[_Union[ChunkLease, _Mapping]] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChunkCompletion(_message.Message):
    __slots__ = ("lease", "worker_id", "outcome", "failed_partition_keys", "error_message", "metadata")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[ChunkCompletion.Outcome]
        OUTCOME_SUCCEEDED: _ClassVar[ChunkCompletion.Outcome]
        OUTCOME_FAILED: _ClassVar[ChunkCompletion.Outcome]
    OUTCOME_UNSPECIFIED: ChunkCompletion.Outcome
    OUTCOME_SUCCEEDED: ChunkCompletion.Outcome
    OUTCOME_FAILED: ChunkCompletion.Outcome
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LEASE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    lease: ChunkLease
    worker_id: str
    outcome: ChunkCompletion.Outcome
    failed_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    error_message: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, lease: _Optional[_Union[ChunkLease, _Mapping]] = ..., worker_id: _Optional[str] = ..., outcome: _Optional[_Union[ChunkCompletion.Outcome, str]] = ..., failed_partition_keys: _Optional[_Iterable[str]] = ..., error_message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CompleteChunkRequest(_message.Message):
    __slots__ = ("completion",)
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    completion: ChunkCompletion
    def __init__(self, completion: _Optional[_Union[ChunkCompletion, _Mapping]] = ...) -> None: ...

class CompleteChunkResponse(_message.Message):
    __slots__ = ("chunk_state", "will_retry")
    CHUNK_STATE_FIELD_NUMBER: _ClassVar[int]
    WILL_RETRY_FIELD_NUMBER: _ClassVar[int]
    chunk_state: _backfills_pb2.Chunk.State
    will_retry: bool
    def __init__(self, chunk_state: _Optional[_Union[_backfills_pb2.Chunk.State, str]] = ..., will_retry: _Optional[bool] = ...) -> None: ...

class CompleteChunksRequest(_message.Message):
    __slots__ = ("completions",)
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    completions: _containers.RepeatedCompositeFieldContainer[ChunkCompletion]
    def __init__(self, completions: _Optional[_Iterable[_Union[ChunkCompletion, _Mapping]]] = ...) -> None: ...

class CompleteChunksResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CompletionResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CompletionResult, _Mapping]]] = ...) -> None: ...

class CompletionResult(_message.Message):
    __slots__ = ("response", "error_code", "error_message")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    response: CompleteChunkResponse
    error_code: int
    error_message: str
    def __init__(self, response: _Optional[_Union[CompleteChunkResponse, _Mapping]] = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class ReleaseChunksRequest(_message.Message):
    __slots__ = ("worker_id", "leases")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    leases: _containers.RepeatedCompositeFieldContainer[ChunkLease]
    def __init__(self, worker_id: _Optional[str] = ..., leases: _Optional[_Iterable[_Union[ChunkLease, _Mapping]]] = ...) -> None: ...

class ReleaseChunksResponse(_message.Message):
    __slots__ = ("released_count",)
    RELEASED_COUNT_FIELD_NUMBER: _ClassVar[int]
    released_count: int
    def __init__(self, released_count: _Optional[int] = ...) -> None: ...
