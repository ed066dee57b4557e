"""One run-key function for every origin: injective, deterministic, backfill keys unchanged."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.planning.chunks import run_key
from arco_grpc.planning.run_keys import (
    BackfillScope,
    LogicalRunRequest,
    ManualScope,
    ReexecutionMode,
    ReexecutionScope,
    RunOrigin,
    ScheduleScope,
    SensorScope,
    run_key_for,
    scope_key_for,
)

US = "\x1f"
any_text = st.text(min_size=1, max_size=12)  # names, sensor run keys, request ids: any characters
id_text = st.text(min_size=1, max_size=12).filter(lambda s: US not in s)  # ids and asset keys
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)
scopes = st.one_of(
    st.builds(BackfillScope, id_text, st.integers(1, 5), st.integers(0, 5)),
    st.builds(ScheduleScope, any_text, instants, st.none() | st.text(max_size=6)),
    st.builds(SensorScope, any_text, any_text),
    st.builds(SensorScope, any_text, st.none(), any_text),
    st.builds(ManualScope, any_text),
    st.builds(ReexecutionScope, any_text, st.sampled_from(list(ReexecutionMode)), any_text),
)
requests = st.builds(LogicalRunRequest, scopes, id_text, st.integers(1, 4))


def old_formula(backfill_id: str, asset: str, round_number: int, index: int, attempt: int) -> str:
    text = US.join(["arco/run-key/v1", backfill_id, asset, str(round_number), str(index), str(attempt)])
    return "rk-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@given(st.lists(requests, unique=True, max_size=40))
def test_distinct_logical_requests_get_distinct_keys(batch):
    keys = [run_key_for(r) for r in batch]
    assert len(set(keys)) == len(keys)


@given(requests)
def test_the_same_request_gets_the_same_key_and_its_shape(request):
    key = run_key_for(request)
    assert key == run_key_for(LogicalRunRequest(request.scope, request.asset_key, request.attempt))
    assert key.startswith("rk-") and len(key) == 35 and int(key[3:], 16) >= 0


@given(id_text, id_text, st.integers(1, 10**6), st.integers(0, 10**6), st.integers(1, 10**3))
def test_the_backfill_case_is_the_v1_formula_and_chunks_delegate(backfill_id, asset, round_number, index, attempt):
    expected = old_formula(backfill_id, asset, round_number, index, attempt)
    request = LogicalRunRequest(BackfillScope(backfill_id, round_number, index), asset, attempt)
    assert run_key_for(request) == expected == run_key(backfill_id, asset, round_number, index, attempt)


def test_pinned_backfill_value_is_unchanged():
    assert run_key("bf-abc", "orders", 1, 5, 1) == "rk-8c5c72e97f82c38fea18149d12fed11f"


def test_separators_and_length_prefixes_inside_fields_cannot_alias():
    pairs = [
        (SensorScope("a" + US + "b", "c"), SensorScope("a", "b" + US + "c")),
        (SensorScope("a", "1:b"), SensorScope("a1:", "b")),
        (ManualScope("x"), SensorScope("x", None, "x")),
        (SensorScope("s", "k"), SensorScope("s", None, "k")),  # a run key is not a request id
        (ManualScope("r"), ReexecutionScope("r", ReexecutionMode.ALL, "r")),
    ]
    for left, right in pairs:
        assert run_key_for(LogicalRunRequest(left, "a")) != run_key_for(LogicalRunRequest(right, "a"))
        assert scope_key_for(left) != scope_key_for(right)


def test_a_tick_is_its_instant_whatever_zone_names_it():
    utc = datetime(2024, 11, 3, 9, 0, tzinfo=timezone.utc)
    local = utc.astimezone(ZoneInfo("America/Los_Angeles"))  # 01:00 PST, the second 01:00
    assert run_key_for(LogicalRunRequest(ScheduleScope("s", utc), "a")) == run_key_for(
        LogicalRunRequest(ScheduleScope("s", local), "a")
    )
    first_one_am = utc - timedelta(hours=1)  # 01:00 PDT: same wall time, another tick
    assert run_key_for(LogicalRunRequest(ScheduleScope("s", utc), "a")) != run_key_for(
        LogicalRunRequest(ScheduleScope("s", first_one_am), "a")
    )


def test_a_missing_request_key_differs_from_an_empty_one():
    tick = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert run_key_for(LogicalRunRequest(ScheduleScope("s", tick, None), "a")) != run_key_for(
        LogicalRunRequest(ScheduleScope("s", tick, ""), "a")
    )


def test_reexecution_keys_follow_lineage_mode_and_request():
    parent = run_key_for(LogicalRunRequest(ManualScope("launch-1"), "orders"))
    keys = {
        run_key_for(LogicalRunRequest(ReexecutionScope(p, m, r), "orders"))
        for p in (parent, "rk-other")
        for m in ReexecutionMode
        for r in ("re-1", "re-2")
    }
    assert len(keys) == 8 and parent not in keys
    child = run_key_for(LogicalRunRequest(ReexecutionScope(parent, ReexecutionMode.FROM_FAILURE, "re-1"), "orders"))
    grandchild = run_key_for(LogicalRunRequest(ReexecutionScope(child, ReexecutionMode.ALL, "re-1"), "orders"))
    assert grandchild not in keys | {child}


@given(scopes, id_text, id_text, st.integers(1, 3), st.integers(1, 3))
def test_assets_and_attempts_share_a_scope_key_but_not_a_run_key(scope, asset, other_asset, attempt, other_attempt):
    one = LogicalRunRequest(scope, asset, attempt)
    two = LogicalRunRequest(scope, other_asset, other_attempt)
    assert (run_key_for(one) == run_key_for(two)) == ((asset, attempt) == (other_asset, other_attempt))
    assert scope_key_for(one.scope) == scope_key_for(two.scope)


@given(st.lists(scopes, unique=True, max_size=30))
def test_distinct_scopes_get_distinct_scope_keys(batch):
    keys = [scope_key_for(s) for s in batch]
    assert len(set(keys)) == len(keys) and all(k.startswith("sk-") for k in keys)


def test_origins():
    tick = datetime(2024, 1, 1, tzinfo=timezone.utc)
    expected = {
        BackfillScope("bf-1", 1, 0): RunOrigin.BACKFILL,
        ScheduleScope("s", tick): RunOrigin.SCHEDULE,
        SensorScope("s", "k"): RunOrigin.SENSOR,
        ManualScope("r"): RunOrigin.MANUAL,
        ReexecutionScope("rk-1", ReexecutionMode.ALL, "r"): RunOrigin.MANUAL,
    }
    assert {scope: LogicalRunRequest(scope, "a").origin for scope in expected} == expected


@pytest.mark.parametrize(
    "build",
    [
        lambda: LogicalRunRequest(ManualScope("r"), "a" + US + "b"),
        lambda: LogicalRunRequest(ManualScope("r"), ""),
        lambda: LogicalRunRequest(ManualScope("r"), "a", 0),
        lambda: BackfillScope("bf" + US, 1, 0),
        lambda: BackfillScope("bf-1", 0, 0),
        lambda: BackfillScope("bf-1", 1, -1),
        lambda: ScheduleScope("s", datetime(2024, 1, 1)),  # naive: no instant
        lambda: SensorScope("s", None, ""),  # no run key and no request id: nothing names it
        lambda: ManualScope(""),
        lambda: ReexecutionScope("rk-1", "ALL", "r"),  # type: ignore[arg-type]
    ],
)
def test_malformed_requests_are_refused(build):
    with pytest.raises(ValueError):
        build()
