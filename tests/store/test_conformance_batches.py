"""append_batch: many units in one commit, each all-or-nothing, on every backend."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from arco_grpc.store import (
    AppendResult,
    AppendUnit,
    DuplicateRunKey,
    EventStore,
    NewEvent,
    RequestIdReused,
    RequestRecord,
    RunEnd,
    RunRecord,
    StoredEvent,
    StreamAppend,
    Transaction,
    WrongExpectedVersion,
    open_store,
)
from arco_grpc.store.model import StatusUpdate
from tests.store.conftest import StoreOpener
from tests.store.test_conformance_rows import _AppendByte

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def unit(*appends: tuple[str, int | None, int], request_id: str | None = None, project=None) -> AppendUnit:  # noqa: ANN001
    return AppendUnit(
        appends=tuple(
            StreamAppend(stream, expected, tuple(NewEvent("Thing", f"{stream}-{n}".encode()) for n in range(count)))
            for stream, expected, count in appends
        ),
        request=None if request_id is None else RequestRecord(request_id, "Test/Do", "f", request_id.encode()),
        recorded_at=T0,
        project=project,
    )


def run(run_key: str, run_id: str) -> RunRecord:
    return RunRecord(run_key=run_key, backfill_id="bf-1", asset_key="a", round=1, chunk_index=0, attempt=1,
                     created_at=T0, run_id=run_id)


def recording_runs(*runs: RunRecord):  # noqa: ANN201
    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        for record in runs:
            await transaction.record_run(record)

    return project


async def test_a_batch_commits_every_unit_in_order(store: EventStore) -> None:
    await store.append("s-1", 0, [NewEvent("Thing", b"x")], request=None, recorded_at=T0)

    results = await store.append_batch([
        unit(("s-1", 1, 2), request_id="r-1"),
        unit(("s-2", 0, 1), ("s-1", 3, 1)),
        unit(("s-3", 0, 1), request_id="r-3"),
    ])

    assert all(isinstance(r, AppendResult) and not r.replayed for r in results)
    events = [e for r in results for e in r.events]  # type: ignore[union-attr]
    assert [(e.stream_id, e.stream_version) for e in events] == [("s-1", 2), ("s-1", 3), ("s-2", 1), ("s-1", 4),
                                                                 ("s-3", 1)]
    assert [e.sequence for e in events] == list(range(2, 7))
    assert await store.read_all() == [(await store.read_all())[0], *events]
    assert (await store.find_request("r-1")).response == b"r-1"  # type: ignore[union-attr]
    assert await store.max_sequence() == 6


async def test_a_refused_unit_writes_nothing_and_the_others_commit(store: EventStore) -> None:
    await store.append("s-1", 0, [NewEvent("Thing", b"x")], request=RequestRecord("seen", "Test/Do", "f", b"old"),
                       recorded_at=T0)

    results = await store.append_batch([
        unit(("s-2", 0, 1)),
        unit(("s-1", 0, 1), request_id="stale"),  # s-1 is at version 1
        unit(("s-3", 0, 1), request_id="seen"),  # a repeat: the first answer, nothing written
        unit(("s-4", 0, 1), request_id="reused", project=recording_runs(run("rk-1", "run-1"))),
        unit(("s-5", 0, 1), project=recording_runs(run("rk-1", "run-2"))),  # the same run key again
        unit(("s-6", 0, 1)),
    ])

    assert isinstance(results[0], AppendResult)
    assert isinstance(results[1], WrongExpectedVersion)
    assert isinstance(results[2], AppendResult) and results[2].replayed and results[2].response == b"old"
    assert isinstance(results[3], AppendResult) and not results[3].replayed
    assert isinstance(results[4], DuplicateRunKey) and results[4].run_key == "rk-1"
    assert isinstance(results[5], AppendResult)
    assert [e.stream_id for e in await store.read_all()] == ["s-1", "s-2", "s-4", "s-6"]
    assert await store.find_request("stale") is None
    assert (await store.get_run("rk-1")).run_id == "run-1"  # type: ignore[union-attr]
    sequences = [e.sequence for e in await store.read_all()]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4


async def test_a_request_id_reused_within_a_batch_is_refused(store: EventStore) -> None:
    twin = AppendUnit((StreamAppend("s-2", 0, (NewEvent("Thing", b"y"),)),),
                      RequestRecord("r-1", "Test/Other", "g", b"other"), T0)
    results = await store.append_batch([unit(("s-1", 0, 1), request_id="r-1"), twin])

    assert isinstance(results[0], AppendResult)
    assert isinstance(results[1], RequestIdReused)
    assert [e.stream_id for e in await store.read_all()] == ["s-1"]


async def test_units_without_expected_versions_and_projectors_that_read_still_commit(store: EventStore) -> None:
    seen: list[object] = []

    async def reading(transaction: Transaction, events: list[StoredEvent]) -> None:
        seen.append(await transaction.get_backfill("bf-none"))
        await transaction.record_run(run("rk-9", "run-9"))
        await transaction.end_run(RunEnd("run-9", 2, T0, error="done"))

    results = await store.append_batch([unit(("s-1", None, 2)), unit(("s-2", 0, 1), project=reading)])

    assert all(isinstance(r, AppendResult) for r in results)
    assert seen == [None]
    stored = await store.get_run("rk-9")
    assert stored is not None and (stored.state, stored.error) == (2, "done")
    assert [e.stream_version for e in await store.read_stream("s-1")] == [1, 2]


async def test_concurrent_batches_commit_in_sequence_order(open_backend: StoreOpener) -> None:
    store = await open_backend()
    batches = [[unit((f"s-{b}-{u}", 0, 2)) for u in range(5)] for b in range(8)]

    answers = await asyncio.gather(*(store.append_batch(batch) for batch in batches))

    written = await store.read_all()
    assert [e.sequence for e in written] == list(range(1, 81))
    by_stream = {e.stream_id: e for r in (x for answer in answers for x in answer) for e in r.events}  # type: ignore[union-attr]
    assert len(by_stream) == 40
    assert await store.max_sequence() == 80


class _Appending(_AppendByte):
    """A status update that appends bytes to the stored row (chained updates append in order)."""

    def then(self, later: StatusUpdate) -> StatusUpdate:
        assert isinstance(later, _AppendByte)
        return _Appending(self.byte + later.byte)


def writing(*, runs: tuple[RunRecord, ...] = (), ends: tuple[RunEnd, ...] = (), status: bytes = b""):  # noqa: ANN201
    """A projector that only writes (the kind a batch may plan before its transaction)."""

    async def project(transaction: Transaction, events: list[StoredEvent]) -> None:
        await transaction.record_runs(runs)
        await transaction.end_runs(ends)
        if status:
            await transaction.update_partition_status("asset", "space", _Appending(status))

    return project


async def test_writing_projectors_of_one_batch_see_each_others_rows(store: EventStore) -> None:
    await store.append("s-0", 0, [NewEvent("Thing", b"x")], request=None, recorded_at=T0, project=writing(status=b"a"))

    results = await store.append_batch([
        unit(("s-1", 0, 1), request_id="r-1", project=writing(runs=(run("rk-1", "run-1"),), status=b"b")),
        unit(("s-2", 0, 1), request_id="r-2", project=writing(ends=(RunEnd("run-1", 2, T0, error="done"),), status=b"c")),
        unit(("s-1", 1, 1), project=writing(status=b"d")),
    ])

    assert all(isinstance(r, AppendResult) and not r.replayed for r in results)
    assert [e.sequence for r in results for e in r.events] == [2, 3, 4]  # type: ignore[union-attr]
    assert await store.partition_status("asset", "space") == b"abcd"
    ended = await store.get_run("rk-1")
    assert ended is not None and (ended.state, ended.error) == (2, "done")
    assert (await store.find_request("r-2")).response == b"r-2"  # type: ignore[union-attr]


async def test_a_run_key_taken_twice_in_a_batch_refuses_only_the_second_unit(store: EventStore) -> None:
    results = await store.append_batch([
        unit(("s-1", 0, 1), request_id="r-1", project=writing(runs=(run("rk-1", "run-1"),), status=b"a")),
        unit(("s-2", 0, 1), request_id="r-2", project=writing(runs=(run("rk-1", "run-2"),), status=b"b")),
        unit(("s-3", 0, 1), request_id="r-3", project=writing(status=b"c")),
    ])
    after = await store.append_batch([unit(("s-4", 0, 1), project=writing(status=b"d"))])

    assert isinstance(results[1], DuplicateRunKey) and results[1].run_key == "rk-1"
    assert isinstance(results[0], AppendResult) and isinstance(results[2], AppendResult)
    assert [(e.stream_id, e.sequence) for e in await store.read_all()] == [("s-1", 1), ("s-3", 2), ("s-4", 3)]
    assert isinstance(after[0], AppendResult) and after[0].events[0].sequence == 3
    assert await store.find_request("r-2") is None
    assert (await store.get_run("rk-1")).run_id == "run-1"  # type: ignore[union-attr]
    assert await store.partition_status("asset", "space") == b"acd"


async def test_stores_taking_turns_on_one_database_keep_sequences_in_commit_order(persistent_location: str) -> None:
    first, second = await open_store(persistent_location), await open_store(persistent_location)
    try:
        for turn, appender in enumerate((first, second, first, second, first)):
            results = await appender.append_batch([
                unit((f"s-{turn}-{n}", 0, 1), request_id=f"r-{turn}-{n}", project=writing(status=bytes([65 + turn])))
                for n in range(3)
            ])
            assert [e.sequence for r in results for e in r.events] == [3 * turn + 1, 3 * turn + 2, 3 * turn + 3]  # type: ignore[union-attr]
        assert [e.sequence for e in await first.read_all()] == list(range(1, 16))
        assert await second.partition_status("asset", "space") == b"AAABBBCCCDDDEEE"
    finally:
        await first.close()
        await second.close()


async def test_a_projector_refusing_its_unit_refuses_only_that_unit(store: EventStore) -> None:
    async def refusing(transaction: Transaction, events: list[StoredEvent]) -> None:
        raise DuplicateRunKey("rk-refused")

    results = await store.append_batch([
        unit(("s-1", 0, 1), request_id="r-1", project=writing(status=b"a")),
        unit(("s-2", 0, 1), request_id="r-2", project=refusing),
        unit(("s-3", 0, 1), request_id="r-3", project=writing(status=b"c")),
    ])

    assert isinstance(results[1], DuplicateRunKey) and results[1].run_key == "rk-refused"
    assert [(e.stream_id, e.sequence) for e in await store.read_all()] == [("s-1", 1), ("s-3", 2)]
    assert await store.find_request("r-2") is None
    assert await store.partition_status("asset", "space") == b"ac"
