"""The server around the servicers: reflection, health, error mapping, restart, graceful stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

import arco_grpc.server  # noqa: F401 - imports every module that defines errors
from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2, backfill_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import catalog_service_pb2 as api, catalog_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import run_service_pb2, run_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import schedule_service_pb2, schedule_service_pb2_grpc
from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2, worker_service_pb2_grpc
from arco_grpc.errors import ArcoError, InvalidArgument, NotFound
from arco_grpc.service.errors import STATUS_BY_ERROR, map_errors, rich_status_for, status_code_for
from arco_grpc.store import StoreUnavailable
from tests.service.builders import apply, asset, daily, dynamic, static, ts
from tests.service.conftest import Served, ServerStarter, call_failure, stop

pytestmark = pytest.mark.backends("sqlite", "postgres")

SERVICES = (
    (api.DESCRIPTOR.services_by_name["CatalogService"], catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server),
    (backfill_service_pb2.DESCRIPTOR.services_by_name["BackfillService"],
     backfill_service_pb2_grpc.add_BackfillServiceServicer_to_server),
    (worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"],
     worker_service_pb2_grpc.add_WorkerServiceServicer_to_server),
    (run_service_pb2.DESCRIPTOR.services_by_name["RunService"], run_service_pb2_grpc.add_RunServiceServicer_to_server),
    (schedule_service_pb2.DESCRIPTOR.services_by_name["ScheduleService"],
     schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server),
)
CATALOG_METHODS = {
    "ApplyAssets", "GetAsset", "ListAssets", "AddDynamicPartitions", "DeleteDynamicPartitions",
    "ListPartitionKeys", "ResolveSelection", "GetUpstreamPartitions", "GetDownstreamPartitions", "GetPartitionStatus",
}


def all_subclasses(klass: type) -> set[type]:
    found = set()
    for sub in klass.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def test_every_error_class_has_a_status_other_than_internal() -> None:
    classes = all_subclasses(ArcoError)
    assert len(classes) >= 8  # the errors.py classes plus the store's
    for klass in classes:
        code = status_code_for(klass)
        assert code is not None, f"{klass.__name__} has no gRPC status"
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.OK), klass
    assert status_code_for(ArcoError) is None  # the root itself is never raised
    assert set(STATUS_BY_ERROR) <= classes


def test_invalid_argument_carries_error_info_and_bad_request() -> None:
    status = rich_status_for(InvalidArgument("bad start", field="start").under("assets[0].partitions.time_window"))
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert [d.TypeName() for d in status.details] == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]


def reflect(address: str) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Lists services and describes CatalogService through a reflection client (blocking)."""
    with grpc.insecure_channel(address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName("arco.orchestration.v1.CatalogService")
        methods = {m.name: (m.input_type.full_name, m.output_type.full_name) for m in service.methods}
        # Clients decode error details through reflection too.
        pool.FindMessageTypeByName("google.rpc.BadRequest")
        return services, methods


async def test_reflection_lists_the_services_and_describes_every_method(served: Served) -> None:
    # The reflection client is synchronous: run it off the event loop that serves it.
    services, methods = await asyncio.to_thread(reflect, served.address)

    assert services == [
        "arco.orchestration.v1.BackfillService",
        "arco.orchestration.v1.CatalogService",
        "arco.orchestration.v1.RunService",
        "arco.orchestration.v1.ScheduleService",
        "arco.orchestration.v1.WorkerService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    assert set(methods) == CATALOG_METHODS
    assert methods["ApplyAssets"] == (
        "arco.orchestration.v1.ApplyAssetsRequest", "arco.orchestration.v1.ApplyAssetsResponse"
    )


async def test_health_reports_serving_for_the_server_and_each_service(served: Served) -> None:
    health = health_pb2_grpc.HealthStub(served.channel)
    for service in ("", "arco.orchestration.v1.CatalogService", "arco.orchestration.v1.ScheduleService"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_an_unexpected_error_is_internal_and_logged_without_leaking(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(served.running.app, "get_asset", broken)
    with caplog.at_level(logging.ERROR):
        failure = await call_failure(served.catalog.GetAsset(api.GetAssetRequest(asset_key="a")))

    assert failure.code == grpc.StatusCode.INTERNAL
    assert "secret" not in failure.message
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


async def test_a_closed_store_answers_unavailable(served: Served) -> None:
    await served.running.store.close()
    failure = await call_failure(served.catalog.GetAsset(api.GetAssetRequest(asset_key="a")))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert failure.reason == StoreUnavailable.default_reason


async def test_restart_on_the_same_database_keeps_catalog_and_dynamic_keys(start: ServerStarter) -> None:
    first = await start()
    applied = await first.catalog.ApplyAssets(
        apply("r", asset("days", daily("2024-01-01")), asset("profiles", dynamic("customers")),
              asset("regions", static("us", "eu")))
    )
    await first.catalog.AddDynamicPartitions(
        api.AddDynamicPartitionsRequest(request_id="k", name="customers", keys=["b", "a"])
    )
    await stop(first)

    second = await start()
    listed = await second.catalog.ListAssets(api.ListAssetsRequest())
    keys = await second.catalog.ListPartitionKeys(api.ListPartitionKeysRequest(asset_key="profiles"))
    days = await second.catalog.ResolveSelection(
        api.ResolveSelectionRequest(asset_key="days", as_of=ts(datetime(2024, 1, 11, tzinfo=timezone.utc)))
    )
    replay = await second.catalog.ApplyAssets(
        apply("r", asset("days", daily("2024-01-01")), asset("profiles", dynamic("customers")),
              asset("regions", static("us", "eu")))
    )

    assert sorted(listed.assets, key=lambda x: x.key) == sorted(applied.assets, key=lambda x: x.key)
    assert list(keys.keys) == ["b", "a"]
    assert (days.count, days.first_key, days.last_key) == (10, "2024-01-01", "2024-01-10")
    assert replay == applied


async def test_graceful_stop_finishes_in_flight_calls_then_closes_the_store(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    original = served.running.app.get_asset

    async def slow(key: str):  # type: ignore[no-untyped-def]
        entered.set()
        await release.wait()
        return await original(key)

    await served.catalog.ApplyAssets(apply("r", asset("a", static("x"))))
    monkeypatch.setattr(served.running.app, "get_asset", slow)
    in_flight = asyncio.ensure_future(served.catalog.GetAsset(api.GetAssetRequest(asset_key="a")))
    await asyncio.wait_for(entered.wait(), timeout=10)

    stopping = asyncio.create_task(served.running.stop(grace=10))

    async def not_serving() -> None:
        request = health_pb2.HealthCheckRequest(service="")
        while (await served.running.health.Check(request, None)).status != health_pb2.HealthCheckResponse.NOT_SERVING:
            await asyncio.sleep(0)  # let stop() run; the wait is bounded below

    await asyncio.wait_for(not_serving(), timeout=10)
    assert not in_flight.done()  # still held by the servicer while the server drains
    release.set()

    response = await asyncio.wait_for(in_flight, timeout=10)
    await asyncio.wait_for(stopping, timeout=10)
    served.stopped = True  # type: ignore[attr-defined]
    assert response.asset.key == "a"
    with pytest.raises(StoreUnavailable):
        await served.running.store.read_all()


def refusing_servicer(service: ServiceDescriptor) -> object:
    """A servicer of ``service`` whose every method raises NotFound (streams before their first message)."""
    servicer = type("Refusing", (), {})()

    def unary(name: str):  # noqa: ANN202
        async def behavior(request: object, context: grpc.aio.ServicerContext) -> object:
            raise NotFound(f"{name} found nothing", reason="NOTHING")

        return behavior

    def streaming(name: str):  # noqa: ANN202
        async def behavior(request: object, context: grpc.aio.ServicerContext) -> AsyncIterator[object]:
            raise NotFound(f"{name} found nothing", reason="NOTHING")
            yield  # an async generator, as streaming servicer methods are

        return behavior

    for method in service.methods:
        setattr(servicer, method.name, (streaming if method.server_streaming else unary)(method.name))
    return servicer


async def test_every_method_of_every_arco_service_maps_errors_to_statuses() -> None:
    server = grpc.aio.server()
    for service, add in SERVICES:
        add(map_errors(refusing_servicer(service), service), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for service, _ in SERVICES:
                for method in service.methods:
                    path = f"/{service.full_name}/{method.name}"
                    request = GetMessageClass(method.input_type)()
                    if method.server_streaming:
                        stream = channel.unary_stream(path, request_serializer=type(request).SerializeToString)
                        failure = await call_failure(anext(aiter(stream(request))))
                    else:
                        call = channel.unary_unary(path, request_serializer=type(request).SerializeToString)
                        failure = await call_failure(call(request))
                    assert (failure.code, failure.reason, failure.message) == (
                        grpc.StatusCode.NOT_FOUND, "NOTHING", f"{method.name} found nothing"
                    ), path
    finally:
        await server.stop(None)
