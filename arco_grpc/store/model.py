"""The values the store reads and writes, independent of any backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from arco_grpc.store.port import Transaction

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


# The last two datetimes converted, with their values: a batch of rows repeats the same few
# datetime objects (the call's time, the lease expiry). Each entry is one tuple, replaced whole,
# so a thread never sees half of one; datetimes are immutable, so the same object has the same value.
_recent: list[tuple[datetime | None, int]] = [(None, 0), (None, 0)]


def to_microseconds(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime (no float rounding)."""
    recent = _recent
    first = recent[0]
    if first[0] is moment:
        return first[1]
    second = recent[1]
    if second[0] is moment:
        return second[1]
    if moment.tzinfo is None:
        raise ValueError(f"the store records aware datetimes only, got naive {moment!r}")
    micros = (moment - _EPOCH) // _MICROSECOND
    recent[1] = first
    recent[0] = (moment, micros)
    return micros


def from_microseconds(micros: int) -> datetime:
    """The UTC datetime ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(0, 0, micros)  # positional: keywords cost a third more, on every row read


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


class StatusUpdate(Protocol):
    """Turns a stored partition status (None: no row yet) into the one to store, on the writer, in the transaction."""

    def __call__(self, stored: bytes | None) -> bytes:
        """The bytes to store after this update of ``stored``."""
        ...

    def then(self, later: StatusUpdate) -> StatusUpdate:
        """One update doing this one, then ``later`` (a batch decodes and encodes each row once, not per unit)."""
        ...

# Updates projections from events just appended, inside the append's transaction.
Projector = Callable[["Transaction", list[StoredEvent]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events to append to one stream, at the version the caller decided against (None: any)."""

    stream_id: str
    expected_version: int | None
    events: tuple[NewEvent, ...]


@dataclass(frozen=True, slots=True)
class AppendUnit:
    """Appends that commit together or not at all, with the request they answer.

    The projector sees the stored events of every stream append, in order.
    """

    appends: tuple[StreamAppend, ...]
    request: RequestRecord | None
    recorded_at: datetime
    project: Projector | None = None


# -- backfills ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackfillRecord:
    """A row of the backfills projection: a backfill's current state and counters.

    ``spec`` is the payload of its BackfillCreated event (protobuf bytes), so
    the row alone is enough to decide the next command. ``asset_keys`` (in
    target order) and ``tags`` are kept in side tables for the list filters.
    ``created_sequence`` is the sequence of the BackfillCreated event: it
    orders backfills by creation even when clocks tie.
    """

    backfill_id: str
    state: int
    state_version: int
    max_concurrency: int
    dispatch_order: int
    title: str
    creator: str
    fingerprint: str
    as_of: datetime
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    created_sequence: int
    partitions_total: int
    chunks_total: int
    partitions_succeeded: int
    partitions_failed: int
    partitions_cancelled: int
    leased_chunks: int
    asset_keys: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    spec: bytes
    # Dispatch counters (see domain.backfill.Backfill) and, per target in
    # target order, the (succeeded, failed, upstream failed) partitions as
    # PartitionSubset bytes (None when empty).
    round: int = 1
    round_chunks: int = 0
    round_finished: int = 0
    partitions_running: int = 0
    outcomes: tuple[tuple[bytes | None, bytes | None, bytes | None], ...] = ()
    round_partitions: int = 0

    @property
    def record(self) -> BackfillRecord:
        """The row itself (a record is its own :class:`BackfillRowSource`)."""
        return self


class BackfillRowSource(Protocol):
    """What a backfill row is built from, when it is written (a BackfillRecord is its own source).

    A transaction keeps the last source given per backfill and builds its row
    once, when it writes: a group commit of many appends to one backfill
    builds one row, not one per append.
    """

    @property
    def backfill_id(self) -> str:
        """The backfill's id."""
        ...

    @property
    def asset_keys(self) -> tuple[str, ...]:
        """The targets' asset keys, in target order (fixed at creation)."""
        ...

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """The backfill's tags (fixed at creation)."""
        ...

    @property
    def record(self) -> BackfillRecord:
        """The row."""
        ...


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """A row of the state-transition projection: one change of a backfill's state."""

    backfill_id: str
    state_version: int
    from_state: int
    to_state: int
    reason: str
    recorded_at: datetime
    request_id: str | None


# Not frozen: one is built per chunk on the lease/complete hot path, and a frozen
# dataclass's __init__ costs several times a plain one's. Treat it as immutable.
@dataclass(slots=True)
class ChunkRecord:
    """A row of the chunks projection: a chunk that has had events.

    Chunks without a row are planned: computed from the backfill's spec.
    ``target_position`` is the target's place in the backfill (plan order);
    ``subset`` holds the partitions (PartitionSubset bytes) of retry-round
    chunks, None for round 1 whose partitions the plan computes.
    ``remaining`` holds the partitions that have not succeeded (what the
    current or next attempt runs); the lease fields describe the latest
    attempt (``leased_at`` and ``lease_expires_at`` are None unless LEASED).
    """

    backfill_id: str
    target_position: int
    asset_key: str
    round: int
    chunk_index: int
    state: int
    attempt: int
    run_key: str
    partition_count: int
    subset: bytes | None
    updated_at: datetime
    remaining: bytes | None = None
    remaining_count: int | None = None
    run_id: str = ""
    worker_id: str = ""
    leased_at: datetime | None = None
    lease_expires_at: datetime | None = None
    lease_ttl_ms: int = 0
    next_attempt_at: datetime | None = None
    failed_attempts: int = 0
    failed_count: int = 0
    error: str = ""

    @property
    def position(self) -> tuple[int, int, int]:
        """The chunk's place in plan order: (target position, round, index)."""
        return (self.target_position, self.round, self.chunk_index)


# Not frozen: one is built per chunk on the lease/complete hot path, and a frozen
# dataclass's __init__ costs several times a plain one's. Treat it as immutable.
@dataclass(slots=True)
class RunRecord:
    """A row of the runs projection: one attempt at a chunk, under its unique run key.

    ``lease_sequence`` is the sequence of the event that began it (a
    ChunksLeased, or an older ChunkLeased) and ``lease_position`` its place
    among that event's leases: runs list in that order. ``state`` uses the Run.State numbers;
    ``partitions`` and ``failed`` are PartitionSubset bytes; ``metadata`` is
    the worker's metadata as sorted (key, value) pairs.
    """

    run_key: str
    backfill_id: str
    asset_key: str
    round: int
    chunk_index: int
    attempt: int
    created_at: datetime
    run_id: str = ""
    target_position: int = 0
    worker_id: str = ""
    state: int = 1
    lease_sequence: int = 0
    ended_at: datetime | None = None
    partitions: bytes | None = None
    partition_count: int = 0
    failed: bytes | None = None
    failed_count: int = 0
    error: str = ""
    metadata: tuple[tuple[str, str], ...] = ()
    will_retry: bool = False
    lease_position: int = 0
    # The run ledger (RunOrigin numbers: 1 backfill, 2 schedule, 3 sensor, 4 manual) and lineage.
    origin: int = 1
    origin_name: str = ""
    parent_run_id: str = ""
    root_run_id: str = ""
    # Runs of other streams this run waited for before it started (their partitions overlapped).
    waited_for: tuple[str, ...] = ()
    # Set on a submitted run's first attempt only: the dedupe scope's key, the origin's own key, the
    # tick's scheduled time, when it was submitted.
    scope_key: str | None = None
    origin_run_key: str | None = None
    scheduled_at: datetime | None = None
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunStart:
    """A queued run (a submitted run's first attempt) leased: the columns of its row that change."""

    run_id: str
    worker_id: str
    started_at: datetime
    partitions: bytes | None
    partition_count: int
    waited_for: tuple[str, ...] = ()


# Not frozen: one is built per chunk on the lease/complete hot path, and a frozen
# dataclass's __init__ costs several times a plain one's. Treat it as immutable.
@dataclass(slots=True)
class RunEnd:
    """How a run ended: the columns of its row that change when it does."""

    run_id: str
    state: int
    ended_at: datetime
    failed: bytes | None = None
    failed_count: int = 0
    error: str = ""
    metadata: tuple[tuple[str, str], ...] = ()
    will_retry: bool = False


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """A row of the rounds projection: the partitions a retry round holds for one target."""

    backfill_id: str
    round: int
    target_position: int
    asset_key: str
    partitions: bytes
    partition_count: int
    chunk_count: int


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Runs after (``after_sequence``, ``after_position``) in lease order, oldest first, with filters.

    Lease order is (lease sequence, lease position). ``after_position`` None
    means after every run of event ``after_sequence``. ``backfill_id`` empty
    means every stream; ``states`` empty means every state.
    """

    backfill_id: str
    after_sequence: int
    limit: int
    target_position: int | None = None
    round: int | None = None
    chunk_index: int | None = None
    after_position: int | None = None
    asset_key: str = ""
    origin: int | None = None
    origin_name: str = ""
    states: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ChunkStateCount:
    """How many stored chunks of one round are in one state, how many partitions they hold, and how many of
    those have not succeeded (``remaining``; the whole chunk for rows that do not say)."""

    round: int
    state: int
    chunks: int
    partitions: int
    remaining: int = 0


@dataclass(frozen=True, slots=True)
class BackfillDetails:
    """A backfill row with its latest transitions (oldest first) and stored-chunk counts, read together."""

    record: BackfillRecord
    transitions: tuple[TransitionRecord, ...]
    chunk_counts: tuple[ChunkStateCount, ...]


@dataclass(frozen=True, slots=True)
class BackfillFilter:
    """Which backfills a listing returns: all filters must hold (empty ones hold always)."""

    states: tuple[int, ...] = ()
    asset_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    # Also the streams of runs submitted through RunService (one-chunk backfills, ids "run-..."),
    # which backfill listings leave out.
    include_submitted_runs: bool = False


@dataclass(frozen=True, slots=True)
class ChunkQuery:
    """Stored chunks of one backfill at or after ``start`` in plan order, with optional filters.

    ``start`` is (target position, round, index). ``states`` None means every
    state; ``min_index`` drops chunks with a smaller index.
    """

    backfill_id: str
    start: tuple[int, int, int]
    limit: int
    target_position: int | None = None
    round: int | None = None
    min_index: int = 0
    states: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """The row of one schedule: a few columns to filter and order by, and its whole state.

    ``snapshot`` is the schedule as its projector encodes it (the store only moves the bytes);
    ``created_sequence`` is the sequence of its first event, its place in listings.
    """

    name: str
    state: int
    asset_key: str
    stream_version: int
    created_sequence: int
    created_at: datetime
    updated_at: datetime
    snapshot: bytes
