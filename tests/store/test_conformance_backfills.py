"""Backfill projections every EventStore backend must keep: rows, filters, chunk queries, runs, rebuilds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from arco_grpc._gen.arco.orchestration.v1 import assets_pb2, events_pb2
from arco_grpc.domain.backfill import (
    BackfillCreated,
    BackfillPaused,
    CreateBackfill,
    DispatchOrder,
    Target,
    decide,
)
from arco_grpc.partitions.selector import AllPartitions
from arco_grpc.service.backfill_projection import backfill_stream
from arco_grpc.service.convert_backfills import event_to_payload
from arco_grpc.service.rebuild import project_everything, rebuild_projections
from arco_grpc.store import (
    BackfillFilter,
    BackfillRecord,
    ChunkQuery,
    ChunkRecord,
    DuplicateRunKey,
    EventStore,
    NewEvent,
    RequestRecord,
    RunRecord,
    StoredEvent,
    Transaction,
    TransitionRecord,
)
from arco_grpc.store.payloads import encode_event

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def record(backfill_id: str, sequence: int, *, state: int = 2, assets: tuple[str, ...] = ("a",),
           tags: tuple[tuple[str, str], ...] = ()) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=backfill_id, state=state, state_version=2, max_concurrency=3, dispatch_order=1, title="t",
        creator="me", fingerprint="fp", as_of=T0, created_at=T0, updated_at=T0, ended_at=None,
        created_sequence=sequence, partitions_total=10, chunks_total=4, partitions_succeeded=0, partitions_failed=0,
        partitions_cancelled=0, leased_chunks=0, asset_keys=assets, tags=tags, spec=b"spec-" + backfill_id.encode(),
        outcomes=((None, None, None),) * len(assets),
    )


def chunk(backfill_id: str, target: int, round_number: int, index: int, state: int = 2) -> ChunkRecord:
    return ChunkRecord(
        backfill_id=backfill_id, target_position=target, asset_key=f"asset-{target}", round=round_number,
        chunk_index=index, state=state, attempt=1, run_key=f"rk-{backfill_id}-{target}-{round_number}-{index}",
        partition_count=index + 1, subset=None, updated_at=T0,
    )


def run(run_key: str) -> RunRecord:
    return RunRecord(run_key=run_key, backfill_id="bf-1", asset_key="a", round=1, chunk_index=0, attempt=1,
                     created_at=T0)


async def write(store: EventStore, stream: str, project, request_id: str | None = None) -> None:  # noqa: ANN001
    request = None if request_id is None else RequestRecord(request_id, "Test/Do", "f", b"answer")
    await store.append(stream, None, [NewEvent("Thing", b"x")], request=request, recorded_at=T0, project=project)


async def test_a_duplicate_run_key_aborts_the_whole_append(store: EventStore) -> None:
    async def first(transaction: Transaction, events: list[StoredEvent]) -> None:
        await transaction.record_run(run("rk-1"))

    await write(store, "s-1", first)
    before = await store.read_all()

    async def second(transaction: Transaction, events: list[StoredEvent]) -> None:
        await transaction.put_backfill(record("bf-2", 99))
        await transaction.put_chunk(chunk("bf-2", 0, 1, 0))
        await transaction.record_run(run("rk-2"))
        await transaction.record_run(run("rk-1"))  # launched before: the append must fail whole

    with pytest.raises(DuplicateRunKey) as caught:
        await write(store, "s-2", second, request_id="r-2")

    assert caught.value.run_key == "rk-1"
    assert await store.read_all() == before
    assert await store.find_request("r-2") is None
    assert await store.get_backfill("bf-2") is None
    assert await store.get_run("rk-2") is None
    assert await store.list_chunks(ChunkQuery("bf-2", (0, 0, 0), 10)) == []
    assert await store.get_run("rk-1") == run("rk-1")


async def test_backfill_rows_targets_tags_and_transitions(store: EventStore) -> None:
    first = record("bf-1", 10, assets=("a", "b"), tags=(("team", "red"),))

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        await transaction.put_backfill(first)
        assert await transaction.get_backfill("bf-1") == first  # reads its own writes
        for version in range(1, 6):
            await transaction.add_backfill_transition(
                TransitionRecord("bf-1", version, version - 1, version, f"reason {version}", T0, f"req-{version}")
            )
        # Later events change the state, not the identity: targets and tags stay.
        await transaction.put_backfill(replace(first, state=3, state_version=5, asset_keys=(), tags=()))

    await write(store, backfill_stream("bf-1"), project)

    got = await store.get_backfill("bf-1")
    assert got == replace(first, state=3, state_version=5)
    details = await store.backfill_details("bf-1", transition_limit=2)
    assert details is not None
    assert [t.state_version for t in details.transitions] == [4, 5]
    assert details.transitions[-1] == TransitionRecord("bf-1", 5, 4, 5, "reason 5", T0, "req-5")
    assert await store.backfill_details("bf-missing", 10) is None


async def test_backfill_specs_read_by_id_in_one_call_leave_absent_ids_out(store: EventStore) -> None:
    # More ids than one query binds (the backend splits them), a repeated id and an absent one.
    rows = [record(f"bf-{n:04}", n) for n in range(1, 1201)]

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        for row in rows:
            await transaction.put_backfill(row)

    await write(store, "s-1", project)
    wanted = [row.backfill_id for row in reversed(rows)] + ["bf-0001", "bf-missing"]

    assert await store.backfill_specs(wanted) == {row.backfill_id: row.spec for row in rows}
    assert await store.backfill_specs(["bf-0007", "bf-missing"]) == {"bf-0007": b"spec-bf-0007"}
    assert await store.backfill_specs([]) == {}


async def test_listing_filters_and_orders_newest_first(store: EventStore) -> None:
    rows = [
        record("bf-1", 10, state=2, assets=("a",), tags=(("team", "red"),)),
        record("bf-2", 20, state=3, assets=("a", "b"), tags=(("team", "blue"), ("x", "1"))),
        record("bf-3", 30, state=2, assets=("b",), tags=(("team", "red"), ("x", "1"))),
    ]

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        for row in rows:
            await transaction.put_backfill(row)
        await transaction.put_chunk(chunk("bf-3", 0, 1, 0, state=2))
        await transaction.put_chunk(chunk("bf-3", 0, 1, 1, state=2))
        await transaction.put_chunk(chunk("bf-3", 0, 2, 0, state=4))

    await write(store, "s", project)

    async def ids(where: BackfillFilter, before: int | None = None, limit: int = 10) -> list[str]:
        return [r.backfill_id for r, _ in await store.list_backfills(where, before, limit)]

    assert await ids(BackfillFilter()) == ["bf-3", "bf-2", "bf-1"]
    assert await ids(BackfillFilter(), before=30, limit=1) == ["bf-2"]
    assert await ids(BackfillFilter(states=(2,))) == ["bf-3", "bf-1"]
    assert await ids(BackfillFilter(asset_key="b")) == ["bf-3", "bf-2"]
    assert await ids(BackfillFilter(tags=(("team", "red"), ("x", "1")))) == ["bf-3"]
    assert await ids(BackfillFilter(asset_key="a", states=(3,), tags=(("x", "1"),))) == ["bf-2"]
    listed = await store.list_backfills(BackfillFilter(), None, 1)
    assert listed[0][0].asset_keys == ("b",) and listed[0][0].tags == (("team", "red"), ("x", "1"))
    assert [(c.round, c.state, c.chunks, c.partitions) for c in listed[0][1]] == [(1, 2, 2, 3), (2, 4, 1, 1)]


async def test_chunk_queries_follow_plan_order_from_a_position(store: EventStore) -> None:
    rows = [chunk("bf", t, r, i, state=2 + (i == 5)) for t in (0, 1) for r in (1, 2) for i in (0, 5, 9)]

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        for row in reversed(rows):
            await transaction.put_chunk(row)
        await transaction.put_chunk(replace(rows[0], state=5, attempt=2))  # replaces, never duplicates

    await write(store, "s", project)

    async def positions(**query: object) -> list[tuple[int, int, int]]:
        fields = {"backfill_id": "bf", "start": (0, 0, 0), "limit": 100, **query}
        return [c.position for c in await store.list_chunks(ChunkQuery(**fields))]  # type: ignore[arg-type]

    assert await positions() == [r.position for r in rows]
    assert await positions(start=(0, 2, 5), limit=3) == [(0, 2, 5), (0, 2, 9), (1, 1, 0)]
    assert await positions(target_position=1, round=2) == [(1, 2, 0), (1, 2, 5), (1, 2, 9)]
    assert await positions(min_index=5, round=1) == [(0, 1, 5), (0, 1, 9), (1, 1, 5), (1, 1, 9)]
    assert await positions(states=(3,)) == [(0, 1, 5), (0, 2, 5), (1, 1, 5), (1, 2, 5)]
    assert await positions(states=(5,)) == [(0, 1, 0)]
    assert await positions(backfill_id="other") == []
    first = (await store.list_chunks(ChunkQuery("bf", (0, 0, 0), 1)))[0]
    assert (first.state, first.attempt) == (5, 2)


def created(backfill_id: str) -> BackfillCreated:
    return BackfillCreated(
        backfill_id=backfill_id, targets=(Target("a", AllPartitions(), "fp", 10, 3, asset_version=1),),
        max_concurrency=2, order=DispatchOrder.FORWARD, tags=(("team", "red"),), title="t", description="d",
        creator="me", as_of=T0, fingerprint="fp",
    )


def encoded(*events: object) -> list[NewEvent]:
    return [encode_event(event_to_payload(event)) for event in events]  # type: ignore[arg-type]


async def test_rebuilding_from_the_events_gives_the_same_projections(store: EventStore) -> None:
    asset = assets_pb2.Asset(key="a", version=1, description="v1")
    applied = encode_event(events_pb2.AssetsApplied(assets=[asset]))
    changed = encode_event(events_pb2.AssetsApplied(assets=[assets_pb2.Asset(key="a", version=2, description="v2")]))
    added = encode_event(events_pb2.DynamicPartitionsAdded(name="d", keys=["x", "y"]))
    await store.append("catalog", 0, [applied], request=None, recorded_at=T0, project=project_everything)
    await store.append("dynamic/d", 0, [added], request=None, recorded_at=T0, project=project_everything)
    for n, backfill_id in enumerate(("bf-one", "bf-two")):
        at = T0 + timedelta(minutes=n)
        events = decide(CreateBackfill(created(backfill_id)), None)
        await store.append(backfill_stream(backfill_id), 0, encoded(*events), request=None, recorded_at=at,
                           project=project_everything)
    await store.append(backfill_stream("bf-one"), 2, encoded(BackfillPaused("lunch")), request=None,
                       recorded_at=T0 + timedelta(hours=1), project=project_everything)
    await store.append("catalog", 1, [changed], request=None, recorded_at=T0, project=project_everything)

    async def everything() -> tuple[object, ...]:
        return (
            await store.catalog_snapshot("catalog"),
            await store.asset_version("a", 1),
            await store.asset_version("a", 2),
            await store.dynamic_partitions("d", "dynamic/d"),
            await store.list_backfills(BackfillFilter(), None, 10),
            await store.backfill_details("bf-one", 100),
            await store.backfill_details("bf-two", 100),
        )

    live = await everything()
    assert await rebuild_projections(store) == len(await store.read_all())
    assert await everything() == live
    assert live[1] is not None and live[2] is not None  # the history keeps both versions
    details = live[5]
    assert [t.reason for t in details.transitions] == ["created", "started when created", "lunch"]  # type: ignore[union-attr]


async def test_a_failing_rebuild_changes_nothing(store: EventStore) -> None:
    events = decide(CreateBackfill(created("bf-one")), None)
    await store.append(backfill_stream("bf-one"), 0, encoded(*events), request=None, recorded_at=T0,
                       project=project_everything)
    before = await store.backfill_details("bf-one", 10)

    async def failing(transaction: Transaction, events: list[StoredEvent]) -> None:
        raise RuntimeError("projection bug")

    with pytest.raises(RuntimeError):
        await store.rebuild_projections(failing)
    assert await store.backfill_details("bf-one", 10) == before
