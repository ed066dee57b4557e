import datetime

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as _assets_pb2
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2 as _run_service_pb2
from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as _schedules_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetsApplied(_message.Message):
    __slots__ = ("assets",)
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[_assets_pb2.Asset]
    def __init__(self, assets: _Optional[_Iterable[_Union[_assets_pb2.Asset, _Mapping]]] = ...) -> None: ...

class DynamicPartitionsAdded(_message.Message):
    __slots__ = ("name", "keys")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    name: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DynamicPartitionsDeleted(_message.Message):
    __slots__ = ("name", "keys")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    name: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class BackfillCreated(_message.Message):
    __slots__ = ("backfill_id", "targets", "max_concurrency", "order", "tags", "title", "description", "creator", "as_of", "fingerprint", "retry_policy", "reprocess_policy", "submitted_run")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_RUN_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    targets: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.BackfillTarget]
    max_concurrency: int
    order: _backfills_pb2.Backfill.Order
    tags: _containers.ScalarMap[str, str]
    title: str
    description: str
    creator: str
    as_of: _timestamp_pb2.Timestamp
    fingerprint: str
    retry_policy: _backfills_pb2.RetryPolicy
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    submitted_run: SubmittedRun
    def __init__(self, backfill_id: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[_backfills_pb2.BackfillTarget, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., order: _Optional[_Union[_backfills_pb2.Backfill.Order, str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., creator: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fingerprint: _Optional[str] = ..., retry_policy: _Optional[_Union[_backfills_pb2.RetryPolicy, _Mapping]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ..., submitted_run: _Optional[_Union[SubmittedRun, _Mapping]] = ...) -> None: ...

class SubmittedRun(_message.Message):
    __slots__ = ("origin", "origin_name", "scheduled_time", "origin_run_key", "request_id", "parent_run_id", "parent_run_key", "reexecution_mode", "root_run_id")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    REEXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    ROOT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    origin: _run_service_pb2.RunOrigin
    origin_name: str
    scheduled_time: _timestamp_pb2.Timestamp
    origin_run_key: str
    request_id: str
    parent_run_id: str
    parent_run_key: str
    reexecution_mode: _run_service_pb2.ReexecuteRunRequest.Mode
    root_run_id: str
    def __init__(self, origin: _Optional[_Union[_run_service_pb2.RunOrigin, str]] = ..., origin_name: _Optional[str] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin_run_key: _Optional[str] = ..., request_id: _Optional[str] = ..., parent_run_id: _Optional[str] = ..., parent_run_key: _Optional[str] = ..., reexecution_mode: _Optional[_Union[_run_service_pb2.ReexecuteRunRequest.Mode, str]] = ..., root_run_id: _Optional[str] = ...) -> None: ...

class BackfillStarted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BackfillPaused(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class BackfillResumed(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class BackfillCancelRequested(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class BackfillCancelled(_message.Message):
    __slots__ = ("partitions_cancelled",)
    PARTITIONS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    partitions_cancelled: int
    def __init__(self, partitions_cancelled: _Optional[int] = ...) -> None: ...

class BackfillCompleted(_message.Message):
    __slots__ = ("partitions_succeeded", "partitions_failed", "partitions_upstream_failed")
    PARTITIONS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FAILED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_UPSTREAM_FAILED_FIELD_NUMBER: _ClassVar[int]
    partitions_succeeded: int
    partitions_failed: int
    partitions_upstream_failed: int
    def __init__(self, partitions_succeeded: _Optional[int] = ..., partitions_failed: _Optional[int] = ..., partitions_upstream_failed: _Optional[int] = ...) -> None: ...

class BackfillConcurrencyChanged(_message.Message):
    __slots__ = ("max_concurrency", "previous_max_concurrency", "reason")
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    max_concurrency: int
    previous_max_concurrency: int
    reason: str
    def __init__(self, max_concurrency: _Optional[int] = ..., previous_max_concurrency: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ChunkLeased(_message.Message):
    __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "run_key", "worker_id", "lease_expire_time", "lease_ttl", "partitions", "partition_count", "chunk_partition_count", "waited_for_run_ids")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    WAITED_FOR_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    run_key: str
    worker_id: str
    lease_expire_time: _timestamp_pb2.Timestamp
    lease_ttl: _duration_pb2.Duration
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    chunk_partition_count: int
    waited_for_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., run_key: _Optional[str] = ..., worker_id: _Optional[str] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lease_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., chunk_partition_count: _Optional[int] = ..., waited_for_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ChunkSucceeded(_message.Message):
    __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "partition_count", "metadata", "partitions")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partition_count: int
    metadata: _containers.ScalarMap[str, str]
    partitions: _partitions_pb2.PartitionSubset
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., partition_count: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ...) -> None: ...

class ChunkFailed(_message.Message):
    __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "failed_partitions", "failed_partition_count", "error_message", "will_retry", "next_attempt_time", "metadata", "partitions", "partition_count")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    FAILED_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    WILL_RETRY_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    failed_partitions: _partitions_pb2.PartitionSubset
    failed_partition_count: int
    error_message: str
    will_retry: bool
    next_attempt_time: _timestamp_pb2.Timestamp
    metadata: _containers.ScalarMap[str, str]
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., failed_partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., failed_partition_count: _Optional[int] = ..., error_message: _Optional[str] = ..., will_retry: _Optional[bool] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class ChunksLeased(_message.Message):
    __slots__ = ("worker_id", "lease_expire_time", "lease_ttl", "leases")
    class Lease(_message.Message):
        __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "run_key", "partitions", "partition_count", "chunk_partition_count", "waited_for_run_ids")
        ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
        ROUND_FIELD_NUMBER: _ClassVar[int]
        INDEX_FIELD_NUMBER: _ClassVar[int]
        ATTEMPT_FIELD_NUMBER: _ClassVar[int]
        RUN_ID_FIELD_NUMBER: _ClassVar[int]
        RUN_KEY_FIELD_NUMBER: _ClassVar[int]
        PARTITIONS_FIELD_NUMBER: _ClassVar[int]
        PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
        CHUNK_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
        WAITED_FOR_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
        asset_key: str
        round: int
        index: int
        attempt: int
        run_id: str
        run_key: str
        partitions: _partitions_pb2.PartitionSubset
        partition_count: int
        chunk_partition_count: int
        waited_for_run_ids: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., run_key: _Optional[str] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., chunk_partition_count: _Optional[int] = ..., waited_for_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    lease_expire_time: _timestamp_pb2.Timestamp
    lease_ttl: _duration_pb2.Duration
    leases: _containers.RepeatedCompositeFieldContainer[ChunksLeased.Lease]
    def __init__(self, worker_id: _Optional[str] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lease_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., leases: _Optional[_Iterable[_Union[ChunksLeased.Lease, _Mapping]]] = ...) -> None: ...

class ChunksCompleted(_message.Message):
    __slots__ = ("outcomes",)
    class Outcome(_message.Message):
        __slots__ = ("succeeded", "failed")
        SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
        FAILED_FIELD_NUMBER: _ClassVar[int]
        succeeded: ChunkSucceeded
        failed: ChunkFailed
        def __init__(self, succeeded: _Optional[_Union[ChunkSucceeded, _Mapping]] = ..., failed: _Optional[_Union[ChunkFailed, _Mapping]] = ...) -> None: ...
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ChunksCompleted.Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ChunksCompleted.Outcome, _Mapping]]] = ...) -> None: ...

class ChunkLeaseExpired(_message.Message):
    __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "will_retry", "attempts_exhausted", "partitions", "partition_count")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WILL_RETRY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    will_retry: bool
    attempts_exhausted: bool
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., will_retry: _Optional[bool] = ..., attempts_exhausted: _Optional[bool] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class ChunkReleased(_message.Message):
    __slots__ = ("asset_key", "round", "index", "attempt", "run_id", "partitions", "partition_count")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[str] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class ChunkCancelled(_message.Message):
    __slots__ = ("asset_key", "round", "index", "partitions_cancelled", "partitions")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    round: int
    index: int
    partitions_cancelled: int
    partitions: _partitions_pb2.PartitionSubset
    def __init__(self, asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., partitions_cancelled: _Optional[int] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ...) -> None: ...

class RetryRoundOpened(_message.Message):
    __slots__ = ("round", "targets", "include_unattempted", "reason")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UNATTEMPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    round: int
    targets: _containers.RepeatedCompositeFieldContainer[RetriedTarget]
    include_unattempted: bool
    reason: str
    def __init__(self, round: _Optional[int] = ..., targets: _Optional[_Iterable[_Union[RetriedTarget, _Mapping]]] = ..., include_unattempted: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class PartitionsUpstreamFailed(_message.Message):
    __slots__ = ("targets",)
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[UpstreamFailedTarget]
    def __init__(self, targets: _Optional[_Iterable[_Union[UpstreamFailedTarget, _Mapping]]] = ...) -> None: ...

class UpstreamFailedTarget(_message.Message):
    __slots__ = ("asset_key", "partitions", "partition_count", "chunk_count")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    chunk_count: int
    def __init__(self, asset_key: _Optional[str] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., chunk_count: _Optional[int] = ...) -> None: ...

class RetriedTarget(_message.Message):
    __slots__ = ("asset_key", "partitions", "partition_count", "chunk_count", "failed_count")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    partitions: _partitions_pb2.PartitionSubset
    partition_count: int
    chunk_count: int
    failed_count: int
    def __init__(self, asset_key: _Optional[str] = ..., partitions: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., partition_count: _Optional[int] = ..., chunk_count: _Optional[int] = ..., failed_count: _Optional[int] = ...) -> None: ...

class ScheduleCreated(_message.Message):
    __slots__ = ("name", "cron_schedule", "timezone", "asset_key", "asset_version", "catch_up_policy", "catch_up_window", "max_catch_up_runs", "tags", "reprocess_policy", "start_time")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSET_VERSION_FIELD_NUMBER: _ClassVar[int]
    CATCH_UP_POLICY_FIELD_NUMBER: _ClassVar[int]
    CATCH_UP_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_CATCH_UP_RUNS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    cron_schedule: str
    timezone: str
    asset_key: str
    asset_version: int
    catch_up_policy: _schedules_pb2.CatchUpPolicy
    catch_up_window: _duration_pb2.Duration
    max_catch_up_runs: int
    tags: _containers.ScalarMap[str, str]
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., asset_key: _Optional[str] = ..., asset_version: _Optional[int] = ..., catch_up_policy: _Optional[_Union[_schedules_pb2.CatchUpPolicy, str]] = ..., catch_up_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_catch_up_runs: _Optional[int] = ..., tags: _Optional[_Mapping[str, str]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SchedulePaused(_message.Message):
    __slots__ = ("note",)
    NOTE_FIELD_NUMBER: _ClassVar[int]
    note: str
    def __init__(self, note: _Optional[str] = ...) -> None: ...

class ScheduleResumed(_message.Message):
    __slots__ = ("note",)
    NOTE_FIELD_NUMBER: _ClassVar[int]
    note: str
    def __init__(self, note: _Optional[str] = ...) -> None: ...

class TicksDecided(_message.Message):
    __slots__ = ("evaluated_after", "evaluated_through", "launches", "skipped")
    EVALUATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    LAUNCHES_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    evaluated_after: _timestamp_pb2.Timestamp
    evaluated_through: _timestamp_pb2.Timestamp
    launches: _containers.RepeatedCompositeFieldContainer[_schedules_pb2.ScheduleTick]
    skipped: _containers.RepeatedCompositeFieldContainer[_schedules_pb2.TickSkipCount]
    def __init__(self, evaluated_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluated_through: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., launches: _Optional[_Iterable[_Union[_schedules_pb2.ScheduleTick, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[_schedules_pb2.TickSkipCount, _Mapping]]] = ...) -> None: ...

class TickLaunched(_message.Message):
    __slots__ = ("tick",)
    TICK_FIELD_NUMBER: _ClassVar[int]
    tick: _schedules_pb2.ScheduleTick
    def __init__(self, tick: _Optional[_Union[_schedules_pb2.ScheduleTick, _Mapping]] = ...) -> None: ...

class TickSkipped(_message.Message):
    __slots__ = ("tick",)
    TICK_FIELD_NUMBER: _ClassVar[int]
    tick: _schedules_pb2.ScheduleTick
    def __init__(self, tick: _Optional[_Union[_schedules_pb2.ScheduleTick, _Mapping]] = ...) -> None: ...

class StoredPartitionStatus(_message.Message):
    __slots__ = ("materialized", "failed", "in_progress")
    MATERIALIZED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    materialized: StoredSubset
    failed: StoredSubset
    in_progress: _containers.RepeatedCompositeFieldContainer[StoredSubset]
    def __init__(self, materialized: _Optional[_Union[StoredSubset, _Mapping]] = ..., failed: _Optional[_Union[StoredSubset, _Mapping]] = ..., in_progress: _Optional[_Iterable[_Union[StoredSubset, _Mapping]]] = ...) -> None: ...

class StoredSubset(_message.Message):
    __slots__ = ("bounds", "bands")
    BOUNDS_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    bounds: _containers.RepeatedScalarFieldContainer[int]
    bands: _containers.RepeatedCompositeFieldContainer[StoredBand]
    def __init__(self, bounds: _Optional[_Iterable[int]] = ..., bands: _Optional[_Iterable[_Union[StoredBand, _Mapping]]] = ...) -> None: ...

class StoredBand(_message.Message):
    __slots__ = ("first_start", "first_end", "second_bounds")
    FIRST_START_FIELD_NUMBER: _ClassVar[int]
    FIRST_END_FIELD_NUMBER: _ClassVar[int]
    SECOND_BOUNDS_FIELD_NUMBER: _ClassVar[int]
    first_start: int
    first_end: int
    second_bounds: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, first_start: _Optional[int] = ..., first_end: _Optional[int] = ..., second_bounds: _Optional[_Iterable[int]] = ...) -> None: ...
