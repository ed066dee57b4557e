"""What a caller asks for: compact partition selectors, normalized and fingerprinted.

A selector describes a selection without resolving it (that needs a
:class:`~arco_grpc.partitions.space.PartitionSpace`; see ``selection.py``).
:func:`normalize_selector` validates a selector and puts it in canonical form
(keys deduplicated and sorted, instants in UTC, multi entries sorted by
dimension), so equal selections compare equal and have equal
:func:`selector_fingerprint`.

Error field paths are relative to the PartitionSelector proto message
(``"keys.keys[3]"``, ``"multi.dimensions[1].dimension"``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Union

from arco_grpc.errors import InvalidArgument

# Explicit key lists are bounded so a request (and its stored form) stays
# small; larger selections are expressed as ranges.
MAX_EXPLICIT_KEYS = 10_000
# Bump when the canonical encoding changes, so old and new fingerprints never collide.
FINGERPRINT_VERSION = 1


@dataclass(frozen=True, slots=True)
class AllPartitions:
    """Every partition that exists at the evaluation time."""


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Every partition from ``start`` to ``end``, both included, in the definition's order."""

    start: str
    end: str


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Every time-window partition whose window starts in ``[start, end)`` (aware datetimes)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class KeyList:
    """Explicitly listed keys; order and duplicates do not matter."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MultiSelector:
    """Per-dimension selectors of a multi definition; the selection is their cross product.

    ``dimensions`` holds ``(dimension name, selector)`` entries; a dimension
    left out means all of it.
    """

    dimensions: tuple[tuple[str, Selector], ...]


Selector = Union[AllPartitions, KeyRange, TimeRange, KeyList, MultiSelector]


def normalize_selector(selector: Selector) -> Selector:
    """The canonical form of ``selector``, after checking it is well formed.

    KeyList: duplicates removed, keys sorted by code point. TimeRange: both
    instants in UTC. MultiSelector: entries sorted by dimension name, inner
    selectors normalized, entries selecting all of their dimension dropped; a
    multi selector left with no entry becomes AllPartitions.

    Raises:
        InvalidArgument: an empty key in a list, more than MAX_EXPLICIT_KEYS
            keys, a naive datetime, a dimension named twice or with an empty
            name, or a multi selector nested inside another.
    """
    if isinstance(selector, AllPartitions):
        return selector
    if isinstance(selector, KeyRange):
        return selector
    if isinstance(selector, TimeRange):
        return TimeRange(_utc(selector.start, "time_range.start"), _utc(selector.end, "time_range.end"))
    if isinstance(selector, KeyList):
        return KeyList(tuple(sorted(set(_checked_keys(selector.keys)))))
    if isinstance(selector, MultiSelector):
        return _normalize_multi(selector)
    raise TypeError(f"not a partition selector: {selector!r}")


def _utc(instant: datetime, field: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidArgument(
            f"the instant {instant.isoformat()} has no timezone; give an exact instant (with a UTC offset)",
            field=field,
        )
    return instant.astimezone(timezone.utc)


def _checked_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    if len(keys) > MAX_EXPLICIT_KEYS:
        raise InvalidArgument(
            f"{len(keys)} keys were listed; at most {MAX_EXPLICIT_KEYS} may be. "
            "Select larger sets with key ranges, time ranges or all partitions",
            field="keys.keys",
        )
    for position, key in enumerate(keys):
        if not key:
            raise InvalidArgument("partition keys in a key list may not be empty", field=f"keys.keys[{position}]")
    return keys


def _normalize_multi(selector: MultiSelector) -> Selector:
    seen: dict[str, int] = {}
    entries: list[tuple[str, Selector]] = []
    for position, (name, inner) in enumerate(selector.dimensions):
        at = f"multi.dimensions[{position}]"
        if not name:
            raise InvalidArgument("the dimension name may not be empty", field=f"{at}.dimension")
        if name in seen:
            raise InvalidArgument(
                f"dimension {name!r} is selected twice (entries {seen[name]} and {position}); "
                "give at most one selector per dimension",
                field=f"{at}.dimension",
            )
        seen[name] = position
        if isinstance(inner, MultiSelector):
            raise InvalidArgument(
                "the selector of one dimension may not itself be a multi selector", field=f"{at}.selector.multi"
            )
        try:
            normalized = normalize_selector(inner)
        except InvalidArgument as error:
            raise error.under(f"{at}.selector") from None
        if not isinstance(normalized, AllPartitions):
            entries.append((name, normalized))
    if not entries:
        return AllPartitions()
    entries.sort(key=lambda entry: entry[0])
    return MultiSelector(tuple(entries))


def _canonical_value(selector: Selector) -> dict[str, object]:
    """A JSON-ready description of a normalized selector, tagged with its kind."""
    if isinstance(selector, AllPartitions):
        return {"type": "all"}
    if isinstance(selector, KeyRange):
        return {"type": "key_range", "start": selector.start, "end": selector.end}
    if isinstance(selector, TimeRange):
        return {
            "type": "time_range",
            "start": selector.start.isoformat(timespec="microseconds"),
            "end": selector.end.isoformat(timespec="microseconds"),
        }
    if isinstance(selector, KeyList):
        return {"type": "keys", "keys": list(selector.keys)}
    return {
        "type": "multi",
        "dimensions": [[name, _canonical_value(inner)] for name, inner in selector.dimensions],
    }


def selector_fingerprint(selector: Selector) -> str:
    """The hex sha256 of the canonical encoding of ``selector``'s normalized form.

    Equal selections (whatever the order or duplication of their keys, the
    offsets of their instants or the order of multi entries) have equal
    fingerprints; different selectors have different ones.

    Raises:
        InvalidArgument: ``selector`` is malformed (see :func:`normalize_selector`).
    """
    canonical = {"version": FINGERPRINT_VERSION, "selector": _canonical_value(normalize_selector(selector))}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: keys are Python strings and may hold lone surrogates; they must still hash.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
