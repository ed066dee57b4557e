"""The backfill lifecycle as pure functions: ``decide(command, backfill) -> events``
and ``evolve(backfill, event) -> backfill``.

States and transitions::

    CREATED -> RUNNING -> PAUSED <-> RUNNING
    CREATED | RUNNING | PAUSED -> CANCELLING -> CANCELLED   (once no chunk is leased)
    RUNNING -> COMPLETED                                     (once every chunk of the round is terminal)
    COMPLETED | CANCELLED -> RUNNING                         (a retry round: RetryRoundOpened)

Every event raises ``version`` (the API's state_version) by exactly one,
chunk events included, and a batch of them (``ChunksLeased``,
``ChunksCompleted``) by one for the batch (their effect on the backfill is in
``backfill_progress``). Asking for the state a backfill is already in decides
no events; a stale ``expected_version`` is refused before anything else is
looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum
from typing import Union

from arco_grpc.domain.backfill_progress import fold_chunk_batch, fold_chunk_event, fold_retry_round, fold_upstream_failed
from arco_grpc.domain.chunk_events import (
    CHUNK_BATCH_TYPES,
    CHUNK_EVENT_TYPES,
    ChunkBatch,
    ChunkEvent,
    PartitionsUpstreamFailed,
    RetryRoundOpened,
)
from arco_grpc.domain.outcomes import Outcomes
from arco_grpc.domain.partition_status import ReprocessPolicy, Skipped
from arco_grpc.domain.retry_policy import RetryPolicy
from arco_grpc.domain.submitted_run import SubmittedRun, chunk_run_key
from arco_grpc.errors import Aborted, FailedPrecondition, InvalidArgument
from arco_grpc.partitions.selector import Selector


class BackfillState(IntEnum):
    """A backfill's lifecycle state; values equal the proto enum's numbers."""

    CREATED = 1
    RUNNING = 2
    PAUSED = 3
    CANCELLING = 4
    CANCELLED = 5
    COMPLETED = 6

    @property
    def is_terminal(self) -> bool:
        """True for CANCELLED and COMPLETED: nothing changes any more."""
        return self in (BackfillState.CANCELLED, BackfillState.COMPLETED)


class DispatchOrder(IntEnum):
    """The order in which chunks go out; values equal the proto enum's numbers."""

    FORWARD = 1
    BACKWARD = 2


@dataclass(frozen=True, slots=True)
class Target:
    """One asset of a backfill: its canonical selection and how it is chunked."""

    asset_key: str
    selector: Selector
    selector_fingerprint: str
    partition_count: int
    chunk_size: int
    # What the selection was resolved against, so the plan never changes:
    # the asset's definition version, and the stream version of each dynamic
    # definition it reads keys from, as (name, version) sorted by name.
    asset_version: int = 0
    dynamic_versions: tuple[tuple[str, int], ...] = ()
    # The reprocess policy's verdict, frozen at creation: the selected
    # partitions left out (``partition_count`` counts the rest), how many the
    # selector selects (0: as many as ``partition_count``, for older events),
    # and the partition status space the target's runs update ("" for none).
    skipped: tuple[Skipped, ...] = ()
    selected_count: int = 0
    status_space: str = ""

    @property
    def selected_partition_count(self) -> int:
        """How many partitions the selector selects, skipped ones included."""
        return self.selected_count or self.partition_count

    @property
    def skipped_count(self) -> int:
        """How many selected partitions the plan leaves out."""
        return sum(entry.partitions.count for entry in self.skipped)

    @property
    def chunk_count(self) -> int:
        """Round-1 chunks: ceil(partition_count / chunk_size)."""
        return -(-self.partition_count // self.chunk_size)


# ---- events -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackfillCreated:
    """The first event of a backfill. Holds selectors, never key lists."""

    backfill_id: str
    targets: tuple[Target, ...]
    max_concurrency: int
    order: DispatchOrder
    tags: tuple[tuple[str, str], ...]
    title: str
    description: str
    creator: str
    as_of: datetime
    fingerprint: str
    retry_policy: RetryPolicy = RetryPolicy()
    reprocess_policy: ReprocessPolicy = ReprocessPolicy.ALL
    # Set when the stream is a run submitted through RunService (one target, one chunk).
    submitted_run: SubmittedRun | None = None

    def run_key(self, asset_key: str, round_number: int, chunk_index: int, attempt: int) -> str:
        """The run key of an attempt at one of this stream's chunks."""
        return chunk_run_key(self.submitted_run, self.backfill_id, asset_key, round_number, chunk_index, attempt)


@dataclass(frozen=True, slots=True)
class BackfillStarted:
    """CREATED -> RUNNING."""


@dataclass(frozen=True, slots=True)
class BackfillPaused:
    """RUNNING -> PAUSED."""

    reason: str


@dataclass(frozen=True, slots=True)
class BackfillResumed:
    """PAUSED -> RUNNING."""

    reason: str


@dataclass(frozen=True, slots=True)
class BackfillCancelRequested:
    """CREATED, RUNNING or PAUSED -> CANCELLING."""

    reason: str


@dataclass(frozen=True, slots=True)
class BackfillCancelled:
    """CANCELLING -> CANCELLED, once no chunk is leased."""

    partitions_cancelled: int


@dataclass(frozen=True, slots=True)
class BackfillCompleted:
    """RUNNING -> COMPLETED, once every chunk is terminal."""

    partitions_succeeded: int
    partitions_failed: int
    partitions_upstream_failed: int = 0


@dataclass(frozen=True, slots=True)
class BackfillConcurrencyChanged:
    """max_concurrency changed on a live backfill."""

    max_concurrency: int
    previous_max_concurrency: int
    reason: str


LifecycleEvent = Union[
    BackfillCreated,
    BackfillStarted,
    BackfillPaused,
    BackfillResumed,
    BackfillCancelRequested,
    BackfillCancelled,
    BackfillCompleted,
    BackfillConcurrencyChanged,
]
# Everything a backfill's stream holds.
BackfillEvent = Union[LifecycleEvent, ChunkEvent, ChunkBatch, RetryRoundOpened, PartitionsUpstreamFailed]

# ---- commands -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateBackfill:
    """Create a backfill and start it."""

    created: BackfillCreated


@dataclass(frozen=True, slots=True)
class PauseBackfill:
    """Stop dispatching new chunks."""

    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ResumeBackfill:
    """Dispatch again after a pause."""

    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class CancelBackfill:
    """Stop for good; chunks never leased are cancelled."""

    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateBackfill:
    """Change the concurrency limit of a live backfill."""

    max_concurrency: int
    reason: str = ""
    expected_version: int | None = None


BackfillCommand = Union[CreateBackfill, PauseBackfill, ResumeBackfill, CancelBackfill, UpdateBackfill]

# ---- state --------------------------------------------------------------


# Not frozen: a copy is made per event on the hot path, and a frozen dataclass's __init__ costs several
# times more. Treat it as immutable all the same (evolve it with dataclasses.replace).
@dataclass(slots=True)
class Backfill:
    """What decisions need to know about a backfill, folded from its events.

    ``round_chunks`` and ``round_finished`` count the chunks of the current
    round and those of them that are terminal (``round_partitions`` counts its
    partitions); ``chunks_total`` counts the
    chunks of every round. ``partitions_running`` is the partitions of the
    leased chunks' attempts. ``partitions_cancelled`` is set when the backfill
    is cancelled (and lowered by a retry round that takes some back).
    """

    spec: BackfillCreated
    state: BackfillState
    version: int
    max_concurrency: int
    outcomes: Outcomes
    partitions_cancelled: int = 0
    leased_chunks: int = 0
    partitions_running: int = 0
    round: int = 1
    round_chunks: int = 0
    round_finished: int = 0
    chunks_total: int = 0
    round_partitions: int = 0

    @property
    def backfill_id(self) -> str:
        """The backfill's id."""
        return self.spec.backfill_id

    @property
    def partitions_total(self) -> int:
        """Partitions selected over every target."""
        return sum(t.partition_count for t in self.spec.targets)

    @property
    def partitions_succeeded(self) -> int:
        """Partitions whose latest attempt succeeded."""
        return self.outcomes.succeeded_count

    @property
    def partitions_failed(self) -> int:
        """Partitions that failed for good (not being retried)."""
        return self.outcomes.failed_count

    @property
    def partitions_upstream_failed(self) -> int:
        """Partitions that will not run because an upstream partition they read failed."""
        return self.outcomes.upstream_failed_count

    @property
    def retry_policy(self) -> RetryPolicy:
        """How chunks are retried."""
        return self.spec.retry_policy

    @property
    def round_done(self) -> bool:
        """True when every chunk of the current round is terminal."""
        return self.round_finished >= self.round_chunks

    def target_position(self, asset_key: str) -> int:
        """The position of ``asset_key`` among the targets.

        Raises:
            KeyError: the backfill does not target it.
        """
        targets = self.spec.targets
        if targets[0].asset_key == asset_key:
            return 0
        for position, target in enumerate(targets):
            if target.asset_key == asset_key:
                return position
        raise KeyError(f"backfill {self.backfill_id} has no target {asset_key!r}")


def decide(command: BackfillCommand, backfill: Backfill | None) -> list[BackfillEvent]:
    """The events that carry out ``command`` on ``backfill`` (None before creation).

    Raises:
        Aborted: ``expected_version`` does not match.
        FailedPrecondition: the transition is not allowed from the current state.
        InvalidArgument: the command's values are out of range.
    """
    if isinstance(command, CreateBackfill):
        if backfill is not None:
            raise FailedPrecondition(f"backfill {backfill.backfill_id} exists already")
        return [command.created, BackfillStarted()]
    if backfill is None:
        raise FailedPrecondition("the backfill does not exist")
    check_expected_version(backfill, command.expected_version)
    state = backfill.state
    if isinstance(command, PauseBackfill):
        if state is BackfillState.PAUSED:
            return []
        _require(backfill, "pause", state is BackfillState.RUNNING)
        return [BackfillPaused(command.reason)]
    if isinstance(command, ResumeBackfill):
        if state is BackfillState.RUNNING:
            return []
        _require(backfill, "resume", state is BackfillState.PAUSED)
        # Chunks leased before the pause may all have finished meanwhile.
        resumed = evolve(backfill, BackfillResumed(command.reason))
        return [BackfillResumed(command.reason), *settle(resumed)]
    if isinstance(command, CancelBackfill):
        if state in (BackfillState.CANCELLING, BackfillState.CANCELLED):
            return []
        _require(backfill, "cancel", not state.is_terminal)
        events: list[BackfillEvent] = [BackfillCancelRequested(command.reason)]
        if backfill.leased_chunks == 0:
            events.append(BackfillCancelled(_unfinished_partitions(backfill)))
        return events
    if isinstance(command, UpdateBackfill):
        if command.max_concurrency < 1:
            raise InvalidArgument(
                f"max_concurrency must be at least 1, got {command.max_concurrency}", field="max_concurrency"
            )
        _require(backfill, "update", not state.is_terminal)
        if command.max_concurrency == backfill.max_concurrency:
            return []
        return [BackfillConcurrencyChanged(command.max_concurrency, backfill.max_concurrency, command.reason)]
    raise TypeError(f"not a backfill command: {command!r}")


def check_expected_version(backfill: Backfill, expected: int | None) -> None:
    """Raises Aborted when ``expected`` is given and is not the backfill's version."""
    if expected is not None and expected != backfill.version:
        raise Aborted(
            f"backfill {backfill.backfill_id} is at state_version {backfill.version}, not {expected}: "
            "read it again and retry if the change still makes sense",
            reason="STATE_VERSION_MISMATCH",
            metadata={"state_version": str(backfill.version), "expected_state_version": str(expected)},
        )


def settle(backfill: Backfill) -> list[BackfillEvent]:
    """The lifecycle events chunk events lead to: completion once every chunk of the round is terminal,
    CANCELLED once a cancelling backfill has no chunk leased."""
    if backfill.state is BackfillState.RUNNING and backfill.round_done and backfill.leased_chunks == 0:
        return [
            BackfillCompleted(
                backfill.partitions_succeeded, backfill.partitions_failed, backfill.partitions_upstream_failed
            )
        ]
    if backfill.state is BackfillState.CANCELLING and backfill.leased_chunks == 0:
        return [BackfillCancelled(_unfinished_partitions(backfill))]
    return []


def evolve(backfill: Backfill | None, event: BackfillEvent) -> Backfill:
    """``backfill`` after ``event``; version rises by exactly one."""
    if isinstance(event, BackfillCreated):
        if backfill is not None:
            raise ValueError("BackfillCreated on an existing backfill")
        chunks = sum(target.chunk_count for target in event.targets)
        return Backfill(
            spec=event,
            state=BackfillState.CREATED,
            version=1,
            max_concurrency=event.max_concurrency,
            outcomes=Outcomes.none(len(event.targets)),
            round_chunks=chunks,
            chunks_total=chunks,
            round_partitions=sum(target.partition_count for target in event.targets),
        )
    if backfill is None:
        raise ValueError(f"{type(event).__name__} before BackfillCreated")
    if isinstance(event, CHUNK_EVENT_TYPES):
        # The hot path: one copy for the version and the counters together.
        return fold_chunk_event(backfill, event, backfill.target_position(event.asset_key))  # type: ignore[union-attr]
    if isinstance(event, CHUNK_BATCH_TYPES):
        return fold_chunk_batch(backfill, event)  # type: ignore[arg-type]
    bumped = replace(backfill, version=backfill.version + 1)
    if isinstance(event, PartitionsUpstreamFailed):
        positions = [bumped.target_position(target.asset_key) for target in event.targets]
        return fold_upstream_failed(bumped, event, positions)
    if isinstance(event, RetryRoundOpened):
        positions = [bumped.target_position(target.asset_key) for target in event.targets]
        return replace(fold_retry_round(bumped, event, positions), state=BackfillState.RUNNING)
    if isinstance(event, (BackfillStarted, BackfillResumed)):
        return replace(bumped, state=BackfillState.RUNNING)
    if isinstance(event, BackfillPaused):
        return replace(bumped, state=BackfillState.PAUSED)
    if isinstance(event, BackfillCancelRequested):
        return replace(bumped, state=BackfillState.CANCELLING)
    if isinstance(event, BackfillCancelled):
        return replace(bumped, state=BackfillState.CANCELLED, partitions_cancelled=event.partitions_cancelled)
    if isinstance(event, BackfillCompleted):
        return replace(bumped, state=BackfillState.COMPLETED)
    if isinstance(event, BackfillConcurrencyChanged):
        return replace(bumped, max_concurrency=event.max_concurrency)
    raise TypeError(f"not a backfill event: {event!r}")


_MOVES: dict[type, BackfillState] = {
    BackfillCreated: BackfillState.CREATED,
    BackfillStarted: BackfillState.RUNNING,
    BackfillResumed: BackfillState.RUNNING,
    BackfillPaused: BackfillState.PAUSED,
    BackfillCancelRequested: BackfillState.CANCELLING,
    BackfillCancelled: BackfillState.CANCELLED,
    BackfillCompleted: BackfillState.COMPLETED,
    RetryRoundOpened: BackfillState.RUNNING,
}


# The event types that can change a backfill's lifecycle state; every other event (chunk events, batches of
# them, concurrency changes) leaves it as it is.
STATE_MOVING_EVENTS: tuple[type, ...] = tuple(_MOVES)


def state_after(event: BackfillEvent, before: BackfillState | None) -> BackfillState | None:
    """The lifecycle state ``event`` moves to, or None when it changes no state."""
    after = _MOVES.get(type(event))
    return None if after is None or after == before else after


def _unfinished_partitions(backfill: Backfill) -> int:
    return (
        backfill.partitions_total
        - backfill.partitions_succeeded
        - backfill.partitions_failed
        - backfill.partitions_upstream_failed
        - backfill.partitions_running
    )


def _require(backfill: Backfill, verb: str, allowed: bool) -> None:
    if not allowed:
        raise FailedPrecondition(
            f"cannot {verb} backfill {backfill.backfill_id}: it is {backfill.state.name}",
            reason="INVALID_BACKFILL_TRANSITION",
            metadata={"state": backfill.state.name, "action": verb},
        )
