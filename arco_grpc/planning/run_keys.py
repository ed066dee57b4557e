"""Run keys: one function names the run of every logical request, whatever its origin.

A run is asked for by one of four origins, and each origin says what makes two
requests "the same request" (its dedupe scope, after Dagster's run keys):

* BACKFILL: one attempt at one chunk of one backfill: (backfill id, retry round,
  chunk index), the asset and the attempt number.
* SCHEDULE: one scheduled execution time of one schedule, identified as an
  instant (so a wall time repeated by a DST fall-back gives two distinct ticks),
  plus an optional request key distinguishing several runs of one tick (Dagster's
  ``run_key``; partitioned schedule ticks use the partition key, as Dagster's
  ``build_schedule_from_partitioned_job`` does).
* SENSOR: the sensor's name and the run key the sensor chose. A sensor request
  without a run key is never a repeat of another; it is named by the id of the
  request that submitted it, so only a retry of that very request repeats it.
* MANUAL: a launch is named by its request id. A re-execution
  (ReexecuteRun FROM_FAILURE or ALL) is named by its parent run's key, the mode
  and the request id of the ReexecuteRun call. The request id, not a counter of
  earlier re-executions, tells two re-executions apart: a counter would have to
  be read from the ledger, so a retried ReexecuteRun racing another could get a
  different key, while a request id makes the retry land on the same key and two
  deliberate re-executions get two keys. Chaining through the parent's key makes
  every re-execution's key depend on its whole lineage back to the root run.

:func:`run_key_for` maps a :class:`LogicalRunRequest` (scope, asset, attempt) to
``"rk-"`` and 32 lowercase hex digits (128 bits of SHA-256). Two encodings feed
the hash:

* Backfill (unchanged since v1; stored keys and tests pin it):
  ``sha256("arco/run-key/v1" US backfill_id US asset_key US round US index US attempt)``,
  US being the ASCII unit separator 0x1F and numbers decimal. Backfill ids and
  asset keys never contain US (refused here), so the fields split back uniquely.
* Every other origin: ``sha256("arco/run-key/v2" US f1 f2 ... fn)`` where each
  field is its UTF-8 length in decimal, ":" and its bytes. Length prefixes make
  the encoding injective whatever characters names, sensor run keys or request
  ids hold, and the first field is an origin tag. No text of this form equals a
  v1 text: their parts before the first US differ.

So distinct logical requests hash distinct texts, and the keys differ except
with probability about n^2 / 2^129 for n keys; the store refuses a second run
with a key it has seen, so a collision is refused, never merged.

:func:`scope_key_for` names the dedupe scope the same way (prefix ``"sk-"``): the
ledger indexes runs by it, and :mod:`arco_grpc.planning.run_dedupe` decides,
from the runs sharing a scope key, whether a request repeats one of them.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Union

RUN_KEY_PREFIX = "rk-"
SCOPE_KEY_PREFIX = "sk-"
_BACKFILL_DOMAIN = "arco/run-key/v1"
_DOMAIN = "arco/run-key/v2"
_SCOPE_DOMAIN = "arco/scope-key/v1"
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in asset keys or ids


class RunOrigin(enum.Enum):
    """Who asked for a run."""

    BACKFILL = "BACKFILL"
    SCHEDULE = "SCHEDULE"
    SENSOR = "SENSOR"
    MANUAL = "MANUAL"


class ReexecutionMode(enum.Enum):
    """What a re-execution re-runs: the failed partitions of its parent, or all of them."""

    FROM_FAILURE = "FROM_FAILURE"
    ALL = "ALL"


def _check_no_separator(value: str, field: str) -> None:
    if _SEPARATOR in value:
        raise ValueError(f"{field} {value!r} contains the unit separator 0x1F, which keys cannot hold")


def _check_text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")


def _check_count(value: object, field: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{field} must be an integer >= {low}, got {value!r}")


def utc_instant_text(moment: datetime) -> str:
    """An aware datetime as UTC ISO 8601 (``2024-03-10T10:00:00+00:00``): one text per instant."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"a scheduled execution time must be an aware datetime, got {moment!r}")
    return moment.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True, slots=True)
class BackfillScope:
    """One chunk of one retry round of a backfill."""

    backfill_id: str
    round: int
    chunk_index: int

    def __post_init__(self) -> None:
        _check_text(self.backfill_id, "backfill_id")
        _check_no_separator(self.backfill_id, "backfill_id")
        _check_count(self.round, "round", 1)
        _check_count(self.chunk_index, "chunk_index", 0)


@dataclass(frozen=True, slots=True)
class ScheduleScope:
    """One tick of a schedule; ``request_key`` tells apart several runs of that tick."""

    schedule_name: str
    scheduled_time: datetime
    request_key: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.schedule_name, "schedule_name")
        utc_instant_text(self.scheduled_time)


@dataclass(frozen=True, slots=True)
class SensorScope:
    """A sensor's request: its run key, or without one the id of the submitting request."""

    sensor_name: str
    sensor_run_key: str | None = None
    request_id: str = ""

    def __post_init__(self) -> None:
        _check_text(self.sensor_name, "sensor_name")
        if self.sensor_run_key is None:
            _check_text(self.request_id, "request_id (a sensor request without run key)")


@dataclass(frozen=True, slots=True)
class ManualScope:
    """A manual launch, named by the id of the request that made it."""

    request_id: str

    def __post_init__(self) -> None:
        _check_text(self.request_id, "request_id")


@dataclass(frozen=True, slots=True)
class ReexecutionScope:
    """A manual re-execution of the run keyed ``parent_run_key``."""

    parent_run_key: str
    mode: ReexecutionMode
    request_id: str

    def __post_init__(self) -> None:
        _check_text(self.parent_run_key, "parent_run_key")
        if not isinstance(self.mode, ReexecutionMode):
            raise ValueError(f"mode must be a ReexecutionMode, got {self.mode!r}")
        _check_text(self.request_id, "request_id")


RunScope = Union[BackfillScope, ScheduleScope, SensorScope, ManualScope, ReexecutionScope]
_SCOPE_TYPES = (BackfillScope, ScheduleScope, SensorScope, ManualScope, ReexecutionScope)


@dataclass(frozen=True, slots=True)
class LogicalRunRequest:
    """What a run is for: its origin's scope, the asset it materializes and the attempt (1 first)."""

    scope: RunScope
    asset_key: str
    attempt: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.scope, _SCOPE_TYPES):
            raise ValueError(f"scope must be one of the run scopes, got {self.scope!r}")
        _check_text(self.asset_key, "asset_key")
        _check_no_separator(self.asset_key, "asset_key")
        _check_count(self.attempt, "attempt", 1)

    @property
    def origin(self) -> RunOrigin:
        """The origin the scope belongs to (a re-execution is MANUAL)."""
        return origin_of(self.scope)


def origin_of(scope: RunScope) -> RunOrigin:
    """The origin of a dedupe scope."""
    if isinstance(scope, BackfillScope):
        return RunOrigin.BACKFILL
    if isinstance(scope, ScheduleScope):
        return RunOrigin.SCHEDULE
    if isinstance(scope, SensorScope):
        return RunOrigin.SENSOR
    return RunOrigin.MANUAL


def _scope_fields(scope: RunScope) -> tuple[str, ...]:
    """The fields that identify a scope, origin tag first (never used for the backfill v1 text)."""
    if isinstance(scope, BackfillScope):
        return ("backfill", scope.backfill_id, str(scope.round), str(scope.chunk_index))
    if isinstance(scope, ScheduleScope):
        return ("schedule", scope.schedule_name, utc_instant_text(scope.scheduled_time))
    if isinstance(scope, SensorScope):
        if scope.sensor_run_key is None:
            return ("sensor-request", scope.sensor_name, scope.request_id)
        return ("sensor", scope.sensor_name, scope.sensor_run_key)
    if isinstance(scope, ManualScope):
        return ("manual", scope.request_id)
    return ("reexecution", scope.parent_run_key, scope.mode.value, scope.request_id)


def _framed_digest(domain: str, fields: tuple[str, ...]) -> str:
    """First 32 hex digits of sha256(domain US len:field len:field ...)."""
    parts = [domain.encode("utf-8"), _SEPARATOR.encode("ascii")]
    for value in fields:
        data = value.encode("utf-8", "surrogatepass")
        parts.append(b"%d:" % len(data))
        parts.append(data)
    return hashlib.sha256(b"".join(parts)).hexdigest()[:32]


@lru_cache(maxsize=1024)
def _backfill_key_start(backfill_id: str, asset_key: str, round_number: int) -> hashlib._Hash:
    """sha256 fed the text of a backfill run key up to the chunk index (shared: only ever copied)."""
    text = _SEPARATOR.join((_BACKFILL_DOMAIN, backfill_id, asset_key, str(round_number), ""))
    return hashlib.sha256(text.encode("utf-8"))


def backfill_run_key(backfill_id: str, asset_key: str, round_number: int, chunk_index: int, attempt: int) -> str:
    """The v1 backfill formula; see the module docstring. Values are pinned by stored keys."""
    # sha256 of DOMAIN US backfill_id US asset_key US round US index US attempt; the hash of the start, the same
    # for every chunk of a round, is copied rather than recomputed (a key is made per lease).
    digest = _backfill_key_start(backfill_id, asset_key, round_number).copy()
    digest.update(f"{chunk_index}{_SEPARATOR}{attempt}".encode("utf-8"))
    return RUN_KEY_PREFIX + digest.hexdigest()[:32]


def run_key_for(request: LogicalRunRequest) -> str:
    """The run key of a logical request: equal requests get equal keys on any machine, forever."""
    scope = request.scope
    if isinstance(scope, BackfillScope):
        return backfill_run_key(scope.backfill_id, request.asset_key, scope.round, scope.chunk_index, request.attempt)
    if isinstance(scope, ScheduleScope):
        # A present request key, even "", is a field; None is told apart by the tag.
        within = ("keyed", scope.request_key) if scope.request_key is not None else ("tick",)
        fields = (*_scope_fields(scope), *within, request.asset_key, str(request.attempt))
    else:
        fields = (*_scope_fields(scope), request.asset_key, str(request.attempt))
    return RUN_KEY_PREFIX + _framed_digest(_DOMAIN, fields)


def scope_key_for(scope: RunScope) -> str:
    """The key of a dedupe scope: the runs the ledger compares a new request against.

    Sensor: (sensor, run key) for all history. Schedule: one scheduled execution
    time (the tick's request keys only tell runs apart within it). Manual launch:
    the request id. Re-execution: (parent run key, mode, request id). Backfill:
    one chunk of one round (attempts of the chunk share it).
    """
    return SCOPE_KEY_PREFIX + _framed_digest(_SCOPE_DOMAIN, _scope_fields(scope))
