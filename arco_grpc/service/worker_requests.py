"""Checking WorkerService requests and turning them into plain values.

Field paths are relative to the request message. What needs a backfill's
plan (failed keys are partitions of the attempt) is checked by the worker
application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from google.protobuf import duration_pb2

from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.backfill_requests import check_stream_id
from arco_grpc.service.dispatch import LeaseAsk
from arco_grpc.service.idempotency import RequestIdentity, identify_request

MAX_WORKER_ID_LENGTH = 255
MAX_CHUNKS_PER_LEASE = 256
MAX_WAIT = timedelta(seconds=60)
DEFAULT_LEASE_TTL = timedelta(seconds=30)
MIN_LEASE_TTL = timedelta(seconds=1)
MAX_LEASE_TTL = timedelta(hours=1)
MAX_LEASES_PER_CALL = 1024
MAX_FAILED_KEYS = 10_000
# Longer error messages are cut (a worker's report must not fail for its prose).
MAX_ERROR_MESSAGE_LENGTH = 10_000
MAX_METADATA_ENTRIES = 64
MAX_METADATA_KEY_LENGTH = 128
MAX_METADATA_VALUE_LENGTH = 1024
MAX_RUN_ID_LENGTH = 64
# Unicode category Cc: C0 and C1 controls and DEL.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# LeaseRef and Completion are not frozen: one of each is made per completion on the hot path (a frozen
# dataclass's __init__ costs several times more).
@dataclass(slots=True)
class LeaseRef:
    """One lease named by a request: its backfill and run."""

    backfill_id: str
    run_id: str


@dataclass(slots=True)
class Completion:
    """A checked ChunkCompletion; ``failed_keys`` None means none were named (every partition failed, for FAILED)."""

    lease: LeaseRef
    worker_id: str
    succeeded: bool
    failed_keys: tuple[str, ...] | None
    error: str
    metadata: tuple[tuple[str, str], ...]


# Workers name themselves, and their backfills, on every call and in every completion of a batch:
# the checks of those strings are remembered (by value, so they stay exact).
_CHECKED_IDS = 4096


@lru_cache(maxsize=_CHECKED_IDS)
def _worker_id_problem(worker_id: str) -> str | None:
    """What is wrong with ``worker_id`` as a worker's name, or None."""
    if not worker_id:
        return "worker_id is required: a stable name for the worker (host and process, say)"
    if len(worker_id) > MAX_WORKER_ID_LENGTH:
        return f"worker_id is {len(worker_id)} characters long; the limit is {MAX_WORKER_ID_LENGTH}"
    if _CONTROL.search(worker_id):
        return "worker_id may not contain control characters"
    return None


@lru_cache(maxsize=_CHECKED_IDS)
def _is_stream_id(backfill_id: str) -> bool:
    try:
        check_stream_id(backfill_id)
    except InvalidArgument:
        return False
    return True


def check_worker_id(worker_id: str, field: str = "worker_id") -> None:
    """Raises InvalidArgument unless ``worker_id`` names a worker."""
    problem = _worker_id_problem(worker_id)
    if problem is not None:
        raise InvalidArgument(problem, field=field)


_ZERO = timedelta(0)


def _duration(message: duration_pb2.Duration, field: str) -> timedelta:
    seconds, nanos = message.seconds, message.nanos
    if not seconds and not nanos:
        return _ZERO  # the usual case (unset), without the library's slower conversion
    if seconds < 0 or nanos < 0:
        raise InvalidArgument(f"{field} may not be negative", field=field)
    return message.ToTimedelta()


def lease_ttl_of(message: duration_pb2.Duration, present: bool, field: str = "lease_ttl") -> timedelta | None:
    """The lease ttl asked for (None when unset or zero).

    Raises:
        InvalidArgument: it is outside [1 s, 1 h].
    """
    ttl = _duration(message, field) if present else timedelta(0)
    if ttl == timedelta(0):
        return None
    if not MIN_LEASE_TTL <= ttl <= MAX_LEASE_TTL:
        raise InvalidArgument(
            f"{field} must be between 1 s and 1 h (0 means {DEFAULT_LEASE_TTL.seconds} s), got {ttl.total_seconds()} s",
            field=field,
        )
    return ttl


def lease_request_from_proto(request: wapi.LeaseChunksRequest) -> tuple[LeaseAsk, float, RequestIdentity | None]:
    """The ask, the long-poll wait in seconds and (with a request_id) the request's identity.

    Raises:
        InvalidArgument: a field is malformed or out of range.
    """
    worker_id = request.worker_id
    check_worker_id(worker_id)
    max_chunks = request.max_chunks
    if max_chunks < 0:
        raise InvalidArgument(f"max_chunks may not be negative, got {max_chunks}; 0 means 1", field="max_chunks")
    # Empty lists, maps and durations are the usual case: tested first (iterating them costs more).
    asset_keys = request.asset_keys
    if asset_keys:
        for position, key in enumerate(asset_keys):
            check_asset_key(key, f"asset_keys[{position}]")
    tags = request.tags
    if tags and not all(tags):
        raise InvalidArgument("tag keys may not be empty", field="tags")
    wait = _duration(request.wait_timeout, "wait_timeout")
    if wait > MAX_WAIT:
        raise InvalidArgument(f"wait_timeout is at most 60 s, got {wait.total_seconds()} s", field="wait_timeout")
    ttl = lease_ttl_of(request.lease_ttl, request.HasField("lease_ttl")) or DEFAULT_LEASE_TTL
    identity = identify_request("LeaseChunks", request) if request.request_id else None
    ask = LeaseAsk(
        worker_id=worker_id,
        max_chunks=min(max_chunks or 1, MAX_CHUNKS_PER_LEASE),
        assets=frozenset(asset_keys) if asset_keys else None,
        tags=tuple(sorted(tags.items())) if tags else (),
        ttl=ttl,
    )
    return ask, wait.total_seconds(), identity


def lease_ref_from_proto(message: wapi.ChunkLease, field: str) -> LeaseRef:
    """The lease a ChunkLease names.

    Raises:
        InvalidArgument: the run id or backfill id is missing or malformed.
    """
    run_id = message.run_id
    if not run_id:
        raise InvalidArgument("run_id is required: pass the lease LeaseChunks returned", field=f"{field}.run_id")
    # Printable ASCII holds no control character: two C calls instead of the regex for the usual id.
    if len(run_id) > MAX_RUN_ID_LENGTH or (not (run_id.isascii() and run_id.isprintable()) and _CONTROL.search(run_id)):
        raise InvalidArgument(f"{run_id[:80]!r} is not a run id", field=f"{field}.run_id")
    backfill_id = message.backfill_id
    if not _is_stream_id(backfill_id):
        check_stream_id(backfill_id, f"{field}.backfill_id")
    return LeaseRef(backfill_id, run_id)


def lease_refs(leases: list[wapi.ChunkLease], field: str = "leases") -> list[LeaseRef]:
    """The leases a Heartbeat or ReleaseChunks names.

    Raises:
        InvalidArgument: too many, or one is malformed.
    """
    if len(leases) > MAX_LEASES_PER_CALL:
        raise InvalidArgument(f"{len(leases)} leases were given; at most {MAX_LEASES_PER_CALL} per call", field=field)
    return [lease_ref_from_proto(lease, f"{field}[{position}]") for position, lease in enumerate(leases)]


def _metadata(metadata: dict[str, str], field: str) -> tuple[tuple[str, str], ...]:
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise InvalidArgument(f"{len(metadata)} metadata entries; at most {MAX_METADATA_ENTRIES}", field=field)
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY_LENGTH or len(value) > MAX_METADATA_VALUE_LENGTH:
            raise InvalidArgument(
                f"metadata keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters and values at most "
                f"{MAX_METADATA_VALUE_LENGTH}; {key[:40]!r} is not",
                field=field,
            )
    return tuple(sorted(metadata.items()))


def completion_from_proto(message: wapi.ChunkCompletion, field: str = "completion") -> Completion:
    """A checked completion.

    Raises:
        InvalidArgument: a field is missing, malformed or out of range.
    """
    lease = lease_ref_from_proto(message.lease, f"{field}.lease")
    check_worker_id(message.worker_id, f"{field}.worker_id")
    outcome = message.outcome
    if outcome not in (wapi.ChunkCompletion.OUTCOME_SUCCEEDED, wapi.ChunkCompletion.OUTCOME_FAILED):
        raise InvalidArgument(
            "outcome must be OUTCOME_SUCCEEDED or OUTCOME_FAILED", field=f"{field}.outcome"
        )
    named = message.failed_partition_keys
    keys = tuple(named) if named else ()
    if len(keys) > MAX_FAILED_KEYS:
        raise InvalidArgument(
            f"{len(keys)} failed keys; at most {MAX_FAILED_KEYS} (report the whole chunk failed with none)",
            field=f"{field}.failed_partition_keys",
        )
    if outcome == wapi.ChunkCompletion.OUTCOME_SUCCEEDED and keys:
        raise InvalidArgument(
            "a SUCCEEDED outcome cannot name failed partitions; report OUTCOME_FAILED for a partial failure",
            field=f"{field}.failed_partition_keys",
        )
    return Completion(
        lease=lease,
        worker_id=message.worker_id,
        succeeded=outcome == wapi.ChunkCompletion.OUTCOME_SUCCEEDED,
        failed_keys=keys or None,
        error=message.error_message[:MAX_ERROR_MESSAGE_LENGTH],
        metadata=_metadata(dict(message.metadata), f"{field}.metadata") if message.metadata else (),
    )
