"""Page sizes and opaque page tokens.

A token is urlsafe base64 of a small binary record: a format version, the
position to continue from, and for key listings the evaluation time and a
short hash of the other parameters, so a token is refused when replayed with
different ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from arco_grpc.errors import InvalidArgument

_KEY_PAGE_FORMAT = struct.Struct(">BQq8s")  # version, position, as_of in µs, scope hash
_KEY_PAGE_VERSION = 1
_ASSET_PAGE_VERSION = 0xA1  # distinct from key-page tokens, so one is never read as the other
_MISMATCH = (
    "page_token was issued for a different request; pass the same asset_key, selector, as_of and descending "
    "as the request that returned it, or omit page_token to start over"
)


def page_size_of(requested: int, *, default: int, maximum: int, field: str = "page_size") -> int:
    """The page size to use: ``default`` for 0, at most ``maximum``.

    Raises:
        InvalidArgument: ``requested`` is negative.
    """
    if requested < 0:
        raise InvalidArgument(f"page_size may not be negative, got {requested}; 0 means {default}", field=field)
    return min(requested or default, maximum)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(token: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument(
            "page_token is malformed; pass next_page_token from a previous response unchanged", field=field
        ) from None


def key_page_scope(*parameters: str) -> bytes:
    """A short hash binding a token to the parameters that shape the listing."""
    return hashlib.sha256("\x1f".join(parameters).encode("utf-8", "surrogatepass")).digest()[:8]


@dataclass(frozen=True, slots=True)
class KeyPageToken:
    """Where a key listing continues, the evaluation time it used, and its parameter scope."""

    position: int
    as_of_us: int
    scope: bytes

    def encode(self) -> str:
        """The opaque token text."""
        return _encode(_KEY_PAGE_FORMAT.pack(_KEY_PAGE_VERSION, self.position, self.as_of_us, self.scope))

    @classmethod
    def decode(cls, token: str, field: str = "page_token") -> KeyPageToken:
        """Parses a token.

        Raises:
            InvalidArgument: the token is not one this server issued.
        """
        raw = _decode(token, field)
        if len(raw) != _KEY_PAGE_FORMAT.size or raw[0] != _KEY_PAGE_VERSION:
            raise InvalidArgument(
                "page_token is malformed; pass next_page_token from a previous response unchanged", field=field
            )
        _, position, as_of_us, scope = _KEY_PAGE_FORMAT.unpack(raw)
        return cls(position=position, as_of_us=as_of_us, scope=scope)

    def position_in(self, scope: bytes, field: str = "page_token") -> int:
        """The position to continue from, if the token belongs to a listing with ``scope``.

        Raises:
            InvalidArgument: the token was issued for other parameters.
        """
        if scope != self.scope:
            raise InvalidArgument(_MISMATCH, field=field)
        return self.position


def encode_asset_page_token(after_key: str) -> str:
    """The token continuing an asset listing after ``after_key``."""
    return _encode(bytes([_ASSET_PAGE_VERSION]) + after_key.encode("utf-8", "surrogatepass"))


def decode_asset_page_token(token: str, field: str = "page_token") -> str:
    """The key an asset listing continues after.

    Raises:
        InvalidArgument: the token is not one this server issued.
    """
    raw = _decode(token, field)
    try:
        if not raw or raw[0] != _ASSET_PAGE_VERSION or len(raw) < 2:
            raise ValueError("not an asset page token")
        return raw[1:].decode("utf-8", "surrogatepass")
    except (UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            "page_token is malformed; pass next_page_token from a previous ListAssets response unchanged", field=field
        ) from None


_CURSOR_FORMAT = struct.Struct(">BB3q8s")  # version, listing kind, three positions, scope hash
_CURSOR_VERSION = 0xC1  # distinct from key-page and asset-page tokens
CURSOR_CHUNKS = 1
CURSOR_BACKFILLS = 2
CURSOR_EVENTS = 3
CURSOR_RUNS = 4
CURSOR_SCHEDULES = 5
_CURSOR_MISMATCH = (
    "page_token was issued for a different request; repeat the request that returned it with the same "
    "parameters (only page_size may change), or omit page_token to start over"
)


@dataclass(frozen=True, slots=True)
class CursorToken:
    """Where a keyset listing continues: up to three integers, bound to a listing kind and its parameters."""

    kind: int
    position: tuple[int, int, int]
    scope: bytes

    def encode(self) -> str:
        """The opaque token text."""
        return _encode(_CURSOR_FORMAT.pack(_CURSOR_VERSION, self.kind, *self.position, self.scope))

    @classmethod
    def decode(cls, token: str, kind: int, scope: bytes, field: str = "page_token") -> tuple[int, int, int]:
        """The position a token continues from, if it was issued for this kind of listing and ``scope``.

        Raises:
            InvalidArgument: the token is malformed or was issued for other parameters.
        """
        raw = _decode(token, field)
        if len(raw) != _CURSOR_FORMAT.size or raw[0] != _CURSOR_VERSION or raw[1] != kind:
            raise InvalidArgument(
                "page_token is malformed; pass next_page_token from a previous response unchanged", field=field
            )
        _, _, first, second, third, token_scope = _CURSOR_FORMAT.unpack(raw)
        if token_scope != scope:
            raise InvalidArgument(_CURSOR_MISMATCH, field=field)
        return (first, second, third)
