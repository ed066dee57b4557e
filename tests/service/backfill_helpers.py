"""Fixtures and builders for the BackfillService tests: a served catalog and short request builders.

Import the fixtures into a test module (``from tests.service.backfill_helpers import *``
is avoided; import the names used) together with ``start``/``db_path``/``served``
from tests.service.conftest when the module lives outside tests/service.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as capi, partitions_pb2 as p
from tests.service.builders import apply, asset, cron, daily, dynamic, multi, static
from tests.service.conftest import Served

# At the test clock (2025-01-01T00:00Z): orders has 366 daily partitions (2024),
# minutely has 10,000,800 (from 2005-12-27 00:00).
ORDERS_COUNT = 366
MINUTELY_COUNT = 10_000_800
CATALOG = apply(
    "catalog-1",
    asset("orders", daily("2024-01-01"), chunk=7),
    asset("regions", static("us", "eu", "ap")),
    asset("grid", multi(date=daily("2024-12-01"), region=static("us", "eu"))),
    asset("minutely", cron("* * * * *", "2005-12-27-00:00", fmt="%Y-%m-%d-%H:%M"), chunk=60),
    asset("customers/profiles", dynamic("customers"), chunk=2),
    asset("scorecards"),
)


@dataclass
class Backfills:
    """A served catalog and a BackfillService stub on the same channel."""

    served: Served
    stub: backfill_service_pb2_grpc.BackfillServiceStub

    @property
    def catalog(self):  # noqa: ANN201 - the generated stub type
        return self.served.catalog


async def serve_backfills(served: Served) -> Backfills:
    """Applies :data:`CATALOG` (idempotent) and returns the stubs."""
    await served.catalog.ApplyAssets(CATALOG)
    await served.catalog.AddDynamicPartitions(
        capi.AddDynamicPartitionsRequest(request_id="customers-1", name="customers", keys=["acme", "globex", "initech"])
    )
    return Backfills(served, backfill_service_pb2_grpc.BackfillServiceStub(served.channel))


@pytest.fixture
async def backfills(served: Served) -> Backfills:
    return await serve_backfills(served)


def target(asset_key: str, selector: p.PartitionSelector | None = None) -> api.BackfillTargetSpec:
    return api.BackfillTargetSpec(asset_key=asset_key, selector=selector)


def create(request_id: str, *targets: api.BackfillTargetSpec, **fields: object) -> api.CreateBackfillRequest:
    return api.CreateBackfillRequest(request_id=request_id, targets=targets, **fields)  # type: ignore[arg-type]


def table_counts(db: Path) -> dict[str, int]:
    """Rows per table of the database (read through its own connection)."""
    with sqlite3.connect(db) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: int(connection.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]) for name in names}


def event_count(db: Path, stream_prefix: str = "backfill/") -> int:
    with sqlite3.connect(db) as connection:
        query = "SELECT COUNT(*) FROM events WHERE stream_id LIKE ?"
        return int(connection.execute(query, (stream_prefix + "%",)).fetchone()[0])
