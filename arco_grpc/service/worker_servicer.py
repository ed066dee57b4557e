"""WorkerService: check and convert each request, call the application, convert back.

Errors are not caught here: ``errors.map_errors`` turns them into statuses.
"""

from __future__ import annotations

import grpc

from arco_grpc._gen.arco.orchestration.v1 import worker_service_pb2 as wapi, worker_service_pb2_grpc
from arco_grpc.errors import InvalidArgument
from arco_grpc.service.worker_app import Progress, WorkerApplication
from arco_grpc.service.worker_requests import (
    MAX_LEASES_PER_CALL,
    check_worker_id,
    completion_from_proto,
    lease_ref_from_proto,
    lease_refs,
    lease_request_from_proto,
    lease_ttl_of,
)

SERVICE_NAME = "arco.orchestration.v1.WorkerService"


class WorkerServicer(worker_service_pb2_grpc.WorkerServiceServicer):
    """The gRPC face of :class:`WorkerApplication`."""

    def __init__(self, app: WorkerApplication) -> None:
        self._app = app

    async def LeaseChunks(  # noqa: N802
        self, request: wapi.LeaseChunksRequest, context: grpc.aio.ServicerContext
    ) -> wapi.LeaseChunksResponse:
        ask, wait, identity = lease_request_from_proto(request)
        return await self._app.lease(ask, wait, identity)

    async def Heartbeat(  # noqa: N802
        self, request: wapi.HeartbeatRequest, context: grpc.aio.ServicerContext
    ) -> wapi.HeartbeatResponse:
        check_worker_id(request.worker_id)
        leases = lease_refs(list(request.leases))
        if len(request.progress) > MAX_LEASES_PER_CALL:
            raise InvalidArgument(f"at most {MAX_LEASES_PER_CALL} progress entries per call", field="progress")
        progress = [
            Progress(lease_ref_from_proto(p.lease, f"progress[{i}].lease"), p.fraction, p.message)
            for i, p in enumerate(request.progress)
        ]
        ttl = lease_ttl_of(request.lease_ttl, request.HasField("lease_ttl"))
        return await self._app.heartbeat(request.worker_id, leases, progress, ttl)

    async def CompleteChunk(  # noqa: N802
        self, request: wapi.CompleteChunkRequest, context: grpc.aio.ServicerContext
    ) -> wapi.CompleteChunkResponse:
        return await self._app.complete(completion_from_proto(request.completion))

    async def CompleteChunks(  # noqa: N802
        self, request: wapi.CompleteChunksRequest, context: grpc.aio.ServicerContext
    ) -> wapi.CompleteChunksResponse:
        if len(request.completions) > MAX_LEASES_PER_CALL:
            raise InvalidArgument(
                f"{len(request.completions)} completions; at most {MAX_LEASES_PER_CALL} per call", field="completions"
            )
        completions = [completion_from_proto(c, f"completions[{i}]") for i, c in enumerate(request.completions)]
        return await self._app.complete_many(completions)

    async def ReleaseChunks(  # noqa: N802
        self, request: wapi.ReleaseChunksRequest, context: grpc.aio.ServicerContext
    ) -> wapi.ReleaseChunksResponse:
        check_worker_id(request.worker_id)
        return await self._app.release(request.worker_id, lease_refs(list(request.leases)))
