import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartitionsDefinition(_message.Message):
    __slots__ = ("static", "time_window", "dynamic", "multi")
    STATIC_FIELD_NUMBER: _ClassVar[int]
    TIME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_FIELD_NUMBER: _ClassVar[int]
    MULTI_FIELD_NUMBER: _ClassVar[int]
    static: StaticPartitions
    time_window: TimeWindowPartitions
    dynamic: DynamicPartitions
    multi: MultiPartitions
    def __init__(self, static: _Optional[_Union[StaticPartitions, _Mapping]] = ..., time_window: _Optional[_Union[TimeWindowPartitions, _Mapping]] = ..., dynamic: _Optional[_Union[DynamicPartitions, _Mapping]] = ..., multi: _Optional[_Union[MultiPartitions, _Mapping]] = ...) -> None: ...

class StaticPartitions(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class TimeWindowPartitions(_message.Message):
    __slots__ = ("cron_schedule", "cadence", "start", "end", "timezone", "fmt", "end_offset")
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    CADENCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    FMT_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    cron_schedule: str
    cadence: Cadence
    start: str
    end: str
    timezone: str
    fmt: str
    end_offset: int
    def __init__(self, cron_schedule: _Optional[str] = ..., cadence: _Optional[_Union[Cadence, _Mapping]] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., timezone: _Optional[str] = ..., fmt: _Optional[str] = ..., end_offset: _Optional[int] = ...) -> None: ...

class Cadence(_message.Message):
    __slots__ = ("kind", "minute_offset", "hour_offset", "day_offset")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Cadence.Kind]
        KIND_HOURLY: _ClassVar[Cadence.Kind]
        KIND_DAILY: _ClassVar[Cadence.Kind]
        KIND_WEEKLY: _ClassVar[Cadence.Kind]
        KIND_MONTHLY: _ClassVar[Cadence.Kind]
    KIND_UNSPECIFIED: Cadence.Kind
    KIND_HOURLY: Cadence.Kind
    KIND_DAILY: Cadence.Kind
    KIND_WEEKLY: Cadence.Kind
    KIND_MONTHLY: Cadence.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    MINUTE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    HOUR_OFFSET_FIELD_NUMBER: _ClassVar[int]
    DAY_OFFSET_FIELD_NUMBER: _ClassVar[int]
    kind: Cadence.Kind
    minute_offset: int
    hour_offset: int
    day_offset: int
    def __init__(self, kind: _Optional[_Union[Cadence.Kind, str]] = ..., minute_offset: _Optional[int] = ..., hour_offset: _Optional[int] = ..., day_offset: _Optional[int] = ...) -> None: ...

class DynamicPartitions(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class MultiPartitions(_message.Message):
    __slots__ = ("dimensions",)
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    dimensions: _containers.RepeatedCompositeFieldContainer[PartitionDimension]
    def __init__(self, dimensions: _Optional[_Iterable[_Union[PartitionDimension, _Mapping]]] = ...) -> None: ...

class PartitionDimension(_message.Message):
    __slots__ = ("name", "definition")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: PartitionsDefinition
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[_Union[PartitionsDefinition, _Mapping]] = ...) -> None: ...

class PartitionSelector(_message.Message):
    __slots__ = ("all", "key_range", "time_range", "keys", "multi")
    ALL_FIELD_NUMBER: _ClassVar[int]
    KEY_RANGE_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    MULTI_FIELD_NUMBER: _ClassVar[int]
    all: AllPartitions
    key_range: PartitionKeyRange
    time_range: PartitionTimeRange
    keys: PartitionKeyList
    multi: MultiPartitionSelector
    def __init__(self, all: _Optional[_Union[AllPartitions, _Mapping]] = ..., key_range: _Optional[_Union[PartitionKeyRange, _Mapping]] = ..., time_range: _Optional[_Union[PartitionTimeRange, _Mapping]] = ..., keys: _Optional[_Union[PartitionKeyList, _Mapping]] = ..., multi: _Optional[_Union[MultiPartitionSelector, _Mapping]] = ...) -> None: ...

class AllPartitions(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PartitionKeyRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class PartitionTimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PartitionKeyList(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class MultiPartitionSelector(_message.Message):
    __slots__ = ("dimensions",)
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    dimensions: _containers.RepeatedCompositeFieldContainer[DimensionSelector]
    def __init__(self, dimensions: _Optional[_Iterable[_Union[DimensionSelector, _Mapping]]] = ...) -> None: ...

class DimensionSelector(_message.Message):
    __slots__ = ("dimension", "selector")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    dimension: str
    selector: PartitionSelector
    def __init__(self, dimension: _Optional[str] = ..., selector: _Optional[_Union[PartitionSelector, _Mapping]] = ...) -> None: ...

class PartitionSubset(_message.Message):
    __slots__ = ("ranges", "bands")
    RANGES_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    ranges: _containers.RepeatedCompositeFieldContainer[IndexRange]
    bands: _containers.RepeatedCompositeFieldContainer[MultiSubsetBand]
    def __init__(self, ranges: _Optional[_Iterable[_Union[IndexRange, _Mapping]]] = ..., bands: _Optional[_Iterable[_Union[MultiSubsetBand, _Mapping]]] = ...) -> None: ...

class IndexRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class MultiSubsetBand(_message.Message):
    __slots__ = ("first", "second")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    first: IndexRange
    second: _containers.RepeatedCompositeFieldContainer[IndexRange]
    def __init__(self, first: _Optional[_Union[IndexRange, _Mapping]] = ..., second: _Optional[_Iterable[_Union[IndexRange, _Mapping]]] = ...) -> None: ...
