"""ApplyAssets, GetAsset and ListAssets through a real server."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, catalog_service_pb2 as api
from tests.service.builders import apply, asset, dep, dynamic, static
from tests.service.conftest import FIXED_NOW, Served, call_failure

pytestmark = pytest.mark.backends("sqlite", "postgres")


async def event_count(served: Served) -> int:
    return len(await served.running.store.read_all())


async def test_apply_creates_assets_with_version_one(served: Served) -> None:
    response = await served.catalog.ApplyAssets(
        apply(
            "r-1",
            asset("regions", static("us", "eu"), chunk=5, description="d"),
            asset("report", None, dep("regions")),
        )
    )

    assert list(response.changed_keys) == ["regions", "report"]
    assert [(x.key, x.version) for x in response.assets] == [("regions", 1), ("report", 1)]
    assert response.assets[0].update_time.ToDatetime().replace(tzinfo=FIXED_NOW.tzinfo) == FIXED_NOW
    got = (await served.catalog.GetAsset(api.GetAssetRequest(asset_key="regions"))).asset
    assert got == response.assets[0]
    assert list(got.partitions.static.keys) == ["us", "eu"]
    assert (got.chunk_policy.max_partitions_per_chunk, got.description) == (5, "d")


async def test_chunk_policy_zero_is_stored_as_one(served: Served) -> None:
    response = await served.catalog.ApplyAssets(apply("r", asset("x", static("a"))))
    assert response.assets[0].chunk_policy.max_partitions_per_chunk == 1


async def test_versions_bump_only_on_change(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r-1", asset("a", static("x")), asset("b", static("y"))))
    events_before = await event_count(served)

    unchanged = await served.catalog.ApplyAssets(apply("r-2", asset("a", static("x")), asset("b", static("y"))))
    assert list(unchanged.changed_keys) == []
    assert [x.version for x in unchanged.assets] == [1, 1]
    assert await event_count(served) == events_before  # nothing changed, nothing appended

    changed = await served.catalog.ApplyAssets(apply("r-3", asset("a", static("x", "z")), asset("b", static("y"))))
    assert list(changed.changed_keys) == ["a"]
    assert [x.version for x in changed.assets] == [2, 1]
    assert await event_count(served) == events_before + 1
    again = await served.catalog.ApplyAssets(apply("r-4", asset("a", static("x", "z"), description="now described")))
    assert again.assets[0].version == 3


async def test_replaying_a_request_returns_the_first_answer_and_writes_nothing(served: Served) -> None:
    request = apply("same-id", asset("a", static("x")))
    first = await served.catalog.ApplyAssets(request)
    # Change the catalog in between: the replay must still answer as the first time.
    await served.catalog.ApplyAssets(apply("other", asset("a", static("x", "y"))))
    events_before = await event_count(served)

    replay = await served.catalog.ApplyAssets(request)

    assert replay == first
    assert await event_count(served) == events_before


async def test_reusing_a_request_id_for_another_body_is_refused(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("same-id", asset("a", static("x"))))
    events_before = await event_count(served)

    failure = await call_failure(served.catalog.ApplyAssets(apply("same-id", asset("a", static("x", "y")))))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.reason == "REQUEST_ID_REUSED"
    assert failure.violations[0][0] == "request_id"
    assert "was already used for a different request" in failure.message
    assert await event_count(served) == events_before
    got = await served.catalog.GetAsset(api.GetAssetRequest(asset_key="a"))
    assert list(got.asset.partitions.static.keys) == ["x"]


async def test_concurrent_applies_each_land_with_increasing_versions(served: Served) -> None:
    await asyncio.gather(
        *(served.catalog.ApplyAssets(apply(f"r-{n}", asset("a", static(f"k{n}")))) for n in range(6))
    )
    got = await served.catalog.GetAsset(api.GetAssetRequest(asset_key="a"))
    assert got.asset.version == 6
    events = await served.running.store.read_stream("catalog")
    assert [e.stream_version for e in events] == [1, 2, 3, 4, 5, 6]


async def test_get_unknown_asset_is_not_found(served: Served) -> None:
    failure = await call_failure(served.catalog.GetAsset(api.GetAssetRequest(asset_key="nope")))
    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.metadata == {"asset_key": "nope"}
    assert failure.domain == "arco.orchestration.v1"


async def test_list_assets_pages_by_key(served: Served) -> None:
    keys = [f"asset-{n:02d}" for n in range(7)]
    await served.catalog.ApplyAssets(apply("r", *(asset(k, dynamic("d")) for k in reversed(keys))))

    pages: list[list[str]] = []
    token = ""
    while True:
        page = await served.catalog.ListAssets(api.ListAssetsRequest(page_size=3, page_token=token))
        pages.append([x.key for x in page.assets])
        token = page.next_page_token
        if not token:
            break

    assert pages == [keys[0:3], keys[3:6], keys[6:7]]
    everything = await served.catalog.ListAssets(api.ListAssetsRequest())
    assert [x.key for x in everything.assets] == keys
    assert everything.next_page_token == ""


async def test_list_assets_exact_multiple_of_page_size_ends_without_token(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r", asset("a"), asset("b")))
    page = await served.catalog.ListAssets(api.ListAssetsRequest(page_size=2))
    assert [x.key for x in page.assets] == ["a", "b"]
    assert page.next_page_token == ""


async def test_mappings_round_trip_as_given(served: Served) -> None:
    mapping = a.PartitionMapping(
        static=a.StaticMapping(entries=[a.StaticMappingEntry(upstream_key="x", downstream_keys=["p", "q"])])
    )
    await served.catalog.ApplyAssets(
        apply("r", asset("up", static("x", "y")), asset("down", static("p", "q"), dep("up", mapping)),
              asset("tail", None, dep("down", a.PartitionMapping(last=a.LastMapping()))))
    )
    down = (await served.catalog.GetAsset(api.GetAssetRequest(asset_key="down"))).asset
    tail = (await served.catalog.GetAsset(api.GetAssetRequest(asset_key="tail"))).asset
    assert down.dependencies[0].mapping == mapping
    assert tail.dependencies[0].mapping.WhichOneof("kind") == "last"
