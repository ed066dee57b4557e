import datetime

from arco_grpc._gen.arco.orchestration.v1 import backfills_pb2 as _backfills_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CatchUpPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATCH_UP_POLICY_UNSPECIFIED: _ClassVar[CatchUpPolicy]
    CATCH_UP_POLICY_LATEST_ONLY: _ClassVar[CatchUpPolicy]
    CATCH_UP_POLICY_ALL_MISSED: _ClassVar[CatchUpPolicy]

class TickSkipReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TICK_SKIP_REASON_UNSPECIFIED: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_PAUSED: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_SUPERSEDED: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_OUTSIDE_CATCH_UP_WINDOW: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_OVER_CATCH_UP_LIMIT: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_NO_PARTITION: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_ALREADY_MATERIALIZED: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_IN_FLIGHT: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_FAILED: _ClassVar[TickSkipReason]
    TICK_SKIP_REASON_MISSING_UPSTREAM: _ClassVar[TickSkipReason]
CATCH_UP_POLICY_UNSPECIFIED: CatchUpPolicy
CATCH_UP_POLICY_LATEST_ONLY: CatchUpPolicy
CATCH_UP_POLICY_ALL_MISSED: CatchUpPolicy
TICK_SKIP_REASON_UNSPECIFIED: TickSkipReason
TICK_SKIP_REASON_PAUSED: TickSkipReason
TICK_SKIP_REASON_SUPERSEDED: TickSkipReason
TICK_SKIP_REASON_OUTSIDE_CATCH_UP_WINDOW: TickSkipReason
TICK_SKIP_REASON_OVER_CATCH_UP_LIMIT: TickSkipReason
TICK_SKIP_REASON_NO_PARTITION: TickSkipReason
TICK_SKIP_REASON_ALREADY_MATERIALIZED: TickSkipReason
TICK_SKIP_REASON_IN_FLIGHT: TickSkipReason
TICK_SKIP_REASON_FAILED: TickSkipReason
TICK_SKIP_REASON_MISSING_UPSTREAM: TickSkipReason

class Schedule(_message.Message):
    __slots__ = ("name", "cron_schedule", "timezone", "asset_key", "asset_version", "catch_up_policy", "catch_up_window", "max_catch_up_runs", "tags", "reprocess_policy", "start_time", "state", "note", "state_version", "evaluated_through", "pending_ticks", "launched_tick_count", "skipped_tick_counts", "last_ticks", "create_time", "update_time", "next_tick_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Schedule.State]
        STATE_RUNNING: _ClassVar[Schedule.State]
        STATE_PAUSED: _ClassVar[Schedule.State]
    STATE_UNSPECIFIED: Schedule.State
    STATE_RUNNING: Schedule.State
    STATE_PAUSED: Schedule.State
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
    STATE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    PENDING_TICKS_FIELD_NUMBER: _ClassVar[int]
    LAUNCHED_TICK_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_TICK_COUNTS_FIELD_NUMBER: _ClassVar[int]
    LAST_TICKS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_TICK_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    cron_schedule: str
    timezone: str
    asset_key: str
    asset_version: int
    catch_up_policy: CatchUpPolicy
    catch_up_window: _duration_pb2.Duration
    max_catch_up_runs: int
    tags: _containers.ScalarMap[str, str]
    reprocess_policy: _backfills_pb2.ReprocessPolicy
    start_time: _timestamp_pb2.Timestamp
    state: Schedule.State
    note: str
    state_version: int
    evaluated_through: _timestamp_pb2.Timestamp
    pending_ticks: _containers.RepeatedCompositeFieldContainer[ScheduleTick]
    launched_tick_count: int
    skipped_tick_counts: _containers.RepeatedCompositeFieldContainer[TickSkipCount]
    last_ticks: _containers.RepeatedCompositeFieldContainer[ScheduleTick]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    next_tick_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., asset_key: _Optional[str] = ..., asset_version: _Optional[int] = ..., catch_up_policy: _Optional[_Union[CatchUpPolicy, str]] = ..., catch_up_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_catch_up_runs: _Optional[int] = ..., tags: _Optional[_Mapping[str, str]] = ..., reprocess_policy: _Optional[_Union[_backfills_pb2.ReprocessPolicy, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[Schedule.State, str]] = ..., note: _Optional[str] = ..., state_version: _Optional[int] = ..., evaluated_through: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_ticks: _Optional[_Iterable[_Union[ScheduleTick, _Mapping]]] = ..., launched_tick_count: _Optional[int] = ..., skipped_tick_counts: _Optional[_Iterable[_Union[TickSkipCount, _Mapping]]] = ..., last_ticks: _Optional[_Iterable[_Union[ScheduleTick, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_tick_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScheduleTick(_message.Message):
    __slots__ = ("scheduled_time", "partition_key", "run_key", "run_id", "skip_reason")
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    scheduled_time: _timestamp_pb2.Timestamp
    partition_key: str
    run_key: str
    run_id: str
    skip_reason: TickSkipReason
    def __init__(self, scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partition_key: _Optional[str] = ..., run_key: _Optional[str] = ..., run_id: _Optional[str] = ..., skip_reason: _Optional[_Union[TickSkipReason, str]] = ...) -> None: ...

class TickSkipCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: TickSkipReason
    count: int
    def __init__(self, reason: _Optional[_Union[TickSkipReason, str]] = ..., count: _Optional[int] = ...) -> None: ...
