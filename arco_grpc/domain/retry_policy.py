"""How a backfill retries chunks: attempts and exponential backoff, as pure values.

The retry budget counts the attempts of a chunk that failed or whose lease
lapsed; a release (a worker shutting down cleanly) uses none. The n-th retry
of a failed attempt waits ``initial_backoff * multiplier ** (n - 1)``, at most
``max_backoff``; time comes in as an argument, never from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from arco_grpc.errors import InvalidArgument

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_INITIAL_BACKOFF = timedelta(seconds=10)
DEFAULT_BACKOFF_MULTIPLIER = 2.0
DEFAULT_MAX_BACKOFF = timedelta(minutes=5)
MAX_ATTEMPTS_LIMIT = 100
MAX_INITIAL_BACKOFF = timedelta(hours=1)
MAX_MULTIPLIER = 10.0
MAX_BACKOFF_LIMIT = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A backfill's retry policy, every default filled in."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    initial_backoff: timedelta = DEFAULT_INITIAL_BACKOFF
    backoff_multiplier: float = DEFAULT_BACKOFF_MULTIPLIER
    max_backoff: timedelta = DEFAULT_MAX_BACKOFF

    def __post_init__(self) -> None:
        check_retry_policy(self)

    def retries_left(self, failed_attempts: int) -> bool:
        """True when a chunk with ``failed_attempts`` failed or lapsed attempts may try again."""
        return failed_attempts < self.max_attempts

    def backoff(self, failed_attempts: int) -> timedelta:
        """The wait before the retry that follows the ``failed_attempts``-th failure (1 for the first)."""
        if failed_attempts < 1:
            return timedelta(0)
        seconds = self.initial_backoff.total_seconds()
        cap = self.max_backoff.total_seconds()
        # Multiply step by step and stop at the cap: no float overflow for large n.
        for _ in range(failed_attempts - 1):
            if seconds >= cap:
                break
            seconds *= self.backoff_multiplier
        return timedelta(seconds=min(seconds, cap))

    def retry_at(self, failed_attempts: int, now: datetime) -> datetime:
        """When the retry after the ``failed_attempts``-th failure may start, failing at ``now``."""
        return now + self.backoff(failed_attempts)


def check_retry_policy(policy: RetryPolicy) -> None:
    """Raises InvalidArgument (fields relative to RetryPolicy) unless every value is in range."""
    if not 1 <= policy.max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise InvalidArgument(
            f"max_attempts must be between 1 and {MAX_ATTEMPTS_LIMIT} (0 means {DEFAULT_MAX_ATTEMPTS}), "
            f"got {policy.max_attempts}",
            field="max_attempts",
        )
    if not timedelta(0) <= policy.initial_backoff <= MAX_INITIAL_BACKOFF:
        raise InvalidArgument(
            f"initial_backoff must be between 0 and {MAX_INITIAL_BACKOFF}, got {policy.initial_backoff}",
            field="initial_backoff",
        )
    if not 1.0 <= policy.backoff_multiplier <= MAX_MULTIPLIER:
        raise InvalidArgument(
            f"backoff_multiplier must be between 1 and {MAX_MULTIPLIER:g} (0 means {DEFAULT_BACKOFF_MULTIPLIER:g}), "
            f"got {policy.backoff_multiplier}",
            field="backoff_multiplier",
        )
    if not policy.initial_backoff <= policy.max_backoff <= MAX_BACKOFF_LIMIT:
        raise InvalidArgument(
            f"max_backoff must be between initial_backoff ({policy.initial_backoff}) and {MAX_BACKOFF_LIMIT}, "
            f"got {policy.max_backoff}",
            field="max_backoff",
        )
