"""Checking BackfillService requests and turning them into plain values.

Everything that can be checked without the store is checked here, with field
paths relative to the request message; what needs the catalog (the asset
exists, is partitioned, the selector fits it) is checked when resolving.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from arco_grpc.domain.backfill import DispatchOrder
from arco_grpc.domain.partition_status import ReprocessPolicy
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.domain.catalog import check_asset_key
from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.selector import AllPartitions, Selector, normalize_selector
from arco_grpc.domain.submitted_run import is_submitted_run_id
from arco_grpc.planning.backfill_ids import is_backfill_id
from arco_grpc.service.convert_chunk_events import retry_policy_from_proto
from arco_grpc.service.convert_partitions import datetime_from_proto, selector_from_proto
from arco_grpc.service.idempotency import check_request_id

MAX_TARGETS = 100
DEFAULT_MAX_CONCURRENCY = 10
MAX_CONCURRENCY = 10_000
MAX_TAGS = 64
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 1024
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_CREATOR_LENGTH = 255
MAX_REASON_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class TargetRequest:
    """One asset to backfill and the selector asked for (not yet resolved)."""

    asset_key: str
    selector: Selector


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A checked CreateBackfillRequest."""

    request_id: str
    targets: tuple[TargetRequest, ...]
    chunk_size: int
    max_concurrency: int
    order: DispatchOrder
    tags: tuple[tuple[str, str], ...]
    title: str
    description: str
    creator: str
    as_of: datetime | None
    validate_only: bool
    retry_policy: RetryPolicy = RetryPolicy()
    reprocess_policy: ReprocessPolicy = ReprocessPolicy.ALL
    # One selection of the root targets, propagated to the others (None: each target has its own).
    root_selector: Selector | None = None


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def check_text(text: str, limit: int, field: str, *, single_line: bool = True) -> None:
    """Raises InvalidArgument when ``text`` is over ``limit`` characters or (single line) has control characters."""
    if len(text) > limit:
        raise InvalidArgument(f"{field} is {len(text)} characters long; the limit is {limit}", field=field)
    if single_line and _has_control_characters(text):
        raise InvalidArgument(f"{field} may not contain control characters (newlines, tabs, ...)", field=field)


def _target(message: api.BackfillTargetSpec, position: int) -> TargetRequest:
    at = f"targets[{position}]"
    check_asset_key(message.asset_key, f"{at}.asset_key")
    selector: Selector = AllPartitions()
    if message.HasField("selector"):
        try:
            selector = selector_from_proto(message.selector)
            normalize_selector(selector)
        except InvalidArgument as error:
            raise error.under(f"{at}.selector") from None
    return TargetRequest(message.asset_key, selector)


def _targets(request: api.CreateBackfillRequest) -> tuple[TargetRequest, ...]:
    if not request.targets:
        raise InvalidArgument("give at least one target: an asset key and a selector", field="targets")
    if len(request.targets) > MAX_TARGETS:
        raise InvalidArgument(
            f"{len(request.targets)} targets were given; a backfill has at most {MAX_TARGETS}", field="targets"
        )
    targets: list[TargetRequest] = []
    first_seen: dict[str, int] = {}
    for position, message in enumerate(request.targets):
        target = _target(message, position)
        if target.asset_key in first_seen:
            raise InvalidArgument(
                f"asset {target.asset_key!r} is targeted twice (targets[{first_seen[target.asset_key]}] and "
                f"targets[{position}]); target each asset once",
                field=f"targets[{position}].asset_key",
            )
        first_seen[target.asset_key] = position
        targets.append(target)
    return tuple(targets)


def tags_from_proto(tags: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Checked tags, sorted by key.

    Raises:
        InvalidArgument: too many tags, an empty key, or a key or value too long or with control characters.
    """
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(f"{len(tags)} tags were given; at most {MAX_TAGS} are allowed", field="tags")
    for key, value in tags.items():
        at = f"tags[{key!r}]"
        if not key:
            raise InvalidArgument("tag keys may not be empty", field="tags")
        check_text(key, MAX_TAG_KEY_LENGTH, at)
        check_text(value, MAX_TAG_VALUE_LENGTH, at)
    return tuple(sorted(tags.items()))


def _order(value: int) -> DispatchOrder:
    if value == bf.Backfill.ORDER_UNSPECIFIED:
        return DispatchOrder.FORWARD
    try:
        return DispatchOrder(value)
    except ValueError:
        raise InvalidArgument(
            f"order {value} is not known; use ORDER_FORWARD or ORDER_BACKWARD", field="order"
        ) from None


def reprocess_policy_from_proto(value: int) -> ReprocessPolicy:
    """The policy of a ReprocessPolicy number; unspecified is ALL.

    Raises:
        InvalidArgument: an unknown number.
    """
    if value == bf.REPROCESS_POLICY_UNSPECIFIED:
        return ReprocessPolicy.ALL
    try:
        return ReprocessPolicy(value)
    except ValueError:
        raise InvalidArgument(
            f"reprocess_policy {value} is not known; use REPROCESS_POLICY_ALL, REPROCESS_POLICY_MISSING or "
            "REPROCESS_POLICY_FAILED_AND_MISSING",
            field="reprocess_policy",
        ) from None


def create_request_from_proto(request: api.CreateBackfillRequest) -> CreateRequest:
    """The checked values of a CreateBackfillRequest.

    Raises:
        InvalidArgument: a field is missing, malformed or out of range (the violation names it).
    """
    if request.request_id or not request.validate_only:
        check_request_id(request.request_id)
    targets = _targets(request)
    root_selector = None
    if request.HasField("root_selector"):
        for position, target in enumerate(request.targets):
            if target.HasField("selector"):
                raise InvalidArgument(
                    "a target may not have its own selector when root_selector is given: the root selector "
                    "propagates to every target; leave it unset, or drop root_selector and give one per target",
                    field=f"targets[{position}].selector",
                )
        try:
            root_selector = selector_from_proto(request.root_selector)
            normalize_selector(root_selector)
        except InvalidArgument as error:
            raise error.under("root_selector") from None
    if request.chunk_size < 0:
        raise InvalidArgument(
            f"chunk_size may not be negative, got {request.chunk_size}; 0 uses each asset's chunk policy",
            field="chunk_size",
        )
    if not 0 <= request.max_concurrency <= MAX_CONCURRENCY:
        raise InvalidArgument(
            f"max_concurrency must be between 1 and {MAX_CONCURRENCY} (0 means {DEFAULT_MAX_CONCURRENCY}), "
            f"got {request.max_concurrency}",
            field="max_concurrency",
        )
    check_text(request.title, MAX_TITLE_LENGTH, "title")
    check_text(request.description, MAX_DESCRIPTION_LENGTH, "description", single_line=False)
    check_text(request.creator, MAX_CREATOR_LENGTH, "creator")
    try:
        retry_policy = retry_policy_from_proto(request.retry_policy, request.HasField("retry_policy"))
    except InvalidArgument as error:
        raise error.under("retry_policy") from None
    return CreateRequest(
        request_id=request.request_id,
        targets=targets,
        chunk_size=request.chunk_size,
        max_concurrency=request.max_concurrency or DEFAULT_MAX_CONCURRENCY,
        order=_order(request.order),
        tags=tags_from_proto(dict(request.tags)),
        title=request.title,
        description=request.description,
        creator=request.creator,
        as_of=datetime_from_proto(request.as_of, "as_of") if request.HasField("as_of") else None,
        validate_only=request.validate_only,
        retry_policy=retry_policy,
        reprocess_policy=reprocess_policy_from_proto(request.reprocess_policy),
        root_selector=root_selector,
    )


def check_backfill_id(backfill_id: str, field: str = "backfill_id") -> None:
    """Raises InvalidArgument unless ``backfill_id`` has the shape of a backfill id."""
    if not backfill_id:
        raise InvalidArgument("backfill_id is required", field=field)
    if not is_backfill_id(backfill_id):
        raise InvalidArgument(
            f"{backfill_id!r} is not a backfill id; ids look like 'bf-' and 12 characters of a-z and 2-7",
            field=field,
        )


def check_stream_id(stream_id: str, field: str = "backfill_id") -> None:
    """Raises InvalidArgument unless ``stream_id`` names a backfill or a submitted run (whose stream is its run id)."""
    if not is_submitted_run_id(stream_id):
        check_backfill_id(stream_id, field)


class _Mutation(Protocol):
    backfill_id: str
    expected_state_version: int
    reason: str


def mutation_fields(request: _Mutation) -> tuple[int | None, str]:
    """The expected state version (None when unset) and the reason of a Pause/Resume/Cancel/Update request.

    Raises:
        InvalidArgument: the backfill id is malformed, the version negative or the reason too long.
    """
    check_backfill_id(request.backfill_id)
    if request.expected_state_version < 0:
        raise InvalidArgument(
            f"expected_state_version may not be negative, got {request.expected_state_version}; 0 means unset",
            field="expected_state_version",
        )
    check_text(request.reason, MAX_REASON_LENGTH, "reason", single_line=False)
    return (request.expected_state_version or None), request.reason


def check_max_concurrency(value: int, field: str = "max_concurrency") -> None:
    """Raises InvalidArgument unless ``value`` is a usable concurrency limit of a live backfill."""
    if not 1 <= value <= MAX_CONCURRENCY:
        raise InvalidArgument(f"max_concurrency must be between 1 and {MAX_CONCURRENCY}, got {value}", field=field)
