"""Schedule events and state survive the protobuf edge unchanged; domain enums match the proto ones."""

from __future__ import annotations

from datetime import timedelta

from arco_grpc._gen.arco.orchestration.v1 import schedules_pb2 as sc
from arco_grpc.domain.partition_status import SkipReason
from arco_grpc.domain.schedule import (
    DecideTicks,
    PauseSchedule,
    RecordLaunch,
    ScheduleResumed,
    ScheduleState,
    TickLaunched,
    TickSkipped,
    decide,
    evolve,
)
from arco_grpc.planning.schedule_ticks import CatchUpPolicy, TickSkipReason
from arco_grpc.service.convert_schedules import (
    aggregate_from_proto,
    aggregate_to_proto,
    catch_up_policy_from_proto,
    catch_up_policy_to_proto,
    event_from_payload,
    event_to_payload,
    skip_reason_name,
    skip_reason_to_proto,
)
from arco_grpc.store.payloads import decode_payload, encode_event
from tests.domain.test_schedule import HOUR, HOURLY, T0, apply, created, new


def test_enums_match_the_proto_ones() -> None:
    assert {state.name: int(state) for state in ScheduleState} == {
        name.removeprefix("STATE_"): number for name, number in sc.Schedule.State.items() if number
    }
    names = {reason.name for reason in TickSkipReason} | {reason.name for reason in SkipReason}
    assert {skip_reason_name(number) for number in sc.TickSkipReason.values() if number} == names
    assert all(skip_reason_name(skip_reason_to_proto(name)) == name for name in names)
    assert [catch_up_policy_from_proto(catch_up_policy_to_proto(p)) for p in CatchUpPolicy] == list(CatchUpPolicy)
    assert catch_up_policy_from_proto(0) is CatchUpPolicy.LATEST_ONLY


def test_every_event_and_the_folded_state_round_trip() -> None:
    schedule = new(tags=(("a", "1"), ("b", "2")), catch_up_window=timedelta(hours=5))
    pause = decide(PauseSchedule("why", T0 + 2 * HOUR, HOURLY), schedule)
    schedule = apply(schedule, pause)
    later = decide(DecideTicks(T0 + 4 * HOUR, HOURLY), schedule)
    schedule = apply(schedule, later)
    first, second = schedule.ticks.pending
    launches = [
        *decide(RecordLaunch(first, "run-1"), schedule),
        *decide(RecordLaunch(second, skip_reason=SkipReason.IN_FLIGHT), schedule),
    ]
    events = [created(tags=(("a", "1"), ("b", "2")), catch_up_window=timedelta(hours=5)), *pause, *later, *launches,
              ScheduleResumed("back")]
    assert {type(e) for e in launches} == {TickLaunched, TickSkipped}

    for event in events:
        stored = encode_event(event_to_payload(event))
        assert event_from_payload(decode_payload(stored.event_type, stored.payload)) == event

    for event in events[-3:]:
        schedule = evolve(schedule, event)
    message = aggregate_to_proto(schedule, T0, T0 + 4 * HOUR)
    assert aggregate_from_proto(message) == schedule
    assert schedule.last_ticks and schedule.skipped
