import datetime

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
from arco_grpc._gen.arco.orchestration.v1 import events_pb2 as _events_pb2
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BackfillTargetSpec(_message.Message):
    __slots__ = ("asset_key", "selector")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    def __init__(self, asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ...) -> None: ...

class CreateBackfillRequest(_message.Message):
    __slots__ = ("request_id", "targets", "chunk_size", "max_concurrency", "order", "tags", "title", "description", "as_of", "validate_only", "creator", "retry_policy", "reprocess_policy", "root_selector")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    ROOT_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    targets: _containers.RepeatedCompositeFieldContainer[BackfillTargetSpec]
    chunk_size: int
    max_concurrency: int
    order: _backfills_pb2.Backfill.Order
    tags: _containers.ScalarMap[str, str]
    title: str
    description: str
    as_of: _timestamp_pb2.Timestamp
    validate_only: bool
    creator: str
    retry_policy: _backfills_pb2.RetryPolicy
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    root_selector: _partitions_pb2.PartitionSelector
    def __init__(self, request_id: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[BackfillTargetSpec, _Mapping]]] = ..., chunk_size: _Optional[int] = ..., max_concurrency: _Optional[int] = ..., order: _Optional[_Union[_backfills_pb2.Backfill.Order, str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., validate_only: _Optional[bool] = ..., creator: _Optional[str] = ..., retry_policy: _Optional[_Union[_backfills_pb2.RetryPolicy, _Mapping]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ..., root_selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ...) -> None: ...

class CreateBackfillResponse(_message.Message):
    __slots__ = ("backfill", "plan")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    plan: BackfillPlan
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ..., plan: _Optional[_Union[BackfillPlan, _Mapping]] = ...) -> None: ...

class BackfillPlan(_message.Message):
    __slots__ = ("targets", "partition_count", "chunk_count", "first_chunks", "last_chunks", "fingerprint", "backfill_id", "as_of", "skipped_partition_count", "skipped_by_reason", "reprocess_policy")
    class SkippedByReasonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    LAST_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.BackfillTarget]
    partition_count: int
    chunk_count: int
    first_chunks: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.Chunk]
    last_chunks: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.Chunk]
    fingerprint: str
    backfill_id: str
    as_of: _timestamp_pb2.Timestamp
    skipped_partition_count: int
    skipped_by_reason: _containers.ScalarMap[str, int]
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    def __init__(self, targets: _Optional[_Iterable[_Union[_backfills_pb2.BackfillTarget, _Mapping]]] = ..., partition_count: _Optional[int] = ..., chunk_count: _Optional[int] = ..., first_chunks: _Optional[_Iterable[_Union[_backfills_pb2.Chunk, _Mapping]]] = ..., last_chunks: _Optional[_Iterable[_Union[_backfills_pb2.Chunk, _Mapping]]] = ..., fingerprint: _Optional[str] = ..., backfill_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., skipped_partition_count: _Optional[int] = ..., skipped_by_reason: _Optional[_Mapping[str, int]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ...) -> None: ...

class GetBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    def __init__(self, backfill_id: _Optional[str] = ...) -> None: ...

class GetBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ...) -> None: ...

class ListBackfillsRequest(_message.Message):
    __slots__ = ("states", "asset_key", "tags", "page_size", "page_token")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATES_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[_backfills_pb2.Backfill.State]
    asset_key: str
    tags: _containers.ScalarMap[str, str]
    page_size: int
    page_token: str
    def __init__(self, states: _Optional[_Iterable[_Union[_backfills_pb2.Backfill.State, str]]] = ..., asset_key: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBackfillsResponse(_message.Message):
    __slots__ = ("backfills", "next_page_token")
    BACKFILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backfills: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.Backfill]
    next_page_token: str
    def __init__(self, backfills: _Optional[_Iterable[_Union[_backfills_pb2.Backfill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PauseBackfillRequest(_message.Message):
    __slots__ = ("request_id", "backfill_id", "expected_state_version", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    backfill_id: str
    expected_state_version: int
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., backfill_id: _Optional[str] = ..., expected_state_version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class PauseBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ...) -> None: ...

class ResumeBackfillRequest(_message.Message):
    __slots__ = ("request_id", "backfill_id", "expected_state_version", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    backfill_id: str
    expected_state_version: int
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., backfill_id: _Optional[str] = ..., expected_state_version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ResumeBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ...) -> None: ...

class CancelBackfillRequest(_message.Message):
    __slots__ = ("request_id", "backfill_id", "expected_state_version", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    backfill_id: str
    expected_state_version: int
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., backfill_id: _Optional[str] = ..., expected_state_version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ...) -> None: ...

class UpdateBackfillRequest(_message.Message):
    __slots__ = ("request_id", "backfill_id", "expected_state_version", "reason", "max_concurrency")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    backfill_id: str
    expected_state_version: int
    reason: str
    max_concurrency: int
    def __init__(self, request_id: _Optional[str] = ..., backfill_id: _Optional[str] = ..., expected_state_version: _Optional[int] = ..., reason: _Optional[str] = ..., max_concurrency: _Optional[int] = ...) -> None: ...

class UpdateBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ...) -> None: ...

class ListChunksRequest(_message.Message):
    __slots__ = ("backfill_id", "states", "round", "asset_key", "page_size", "page_token", "start_index")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    states: _containers.RepeatedScalarFieldContainer[_backfills_pb2.Chunk.State]
    round: int
    asset_key: str
    page_size: int
    page_token: str
    start_index: int
    def __init__(self, backfill_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_backfills_pb2.Chunk.State, str]]] = ..., round: _Optional[int] = ..., asset_key: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., start_index: _Optional[int] = ...) -> None: ...

class ListChunksResponse(_message.Message):
    __slots__ = ("chunks", "next_page_token")
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[_backfills_pb2.Chunk]
    next_page_token: str
    def __init__(self, chunks: _Optional[_Iterable[_Union[_backfills_pb2.Chunk, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetChunkRequest(_message.Message):
    __slots__ = ("backfill_id", "asset_key", "round", "index")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    asset_key: str
    round: int
    index: int
    def __init__(self, backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ...) -> None: ...

class GetChunkResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _backfills_pb2.Chunk
    def __init__(self, chunk: _Optional[_Union[_backfills_pb2.Chunk, _Mapping]] = ...) -> None: ...

class ListBackfillEventsRequest(_message.Message):
    __slots__ = ("backfill_id", "page_size", "page_token")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    page_size: int
    page_token: str
    def __init__(self, backfill_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBackfillEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[BackfillEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[BackfillEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BackfillEvent(_message.Message):
    __slots__ = ("sequence", "backfill_id", "state_version", "type", "time", "request_id", "payload")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    backfill_id: str
    state_version: int
    type: str
    time: _timestamp_pb2.Timestamp
    request_id: str
    payload: BackfillEventPayload
    def __init__(self, sequence: _Optional[int] = ..., backfill_id: _Optional[str] = ..., state_version: _Optional[int] = ..., type: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., payload: _Optional[_Union[BackfillEventPayload, _Mapping]] = ...) -> None: ...

class BackfillEventPayload(_message.Message):
    __slots__ = ("created", "started", "paused", "resumed", "cancel_requested", "cancelled", "completed", "concurrency_changed", "chunk_leased", "chunk_succeeded", "chunk_failed", "chunk_lease_expired", "chunk_released", "chunk_cancelled", "retry_round_opened", "chunks_leased", "chunks_completed", "partitions_upstream_failed")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_LEASED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FAILED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_LEASE_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_RELEASED_FIELD_NUMBER: _ClassVar[int]
    CHUNK_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    RETRY_ROUND_OPENED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_LEASED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_UPSTREAM_FAILED_FIELD_NUMBER: _ClassVar[int]
    created: _events_pb2.BackfillCreated
    started: _events_pb2.BackfillStarted
    paused: _events_pb2.BackfillPaused
    resumed: _events_pb2.BackfillResumed
    cancel_requested: _events_pb2.BackfillCancelRequested
    cancelled: _events_pb2.BackfillCancelled
    completed: _events_pb2.BackfillCompleted
    concurrency_changed: _events_pb2.BackfillConcurrencyChanged
    chunk_leased: _events_pb2.ChunkLeased
    chunk_succeeded: _events_pb2.ChunkSucceeded
    chunk_failed: _events_pb2.ChunkFailed
    chunk_lease_expired: _events_pb2.ChunkLeaseExpired
    chunk_released: _events_pb2.ChunkReleased
    chunk_cancelled: _events_pb2.ChunkCancelled
    retry_round_opened: _events_pb2.RetryRoundOpened
    chunks_leased: _events_pb2.ChunksLeased
    chunks_completed: _events_pb2.ChunksCompleted
    partitions_upstream_failed: _events_pb2.PartitionsUpstreamFailed
    def __init__(self, created: _Optional[_Union[_events_pb2.BackfillCreated, _Mapping]] = ..., started: _Optional[_Union[_events_pb2.BackfillStarted, _Mapping]] = ..., paused: _Optional[_Union[_events_pb2.BackfillPaused, _Mapping]] = ..., resumed: _Optional[_Union[_events_pb2.BackfillResumed, _Mapping]] = ..., cancel_requested: _Optional[_Union[_events_pb2.BackfillCancelRequested, _Mapping]] = ..., cancelled: _Optional[_Union[_events_pb2.BackfillCancelled, _Mapping]] = ..., completed: _Optional[_Union[_events_pb2.BackfillCompleted, _Mapping]] = ..., concurrency_changed: _Optional[_Union[_events_pb2.BackfillConcurrencyChanged, _Mapping]] = ..., chunk_leased: _Optional[_Union[_events_pb2.ChunkLeased, _Mapping]] = ..., chunk_succeeded: _Optional[_Union[_events_pb2.ChunkSucceeded, _Mapping]] = ..., chunk_failed: _Optional[_Union[_events_pb2.ChunkFailed, _Mapping]] = ..., chunk_lease_expired: _Optional[_Union[_events_pb2.ChunkLeaseExpired, _Mapping]] = ..., chunk_released: _Optional[_Union[_events_pb2.ChunkReleased, _Mapping]] = ..., chunk_cancelled: _Optional[_Union[_events_pb2.ChunkCancelled, _Mapping]] = ..., retry_round_opened: _Optional[_Union[_events_pb2.RetryRoundOpened, _Mapping]] = ..., chunks_leased: _Optional[_Union[_events_pb2.ChunksLeased, _Mapping]] = ..., chunks_completed: _Optional[_Union[_events_pb2.ChunksCompleted, _Mapping]] = ..., partitions_upstream_failed: _Optional[_Union[_events_pb2.PartitionsUpstreamFailed, _Mapping]] = ...) -> None: ...

class RetryFailedPartitionsRequest(_message.Message):
    __slots__ = ("request_id", "backfill_id", "expected_state_version", "reason", "include_unattempted")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UNATTEMPTED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    backfill_id: str
    expected_state_version: int
    reason: str
    include_unattempted: bool
    def __init__(self, request_id: _Optional[str] = ..., backfill_id: _Optional[str] = ..., expected_state_version: _Optional[int] = ..., reason: _Optional[str] = ..., include_unattempted: _Optional[bool] = ...) -> None: ...

class RetryFailedPartitionsResponse(_message.Message):
    __slots__ = ("backfill", "round", "retried")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    round: int
    retried: _containers.RepeatedCompositeFieldContainer[RetriedPartitions]
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ..., round: _Optional[int] = ..., retried: _Optional[_Iterable[_Union[RetriedPartitions, _Mapping]]] = ...) -> None: ...

class RetriedPartitions(_message.Message):
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

class WatchBackfillRequest(_message.Message):
    __slots__ = ("backfill_id", "after_sequence", "include_snapshot", "follow")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    after_sequence: int
    include_snapshot: bool
    follow: bool
    def __init__(self, backfill_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., include_snapshot: _Optional[bool] = ..., follow: _Optional[bool] = ...) -> None: ...

class WatchBackfillResponse(_message.Message):
    __slots__ = ("snapshot", "event", "progress", "heartbeat")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    snapshot: BackfillSnapshot
    event: BackfillEvent
    progress: ChunkProgressUpdate
    heartbeat: WatchHeartbeat
    def __init__(self, snapshot: _Optional[_Union[BackfillSnapshot, _Mapping]] = ..., event: _Optional[_Union[BackfillEvent, _Mapping]] = ..., progress: _Optional[_Union[ChunkProgressUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[WatchHeartbeat, _Mapping]] = ...) -> None: ...

class WatchBackfillsRequest(_message.Message):
    __slots__ = ("states", "asset_key", "tags", "after_sequence", "include_snapshot")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATES_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[_backfills_pb2.Backfill.State]
    asset_key: str
    tags: _containers.ScalarMap[str, str]
    after_sequence: int
    include_snapshot: bool
    def __init__(self, states: _Optional[_Iterable[_Union[_backfills_pb2.Backfill.State, str]]] = ..., asset_key: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., after_sequence: _Optional[int] = ..., include_snapshot: _Optional[bool] = ...) -> None: ...

class WatchBackfillsResponse(_message.Message):
    __slots__ = ("snapshot", "event", "progress", "heartbeat")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    snapshot: BackfillSnapshot
    event: BackfillEvent
    progress: ChunkProgressUpdate
    heartbeat: WatchHeartbeat
    def __init__(self, snapshot: _Optional[_Union[BackfillSnapshot, _Mapping]] = ..., event: _Optional[_Union[BackfillEvent, _Mapping]] = ..., progress: _Optional[_Union[ChunkProgressUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[WatchHeartbeat, _Mapping]] = ...) -> None: ...

class BackfillSnapshot(_message.Message):
    __slots__ = ("backfill", "sequence")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    backfill: _backfills_pb2.Backfill
    sequence: int
    def __init__(self, backfill: _Optional[_Union[_backfills_pb2.Backfill, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class ChunkProgressUpdate(_message.Message):
    __slots__ = ("backfill_id", "asset_key", "round", "index", "run_id", "fraction", "message", "time")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    asset_key: str
    round: int
    index: int
    run_id: str
    fraction: float
    message: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, backfill_id: _Optional[str] = ..., asset_key: _Optional[str] = ..., round: _Optional[int] = ..., index: _Optional[int] = ..., run_id: _Optional[str] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchHeartbeat(_message.Message):
    __slots__ = ("time", "sequence")
    TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...
