"""The events of a backfill's chunks and runs, as pure values.

They live in the backfill's stream beside its lifecycle events (so
``state_version`` counts them too). Every chunk event carries the partitions
of the attempt it concerns, as a compact subset, so that folding it into the
backfill needs nothing but the event.

A worker's call that concerns many chunks of a backfill appends one event
for all of them (:class:`ChunksLeased`, :class:`ChunksCompleted`), holding
the per-chunk facts in order: the log, the fold and ``state_version`` then
cost one step per call rather than one per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from arco_grpc.partitions.selection import AnySubset


class ChunkState(IntEnum):
    """A chunk's lifecycle state; values equal the proto enum's numbers."""

    PENDING = 1
    LEASED = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5
    # Never leased: a failure upstream blocked every partition (a planned chunk's state; it has no row).
    UPSTREAM_FAILED = 6

    @property
    def is_terminal(self) -> bool:
        """True for every state but PENDING and LEASED: the chunk will not run again in its round."""
        return self not in (ChunkState.PENDING, ChunkState.LEASED)


class RunState(IntEnum):
    """A run's (one attempt's) lifecycle state; values equal the proto enum's numbers."""

    RUNNING = 1
    SUCCEEDED = 2
    FAILED = 3
    LEASE_EXPIRED = 4
    RELEASED = 5
    CANCELLED = 6
    # A submitted run waiting for its first lease.
    QUEUED = 7


# The per-chunk events are not frozen: one is made per chunk on the hot path, and a frozen dataclass's
# __init__ costs several times more. Treat them as immutable all the same.
@dataclass(slots=True)
class ChunkLeased:
    """A worker leased a chunk: attempt ``attempt`` (a run) began."""

    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    run_key: str
    worker_id: str
    lease_expires_at: datetime
    lease_ttl: timedelta
    partitions: AnySubset
    chunk_partition_count: int
    # Runs of other streams that held some of these partitions when the chunk was due (it waited for them).
    waited_for: tuple[str, ...] = ()


@dataclass(slots=True)
class ChunkSucceeded:
    """Every partition of the attempt succeeded; the chunk is SUCCEEDED."""

    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partitions: AnySubset
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class ChunkFailed:
    """Some or all partitions of the attempt failed.

    ``failed`` None means every partition of the attempt. With ``will_retry``
    the chunk goes back to PENDING holding only the failed partitions,
    eligible at ``retry_at``; without, it is FAILED with them.
    """

    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partitions: AnySubset
    failed: AnySubset | None
    error: str
    will_retry: bool
    retry_at: datetime | None
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def failed_partitions(self) -> AnySubset:
        """The partitions that failed, explicitly."""
        return self.partitions if self.failed is None else self.failed


@dataclass(frozen=True, slots=True)
class ChunkLeaseExpired:
    """The lease lapsed; the attempt has no outcome.

    With ``will_retry`` the chunk is leased again at once as its next attempt;
    with ``attempts_exhausted`` it is FAILED with the attempt's partitions;
    with neither (the backfill is being cancelled) a ChunkCancelled follows.
    """

    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partitions: AnySubset
    will_retry: bool
    attempts_exhausted: bool


@dataclass(frozen=True, slots=True)
class ChunkReleased:
    """The worker gave the chunk back without an outcome; no attempt is used up."""

    asset_key: str
    round: int
    index: int
    attempt: int
    run_id: str
    partitions: AnySubset


@dataclass(frozen=True, slots=True)
class ChunkCancelled:
    """A chunk leased during a cancel ended without outcome; ``partitions`` will not run."""

    asset_key: str
    round: int
    index: int
    partitions: AnySubset


@dataclass(frozen=True, slots=True)
class RetriedTarget:
    """The partitions a retry round holds for one target, and how many chunks they make."""

    asset_key: str
    partitions: AnySubset
    chunk_count: int
    failed_count: int


@dataclass(frozen=True, slots=True)
class RetryRoundOpened:
    """A COMPLETED or CANCELLED backfill goes back to RUNNING with round ``round``."""

    round: int
    targets: tuple[RetriedTarget, ...]
    include_unattempted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class UpstreamFailedTarget:
    """Partitions of one target that will not run because an upstream partition they read failed.

    ``chunk_count`` counts the chunks of the current round that end with it:
    never leased, and holding no partition left to run.
    """

    asset_key: str
    partitions: AnySubset
    chunk_count: int


@dataclass(frozen=True, slots=True)
class PartitionsUpstreamFailed:
    """A failure for good made partitions downstream of it, inside the backfill, UPSTREAM_FAILED.

    Appended in the same batch as the failure that causes it.
    """

    targets: tuple[UpstreamFailedTarget, ...]


@dataclass(frozen=True, slots=True)
class ChunksLeased:
    """One LeaseChunks call leased ``leases`` (chunks of one backfill, in dispatch order) to one worker.

    Every lease shares the worker, the expiry and the ttl; there is at least one.

    Raises:
        ValueError: ``leases`` is empty or its leases disagree on the worker, the expiry or the ttl.
    """

    leases: tuple[ChunkLeased, ...]

    def __post_init__(self) -> None:
        if not self.leases:
            raise ValueError("ChunksLeased holds at least one lease")
        first = self.leases[0]
        shared = (first.worker_id, first.lease_expires_at, first.lease_ttl)
        for lease in self.leases:
            if (lease.worker_id, lease.lease_expires_at, lease.lease_ttl) != shared:
                raise ValueError("the leases of one ChunksLeased share the worker, the expiry and the ttl")

    @property
    def worker_id(self) -> str:
        """The worker that leased them."""
        return self.leases[0].worker_id

    @property
    def lease_expires_at(self) -> datetime:
        """When the leases lapse unless heartbeated."""
        return self.leases[0].lease_expires_at

    @property
    def lease_ttl(self) -> timedelta:
        """The leases' time to live."""
        return self.leases[0].lease_ttl


ChunkOutcome = ChunkSucceeded | ChunkFailed


@dataclass(frozen=True, slots=True)
class ChunksCompleted:
    """One CompleteChunks call recorded ``outcomes`` (of chunks of one backfill, each at most once), in order.

    Raises:
        ValueError: ``outcomes`` is empty.
    """

    outcomes: tuple[ChunkOutcome, ...]

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise ValueError("ChunksCompleted holds at least one outcome")


ChunkEvent = ChunkLeased | ChunkSucceeded | ChunkFailed | ChunkLeaseExpired | ChunkReleased | ChunkCancelled
# Events holding the chunk events of one call, in order.
ChunkBatch = ChunksLeased | ChunksCompleted
CHUNK_BATCH_TYPES: tuple[type, ...] = (ChunksLeased, ChunksCompleted)
CHUNK_EVENT_TYPES: tuple[type, ...] = (
    ChunkLeased,
    ChunkSucceeded,
    ChunkFailed,
    ChunkLeaseExpired,
    ChunkReleased,
    ChunkCancelled,
)


def chunk_events_of(event: object) -> tuple[ChunkEvent, ...]:
    """The per-chunk events ``event`` holds: itself for a chunk event, its entries for a batch, none otherwise."""
    if isinstance(event, ChunksLeased):
        return event.leases
    if isinstance(event, ChunksCompleted):
        return event.outcomes
    if isinstance(event, CHUNK_EVENT_TYPES):
        return (event,)  # type: ignore[return-value]
    return ()
