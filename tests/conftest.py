"""Shared test configuration."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_server import PostgresUnavailable, fresh_database, running_server

# Property tests must be reproducible in CI and quick on two cores.
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("ARCO_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """A PostgreSQL server for this test session (see tests/postgres_server.py)."""
    try:
        with running_server() as dsn:
            yield dsn
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
async def postgres_database(postgres_admin_dsn: str) -> str:
    """The DSN of a new, empty PostgreSQL database for one test."""
    return await fresh_database(postgres_admin_dsn)
