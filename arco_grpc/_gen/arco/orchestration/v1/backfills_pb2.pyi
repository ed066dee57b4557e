import datetime

from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReprocessPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPROCESS_POLICY_UNSPECIFIED: _ClassVar[ReprocessPolicy]
    REPROCESS_POLICY_ALL: _ClassVar[ReprocessPolicy]
    REPROCESS_POLICY_MISSING: _ClassVar[ReprocessPolicy]
    REPROCESS_POLICY_FAILED_AND_MISSING: _ClassVar[ReprocessPolicy]

class SkipReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SKIP_REASON_UNSPECIFIED: _ClassVar[SkipReason]
    SKIP_REASON_ALREADY_MATERIALIZED: _ClassVar[SkipReason]
    SKIP_REASON_IN_FLIGHT: _ClassVar[SkipReason]
    SKIP_REASON_FAILED: _ClassVar[SkipReason]
    SKIP_REASON_MISSING_UPSTREAM: _ClassVar[SkipReason]
REPROCESS_POLICY_UNSPECIFIED: ReprocessPolicy
REPROCESS_POLICY_ALL: ReprocessPolicy
REPROCESS_POLICY_MISSING: ReprocessPolicy
REPROCESS_POLICY_FAILED_AND_MISSING: ReprocessPolicy
SKIP_REASON_UNSPECIFIED: SkipReason
SKIP_REASON_ALREADY_MATERIALIZED: SkipReason
SKIP_REASON_IN_FLIGHT: SkipReason
SKIP_REASON_FAILED: SkipReason
SKIP_REASON_MISSING_UPSTREAM: SkipReason

class Backfill(_message.Message):
    __slots__ = ("id", "state", "state_version", "targets", "max_concurrency", "order", "tags", "title", "description", "creator", "as_of", "create_time", "update_time", "end_time", "progress", "transitions", "fingerprint", "retry_policy", "round", "outcomes", "reprocess_policy")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Backfill.State]
        STATE_CREATED: _ClassVar[Backfill.State]
        STATE_RUNNING: _ClassVar[Backfill.State]
        STATE_PAUSED: _ClassVar[Backfill.State]
        STATE_CANCELLING: _ClassVar[Backfill.State]
        STATE_CANCELLED: _ClassVar[Backfill.State]
        STATE_COMPLETED: _ClassVar[Backfill.State]
    STATE_UNSPECIFIED: Backfill.State
    STATE_CREATED: Backfill.State
    STATE_RUNNING: Backfill.State
    STATE_PAUSED: Backfill.State
    STATE_CANCELLING: Backfill.State
    STATE_CANCELLED: Backfill.State
    STATE_COMPLETED: Backfill.State
    class Order(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ORDER_UNSPECIFIED: _ClassVar[Backfill.Order]
        ORDER_FORWARD: _ClassVar[Backfill.Order]
        ORDER_BACKWARD: _ClassVar[Backfill.Order]
    ORDER_UNSPECIFIED: Backfill.Order
    ORDER_FORWARD: Backfill.Order
    ORDER_BACKWARD: Backfill.Order
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: Backfill.State
    state_version: int
    targets: _containers.RepeatedCompositeFieldContainer[BackfillTarget]
    max_concurrency: int
    order: Backfill.Order
    tags: _containers.ScalarMap[str, str]
    title: str
    description: str
    creator: str
    as_of: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    progress: BackfillProgress
    transitions: _containers.RepeatedCompositeFieldContainer[StateTransition]
    fingerprint: str
    retry_policy: RetryPolicy
    round: int
    outcomes: _containers.RepeatedCompositeFieldContainer[TargetOutcome]
    reprocess_policy: ReprocessPolicy
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[Backfill.State, str]] = ..., state_version: _Optional[int] = ..., targets: _Optional[_Iterable[_Union[BackfillTarget, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., order: _Optional[_Union[Backfill.Order, str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., creator: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., progress: _Optional[_Union[BackfillProgress, _Mapping]] = ..., transitions: _Optional[_Iterable[_Union[StateTransition, _Mapping]]] = ..., fingerprint: _Optional[str] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., round: _Optional[int] = ..., outcomes: _Optional[_Iterable[_Union[TargetOutcome, _Mapping]]] = ..., reprocess_policy: _Optional[_Union[ReprocessPolicy, str]] = ...) -> None: ...

class SkippedPartitions(_message.Message):
    __slots__ = ("reason", "partitions", "partition_count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: SkipReason
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    def __init__(self, reason: _Optional[_Union[SkipReason, str]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_attempts", "initial_backoff", "backoff_multiplier", "max_backoff")
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_FIELD_NUMBER: _ClassVar[int]
    max_attempts: int
    initial_backoff: _duration_pb2.Duration
    backoff_multiplier: float
    max_backoff: _duration_pb2.Duration
    def __init__(self, max_attempts: _Optional[int] = ..., initial_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., backoff_multiplier: _Optional[float] = ..., max_backoff: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TargetOutcome(_message.Message):
    __slots__ = ("asset_key", "succeeded", "succeeded_count", "failed", "failed_count", "upstream_failed", "upstream_failed_count")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_FAILED_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    succeeded: _partitions_pb2.PartitionSubset
    succeeded_count: int
    failed: _partitions_pb2.PartitionSubset
    failed_count: int
    upstream_failed: _partitions_pb2.PartitionSubset
    upstream_failed_count: int
    def __init__(self, asset_key: _Optional[str] = ..., succeeded: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., succeeded_count: _Optional[int] = ..., failed: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., failed_count: _Optional[int] = ..., upstream_failed: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., upstream_failed_count: _Optional[int] = ...) -> None: ...

class BackfillTarget(_message.Message):
    __slots__ = ("asset_key", "selector", "selector_fingerprint", "partition_count", "chunk_size", "chunk_count", "asset_version", "dynamic_partitions_versions", "selected_partition_count", "skipped", "partition_status_space")
    class DynamicPartitionsVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    ASSET_VERSION_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_PARTITIONS_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SELECTED_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    PARTITION_STATUS_SPACE_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    selector_fingerprint: str
    partition_count: int
    chunk_size: int
    chunk_count: int
    asset_version: int
    dynamic_partitions_versions: _containers.ScalarMap[str, int]
    selected_partition_count: int
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedPartitions]
    partition_status_space: str
    def __init__(self, asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., selector_fingerprint: _Optional[str] = ..., partition_count: _Optional[int] = ..., chunk_size: _Optional[int] = ..., chunk_count: _Optional[int] = ..., asset_version: _Optional[int] = ..., dynamic_partitions_versions: _Optional[_Mapping[str, int]] = ..., selected_partition_count: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[SkippedPartitions, _Mapping]]] = ..., partition_status_space: _Optional[str] = ...) -> None: ...

class BackfillProgress(_message.Message):
    __slots__ = ("partitions_total", "partitions_succeeded", "partitions_failed", "partitions_running", "partitions_pending", "partitions_cancelled", "chunks_by_state", "partitions_skipped", "partitions_upstream_failed")
    class ChunksByStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PARTITIONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FAILED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_PENDING_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_BY_STATE_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_UPSTREAM_FAILED_FIELD_NUMBER: _ClassVar[int]
    partitions_total: int
    partitions_succeeded: int
    partitions_failed: int
    partitions_running: int
    partitions_pending: int
    partitions_cancelled: int
    chunks_by_state: _containers.ScalarMap[str, int]
    partitions_skipped: int
    partitions_upstream_failed: int
    def __init__(self, partitions_total: _Optional[int] = ..., partitions_succeeded: _Optional[int] = ..., partitions_failed: _Optional[int] = ..., partitions_running: _Optional[int] = ..., partitions_pending: _Optional[int] = ..., partitions_cancelled: _Optional[int] = ..., chunks_by_state: _Optional[_Mapping[str, int]] = ..., partitions_skipped: _Optional[int] = ..., partitions_upstream_failed: _Optional[int] = ...) -> None: ...

class StateTransition(_message.Message):
    __slots__ = ("from_state", "to_state", "reason", "state_version", "time", "request_id")
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    from_state: Backfill.State
    to_state: Backfill.State
    reason: str
    state_version: int
    time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, from_state: _Optional[_Union[Backfill.State, str]] = ..., to_state: _Optional[_Union[Backfill.State, str]] = ..., reason: _Optional[str] = ..., state_version: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("backfill_id", "asset_key", "round", "index", "state", "partitions", "partition_count", "first_key", "last_key", "partition_keys", "attempt", "run_key", "update_time", "run_id", "worker_id", "lease_expire_time", "next_attempt_time", "failed_attempts", "failed_partition_count", "error_message", "remaining_partitions", "remaining_partition_count")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Chunk.State]
        STATE_PENDING: _ClassVar[Chunk.State]
        STATE_LEASED: _ClassVar[Chunk.State]
        STATE_SUCCEEDED: _ClassVar[Chunk.State]
        STATE_FAILED: _ClassVar[Chunk.State]
        STATE_CANCELLED: _ClassVar[Chunk.State]
        STATE_UPSTREAM_FAILED: _ClassVar[Chunk.State]
    STATE_UNSPECIFIED: Chunk.State
    STATE_PENDING: Chunk.State
    STATE_LEASED: Chunk.State
    STATE_SUCCEEDED: Chunk.State
    STATE_FAILED: Chunk.State
    STATE_CANCELLED: Chunk.State
    STATE_UPSTREAM_FAILED: Chunk.State
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    asset_key: str
    round: int
    index: int
    state: Chunk.State
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    first_key: str
    last_key: str
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    attempt: int
    run_key: str
    update_time: _timestamp_pb2.Timestamp
    run_id: str
    worker_id: str
    lease_expire_time: _timestamp_pb2.Timestamp
    next_attempt_time: _timestamp_pb2.Timestamp
    failed_attempts: int
    failed_partition_count: int
    error_message: str
    remaining_partitions: _partitions_pb2.PartitionSubset
    remaining_partition_count: int
    def __init__(self, backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., state: _Optional[_Union[Chunk.State, str]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., first_key: _Optional[str] = ..., last_key: _Optional[str] = ..., partition_keys: _Optional[_Iterable[str]] = ..., attempt: _Optional[int] = ..., run_key: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_attempts: _Optional[int] = ..., failed_partition_count: _Optional[int] = ..., error_message: _Optional[str] = ..., remaining_partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., remaining_partition_count: _Optional[int] = ...) -> None: ...
