"""Backfill ids: a documented pure function of the request id."""

import base64
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.planning.backfill_ids import PREVIEW_BACKFILL_ID, backfill_id_for_request, is_backfill_id


def test_the_id_is_the_documented_formula() -> None:
    digest = hashlib.sha256("arco/backfill-id/v1\x1fr-1".encode()).digest()
    assert backfill_id_for_request("r-1") == "bf-" + base64.b32encode(digest).decode().lower()[:12]
    assert backfill_id_for_request("r-1") == backfill_id_for_request("r-1")
    assert backfill_id_for_request("r-1") != backfill_id_for_request("r-2")


@given(st.text(min_size=1, max_size=40))
def test_every_id_has_the_id_shape_and_the_preview_id_is_never_one(request_id: str) -> None:
    backfill_id = backfill_id_for_request(request_id)
    assert is_backfill_id(backfill_id)
    assert backfill_id != PREVIEW_BACKFILL_ID


def test_shapes() -> None:
    assert not is_backfill_id(PREVIEW_BACKFILL_ID)  # "0" is not base32: no request can produce it
    assert not is_backfill_id("bf-ABCDEFGHIJKL") and not is_backfill_id("bf-abc") and not is_backfill_id("")
