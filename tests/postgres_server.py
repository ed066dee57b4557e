"""A private PostgreSQL server for the tests: one per test session, a fresh database per test.

``ARCO_TEST_POSTGRES_DSN`` names an existing server instead (a DSN whose user may
create databases). Otherwise the server binaries (``initdb``, ``pg_ctl``) are
taken from PATH or Debian's /usr/lib/postgresql/*/bin and a throwaway cluster is
started on a free loopback port; as root it runs as the ``postgres`` user, since
PostgreSQL refuses to run as root. With neither, the PostgreSQL tests fail and
say how to fix it: they are never skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.loopback import free_port

DSN_VARIABLE = "ARCO_TEST_POSTGRES_DSN"
_names = itertools.count(1)


class PostgresUnavailable(Exception):
    """No server to test against, and none could be started."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise PostgresUnavailable(
            f"the PostgreSQL tests need a server: install PostgreSQL's server binaries ({name} is not on PATH "
            f"nor in /usr/lib/postgresql/*/bin) or set {DSN_VARIABLE} to a DSN whose user may create databases"
        )
    return found


@contextmanager
def running_server(*, durable: bool = False) -> Iterator[str]:
    """The admin DSN of a server for this test session (started here, and stopped after, unless given).

    Durability is PostgreSQL's own, not what the tests check: unless ``durable`` (benchmarks), the server
    runs with fsync off, to keep them quick.
    """
    given = os.environ.get(DSN_VARIABLE)
    if given:
        yield given
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # postgres refuses root: run it as its own user, in a directory it owns
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                f"PostgreSQL will not run as root and there is no 'postgres' user to run it as: create one, "
                f"run the tests as another user, or set {DSN_VARIABLE}"
            ) from None
        as_user = ["runuser", "-u", "postgres", "--"]
    directory = Path(tempfile.mkdtemp(prefix="arco-pg-"))
    if owner is not None:
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    data, port = directory / "data", free_port()
    options = f"-k {directory} -p {port} -c listen_addresses=127.0.0.1"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")

    try:
        run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        run(pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "server.log"), "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def fresh_database(admin_dsn: str) -> str:
    """Creates an empty database on the server of ``admin_dsn``; returns its DSN."""
    import asyncpg

    name = f"arco_test_{os.getpid()}_{next(_names)}"
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    finally:
        await connection.close()
    base, _, _ = admin_dsn.rpartition("/")
    return f"{base}/{name}"
