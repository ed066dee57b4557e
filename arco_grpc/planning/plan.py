"""A backfill's whole plan: its targets' chunks in plan order, and its fingerprint.

Plan order is target order, then round, then chunk index. Round 1 of target t
has ``chunk_counts[t]`` chunks; these functions navigate them without listing
them.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

_FINGERPRINT_DOMAIN = "arco/backfill-fingerprint/v1"
_SEPARATOR = "\x1f"


def plan_fingerprint(selections: Sequence[tuple[str, str]]) -> str:
    """Hex sha256 over every target's (asset key, selector fingerprint), in target order.

    Two backfills over the same selections of the same assets have the same
    fingerprint whatever else differs (chunk size, tags, title).
    """
    parts = [_FINGERPRINT_DOMAIN]
    for asset_key, selector_fingerprint in selections:
        parts.extend((asset_key, selector_fingerprint))
    return hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def round_one_chunk_at(chunk_counts: Sequence[int], position: int) -> tuple[int, int]:
    """The (target, index) of the ``position``-th round-1 chunk in plan order.

    Raises:
        IndexError: the plan has no chunk at ``position``.
    """
    starts = list(accumulate(chunk_counts, initial=0))
    if not 0 <= position < starts[-1]:
        raise IndexError(f"chunk position {position} is out of range: the plan has {starts[-1]} chunks")
    target = bisect_right(starts, position) - 1
    return target, position - starts[target]


def preview_chunks(chunk_counts: Sequence[int], edge: int = 3) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The first ``edge`` round-1 chunks in plan order, and the last ``edge`` not among them, as (target, index)."""
    total = sum(chunk_counts)
    first = [round_one_chunk_at(chunk_counts, p) for p in range(min(edge, total))]
    last = [round_one_chunk_at(chunk_counts, p) for p in range(max(edge, total - edge), total)]
    return first, last
