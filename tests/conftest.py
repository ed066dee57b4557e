"""Shared test configuration."""

import os
from collections.abc import Iterator
from pathlib import Path

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run the module's server tests on each store backend (sqlite, postgres)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a module marked ``backends("sqlite", "postgres")`` run once per backend."""
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None and "store_backend" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", marker.args, ids=list(marker.args))


@pytest.fixture
def store_backend() -> str:
    """The backend a server test runs on: SQLite unless its module is marked ``backends``."""
    return "sqlite"


@pytest.fixture
async def store_location(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a server test's store lives: a SQLite file in ``tmp_path`` or a new PostgreSQL database."""
    if store_backend == "postgres":
        return await fresh_database(request.getfixturevalue("postgres_admin_dsn"))
    return str(tmp_path / "arco.db")
