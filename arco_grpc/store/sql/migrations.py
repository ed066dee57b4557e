"""Schema versions: which numbered migrations a database still needs (each backend keeps its own list)."""

from __future__ import annotations

from collections.abc import Sequence


class NewerSchema(RuntimeError):
    """The database was written by a newer arco-grpc: this one does not know its schema."""


def pending_migrations(found: int, migrations: Sequence[tuple[str, ...]]) -> list[tuple[int, tuple[str, ...]]]:
    """(version, statements) of every migration after version ``found``, in order.

    Raises:
        NewerSchema: ``found`` is above the last version ``migrations`` knows.
    """
    known = len(migrations)
    if found > known:
        raise NewerSchema(
            f"the database has schema version {found}, newer than this arco-grpc knows ({known}); upgrade arco-grpc"
        )
    return [(version, migrations[version - 1]) for version in range(found + 1, known + 1)]
