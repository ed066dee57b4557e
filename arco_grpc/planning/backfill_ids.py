"""Backfill ids: a pure function of the id of the request that creates the backfill.

Deriving the id from the request id (instead of drawing it at random) makes
CreateBackfill's plan previewable: a validate_only request with a request_id
shows the very run keys the real request with that request_id will use, and
a retried create lands on the same stream, so it can never make a second
backfill.
"""

from __future__ import annotations

import base64
import hashlib
import re

BACKFILL_ID_PREFIX = "bf-"
BACKFILL_ID_LENGTH = len(BACKFILL_ID_PREFIX) + 12
_BACKFILL_ID = re.compile(re.escape(BACKFILL_ID_PREFIX) + "[a-z2-7]{12}")
# The id a validate_only request without request_id previews with. Its "0"
# characters are not in the base32 alphabet, so no real id can equal it.
PREVIEW_BACKFILL_ID = "bf-preview00000"
_DOMAIN = "arco/backfill-id/v1"
_SEPARATOR = "\x1f"  # ASCII unit separator


def backfill_id_for_request(request_id: str) -> str:
    """The id of the backfill created by the request with ``request_id``.

    ``"bf-"`` followed by the first 12 characters of the lowercase base32
    encoding (RFC 4648 alphabet a-z, 2-7) of
    ``sha256("arco/backfill-id/v1" US request_id)``, US being the ASCII unit
    separator (0x1F) and the text UTF-8 encoded. 60 bits: distinct request ids
    give distinct ids except with negligible probability, and a collision is
    refused (the id's stream exists already), never merged.
    """
    text = (_DOMAIN + _SEPARATOR + request_id).encode("utf-8", "surrogatepass")
    return BACKFILL_ID_PREFIX + base64.b32encode(hashlib.sha256(text).digest()).decode("ascii").lower()[:12]


def is_backfill_id(text: str) -> bool:
    """True when ``text`` has the shape of a backfill id (it may still name no backfill)."""
    return _BACKFILL_ID.fullmatch(text) is not None
