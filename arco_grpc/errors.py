"""The errors every layer raises; service/ maps each class to one gRPC status.

Pure packages raise these with field paths relative to the message they
validate (``"start"``); callers add the prefix of the enclosing field with
:meth:`InvalidArgument.under` (``"assets[2].partitions.time_window.start"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request, as google.rpc.BadRequest reports it."""

    field: str
    description: str


class ArcoError(Exception):
    """Root of arco-grpc's errors. ``reason`` is a stable UPPER_SNAKE code."""

    default_reason = "ARCO_ERROR"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(ArcoError):
    """The request is malformed; ``violations`` name the offending fields."""

    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        violations: Sequence[FieldViolation] = (),
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        found = list(violations)
        if field is not None:
            found.insert(0, FieldViolation(field, message))
        self.violations: tuple[FieldViolation, ...] = tuple(found)

    def under(self, prefix: str) -> InvalidArgument:
        """The same error with every field path placed under ``prefix``."""
        def join(field: str) -> str:
            if not field:
                return prefix
            return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"

        return InvalidArgument(
            self.message,
            violations=[FieldViolation(join(v.field), v.description) for v in self.violations],
            reason=self.reason,
            metadata=self.metadata,
        )


class NotFound(ArcoError):
    """The named resource does not exist."""

    default_reason = "NOT_FOUND"


class AlreadyExists(ArcoError):
    """The resource to create exists already."""

    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(ArcoError):
    """The request is well formed but the system is not in a state to do it."""

    default_reason = "FAILED_PRECONDITION"


class Aborted(ArcoError):
    """A concurrency conflict, such as a stale expected_state_version."""

    default_reason = "ABORTED"


class ResourceExhausted(ArcoError):
    """A limit was hit; the message says which and what to do instead."""

    default_reason = "RESOURCE_EXHAUSTED"
