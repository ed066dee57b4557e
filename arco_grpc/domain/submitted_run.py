"""Runs submitted through RunService: schedule ticks, sensor requests, manual launches and re-executions.

A submitted run lives in a stream of its own that is a backfill of one target
and one chunk: the backfill state machine, leases, retries, cancellation and
projections serve it unchanged. Two things differ, and this module holds them:

* its run keys come from the origin's dedupe scope
  (:func:`arco_grpc.planning.run_keys.run_key_for`), not from the chunk, so the
  same logical request gets the same key whatever path it came by;
* its identity: the stream id is the run id of its first attempt, derived from
  the scope (and, within a schedule tick, the request key), so two concurrent
  submissions of one logical request land on one stream and the event table's
  version check lets only one of them create it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from arco_grpc.planning.run_keys import (
    LogicalRunRequest,
    RunOrigin,
    RunScope,
    ScheduleScope,
    SensorScope,
    backfill_run_key,
    origin_of,
    run_key_for,
    scope_key_for,
)

SUBMITTED_RUN_ID_PREFIX = "run-"
_SUBMITTED_RUN_ID = re.compile("run-[0-9a-f]{32}")
_RUN_ID_DOMAIN = b"arco/submitted-run-id/v1\x1f"


@dataclass(frozen=True, slots=True)
class SubmittedRun:
    """What makes a stream a submitted run: its dedupe scope and its lineage.

    ``parent_run_id`` and ``root_run_id`` are set for re-executions (the root
    is the first run of the lineage); a run without parent is its own root.
    """

    scope: RunScope
    parent_run_id: str = ""
    root_run_id: str = ""

    @property
    def origin(self) -> RunOrigin:
        """SCHEDULE, SENSOR or MANUAL (re-executions are MANUAL)."""
        return origin_of(self.scope)

    @property
    def origin_name(self) -> str:
        """The schedule's or the sensor's name; empty for manual runs."""
        if isinstance(self.scope, ScheduleScope):
            return self.scope.schedule_name
        if isinstance(self.scope, SensorScope):
            return self.scope.sensor_name
        return ""

    @property
    def origin_run_key(self) -> str | None:
        """The origin's own key: a schedule tick's request key or a sensor's run key (None: none given)."""
        if isinstance(self.scope, ScheduleScope):
            return self.scope.request_key
        if isinstance(self.scope, SensorScope):
            return self.scope.sensor_run_key
        return None

    @property
    def scope_key(self) -> str:
        """The ledger's index of the dedupe scope (see :func:`scope_key_for`)."""
        return scope_key_for(self.scope)

    def run_key(self, asset_key: str, attempt: int) -> str:
        """The run key of ``attempt`` (1 first) at materializing ``asset_key`` for this request."""
        return run_key_for(LogicalRunRequest(self.scope, asset_key, attempt))


def submitted_run_id(scope: RunScope) -> str:
    """The id of the first attempt (and of the stream) of the run a request in ``scope`` creates.

    ``"run-"`` and 32 hex digits of SHA-256 over the scope key and, for a
    schedule tick, the request key that tells runs of the tick apart; so
    every request that would dedupe to one run names one stream. (Server-drawn
    run ids of later attempts have 28 hex digits and never equal one.)
    """
    fields = [scope_key_for(scope)]
    if isinstance(scope, ScheduleScope):
        fields.append("-" if scope.request_key is None else "=" + scope.request_key)
    text = "\x1f".join(fields).encode("utf-8", "surrogatepass")
    return SUBMITTED_RUN_ID_PREFIX + hashlib.sha256(_RUN_ID_DOMAIN + text).hexdigest()[:32]


def is_submitted_run_id(text: str) -> bool:
    """True when ``text`` has the shape of a submitted run's id (it may still name no run)."""
    return _SUBMITTED_RUN_ID.fullmatch(text) is not None


def lineage_of(parent_run_id: str, parent_root_run_id: str) -> tuple[str, str]:
    """(parent, root) of a re-execution of run ``parent_run_id`` whose own root is ``parent_root_run_id``."""
    return parent_run_id, parent_root_run_id or parent_run_id



def chunk_run_key(
    submitted: SubmittedRun | None, backfill_id: str, asset_key: str, round_number: int, chunk_index: int, attempt: int
) -> str:
    """The run key of an attempt at a chunk of stream ``backfill_id``: the backfill formula, or the submitted run's."""
    if submitted is None:
        return backfill_run_key(backfill_id, asset_key, round_number, chunk_index, attempt)
    return submitted.run_key(asset_key, attempt)
