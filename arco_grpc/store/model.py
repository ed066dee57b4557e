"""The values the store reads and writes, independent of any backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arco_grpc.store.port import Transaction

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def to_microseconds(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime (no float rounding)."""
    if moment.tzinfo is None:
        raise ValueError(f"the store records aware datetimes only, got naive {moment!r}")
    return (moment - _EPOCH) // _MICROSECOND


def from_microseconds(micros: int) -> datetime:
    """The UTC datetime ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its type name and its payload (protobuf bytes)."""

    event_type: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the append-only event table."""

    sequence: int
    stream_id: str
    stream_version: int
    event_type: str
    payload: bytes
    request_id: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """The remembered answer to a mutating request, keyed by its client-chosen id.

    ``body_fingerprint`` identifies the request's content, so that a retry
    (same id, same body) gets ``response`` back and a reuse of the id for a
    different body is refused.
    """

    request_id: str
    method: str
    body_fingerprint: str
    response: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append did.

    ``replayed`` is True when the request id had been seen with the same body:
    nothing was written and ``response`` is the answer stored the first time.
    """

    events: tuple[StoredEvent, ...]
    response: bytes | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A row of the assets projection: an asset as stored (Asset proto bytes)."""

    key: str
    version: int
    definition: bytes
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """Every asset, read in one snapshot together with the catalog stream's version."""

    stream_version: int
    assets: tuple[AssetRecord, ...]


@dataclass(frozen=True, slots=True)
class DynamicPartitionsSnapshot:
    """A dynamic definition's keys in order, read in one snapshot with its stream's version."""

    name: str
    stream_version: int
    keys: tuple[str, ...]


# Updates projections from events just appended, inside the append's transaction.
Projector = Callable[["Transaction", list[StoredEvent]], Awaitable[None]]
