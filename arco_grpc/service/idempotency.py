"""Request ids and body fingerprints: what makes a mutating RPC safe to retry."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from google.protobuf.message import Message

from arco_grpc.errors import InvalidArgument

MAX_REQUEST_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class RequestIdentity:
    """Who a mutating request is (its id) and what it asks (method and body fingerprint)."""

    request_id: str
    method: str
    body_fingerprint: str


def check_request_id(request_id: str, field: str = "request_id") -> None:
    """Raises InvalidArgument unless ``request_id`` is usable as an idempotency key."""
    if not request_id:
        raise InvalidArgument(
            "request_id is required: choose a unique id (a UUID is best) and reuse it only to retry this request",
            field=field,
        )
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument(
            f"request_id is {len(request_id)} characters long; the limit is {MAX_REQUEST_ID_LENGTH}", field=field
        )
    if any(unicodedata.category(c) == "Cc" for c in request_id):
        raise InvalidArgument("request_id may not contain control characters", field=field)


def body_fingerprint(method: str, request: Message) -> str:
    """Hex sha256 of the method and the deterministic encoding of every field but ``request_id``.

    A retry of the same request matches; any change to the body does not.
    """
    body = type(request)()
    body.CopyFrom(request)
    body.ClearField("request_id")
    return hashlib.sha256(method.encode() + b"\0" + body.SerializeToString(deterministic=True)).hexdigest()


def identify_request(method: str, request: Message) -> RequestIdentity:
    """The identity of a mutating request carrying a ``request_id`` field.

    Raises:
        InvalidArgument: the request id is missing or malformed.
    """
    request_id = getattr(request, "request_id")
    check_request_id(request_id)
    return RequestIdentity(request_id=request_id, method=method, body_fingerprint=body_fingerprint(method, request))
