"""ListPartitionKeys and ResolveSelection through a real server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api, partitions_pb2 as p
from arco_grpc.service.paging import KeyPageToken
from tests.service.builders import (
    apply,
    asset,
    daily,
    dynamic,
    hourly,
    key_range,
    keys_selector,
    multi,
    static,
    time_range,
    ts,
)
from tests.service.conftest import FIXED_NOW, Served, call_failure

UTC = timezone.utc
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
# Hourly windows from 1900-01-01 to 2025-01-01: 125 years of hours.
HOURS_SINCE_1900 = (AS_OF - datetime(1900, 1, 1, tzinfo=UTC)) // timedelta(hours=1)


def hour_key(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d-%H:%M")


@pytest.fixture
async def catalog(served: Served) -> Served:
    await served.catalog.ApplyAssets(
        apply(
            "setup",
            asset("events", hourly("1900-01-01")),
            asset("days", daily("2024-01-01")),
            asset("colors", static("red", "green", "blue")),
            asset("customers", dynamic("customers")),
            asset("grid", multi(color=static("red", "green", "blue"), date=daily("2024-01-01"))),
            asset("unpartitioned"),
        )
    )
    return served


def list_request(**fields: object) -> api.ListPartitionKeysRequest:
    fields.setdefault("as_of", ts(AS_OF))
    return api.ListPartitionKeysRequest(**fields)  # type: ignore[arg-type]


async def test_first_page_of_a_million_hourly_partitions(catalog: Served) -> None:
    assert HOURS_SINCE_1900 > 1_000_000
    page = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=3))

    assert page.total_count == HOURS_SINCE_1900
    assert list(page.keys) == ["1900-01-01-00:00", "1900-01-01-01:00", "1900-01-01-02:00"]
    assert page.as_of == ts(AS_OF)
    assert page.next_page_token


async def test_pages_follow_each_other_without_gap_or_overlap(catalog: Served) -> None:
    keys: list[str] = []
    token = ""
    for _ in range(4):
        page = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=5, page_token=token))
        keys.extend(page.keys)
        token = page.next_page_token
    start = datetime(1900, 1, 1, tzinfo=UTC)
    assert keys == [hour_key(start + timedelta(hours=n)) for n in range(20)]


async def test_a_page_deep_near_the_end_and_the_last_page(catalog: Served) -> None:
    first = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=1000))
    # Continue from position total - 1500 with a token bound to the same parameters.
    issued = KeyPageToken.decode(first.next_page_token)
    deep = KeyPageToken(HOURS_SINCE_1900 - 1500, issued.as_of_us, issued.scope).encode()

    page = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=1000, page_token=deep))
    last = await catalog.catalog.ListPartitionKeys(
        list_request(asset_key="events", page_size=1000, page_token=page.next_page_token)
    )

    assert page.keys[0] == hour_key(AS_OF - timedelta(hours=1500))
    assert len(page.keys) == 1000 and page.next_page_token
    assert len(last.keys) == 500 and last.next_page_token == ""
    assert last.keys[-1] == hour_key(AS_OF - timedelta(hours=1))


async def test_later_pages_reuse_the_first_pages_as_of(catalog: Served) -> None:
    first = await catalog.catalog.ListPartitionKeys(api.ListPartitionKeysRequest(asset_key="days", page_size=2))
    assert first.as_of == ts(FIXED_NOW)  # defaults to now
    second = await catalog.catalog.ListPartitionKeys(
        api.ListPartitionKeysRequest(asset_key="days", page_size=2, page_token=first.next_page_token)
    )
    assert list(first.keys) + list(second.keys) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert second.as_of == first.as_of


async def test_descending_lists_from_the_last_key(catalog: Served) -> None:
    page = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=2, descending=True))
    following = await catalog.catalog.ListPartitionKeys(
        list_request(asset_key="events", page_size=2, descending=True, page_token=page.next_page_token)
    )
    expected = [hour_key(AS_OF - timedelta(hours=n)) for n in range(1, 5)]
    assert list(page.keys) + list(following.keys) == expected


@pytest.mark.parametrize(
    "change",
    [
        {"descending": True},
        {"selector": key_range("1900-01-01-00:00", "1900-01-02-00:00")},
        {"as_of": ts(AS_OF - timedelta(days=1))},
        {"asset_key": "days"},
    ],
    ids=["descending", "selector", "as_of", "asset"],
)
async def test_a_token_replayed_with_other_parameters_is_refused(catalog: Served, change: dict[str, object]) -> None:
    first = await catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_size=2))
    fields: dict[str, object] = {"asset_key": "events", "page_size": 2, "page_token": first.next_page_token}
    fields.update(change)

    failure = await call_failure(catalog.catalog.ListPartitionKeys(list_request(**fields)))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.violations == [("page_token", failure.message)]
    assert "different request" in failure.message


@pytest.mark.parametrize("token", ["not base64 !!", "AAAA", KeyPageToken(1, 2, b"12345678").encode() + "x"])
async def test_a_malformed_token_is_refused(catalog: Served, token: str) -> None:
    failure = await call_failure(catalog.catalog.ListPartitionKeys(list_request(asset_key="events", page_token=token)))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.violations[0][0] == "page_token"


async def test_resolve_ten_years_of_hourly_partitions(catalog: Served) -> None:
    start, end = datetime(2014, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    response = await catalog.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="events", selector=time_range(start, end), as_of=ts(AS_OF))
    )

    assert response.count == (end - start) // timedelta(hours=1) == 87_648
    assert (response.first_key, response.last_key) == ("2014-01-01-00:00", "2023-12-31-23:00")
    first_index = (start - datetime(1900, 1, 1, tzinfo=UTC)) // timedelta(hours=1)
    assert [(r.start, r.end) for r in response.subset.ranges] == [(first_index, first_index + 87_648)]
    assert response.partitions_total == HOURS_SINCE_1900
    assert response.as_of == ts(AS_OF)
    assert response.canonical_selector == time_range(start, end)
    assert len(response.fingerprint) == 64


async def test_resolve_normalizes_and_fingerprints_key_lists(catalog: Served) -> None:
    one = await catalog.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="colors", selector=keys_selector("blue", "red", "blue"))
    )
    other = await catalog.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="colors", selector=keys_selector("red", "blue"))
    )

    assert one.fingerprint == other.fingerprint
    assert list(one.canonical_selector.keys.keys) == ["blue", "red"]
    assert (one.count, one.first_key, one.last_key, one.partitions_total) == (2, "red", "blue", 3)
    assert [(r.start, r.end) for r in one.subset.ranges] == [(0, 1), (2, 3)]


async def test_unset_selector_means_all(catalog: Served) -> None:
    response = await catalog.catalog.ResolveSelection(api.ResolveSelectionRequest(asset_key="colors"))
    assert response.canonical_selector.WhichOneof("kind") == "all"
    assert (response.count, response.first_key, response.last_key) == (3, "red", "blue")


async def test_empty_selection_has_no_first_or_last_key(catalog: Served) -> None:
    response = await catalog.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="colors", selector=key_range("blue", "red"))  # reversed: empty
    )
    assert (response.count, response.first_key, response.last_key) == (0, "", "")


async def test_multi_selection_maps_to_bands(catalog: Served) -> None:
    selector = p.PartitionSelector(
        multi=p.MultiPartitionSelector(
            dimensions=[
                p.DimensionSelector(dimension="date", selector=key_range("2024-01-02", "2024-01-03")),
                p.DimensionSelector(dimension="color", selector=keys_selector("red", "blue")),
            ]
        )
    )
    resolved = await catalog.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="grid", selector=selector, as_of=ts(datetime(2024, 1, 11, tzinfo=UTC)))
    )
    listed = await catalog.catalog.ListPartitionKeys(
        api.ListPartitionKeysRequest(asset_key="grid", selector=selector, as_of=ts(datetime(2024, 1, 11, tzinfo=UTC)))
    )

    assert resolved.partitions_total == 30
    assert resolved.count == 4
    # Dimensions are ordered by name: color (outer), then date.
    assert [(b.first.start, b.first.end, [(r.start, r.end) for r in b.second]) for b in resolved.subset.bands] == [
        (0, 1, [(1, 3)]),
        (2, 3, [(1, 3)]),
    ]
    assert list(listed.keys) == ["red|2024-01-02", "red|2024-01-03", "blue|2024-01-02", "blue|2024-01-03"]
    assert [d.dimension for d in resolved.canonical_selector.multi.dimensions] == ["color", "date"]


async def test_daylight_saving_keys_through_the_server(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r", asset("la", hourly("2023-11-04", timezone="America/Los_Angeles"))))
    # 00:00 PDT to 03:00 PST on the fall-back day: four real hours, 01:00 twice.
    start = datetime(2023, 11, 5, 7, tzinfo=UTC)
    page = await served.catalog.ListPartitionKeys(list_request(
        asset_key="la", selector=time_range(start, start + timedelta(hours=4))))
    assert list(page.keys) == ["2023-11-05-00:00", "2023-11-05-01:00", "2023-11-05-01:00-0800", "2023-11-05-02:00"]
    stored = (await served.catalog.GetAsset(api.GetAssetRequest(asset_key="la"))).asset.partitions.time_window
    assert (stored.cron_schedule, stored.start, stored.fmt) == (
        "0 * * * *", "2023-11-04T00:00:00-07:00", "%Y-%m-%d-%H:%M"
    )


async def test_an_end_before_the_start_gives_no_partitions(served: Served) -> None:
    # Dagster accepts such a definition and gives it no partitions; so do we.
    await served.catalog.ApplyAssets(apply("r", asset("none", daily("2024-02-01", end="2024-01-01"))))
    response = await served.catalog.ResolveSelection(api.ResolveSelectionRequest(asset_key="none"))
    assert (response.count, response.first_key, response.partitions_total) == (0, "", 0)
