"""One table from error classes to gRPC statuses, and the wrapper that applies it to every RPC.

Every arco-grpc RPC answers an :class:`~arco_grpc.errors.ArcoError` with its
status code, the error's message, and ``google.rpc.Status`` details: always an
``ErrorInfo`` (reason, domain, metadata), plus a ``BadRequest`` naming the bad
fields for INVALID_ARGUMENT. Anything else is a bug: INTERNAL, with the
traceback in the server log.

:func:`map_errors` wraps each method of a servicer once, when the server is
assembled. (A ``grpc.aio`` server interceptor would do the same on every
call, at a cost of tens of microseconds per RPC: an extra coroutine, a
handler lookup and a handler object per call.)
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from arco_grpc.errors import (
    Aborted,
    AlreadyExists,
    ArcoError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from arco_grpc.store.errors import StoreUnavailable

ERROR_DOMAIN = "arco.orchestration.v1"

S = TypeVar("S")

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[ArcoError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Aborted: grpc.StatusCode.ABORTED,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    StoreUnavailable: grpc.StatusCode.UNAVAILABLE,
}


def status_code_for(error_type: type[BaseException]) -> grpc.StatusCode | None:
    """The status of an error class: its own entry or its nearest mapped base; None if unmapped."""
    for klass in error_type.__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[klass]
    return None


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def rich_status_for(error: ArcoError) -> status_pb2.Status:
    """The google.rpc.Status a client receives for ``error``."""
    code = status_code_for(type(error)) or grpc.StatusCode.INTERNAL
    details = [_packed(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata))]
    if isinstance(error, InvalidArgument) and error.violations:
        details.append(
            _packed(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                        for v in error.violations
                    ]
                )
            )
        )
    return status_pb2.Status(code=code.value[0], message=error.message, details=details)


def internal_status() -> status_pb2.Status:
    """The status of an unexpected failure: no internals leak to the client."""
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message="internal error; the server log has the details",
        details=[_packed(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN))],
    )


async def _abort(context: grpc.aio.ServicerContext, error: BaseException, method: str) -> None:
    if isinstance(error, ArcoError) and status_code_for(type(error)) is not None:
        status = rich_status_for(error)
    else:
        logger.exception("unexpected error in %s", method, exc_info=error)
        status = internal_status()
    await context.abort_with_status(rpc_status.to_status(status))


def _wrap_unary(method: str, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behavior(request, context)
        except grpc.aio.AbortError:
            raise  # the servicer chose its own status
        except Exception as error:  # noqa: BLE001 - the one place that turns errors into statuses
            await _abort(context, error, method)

    return wrapped


def _wrap_streaming(method: str, behavior: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for response in behavior(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as error:  # noqa: BLE001
            await _abort(context, error, method)

    return wrapped


def _wrap(method: str, behavior: Any) -> Any:
    if inspect.isasyncgenfunction(behavior):
        return _wrap_streaming(method, behavior)
    return _wrap_unary(method, behavior)


def map_errors(servicer: S, service: ServiceDescriptor) -> S:
    """``servicer`` with every RPC of ``service`` wrapped so that errors become statuses; returns it.

    Call it once, before registering the servicer: the generated
    ``add_*Servicer_to_server`` functions read the (now wrapped) methods from
    the instance. Only arco services are wrapped; health and reflection keep
    their own behaviour.
    """
    for method in service.methods:
        behavior = getattr(servicer, method.name)
        setattr(servicer, method.name, _wrap(f"/{service.full_name}/{method.name}", behavior))
    return servicer
