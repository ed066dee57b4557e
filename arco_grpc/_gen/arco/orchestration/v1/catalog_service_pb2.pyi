import datetime

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as _assets_pb2
from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyAssetsRequest(_message.Message):
    __slots__ = ("request_id", "assets")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    assets: _containers.RepeatedCompositeFieldContainer[_assets_pb2.Asset]
    def __init__(self, request_id: _Optional[str] = ..., assets: _Optional[_Iterable[_Union[_assets_pb2.Asset, _Mapping]]] = ...) -> None: ...

class ApplyAssetsResponse(_message.Message):
    __slots__ = ("assets", "changed_keys")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_KEYS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[_assets_pb2.Asset]
    changed_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, assets: _Optional[_Iterable[_Union[_assets_pb2.Asset, _Mapping]]] = ..., changed_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAssetRequest(_message.Message):
    __slots__ = ("asset_key",)
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    def __init__(self, asset_key: _Optional[str] = ...) -> None: ...

class GetAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: _assets_pb2.Asset
    def __init__(self, asset: _Optional[_Union[_assets_pb2.Asset, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[_assets_pb2.Asset]
    next_page_token: str
    def __init__(self, assets: _Optional[_Iterable[_Union[_assets_pb2.Asset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddDynamicPartitionsRequest(_message.Message):
    __slots__ = ("request_id", "name", "keys")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class AddDynamicPartitionsResponse(_message.Message):
    __slots__ = ("added_keys", "partition_count")
    ADDED_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    added_keys: _containers.RepeatedScalarFieldContainer[str]
    partition_count: int
    def __init__(self, added_keys: _Optional[_Iterable[str]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class DeleteDynamicPartitionsRequest(_message.Message):
    __slots__ = ("request_id", "name", "keys")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDynamicPartitionsResponse(_message.Message):
    __slots__ = ("deleted_keys", "partition_count")
    DELETED_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_keys: _containers.RepeatedScalarFieldContainer[str]
    partition_count: int
    def __init__(self, deleted_keys: _Optional[_Iterable[str]] = ..., partition_count: _Optional[int] = ...) -> None: ...

class ListPartitionKeysRequest(_message.Message):
    __slots__ = ("asset_key", "selector", "as_of", "page_size", "page_token", "descending")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    as_of: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    descending: bool
    def __init__(self, asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., descending: _Optional[bool] = ...) -> None: ...

class ListPartitionKeysResponse(_message.Message):
    __slots__ = ("keys", "next_page_token", "total_count", "as_of")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    total_count: int
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, keys: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveSelectionRequest(_message.Message):
    __slots__ = ("asset_key", "selector", "as_of")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveSelectionResponse(_message.Message):
    __slots__ = ("count", "first_key", "last_key", "canonical_selector", "fingerprint", "subset", "as_of", "partitions_total")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_KEY_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SUBSET_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    count: int
    first_key: str
    last_key: str
    canonical_selector: _partitions_pb2.PartitionSelector
    fingerprint: str
    subset: _partitions_pb2.PartitionSubset
    as_of: _timestamp_pb2.Timestamp
    partitions_total: int
    def __init__(self, count: _Optional[int] = ..., first_key: _Optional[str] = ..., last_key: _Optional[str] = ..., canonical_selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., fingerprint: _Optional[str] = ..., subset: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partitions_total: _Optional[int] = ...) -> None: ...

class GetUpstreamPartitionsRequest(_message.Message):
    __slots__ = ("downstream_asset_key", "upstream_asset_key", "selector", "as_of")
    DOWNSTREAM_ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    downstream_asset_key: str
    upstream_asset_key: str
    selector: _partitions_pb2.PartitionSelector
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, downstream_asset_key: _Optional[str] = ..., upstream_asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetUpstreamPartitionsResponse(_message.Message):
    __slots__ = ("subset", "count", "first_key", "last_key", "required_but_nonexistent_keys", "required_but_nonexistent_count", "mapping", "mapping_inferred", "mapping_description", "selected_count", "as_of")
    SUBSET_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_BUT_NONEXISTENT_KEYS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_BUT_NONEXISTENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    MAPPING_INFERRED_FIELD_NUMBER: _ClassVar[int]
    MAPPING_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SELECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    subset: _partitions_pb2.PartitionSubset
    count: int
    first_key: str
    last_key: str
    required_but_nonexistent_keys: _containers.RepeatedScalarFieldContainer[str]
    required_but_nonexistent_count: int
    mapping: _assets_pb2.PartitionMapping
    mapping_inferred: bool
    mapping_description: str
    selected_count: int
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, subset: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., count: _Optional[int] = ..., first_key: _Optional[str] = ..., last_key: _Optional[str] = ..., required_but_nonexistent_keys: _Optional[_Iterable[str]] = ..., required_but_nonexistent_count: _Optional[int] = ..., mapping: _Optional[_Union[_assets_pb2.PartitionMapping, _Mapping]] = ..., mapping_inferred: _Optional[bool] = ..., mapping_description: _Optional[str] = ..., selected_count: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetDownstreamPartitionsRequest(_message.Message):
    __slots__ = ("upstream_asset_key", "downstream_asset_key", "selector", "as_of")
    UPSTREAM_ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    upstream_asset_key: str
    downstream_asset_key: str
    selector: _partitions_pb2.PartitionSelector
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, upstream_asset_key: _Optional[str] = ..., downstream_asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetDownstreamPartitionsResponse(_message.Message):
    __slots__ = ("subset", "count", "first_key", "last_key", "mapping", "mapping_inferred", "mapping_description", "selected_count", "as_of")
    SUBSET_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_KEY_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    MAPPING_INFERRED_FIELD_NUMBER: _ClassVar[int]
    MAPPING_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SELECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    subset: _partitions_pb2.PartitionSubset
    count: int
    first_key: str
    last_key: str
    mapping: _assets_pb2.PartitionMapping
    mapping_inferred: bool
    mapping_description: str
    selected_count: int
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, subset: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., count: _Optional[int] = ..., first_key: _Optional[str] = ..., last_key: _Optional[str] = ..., mapping: _Optional[_Union[_assets_pb2.PartitionMapping, _Mapping]] = ..., mapping_inferred: _Optional[bool] = ..., mapping_description: _Optional[str] = ..., selected_count: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPartitionStatusRequest(_message.Message):
    __slots__ = ("asset_key", "selector", "as_of")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    asset_key: str
    selector: _partitions_pb2.PartitionSelector
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, asset_key: _Optional[str] = ..., selector: _Optional[_Union[_partitions_pb2.PartitionSelector, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPartitionStatusResponse(_message.Message):
    __slots__ = ("materialized", "failed", "in_progress", "materialized_count", "failed_count", "in_progress_count", "missing_count", "selected_count", "as_of")
    MATERIALIZED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISSING_COUNT_FIELD_NUMBER: _ClassVar[int]
    SELECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    materialized: _partitions_pb2.PartitionSubset
    failed: _partitions_pb2.PartitionSubset
    in_progress: _partitions_pb2.PartitionSubset
    materialized_count: int
    failed_count: int
    in_progress_count: int
    missing_count: int
    selected_count: int
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, materialized: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., failed: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., in_progress: _Optional[_Union[_partitions_pb2.PartitionSubset, _Mapping]] = ..., materialized_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., in_progress_count: _Optional[int] = ..., missing_count: _Optional[int] = ..., selected_count: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
