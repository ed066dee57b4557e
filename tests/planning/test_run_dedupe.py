"""Dedupe-scope rules: which submitted requests repeat a run already in the ledger."""

from __future__ import annotations

from datetime import datetime, timezone

from arco_grpc.planning.run_dedupe import ExistingRun, LedgerEntry, NewRun, resolve_submission
from arco_grpc.planning.run_keys import (
    BackfillScope,
    LogicalRunRequest,
    ManualScope,
    ReexecutionMode,
    ReexecutionScope,
    ScheduleScope,
    SensorScope,
    run_key_for,
    scope_key_for,
)

TICK = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)


class Ledger:
    """The runs a store would hold, indexed by scope key, in creation order."""

    def __init__(self) -> None:
        self.by_scope: dict[str, list[LedgerEntry]] = {}
        self.created = 0

    def submit(self, request: LogicalRunRequest) -> str:
        scope = request.scope
        same_scope = self.by_scope.get(scope_key_for(scope), [])
        decision = resolve_submission(request, same_scope)
        if isinstance(decision, ExistingRun):
            return decision.run_id
        self.created += 1
        run_id = f"run-{self.created}"
        request_key = scope.request_key if isinstance(scope, ScheduleScope) else None
        self.by_scope.setdefault(scope_key_for(scope), []).append(LedgerEntry(run_id, decision.run_key, request_key))
        return run_id


def test_a_sensor_run_key_dedupes_forever_within_its_sensor_only():
    ledger = Ledger()
    first = ledger.submit(LogicalRunRequest(SensorScope("new_files", "file-7"), "orders"))
    assert ledger.submit(LogicalRunRequest(SensorScope("new_files", "file-7"), "orders")) == first
    # Dagster's scope is (sensor, run key): the asset does not widen it.
    assert ledger.submit(LogicalRunRequest(SensorScope("new_files", "file-7"), "customers")) == first
    assert ledger.submit(LogicalRunRequest(SensorScope("other_sensor", "file-7"), "orders")) != first
    assert ledger.submit(LogicalRunRequest(SensorScope("new_files", "file-8"), "orders")) != first
    assert ledger.created == 3


def test_a_sensor_request_without_run_key_repeats_only_its_own_request():
    ledger = Ledger()
    first = ledger.submit(LogicalRunRequest(SensorScope("s", None, "req-1"), "orders"))
    assert ledger.submit(LogicalRunRequest(SensorScope("s", None, "req-1"), "orders")) == first
    assert ledger.submit(LogicalRunRequest(SensorScope("s", None, "req-2"), "orders")) != first


def test_a_schedule_tick_dedupes_by_request_key_within_the_tick():
    ledger = Ledger()
    keyed = ledger.submit(LogicalRunRequest(ScheduleScope("daily", TICK, "2024-02-29"), "orders"))
    assert ledger.submit(LogicalRunRequest(ScheduleScope("daily", TICK, "2024-02-29"), "orders")) == keyed
    other_key = ledger.submit(LogicalRunRequest(ScheduleScope("daily", TICK, "2024-02-28"), "orders"))
    assert other_key != keyed
    # Without a request key, any run of the tick is the tick's run (the first one).
    assert ledger.submit(LogicalRunRequest(ScheduleScope("daily", TICK), "orders")) == keyed
    # The same request key at another tick is another run: run keys only count within a tick.
    later = TICK.replace(day=2)
    next_tick = ledger.submit(LogicalRunRequest(ScheduleScope("daily", later, "2024-02-29"), "orders"))
    assert next_tick not in (keyed, other_key)
    assert ledger.created == 3


def test_manual_launches_and_reexecutions_dedupe_by_request_id():
    ledger = Ledger()
    launch = ledger.submit(LogicalRunRequest(ManualScope("req-1"), "orders"))
    assert ledger.submit(LogicalRunRequest(ManualScope("req-1"), "orders")) == launch
    parent_key = run_key_for(LogicalRunRequest(ManualScope("req-1"), "orders"))
    rerun = LogicalRunRequest(ReexecutionScope(parent_key, ReexecutionMode.FROM_FAILURE, "req-2"), "orders")
    child = ledger.submit(rerun)
    assert child != launch and ledger.submit(rerun) == child
    everything = LogicalRunRequest(ReexecutionScope(parent_key, ReexecutionMode.ALL, "req-2"), "orders")
    assert ledger.submit(everything) not in (launch, child)
    assert ledger.created == 3


def test_a_backfill_chunk_dedupes_per_attempt():
    ledger = Ledger()
    scope = BackfillScope("bf-1", 1, 0)
    first = ledger.submit(LogicalRunRequest(scope, "orders", 1))
    assert ledger.submit(LogicalRunRequest(scope, "orders", 1)) == first
    assert ledger.submit(LogicalRunRequest(scope, "orders", 2)) != first


def test_a_new_request_gets_its_run_key():
    request = LogicalRunRequest(ManualScope("req-9"), "orders")
    assert resolve_submission(request, []) == NewRun(run_key_for(request))
    entries = [LedgerEntry("run-1", "rk-1"), LedgerEntry("run-2", "rk-2")]
    assert resolve_submission(request, entries) == ExistingRun("run-1", "rk-1")
