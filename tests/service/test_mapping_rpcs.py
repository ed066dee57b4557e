"""GetUpstreamPartitions and GetDownstreamPartitions through a real server."""

from __future__ import annotations

from datetime import datetime, timezone

import grpc
import pytest
from google.protobuf import timestamp_pb2

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2 as a, catalog_service_pb2 as api, partitions_pb2 as p
from tests.service.builders import (
    apply,
    asset,
    cron,
    daily,
    dep,
    hourly,
    key_range,
    keys_selector,
    multi,
    static,
    ts,
)
from tests.service.conftest import FIXED_NOW, Served, call_failure

UTC = timezone.utc
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
PREVIOUS_DAY = a.PartitionMapping(time_window=a.TimeWindowMapping(start_offset=-1, end_offset=-1))


@pytest.fixture
async def catalog(served: Served) -> Served:
    await served.catalog.ApplyAssets(
        apply(
            "setup",
            asset("hours", hourly("2015-01-01")),
            asset("days", daily("2015-01-01", end="2025-01-01"), dep("hours")),
            asset("june", daily("2023-06-01", end="2023-07-01")),
            asset("may_to_july", daily("2023-05-01", end="2023-07-15"),
                  dep("june", a.PartitionMapping(time_window=a.TimeWindowMapping(start_offset=-2, end_offset=-1)))),
            asset("chain", daily("2024-01-01"), dep("chain", PREVIOUS_DAY)),
            asset("colors", static("red", "green", "blue")),
            asset("shades", static("blue", "cyan", "red"), dep("colors", a.PartitionMapping(identity=a.IdentityMapping()))),
            asset("grid", multi(color=static("red", "green", "blue"), date=daily("2024-12-01")), dep("colors")),
            asset("report", None, dep("days")),
            asset("lonely", daily("2024-01-01")),
            asset("decade", daily("2010-01-01", end="2025-01-01"), dep("days")),
        )
    )
    return served


def upstream(down: str, up: str, selector: p.PartitionSelector | None = None) -> api.GetUpstreamPartitionsRequest:
    return api.GetUpstreamPartitionsRequest(
        downstream_asset_key=down, upstream_asset_key=up, selector=selector, as_of=ts(AS_OF)
    )


def downstream(up: str, down: str, selector: p.PartitionSelector | None = None) -> api.GetDownstreamPartitionsRequest:
    return api.GetDownstreamPartitionsRequest(
        upstream_asset_key=up, downstream_asset_key=down, selector=selector, as_of=ts(AS_OF)
    )


async def test_ten_years_of_days_read_ten_years_of_hours_as_one_range(catalog: Served) -> None:
    response = await catalog.catalog.GetUpstreamPartitions(upstream("days", "hours"))
    assert response.selected_count == 3653
    assert response.count == 87_672
    assert [(r.start, r.end) for r in response.subset.ranges] == [(0, 87_672)]
    assert (response.first_key, response.last_key) == ("2015-01-01-00:00", "2024-12-31-23:00")
    assert response.required_but_nonexistent_count == 0 and not response.required_but_nonexistent_keys
    assert response.mapping_inferred and response.mapping.HasField("time_window")
    assert response.mapping_description.startswith("No mapping is declared")
    assert response.as_of == ts(AS_OF)


async def test_one_day_reads_its_24_hours_and_one_hour_is_read_by_its_day(catalog: Served) -> None:
    day = await catalog.catalog.GetUpstreamPartitions(upstream("days", "hours", keys_selector("2020-02-29")))
    assert (day.count, day.first_key, day.last_key) == (24, "2020-02-29-00:00", "2020-02-29-23:00")
    hour = await catalog.catalog.GetDownstreamPartitions(downstream("hours", "days", keys_selector("2020-02-29-13:00")))
    assert (hour.count, hour.first_key, hour.last_key) == (1, "2020-02-29", "2020-02-29")
    assert hour.selected_count == 1 and hour.mapping.HasField("time_window")


async def test_windows_outside_the_upstream_are_reported_bounded_and_counted(catalog: Served) -> None:
    # Offsets (-2, -1): 07-10 reads 07-08 and 07-09, which June does not have.
    response = await catalog.catalog.GetUpstreamPartitions(upstream("may_to_july", "june", keys_selector("2023-07-10")))
    assert response.count == 0 and response.first_key == ""
    assert list(response.required_but_nonexistent_keys) == ["2023-07-08", "2023-07-09"]
    assert response.required_but_nonexistent_count == 2
    assert not response.mapping_inferred and response.mapping.time_window.start_offset == -2
    # All of May..July as one window [04-29, 07-14): the shifted start is clamped to June's
    # first partition (04-29..05-31 dropped silently); July 1-13 are reported.
    whole = await catalog.catalog.GetUpstreamPartitions(upstream("may_to_july", "june"))
    assert whole.count == 30 and whole.required_but_nonexistent_count == 13
    assert list(whole.required_but_nonexistent_keys) == [f"2023-07-{day:02d}" for day in range(1, 14)]


async def test_the_nonexistent_keys_listed_are_bounded_and_the_count_exact(catalog: Served) -> None:
    # 2010-2014 (1826 days) lie before the first day of "days".
    response = await catalog.catalog.GetUpstreamPartitions(upstream("decade", "days"))
    assert response.count == 3653 and response.required_but_nonexistent_count == 1826
    assert len(response.required_but_nonexistent_keys) == 100
    assert response.required_but_nonexistent_keys[:2] == ["2010-01-01", "2010-01-02"]


async def test_the_first_partition_of_a_self_dependent_chain_has_no_parent(catalog: Served) -> None:
    first = await catalog.catalog.GetUpstreamPartitions(upstream("chain", "chain", keys_selector("2024-01-01")))
    assert first.count == 0 and first.required_but_nonexistent_count == 0
    second = await catalog.catalog.GetUpstreamPartitions(upstream("chain", "chain", keys_selector("2024-01-02")))
    assert (second.count, second.first_key) == (1, "2024-01-01")
    children = await catalog.catalog.GetDownstreamPartitions(downstream("chain", "chain", key_range("2024-03-01", "2024-03-03")))
    assert (children.count, children.first_key, children.last_key) == (3, "2024-03-02", "2024-03-04")


async def test_identity_between_static_assets_reports_downstream_keys_missing_upstream(catalog: Served) -> None:
    response = await catalog.catalog.GetUpstreamPartitions(upstream("shades", "colors"))
    assert (response.count, response.first_key, response.last_key) == (2, "red", "blue")
    assert list(response.required_but_nonexistent_keys) == ["cyan"]
    reverse = await catalog.catalog.GetDownstreamPartitions(downstream("colors", "shades", keys_selector("green", "red")))
    assert (reverse.count, reverse.first_key) == (1, "red")


async def test_multi_to_single_both_ways(catalog: Served) -> None:
    up = await catalog.catalog.GetUpstreamPartitions(upstream("grid", "colors", keys_selector("blue|2024-12-05")))
    assert (up.count, up.first_key) == (1, "blue")
    assert up.mapping.HasField("multi_to_single_dimension") and "dimension 'color'" in up.mapping_description
    down = await catalog.catalog.GetDownstreamPartitions(downstream("colors", "grid", keys_selector("green")))
    assert down.count == 31 and (down.first_key, down.last_key) == ("green|2024-12-01", "green|2024-12-31")
    assert len(down.subset.bands) == 1


async def test_an_unpartitioned_downstream_reads_every_upstream_partition(catalog: Served) -> None:
    response = await catalog.catalog.GetUpstreamPartitions(upstream("report", "days"))
    assert response.count == 3653 and response.selected_count == 1 and response.mapping.HasField("all")


async def test_as_of_defaults_to_the_server_clock(catalog: Served) -> None:
    response = await catalog.catalog.GetUpstreamPartitions(
        api.GetUpstreamPartitionsRequest(downstream_asset_key="chain", upstream_asset_key="chain")
    )
    assert response.as_of == ts(FIXED_NOW)
    assert response.selected_count == 366  # 2024 was a leap year


# -- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (api.GetUpstreamPartitionsRequest(upstream_asset_key="hours"), "downstream_asset_key"),
        (api.GetUpstreamPartitionsRequest(downstream_asset_key="days"), "upstream_asset_key"),
        (upstream("days", "hours", keys_selector("2015-13-01")), "selector.keys.keys[0]"),
        (upstream("days", "hours", p.PartitionSelector()), "selector"),
        (upstream("days", "hours", key_range("2015-01-01", "nope")), "selector.key_range.end"),
        (upstream("report", "days", keys_selector("x")), "selector"),
        (api.GetUpstreamPartitionsRequest(downstream_asset_key="days", upstream_asset_key="hours",
                                          as_of=timestamp_pb2.Timestamp(seconds=-99_999_999_999)), "as_of"),
    ],
)
async def test_malformed_requests_are_invalid_argument_naming_the_field(
    catalog: Served, request_: api.GetUpstreamPartitionsRequest, field: str
) -> None:
    failure = await call_failure(catalog.catalog.GetUpstreamPartitions(request_))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.violations[0][0] == field


async def test_a_bad_selector_over_the_upstream_names_the_field(catalog: Served) -> None:
    failure = await call_failure(catalog.catalog.GetDownstreamPartitions(downstream("colors", "shades", keys_selector("purple"))))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.violations[0][0] == "selector.keys.keys[0]"


@pytest.mark.parametrize("missing", ["nope/down", "nope/up"])
async def test_unknown_assets_are_not_found(catalog: Served, missing: str) -> None:
    request = upstream("nope/down", "hours") if missing == "nope/down" else upstream("days", "nope/up")
    failure = await call_failure(catalog.catalog.GetUpstreamPartitions(request))
    assert failure.code == grpc.StatusCode.NOT_FOUND and failure.metadata == {"asset_key": missing}
    failure = await call_failure(catalog.catalog.GetDownstreamPartitions(
        downstream("hours", "nope/down") if missing == "nope/down" else downstream("nope/up", "days")))
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_assets_without_a_dependency_are_a_failed_precondition(catalog: Served) -> None:
    failure = await call_failure(catalog.catalog.GetUpstreamPartitions(upstream("lonely", "days")))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION and failure.reason == "NOT_A_DEPENDENCY"
    assert "'lonely' does not depend on 'days'" in failure.message
    # The direction matters: days depends on hours, not the reverse.
    failure = await call_failure(catalog.catalog.GetDownstreamPartitions(downstream("days", "hours")))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.metadata == {"downstream_asset_key": "hours", "upstream_asset_key": "days"}


async def test_mapping_onto_an_unpartitioned_asset_is_a_failed_precondition(catalog: Served) -> None:
    failure = await call_failure(catalog.catalog.GetDownstreamPartitions(downstream("days", "report")))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "'report' is not partitioned" in failure.message and failure.metadata == {"asset_key": "report"}


async def test_a_mapping_outside_the_catalog_cannot_be_created(catalog: Served) -> None:
    # Mappings are validated when applied, so the RPCs only ever see mappings that fit.
    failure = await call_failure(catalog.catalog.ApplyAssets(apply(
        "bad-mapping", asset("clash", cron("0 0 * * *", "2024-01-01", timezone="Europe/Berlin"), dep("days")))))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
