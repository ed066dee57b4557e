"""Round trips of a PostgreSQL append batch, counted as statements sent (each one network round trip once
prepared): what a database on another machine makes every commit, and so every RPC, wait for."""

from __future__ import annotations

from datetime import datetime, timezone

from arco_grpc.store import AppendResult, AppendUnit, NewEvent, RequestRecord, RunEnd, StreamAppend
from arco_grpc.store.postgres import PostgresEventStore
from arco_grpc.store.postgres._connection import StatementCounter
from tests.store.test_conformance_batches import run, writing

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _unit(stream: str, expected: int | None, project=None) -> AppendUnit:  # noqa: ANN001
    return AppendUnit(
        (StreamAppend(stream, expected, (NewEvent("Thing", b"x"),)),), RequestRecord(f"r-{stream}", "Test/Do", "f", b"a"),
        T0, project,
    )


async def test_a_batch_of_units_with_expected_versions_and_writing_projectors_takes_four_round_trips(
    postgres_database: str,
) -> None:
    counter = StatementCounter()
    store = await PostgresEventStore.open(postgres_database, connection_init=counter.attach)
    try:
        await store.append_batch([_unit("warm", 0, writing(runs=(run("rk-0", "run-0"),), status=b"a"))])
        before = await counter.settled()
        results = await store.append_batch([
            _unit(f"s-{n}", 0, writing(runs=(run(f"rk-{n}", f"run-{n}"),), ends=(RunEnd("run-0", 2, T0),), status=b"b"))
            for n in range(1, 9)
        ])
        sent = await counter.settled() - before
    finally:
        await store.close()
    assert all(isinstance(result, AppendResult) for result in results)
    # BEGIN and the append lock; the check (and the status rows read); every row written; COMMIT.
    assert sent == 4


async def test_a_batch_on_the_general_path_reads_the_database_once(postgres_database: str) -> None:
    counter = StatementCounter()
    store = await PostgresEventStore.open(postgres_database, connection_init=counter.attach)
    try:
        await store.append_batch([_unit("warm", None)])
        before = await counter.settled()
        results = await store.append_batch([_unit("s-1", None), _unit("s-2", None)])
        sent = await counter.settled() - before
    finally:
        await store.close()
    assert all(isinstance(result, AppendResult) for result in results)
    # BEGIN and the lock; SAVEPOINT; requests seen, versions and last sequence in one query; events; requests;
    # RELEASE; COMMIT.
    assert sent == 7
