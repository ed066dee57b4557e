import datetime

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as _assets_pb2
from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
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
    __slots__ = ("backfill_id", "targets", "max_concurrency", "order", "tags", "title", "description", "creator", "as_of", "fingerprint")
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
    def __init__(self, backfill_id: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[_backfills_pb2.BackfillTarget, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., order: _Optional[_Union[_backfills_pb2.Backfill.Order, str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., creator: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fingerprint: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("partitions_succeeded", "partitions_failed")
    PARTITIONS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FAILED_FIELD_NUMBER: _ClassVar[int]
    partitions_succeeded: int
    partitions_failed: int
    def __init__(self, partitions_succeeded: _Optional[int] = ..., partitions_failed: _Optional[int] = ...) -> None: ...

class BackfillConcurrencyChanged(_message.Message):
    __slots__ = ("max_concurrency", "previous_max_concurrency", "reason")
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    max_concurrency: int
    previous_max_concurrency: int
    reason: str
    def __init__(self, max_concurrency: _Optional[int] = ..., previous_max_concurrency: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...
