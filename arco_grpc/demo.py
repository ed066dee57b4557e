"""A small demo catalog that shows each feature; `arco serve --demo-catalog` applies it.

Applying it is idempotent: its request ids are derived from its content, so a
restart replays the first answer, and a changed demo applies as an update.
"""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, catalog_service_pb2 as api, partitions_pb2 as p
from arco_grpc.service.catalog_app import CatalogApplication
from arco_grpc.service.convert_assets import asset_from_proto
from arco_grpc.service.idempotency import body_fingerprint, identify_request

REGIONS = ("us-east", "us-west", "eu-central", "ap-south")
CUSTOMERS = ("acme", "globex", "initech", "umbrella", "hooli")


def _cadence(kind: int, start: str, **offsets: int) -> p.PartitionsDefinition:
    window = p.TimeWindowPartitions(cadence=p.Cadence(kind=kind, **offsets), start=start)
    return p.PartitionsDefinition(time_window=window)


def _daily() -> p.PartitionsDefinition:
    return _cadence(p.Cadence.KIND_DAILY, "2024-01-01")


def _regions() -> p.PartitionsDefinition:
    return p.PartitionsDefinition(static=p.StaticPartitions(keys=REGIONS))


def _depends(key: str, mapping: a.PartitionMapping | None = None) -> a.AssetDependency:
    return a.AssetDependency(asset_key=key, mapping=mapping)


def demo_assets() -> list[a.Asset]:
    """The demo assets: time windows of every cadence, static, dynamic, multi, and each kind of mapping."""
    return [
        a.Asset(key="raw/events", description="Hourly event dumps.",
                partitions=_cadence(p.Cadence.KIND_HOURLY, "2024-01-01"),
                chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=24)),
        a.Asset(key="sales/daily_orders", description="Orders per day, from the hourly events.",
                partitions=_daily(), dependencies=[_depends("raw/events")],
                chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=7)),
        a.Asset(key="sales/running_totals", description="Cumulative totals: each day reads the day before.",
                partitions=_daily(),
                dependencies=[
                    _depends("sales/daily_orders"),
                    _depends("sales/running_totals",
                             a.PartitionMapping(time_window=a.TimeWindowMapping(start_offset=-1, end_offset=-1))),
                ]),
        a.Asset(key="ref/regions", description="Per-region reference data.", partitions=_regions()),
        a.Asset(key="sales/daily_by_region", description="Daily orders split by region (daily x region).",
                partitions=p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
                    p.PartitionDimension(name="date", definition=_daily()),
                    p.PartitionDimension(name="region", definition=_regions()),
                ])),
                dependencies=[_depends("sales/daily_orders"), _depends("ref/regions")],
                chunk_policy=a.ChunkPolicy(max_partitions_per_chunk=28)),
        a.Asset(key="reports/weekly", description="Weekly report, weeks starting on Monday.",
                partitions=_cadence(p.Cadence.KIND_WEEKLY, "2024-01-01", day_offset=1),
                dependencies=[_depends("sales/daily_orders")]),
        a.Asset(key="reports/monthly", description="Monthly report.",
                partitions=_cadence(p.Cadence.KIND_MONTHLY, "2024-01-01"),
                dependencies=[_depends("sales/daily_orders")]),
        a.Asset(key="customers/profiles", description="One partition per customer (dynamic).",
                partitions=p.PartitionsDefinition(dynamic=p.DynamicPartitions(name="customers"))),
        a.Asset(key="customers/scorecards", description="Reads the latest profile of every customer.",
                dependencies=[_depends("customers/profiles", a.PartitionMapping(last=a.LastMapping()))]),
    ]


def demo_requests() -> tuple[api.ApplyAssetsRequest, api.AddDynamicPartitionsRequest]:
    """The two requests that set up the demo, with ids derived from their content."""
    apply = api.ApplyAssetsRequest(assets=demo_assets())
    apply.request_id = "demo-catalog-" + body_fingerprint("ApplyAssets", apply)[:16]
    add = api.AddDynamicPartitionsRequest(name="customers", keys=CUSTOMERS)
    add.request_id = "demo-customers-" + body_fingerprint("AddDynamicPartitions", add)[:16]
    return apply, add


async def apply_demo_catalog(app: CatalogApplication) -> None:
    """Applies the demo catalog and its dynamic keys (a replay when already applied)."""
    apply, add = demo_requests()
    await app.apply_assets(identify_request("ApplyAssets", apply), [asset_from_proto(m) for m in apply.assets])
    await app.add_dynamic_partitions(identify_request("AddDynamicPartitions", add), add.name, list(add.keys))
