"""Errors the store raises; driver errors are translated into these with ``raise ... from``."""

from __future__ import annotations

from arco_grpc.errors import Aborted, AlreadyExists, ArcoError, InvalidArgument


class WrongExpectedVersion(Aborted):
    """The stream is not at the version the caller decided against (a concurrent write won)."""

    default_reason = "WRONG_EXPECTED_VERSION"

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None = None) -> None:
        found = "" if actual_version is None else f" but it is at version {actual_version}"
        super().__init__(
            f"stream {stream_id!r} was expected at version {expected_version}{found}; "
            "it changed concurrently, reload and retry",
            metadata={"stream_id": stream_id, "expected_version": str(expected_version)},
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class RequestIdReused(InvalidArgument):
    """A request id was already used for a request with a different body or method."""

    default_reason = "REQUEST_ID_REUSED"

    def __init__(self, request_id: str, first_method: str) -> None:
        super().__init__(
            f"request_id {request_id!r} was already used for a different request ({first_method}); "
            "use a new request_id for a new request, or repeat the original request exactly",
            field="request_id",
            metadata={"request_id": request_id},
        )


class StoreUnavailable(ArcoError):
    """The database could not be used (I/O error, locked for too long, closed)."""

    default_reason = "STORE_UNAVAILABLE"


class DuplicateRunKey(AlreadyExists):
    """A run was recorded with a run key that already names a run; the whole append is refused."""

    default_reason = "RUN_KEY_EXISTS"

    def __init__(self, run_key: str) -> None:
        super().__init__(
            f"a run with key {run_key!r} exists already; run keys are unique, so this attempt was launched before",
            metadata={"run_key": run_key},
        )
        self.run_key = run_key
