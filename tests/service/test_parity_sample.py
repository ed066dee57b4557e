"""A sample of Dagster's ground-truth cases, asked through the server as a client would.

The partitions package is checked against every case in tests/partitions; here a
sample goes through ApplyAssets, ResolveSelection and ListPartitionKeys, so the
converters, the stored (normalized) definitions and the paging agree with Dagster
too. Cases whose answers Dagster itself contradicts (non-empty "anomalies") are
left to the package tests, which document them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api, partitions_pb2 as p
from tests.service.builders import apply, asset, cron, key_range, keys_selector, static, ts
from tests.service.conftest import Served, call_failure

CASES = json.loads((Path(__file__).parents[1] / "data" / "dagster-cases.json").read_text())["cases"]
# Every third case of each kind keeps this under a couple of seconds.
SAMPLE = [
    case
    for kind in ("time_window", "static", "multi")
    for case in [c for c in CASES if c["kind"] == kind][::3]
    if not case["expect"].get("anomalies")
]


# Definitions Dagster accepts and arco refuses on purpose, with the field the server names.
# time_window-64: fmt "%Y%m%d" with an hourly-on-weekdays cron; Dagster only checks the
# windows that exist at as_of (one here), arco refuses a format that can give two windows
# one key, whatever the evaluation time.
REFUSED_BY_DESIGN = {"time_window-64": "assets[0].partitions.time_window.fmt"}


def definition(spec: dict[str, Any]) -> p.PartitionsDefinition:
    if spec["type"] == "static":
        return static(*spec["keys"])
    if spec["type"] == "time_window":
        return cron(spec["cron_schedule"], spec["start"], end=spec["end"] or "", timezone=spec["timezone"],
                    fmt=spec["fmt"], end_offset=spec["end_offset"])
    return p.PartitionsDefinition(multi=p.MultiPartitions(dimensions=[
        p.PartitionDimension(name=d["name"], definition=definition(d["definition"])) for d in spec["dimensions"]
    ]))


def as_of(case: dict[str, Any]) -> Any:
    return ts(datetime.fromisoformat(case["as_of"])) if case["as_of"] else None


@pytest.mark.parametrize("case", SAMPLE, ids=lambda case: case["id"])
async def test_server_agrees_with_dagster(served: Served, case: dict[str, Any]) -> None:
    expect = case["expect"]
    request = apply(case["id"], asset("subject", definition(case["definition"])))
    if case["id"] in REFUSED_BY_DESIGN:
        failure = await call_failure(served.catalog.ApplyAssets(request))
        assert failure.violations[0][0] == REFUSED_BY_DESIGN[case["id"]]
        return
    if "error" in expect:
        failure = await call_failure(served.catalog.ApplyAssets(request))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.violations[0][0].startswith("assets[0].partitions.")
        return
    await served.catalog.ApplyAssets(request)

    resolved = await served.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="subject", as_of=as_of(case))
    )
    assert resolved.count == expect["count"]
    assert (resolved.first_key or None, resolved.last_key or None) == (expect["first"], expect["last"])

    # Indices of known keys: resolve them as a key list and compare the subset's ranges.
    # (A key list may not hold "", which Dagster allows as a static key.)
    known = [(i, k) for i, k in expect.get("keys_at") or list(enumerate(expect.get("keys", [])))[:20] if k]
    if known:
        listed = await served.catalog.ResolveSelection(api.ResolveSelectionRequest(
            asset_key="subject", as_of=as_of(case), selector=keys_selector(*(key for _, key in known))))
        if resolved.subset.bands:  # multi: flatten (i, j) pairs with the second dimension's size
            assert listed.count == len({key for _, key in known})
        else:
            indices = sorted({index for index, _ in known})
            covered = [i for r in listed.subset.ranges for i in range(r.start, r.end)]
            assert covered == indices

    # Pages of the listing match Dagster's order.
    if "all_keys" in expect or "keys" in expect:
        everything = expect.get("all_keys", expect.get("keys"))
        page = await served.catalog.ListPartitionKeys(
            api.ListPartitionKeysRequest(asset_key="subject", as_of=as_of(case), page_size=10_000))
        assert list(page.keys) == everything

    for entry in expect.get("key_ranges", [])[:4]:
        call = served.catalog.ListPartitionKeys(api.ListPartitionKeysRequest(
            asset_key="subject", as_of=as_of(case), selector=key_range(entry["start"], entry["end"])))
        if "error" in entry:
            failure = await call_failure(call)
            assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
            assert failure.violations[0][0].startswith("selector.key_range")
        elif case["kind"] == "static":  # multi ranges differ where documented in tests/partitions
            assert list((await call).keys) == entry["keys"]
