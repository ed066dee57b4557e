"""Dedupe: does a submitted request repeat a run the ledger already holds?

The ledger indexes every run by the scope key of its request
(:func:`arco_grpc.planning.run_keys.scope_key_for`). A new request is compared
only with the runs that share its scope key, in ledger order, with Dagster's
rules (dagster-semantics.md section 5):

* SENSOR with a run key: any run of the same (sensor, run key), in any state,
  for all history, is the request's run. The asset does not widen the scope:
  a sensor reusing a run key for another asset gets the earlier run, as a
  Dagster sensor reusing a run key gets a skipped run request.
* SCHEDULE: the scope is one scheduled execution time. A request with a
  request key repeats the run of that tick with the same request key; one
  without repeats any run of that tick ("one run per tick, across failure
  recoveries").
* MANUAL launch and re-execution: the scope is the request id (and, for a
  re-execution, the parent and the mode), so only a retry of the same call
  repeats a run.
* SENSOR without a run key: the scope is the submitting request id, as for
  manual launches; sensors without run keys are never deduped otherwise.
* BACKFILL: the scope is one chunk of one round; the request repeats the run
  of the same attempt (a new attempt is a new run).

When several runs match (they cannot, if every submission goes through this
function, but a ledger may be rebuilt from older events) the first one in
ledger order is the request's run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Union

from arco_grpc.planning.run_keys import (
    BackfillScope,
    LogicalRunRequest,
    ScheduleScope,
    run_key_for,
)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A run already in the ledger, as dedupe sees it.

    ``request_key`` is the key that told the run apart within its scope: a
    schedule tick's request key (None if the tick's request had none). It is
    ignored for the other origins.
    """

    run_id: str
    run_key: str
    request_key: str | None = None


@dataclass(frozen=True, slots=True)
class ExistingRun:
    """The request repeats this run: return it and create nothing."""

    run_id: str
    run_key: str


@dataclass(frozen=True, slots=True)
class NewRun:
    """The request is new: create a run with this key."""

    run_key: str


Resolution = Union[ExistingRun, NewRun]


def _matches(request: LogicalRunRequest, request_run_key: str, entry: LedgerEntry) -> bool:
    scope = request.scope
    if isinstance(scope, ScheduleScope):
        return scope.request_key is None or entry.request_key == scope.request_key
    if isinstance(scope, BackfillScope):
        return entry.run_key == request_run_key
    return True


def resolve_submission(request: LogicalRunRequest, same_scope: Iterable[LedgerEntry]) -> Resolution:
    """The run a submitted request gets, given the ledger's runs sharing its scope key (in ledger order)."""
    key = run_key_for(request)
    for entry in same_scope:
        if _matches(request, key, entry):
            return ExistingRun(entry.run_id, entry.run_key)
    return NewRun(key)
