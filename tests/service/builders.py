"""Short builders for the request messages the integration tests send."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, catalog_service_pb2 as api, partitions_pb2 as p


def static(*keys: str) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(static=p.StaticPartitions(keys=keys))


def dynamic(name: str) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(dynamic=p.DynamicPartitions(name=name))


def cron(
    schedule: str, start: str, *, timezone: str = "", end: str = "", fmt: str = "", end_offset: int = 0
) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(
        time_window=p.TimeWindowPartitions(
            cron_schedule=schedule, start=start, end=end, timezone=timezone, fmt=fmt, end_offset=end_offset
        )
    )


def cadence(kind: int, start: str, *, timezone: str = "", end: str = "", **offsets: int) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(
        time_window=p.TimeWindowPartitions(
            cadence=p.Cadence(kind=kind, **offsets), start=start, end=end, timezone=timezone
        )
    )


def hourly(start: str, **kwargs: object) -> p.PartitionsDefinition:
    return cadence(p.Cadence.KIND_HOURLY, start, **kwargs)  # type: ignore[arg-type]


def daily(start: str, **kwargs: object) -> p.PartitionsDefinition:
    return cadence(p.Cadence.KIND_DAILY, start, **kwargs)  # type: ignore[arg-type]


def multi(**dimensions: p.PartitionsDefinition) -> p.PartitionsDefinition:
    return p.PartitionsDefinition(
        multi=p.MultiPartitions(dimensions=[p.PartitionDimension(name=n, definition=d) for n, d in dimensions.items()])
    )


def asset(
    key: str,
    partitions: p.PartitionsDefinition | None = None,
    *deps: a.AssetDependency,
    chunk: int = 0,
    description: str = "",
) -> a.Asset:
    return a.Asset(
        key=key,
        partitions=partitions,
        dependencies=deps,
        chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=chunk),
        description=description,
    )


def dep(key: str, mapping: a.PartitionMapping | None = None) -> a.AssetDependency:
    return a.AssetDependency(asset_key=key, mapping=mapping)


def apply(request_id: str, *assets: a.Asset) -> api.ApplyAssetsRequest:
    return api.ApplyAssetsRequest(request_id=request_id, assets=assets)


def ts(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def keys_selector(*keys: str) -> p.PartitionSelector:
    return p.PartitionSelector(keys=p.PartitionKeyList(keys=keys))


def key_range(start: str, end: str) -> p.PartitionSelector:
    return p.PartitionSelector(key_range=p.PartitionKeyRange(start=start, end=end))


def time_range(start: datetime, end: datetime) -> p.PartitionSelector:
    return p.PartitionSelector(time_range=p.PartitionTimeRange(start=ts(start), end=ts(end)))
