"""The backfill lifecycle as pure functions: ``decide(command, backfill) -> events``
and ``evolve(backfill, event) -> backfill``.

States and transitions::

    CREATED -> RUNNING -> PAUSED <-> RUNNING
    CREATED | RUNNING | PAUSED -> CANCELLING -> CANCELLED
    RUNNING -> COMPLETED

Every event raises ``version`` (the API's state_version) by exactly one.
Asking for the state a backfill is already in decides no events; a stale
``expected_version`` is refused before anything else is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum
from typing import Union

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


@dataclass(frozen=True, slots=True)
class BackfillConcurrencyChanged:
    """max_concurrency changed on a live backfill."""

    max_concurrency: int
    previous_max_concurrency: int
    reason: str


BackfillEvent = Union[
    BackfillCreated,
    BackfillStarted,
    BackfillPaused,
    BackfillResumed,
    BackfillCancelRequested,
    BackfillCancelled,
    BackfillCompleted,
    BackfillConcurrencyChanged,
]

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


@dataclass(frozen=True, slots=True)
class Backfill:
    """What decisions need to know about a backfill, folded from its events."""

    spec: BackfillCreated
    state: BackfillState
    version: int
    max_concurrency: int
    partitions_succeeded: int = 0
    partitions_failed: int = 0
    partitions_cancelled: int = 0
    leased_chunks: int = 0

    @property
    def backfill_id(self) -> str:
        """The backfill's id."""
        return self.spec.backfill_id

    @property
    def partitions_total(self) -> int:
        """Partitions selected over every target."""
        return sum(t.partition_count for t in self.spec.targets)


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
    expected = command.expected_version
    if expected is not None and expected != backfill.version:
        raise Aborted(
            f"backfill {backfill.backfill_id} is at state_version {backfill.version}, not {expected}: "
            "read it again and retry if the change still makes sense",
            reason="STATE_VERSION_MISMATCH",
            metadata={"state_version": str(backfill.version), "expected_state_version": str(expected)},
        )
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
        return [BackfillResumed(command.reason)]
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


def evolve(backfill: Backfill | None, event: BackfillEvent) -> Backfill:
    """``backfill`` after ``event``; version rises by exactly one."""
    if isinstance(event, BackfillCreated):
        if backfill is not None:
            raise ValueError("BackfillCreated on an existing backfill")
        return Backfill(spec=event, state=BackfillState.CREATED, version=1, max_concurrency=event.max_concurrency)
    if backfill is None:
        raise ValueError(f"{type(event).__name__} before BackfillCreated")
    bumped = replace(backfill, version=backfill.version + 1)
    if isinstance(event, (BackfillStarted, BackfillResumed)):
        return replace(bumped, state=BackfillState.RUNNING)
    if isinstance(event, BackfillPaused):
        return replace(bumped, state=BackfillState.PAUSED)
    if isinstance(event, BackfillCancelRequested):
        return replace(bumped, state=BackfillState.CANCELLING)
    if isinstance(event, BackfillCancelled):
        return replace(bumped, state=BackfillState.CANCELLED, partitions_cancelled=event.partitions_cancelled)
    if isinstance(event, BackfillCompleted):
        return replace(
            bumped,
            state=BackfillState.COMPLETED,
            partitions_succeeded=event.partitions_succeeded,
            partitions_failed=event.partitions_failed,
        )
    if isinstance(event, BackfillConcurrencyChanged):
        return replace(bumped, max_concurrency=event.max_concurrency)
    raise TypeError(f"not a backfill event: {event!r}")


def state_after(event: BackfillEvent, before: BackfillState | None) -> BackfillState | None:
    """The lifecycle state ``event`` moves to, or None when it changes no state."""
    moves: dict[type, BackfillState] = {
        BackfillCreated: BackfillState.CREATED,
        BackfillStarted: BackfillState.RUNNING,
        BackfillResumed: BackfillState.RUNNING,
        BackfillPaused: BackfillState.PAUSED,
        BackfillCancelRequested: BackfillState.CANCELLING,
        BackfillCancelled: BackfillState.CANCELLED,
        BackfillCompleted: BackfillState.COMPLETED,
    }
    after = moves.get(type(event))
    return None if after is None or after == before else after


def _unfinished_partitions(backfill: Backfill) -> int:
    return backfill.partitions_total - backfill.partitions_succeeded - backfill.partitions_failed


def _require(backfill: Backfill, verb: str, allowed: bool) -> None:
    if not allowed:
        raise FailedPrecondition(
            f"cannot {verb} backfill {backfill.backfill_id}: it is {backfill.state.name}",
            reason="INVALID_BACKFILL_TRANSITION",
            metadata={"state": backfill.state.name, "action": verb},
        )
