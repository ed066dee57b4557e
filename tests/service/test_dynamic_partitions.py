"""AddDynamicPartitions and DeleteDynamicPartitions through a real server."""

from __future__ import annotations

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api
from tests.service.builders import apply, asset, dynamic
from tests.service.conftest import Served, call_failure

pytestmark = pytest.mark.backends("sqlite", "postgres")


async def keys_of(served: Served, asset_key: str = "profiles") -> list[str]:
    response = await served.catalog.ListPartitionKeys(api.ListPartitionKeysRequest(asset_key=asset_key))
    return list(response.keys)


async def add(served: Served, request_id: str, *keys: str) -> api.AddDynamicPartitionsResponse:
    return await served.catalog.AddDynamicPartitions(
        api.AddDynamicPartitionsRequest(request_id=request_id, name="customers", keys=keys)
    )


async def delete(served: Served, request_id: str, *keys: str) -> api.DeleteDynamicPartitionsResponse:
    return await served.catalog.DeleteDynamicPartitions(
        api.DeleteDynamicPartitionsRequest(request_id=request_id, name="customers", keys=keys)
    )


async def test_keys_keep_insertion_order_and_readd_moves_to_the_end(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r", asset("profiles", dynamic("customers"))))

    first = await add(served, "a-1", "zeta", "alpha", "mid")
    assert (list(first.added_keys), first.partition_count) == (["zeta", "alpha", "mid"], 3)
    second = await add(served, "a-2", "alpha", "new")  # alpha exists: stays where it is
    assert (list(second.added_keys), second.partition_count) == (["new"], 4)
    assert await keys_of(served) == ["zeta", "alpha", "mid", "new"]

    deleted = await delete(served, "d-1", "alpha", "absent")
    assert (list(deleted.deleted_keys), deleted.partition_count) == (["alpha"], 3)
    await add(served, "a-3", "alpha")
    assert await keys_of(served) == ["zeta", "mid", "new", "alpha"]


async def test_deleting_absent_keys_is_a_no_op_that_writes_no_event(served: Served) -> None:
    before = await served.running.store.max_sequence()
    response = await delete(served, "d", "ghost")
    assert (list(response.deleted_keys), response.partition_count) == ([], 0)
    assert await served.running.store.max_sequence() == before
    # ... but its answer is remembered: a replay gets it back.
    assert await delete(served, "d", "ghost") == response


async def test_adding_is_idempotent_by_request_id(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r", asset("profiles", dynamic("customers"))))
    first = await add(served, "a-1", "x", "y")
    await delete(served, "d-1", "x")
    before = await served.running.store.max_sequence()

    replay = await add(served, "a-1", "x", "y")

    assert replay == first
    assert await served.running.store.max_sequence() == before
    assert await keys_of(served) == ["y"]  # the replay did not re-add x
    failure = await call_failure(add(served, "a-1", "x"))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.violations[0][0] == "request_id"


async def test_dynamic_keys_are_seen_by_selections_right_after_a_change(served: Served) -> None:
    await served.catalog.ApplyAssets(apply("r", asset("profiles", dynamic("customers"))))
    await add(served, "a-1", "x")
    assert await keys_of(served) == ["x"]  # now cached
    await add(served, "a-2", "y")
    assert await keys_of(served) == ["x", "y"]
    await delete(served, "d-1", "x")
    assert await keys_of(served) == ["y"]
