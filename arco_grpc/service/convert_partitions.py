"""Protobuf <-> pure values for partitions: definitions, selectors, subsets, instants.

``*_from_proto`` functions validate and raise InvalidArgument with field
paths relative to the message they convert; callers place them under the
enclosing field with :meth:`InvalidArgument.under`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from google.protobuf import timestamp_pb2

from arco_grpc._gen.arco.orchestration.v1 import partitions_pb2 as pb
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicPartitionsDefinition
from arco_grpc.partitions.evaluate import PartitionsDefinition
from arco_grpc.partitions.multi import MultiPartitionsDefinition, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import AnySubset
from arco_grpc.partitions.selector import AllPartitions, KeyList, KeyRange, MultiSelector, Selector, TimeRange
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition

# Timestamps a datetime can hold: years 1 to 9999.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799


def datetime_from_proto(timestamp: timestamp_pb2.Timestamp, field: str) -> datetime:
    """An aware UTC datetime (microsecond precision).

    Raises:
        InvalidArgument: the timestamp is outside years 1-9999 or its nanos are out of range.
    """
    if not _MIN_SECONDS <= timestamp.seconds <= _MAX_SECONDS or not 0 <= timestamp.nanos < 1_000_000_000:
        raise InvalidArgument(
            "the timestamp is out of range; seconds must fall in years 0001-9999 and nanos in [0, 999999999]",
            field=field,
        )
    return timestamp.ToDatetime(tzinfo=timezone.utc)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def datetime_to_proto(moment: datetime) -> timestamp_pb2.Timestamp:
    """The Timestamp of an aware datetime (exact to the microsecond)."""
    micros = (moment - _EPOCH) // _MICROSECOND
    seconds, rest = divmod(micros, 1_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=rest * 1000)


# -- definitions ------------------------------------------------------------


def definition_from_proto(message: pb.PartitionsDefinition) -> PartitionsDefinition:
    """The pure definition of a PartitionsDefinition message.

    Raises:
        InvalidArgument: no kind is set, or the definition is invalid (paths
            relative to PartitionsDefinition, e.g. "time_window.cron_schedule").
    """
    kind = message.WhichOneof("kind")
    try:
        if kind == "static":
            return StaticPartitionsDefinition(tuple(message.static.keys))
        if kind == "time_window":
            return _time_window_from_proto(message.time_window)
        if kind == "dynamic":
            return DynamicPartitionsDefinition(message.dynamic.name)
        if kind == "multi":
            return _multi_from_proto(message.multi)
    except InvalidArgument as error:
        raise error.under(kind) from None
    # field "" is the message itself; callers place it under the field that holds it.
    raise InvalidArgument(
        "set exactly one kind of partitions definition: static, time_window, dynamic or multi", field=""
    )


_CADENCE_KINDS = {
    pb.Cadence.KIND_HOURLY: "hourly",
    pb.Cadence.KIND_DAILY: "daily",
    pb.Cadence.KIND_WEEKLY: "weekly",
    pb.Cadence.KIND_MONTHLY: "monthly",
}


def _time_window_from_proto(message: pb.TimeWindowPartitions) -> TimeWindowPartitionsDefinition:
    cadence = None
    if message.HasField("cadence"):
        kind = _CADENCE_KINDS.get(message.cadence.kind)
        if kind is None:
            raise InvalidArgument(
                "a cadence needs its kind: KIND_HOURLY, KIND_DAILY, KIND_WEEKLY or KIND_MONTHLY", field="cadence.kind"
            )
        cadence = Cadence(
            kind=kind,
            minute_offset=message.cadence.minute_offset,
            hour_offset=message.cadence.hour_offset,
            # 0 is the proto default: Sunday for weekly, the 1st for monthly, unset otherwise.
            day_offset=message.cadence.day_offset or None,
        )
    return TimeWindowPartitionsDefinition.create(
        start=message.start,
        cron_schedule=message.cron_schedule or None,
        cadence=cadence,
        timezone=message.timezone,
        fmt=message.fmt or None,
        end=message.end or None,
        end_offset=message.end_offset,
    )


def _multi_from_proto(message: pb.MultiPartitions) -> MultiPartitionsDefinition:
    dimensions = []
    for position, dimension in enumerate(message.dimensions):
        if not dimension.HasField("definition"):
            raise InvalidArgument(
                "each dimension needs a definition (static, time_window or dynamic)",
                field=f"dimensions[{position}].definition",
            )
        try:
            definition = definition_from_proto(dimension.definition)
        except InvalidArgument as error:
            raise error.under(f"dimensions[{position}].definition") from None
        dimensions.append(PartitionDimension(dimension.name, definition))  # type: ignore[arg-type]
    return MultiPartitionsDefinition(tuple(dimensions))  # type: ignore[arg-type]


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def definition_to_proto(definition: PartitionsDefinition) -> pb.PartitionsDefinition:
    """The normalized PartitionsDefinition message of a definition.

    Time windows come back with the cron schedule (a cadence expanded), the
    timezone and format filled in, and start/end as ISO 8601 with an offset.
    """
    if isinstance(definition, StaticPartitionsDefinition):
        return pb.PartitionsDefinition(static=pb.StaticPartitions(keys=definition.keys))
    if isinstance(definition, TimeWindowPartitionsDefinition):
        return pb.PartitionsDefinition(
            time_window=pb.TimeWindowPartitions(
                cron_schedule=definition.cron_schedule,
                start=_iso(definition.start),
                end=_iso(definition.end),
                timezone=definition.timezone,
                fmt=definition.fmt,
                end_offset=definition.end_offset,
            )
        )
    if isinstance(definition, DynamicPartitionsDefinition):
        return pb.PartitionsDefinition(dynamic=pb.DynamicPartitions(name=definition.name))
    if isinstance(definition, MultiPartitionsDefinition):
        return pb.PartitionsDefinition(
            multi=pb.MultiPartitions(
                dimensions=[
                    pb.PartitionDimension(name=d.name, definition=definition_to_proto(d.definition))
                    for d in definition.dimensions
                ]
            )
        )
    raise TypeError(f"not a partitions definition: {definition!r}")


def dynamic_names(definition: PartitionsDefinition | None) -> tuple[str, ...]:
    """The dynamic definitions ``definition`` reads keys from (its own, or its dimensions')."""
    if isinstance(definition, DynamicPartitionsDefinition):
        return (definition.name,)
    if isinstance(definition, MultiPartitionsDefinition):
        return tuple(name for d in definition.dimensions for name in dynamic_names(d.definition))
    return ()


# -- selectors --------------------------------------------------------------


def selector_from_proto(message: pb.PartitionSelector) -> Selector:
    """The pure selector of a PartitionSelector message (not yet checked against a definition).

    Raises:
        InvalidArgument: no kind is set, a key range end is empty, a time
            range misses an instant (paths relative to PartitionSelector).
    """
    kind = message.WhichOneof("kind")
    if kind == "all":
        return AllPartitions()
    if kind == "key_range":
        for name in ("start", "end"):
            if not getattr(message.key_range, name):
                raise InvalidArgument(f"a key range needs a non-empty {name} key", field=f"key_range.{name}")
        return KeyRange(message.key_range.start, message.key_range.end)
    if kind == "time_range":
        instants = []
        for name in ("start", "end"):
            if not message.time_range.HasField(name):
                raise InvalidArgument(f"a time range needs its {name} instant", field=f"time_range.{name}")
            instants.append(datetime_from_proto(getattr(message.time_range, name), f"time_range.{name}"))
        return TimeRange(instants[0], instants[1])
    if kind == "keys":
        return KeyList(tuple(message.keys.keys))
    if kind == "multi":
        return MultiSelector(tuple(_dimension_selectors(message.multi)))
    raise InvalidArgument(
        "set exactly one kind of selector: all, key_range, time_range, keys or multi (or leave selector unset for all)",
        field="",
    )


def _dimension_selectors(message: pb.MultiPartitionSelector) -> list[tuple[str, Selector]]:
    entries = []
    for position, entry in enumerate(message.dimensions):
        at = f"multi.dimensions[{position}].selector"
        if not entry.HasField("selector"):
            raise InvalidArgument("each dimension entry needs a selector (leave the dimension out for all)", field=at)
        try:
            entries.append((entry.dimension, selector_from_proto(entry.selector)))
        except InvalidArgument as error:
            raise error.under(at) from None
    return entries


def selector_to_proto(selector: Selector) -> pb.PartitionSelector:
    """The PartitionSelector message of a selector."""
    if isinstance(selector, AllPartitions):
        return pb.PartitionSelector(all=pb.AllPartitions())
    if isinstance(selector, KeyRange):
        return pb.PartitionSelector(key_range=pb.PartitionKeyRange(start=selector.start, end=selector.end))
    if isinstance(selector, TimeRange):
        return pb.PartitionSelector(
            time_range=pb.PartitionTimeRange(
                start=datetime_to_proto(selector.start), end=datetime_to_proto(selector.end)
            )
        )
    if isinstance(selector, KeyList):
        return pb.PartitionSelector(keys=pb.PartitionKeyList(keys=selector.keys))
    return pb.PartitionSelector(
        multi=pb.MultiPartitionSelector(
            dimensions=[
                pb.DimensionSelector(dimension=name, selector=selector_to_proto(inner))
                for name, inner in selector.dimensions
            ]
        )
    )


# -- subsets ----------------------------------------------------------------


def subset_to_proto(subset: AnySubset) -> pb.PartitionSubset:
    """The PartitionSubset message: ranges for one dimension, bands for multi."""
    if isinstance(subset, MultiPartitionSubset):
        return pb.PartitionSubset(
            bands=[
                pb.MultiSubsetBand(
                    first=pb.IndexRange(start=start, end=stop),
                    second=[pb.IndexRange(start=a, end=b) for a, b in second.ranges],
                )
                for start, stop, second in subset.bands
            ]
        )
    message = pb.PartitionSubset()
    add = message.ranges.add  # in place: about half the cost of building each IndexRange and copying it in
    for start, stop in subset.ranges:
        add(start=start, end=stop)
    return message
