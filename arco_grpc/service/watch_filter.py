"""Which events a WatchBackfills stream sends: backfills by state (as events arrive), asset and tags.

Asset and tags never change for a backfill. The state does: an event is sent
when the backfill is in one of the wanted states before *or* after it, so a
dashboard sees a backfill enter a state and leave it. The matcher follows
each backfill's state from the events themselves; it reads the store only for
a backfill it meets for the first time (or again, after forgetting it), to
learn its asset, tags and its state before that event.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from arco_grpc._gen.arco.orchestration.v1 import events_pb2
from arco_grpc.domain.backfill import STATE_MOVING_EVENTS, BackfillState, state_after
from arco_grpc.service.backfill_projection import backfill_id_of, backfill_stream
from arco_grpc.service.convert_backfills import BACKFILL_EVENT_TYPES, event_from_payload
from arco_grpc.store import BackfillRecord, EventStore, StoredEvent
from arco_grpc.store.payloads import decode_payload

# Backfills whose asset, tags and state one stream remembers (least recently
# seen forgotten first): bounds the stream's memory, whatever the number of backfills.
REMEMBERED_BACKFILLS = 4096
# Transitions read at once when looking up a past state; longer histories are folded from the stream.
_TRANSITIONS_READ = 1000
_FOLD_PAGE = 1000
NO_STATE = 0
# Stored event types that may move the state (an event's type is its class name): the others (most of a
# running backfill's events) are not decoded.
_STATE_MOVING_TYPES = frozenset(event_class.__name__ for event_class in STATE_MOVING_EVENTS)


@dataclass(frozen=True, slots=True)
class BackfillsFilter:
    """What WatchBackfills asked for; empty parts match everything."""

    states: frozenset[int] = frozenset()
    asset_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def matches_fixed(self, asset_keys: tuple[str, ...], tags: dict[str, str]) -> bool:
        """True when a backfill's asset and tags (which never change) pass."""
        if self.asset_key is not None and self.asset_key not in asset_keys:
            return False
        return all(tags.get(key) == value for key, value in self.tags)

    def matches_states(self, *states: int) -> bool:
        """True when any of ``states`` is wanted (or no state is asked for)."""
        return not self.states or any(state in self.states for state in states)


@dataclass(frozen=True, slots=True)
class _Known:
    fixed_match: bool
    state: int
    version: int


def state_moved_by(event: StoredEvent, before: int) -> int:
    """The backfill's state after ``event``, given its state before."""
    if event.event_type not in BACKFILL_EVENT_TYPES or event.event_type not in _STATE_MOVING_TYPES:
        return before
    domain_event = event_from_payload(decode_payload(event.event_type, event.payload))
    moved = state_after(domain_event, BackfillState(before) if before else None)
    return before if moved is None else int(moved)


class BackfillMatcher:
    """Decides, event by event in sequence order, what one WatchBackfills stream sends."""

    def __init__(self, store: EventStore, where: BackfillsFilter) -> None:
        self._store = store
        self._where = where
        self._known: OrderedDict[str, _Known] = OrderedDict()

    def remember(self, record: BackfillRecord, state: int, version: int) -> None:
        """Starts following a backfill from a known state (a snapshot's)."""
        self._put(record.backfill_id, _Known(self._fixed(record), state, version))

    def _fixed(self, record: BackfillRecord) -> bool:
        return self._where.matches_fixed(record.asset_keys, dict(record.tags))

    def _put(self, backfill_id: str, known: _Known) -> None:
        self._known[backfill_id] = known
        self._known.move_to_end(backfill_id)
        if len(self._known) > REMEMBERED_BACKFILLS:
            self._known.popitem(last=False)

    async def matches_event(self, event: StoredEvent) -> bool:
        """True when ``event`` passes; call it for every event of every backfill, in sequence order."""
        backfill_id = backfill_id_of(event.stream_id)
        known = self._known.get(backfill_id)
        if known is None or known.version != event.stream_version - 1:
            known = await self._learn(backfill_id, event)
        after = state_moved_by(event, known.state)
        self._put(backfill_id, _Known(known.fixed_match, after, event.stream_version))
        return known.fixed_match and self._where.matches_states(known.state, after)

    async def matches_backfill(self, backfill_id: str) -> bool:
        """True when the backfill passes now (for progress, which has no event)."""
        known = self._known.get(backfill_id)
        if known is None:
            record = await self._store.get_backfill(backfill_id)
            if record is None:
                return False
            known = _Known(self._fixed(record), record.state, record.state_version)
            self._put(backfill_id, known)
        return known.fixed_match and self._where.matches_states(known.state)

    async def _learn(self, backfill_id: str, event: StoredEvent) -> _Known:
        """What the matcher needs about a backfill just before ``event``."""
        if event.event_type == "BackfillCreated":
            created = events_pb2.BackfillCreated.FromString(event.payload)
            asset_keys = tuple(target.asset_key for target in created.targets)
            return _Known(self._where.matches_fixed(asset_keys, dict(created.tags)), NO_STATE, 0)
        record = await self._store.get_backfill(backfill_id)
        if record is None:  # not projected (cannot happen for a committed backfill event); send nothing
            return _Known(False, NO_STATE, event.stream_version - 1)
        version = event.stream_version - 1
        return _Known(self._fixed(record), await self._state_at(record, version), version)

    async def _state_at(self, record: BackfillRecord, version: int) -> int:
        """The backfill's state right after its event ``version``."""
        if record.state_version == version:
            return record.state
        details = await self._store.backfill_details(record.backfill_id, _TRANSITIONS_READ)
        transitions = () if details is None else details.transitions
        earlier = [t for t in transitions if t.state_version <= version]
        if earlier:
            return earlier[-1].to_state
        if len(transitions) < _TRANSITIONS_READ:
            return NO_STATE
        return await self._fold_state(record.backfill_id, version)

    async def _fold_state(self, backfill_id: str, version: int) -> int:
        """The state after event ``version``, folded from the stream (a history longer than the transitions read)."""
        state, after_version = NO_STATE, 0
        while after_version < version:
            page = await self._store.read_stream(
                backfill_stream(backfill_id), after_version, min(_FOLD_PAGE, version - after_version)
            )
            if not page:
                break
            for event in page:
                state = state_moved_by(event, state)
            after_version = page[-1].stream_version
        return state
