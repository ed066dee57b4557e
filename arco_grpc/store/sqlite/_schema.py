"""The SQLite schema, as numbered migrations applied once each at open.

The PostgreSQL backend (``store/postgres/_schema.py``) has the same tables,
columns, keys and indexes, in PostgreSQL's types.
"""

from __future__ import annotations

from typing import Any

from arco_grpc.store.sql.migrations import pending_migrations
from arco_grpc.store.sql.rows import PROJECTION_TABLES

__all__ = ["MIGRATIONS", "PROJECTION_TABLES", "SCHEMA_VERSION", "migrate"]

# Each entry migrates from version N-1 to N; never edit a released entry, add one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE events (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            stream_id TEXT NOT NULL,
            stream_version INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            payload BLOB NOT NULL,
            request_id TEXT,
            recorded_at_us INTEGER NOT NULL,
            UNIQUE (stream_id, stream_version)
        )
        """,
        # The event log is append-only: refuse any change to a written row.
        """
        CREATE TRIGGER events_are_never_updated BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: rows are never updated'); END
        """,
        """
        CREATE TRIGGER events_are_never_deleted BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: rows are never deleted'); END
        """,
        """
        CREATE TABLE requests (
            request_id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            body_fingerprint TEXT NOT NULL,
            response BLOB NOT NULL,
            recorded_at_us INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE assets (
            key TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            definition BLOB NOT NULL,
            updated_at_us INTEGER NOT NULL
        )
        """,
        # ordinal = sequence of the event that added the key, position = its
        # place in that event: (ordinal, position) is insertion order, and a
        # re-added key gets a new, larger ordinal (it moves to the end).
        """
        CREATE TABLE dynamic_partitions (
            name TEXT NOT NULL,
            partition_key TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (name, partition_key)
        )
        """,
        "CREATE INDEX dynamic_partitions_by_order ON dynamic_partitions (name, ordinal, position)",
    ),
    # 2: backfills. Every table here is a projection (rebuilt from events).
    (
        # Every version of every asset: a backfill keeps planning with the
        # definition it was created against. Earlier databases only know the
        # current versions; that is all a backfill created after the upgrade needs.
        """
        CREATE TABLE asset_versions (
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            definition BLOB NOT NULL,
            applied_at_us INTEGER NOT NULL,
            PRIMARY KEY (key, version)
        )
        """,
        "INSERT INTO asset_versions (key, version, definition, applied_at_us) "
        "SELECT key, version, definition, updated_at_us FROM assets",
        """
        CREATE TABLE backfills (
            backfill_id TEXT PRIMARY KEY,
            state INTEGER NOT NULL,
            state_version INTEGER NOT NULL,
            max_concurrency INTEGER NOT NULL,
            dispatch_order INTEGER NOT NULL,
            title TEXT NOT NULL,
            creator TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            as_of_us INTEGER NOT NULL,
            created_at_us INTEGER NOT NULL,
            updated_at_us INTEGER NOT NULL,
            ended_at_us INTEGER,
            created_sequence INTEGER NOT NULL UNIQUE,
            partitions_total INTEGER NOT NULL,
            chunks_total INTEGER NOT NULL,
            partitions_succeeded INTEGER NOT NULL,
            partitions_failed INTEGER NOT NULL,
            partitions_cancelled INTEGER NOT NULL,
            leased_chunks INTEGER NOT NULL,
            spec BLOB NOT NULL
        )
        """,
        "CREATE INDEX backfills_by_state ON backfills (state, created_sequence)",
        """
        CREATE TABLE backfill_targets (
            backfill_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            asset_key TEXT NOT NULL,
            PRIMARY KEY (backfill_id, position)
        )
        """,
        "CREATE INDEX backfill_targets_by_asset ON backfill_targets (asset_key, backfill_id)",
        """
        CREATE TABLE backfill_tags (
            backfill_id TEXT NOT NULL,
            tag_key TEXT NOT NULL,
            tag_value TEXT NOT NULL,
            PRIMARY KEY (backfill_id, tag_key)
        )
        """,
        "CREATE INDEX backfill_tags_by_tag ON backfill_tags (tag_key, tag_value, backfill_id)",
        """
        CREATE TABLE backfill_transitions (
            backfill_id TEXT NOT NULL,
            state_version INTEGER NOT NULL,
            from_state INTEGER NOT NULL,
            to_state INTEGER NOT NULL,
            reason TEXT NOT NULL,
            recorded_at_us INTEGER NOT NULL,
            request_id TEXT,
            PRIMARY KEY (backfill_id, state_version)
        )
        """,
        # Only chunks that have had events; planned chunks are computed.
        """
        CREATE TABLE chunks (
            backfill_id TEXT NOT NULL,
            target_position INTEGER NOT NULL,
            round INTEGER NOT NULL,
            chunk_index INTEGER NOT NULL,
            asset_key TEXT NOT NULL,
            state INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            run_key TEXT NOT NULL,
            partition_count INTEGER NOT NULL,
            subset BLOB,
            updated_at_us INTEGER NOT NULL,
            PRIMARY KEY (backfill_id, target_position, round, chunk_index)
        )
        """,
        # UNIQUE(run_key) is what makes a second launch of one attempt impossible.
        """
        CREATE TABLE runs (
            run_key TEXT PRIMARY KEY,
            backfill_id TEXT NOT NULL,
            asset_key TEXT NOT NULL,
            round INTEGER NOT NULL,
            chunk_index INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            created_at_us INTEGER NOT NULL
        )
        """,
    ),
    # 3: dispatch. Leases, retries, runs and retry rounds; every table here is
    # a projection too. Columns are added (never dropped), so a schema-2
    # database keeps its rows.
    (
        "ALTER TABLE backfills ADD COLUMN round INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE backfills ADD COLUMN round_chunks INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE backfills ADD COLUMN round_finished INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE backfills ADD COLUMN partitions_running INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE backfills ADD COLUMN round_partitions INTEGER NOT NULL DEFAULT 0",
        "UPDATE backfills SET round_chunks = chunks_total, round_partitions = partitions_total",
        # Per target: partitions that succeeded and that failed for good
        # (PartitionSubset bytes; NULL when empty).
        "ALTER TABLE backfill_targets ADD COLUMN succeeded BLOB",
        "ALTER TABLE backfill_targets ADD COLUMN failed BLOB",
        """
        CREATE TABLE backfill_rounds (
            backfill_id TEXT NOT NULL,
            round INTEGER NOT NULL,
            target_position INTEGER NOT NULL,
            asset_key TEXT NOT NULL,
            partitions BLOB NOT NULL,
            partition_count INTEGER NOT NULL,
            chunk_count INTEGER NOT NULL,
            PRIMARY KEY (backfill_id, round, target_position)
        )
        """,
        "ALTER TABLE chunks ADD COLUMN remaining BLOB",
        "ALTER TABLE chunks ADD COLUMN remaining_count INTEGER",
        "ALTER TABLE chunks ADD COLUMN run_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE chunks ADD COLUMN worker_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE chunks ADD COLUMN leased_at_us INTEGER",
        "ALTER TABLE chunks ADD COLUMN lease_expires_at_us INTEGER",
        "ALTER TABLE chunks ADD COLUMN lease_ttl_ms INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chunks ADD COLUMN next_attempt_at_us INTEGER",
        "ALTER TABLE chunks ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chunks ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chunks ADD COLUMN error TEXT NOT NULL DEFAULT ''",
        # The server reloads leased and waiting chunks at startup.
        "CREATE INDEX chunks_by_state ON chunks (backfill_id, state)",
        "ALTER TABLE runs ADD COLUMN run_id TEXT",
        "ALTER TABLE runs ADD COLUMN target_position INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN worker_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN state INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE runs ADD COLUMN lease_sequence INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN ended_at_us INTEGER",
        "ALTER TABLE runs ADD COLUMN partitions BLOB",
        "ALTER TABLE runs ADD COLUMN partition_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN failed BLOB",
        "ALTER TABLE runs ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN error TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN will_retry INTEGER NOT NULL DEFAULT 0",
        "CREATE UNIQUE INDEX runs_by_id ON runs (run_id)",
        "CREATE INDEX runs_by_backfill ON runs (backfill_id, lease_sequence)",
        "CREATE INDEX runs_by_chunk ON runs (backfill_id, target_position, round, chunk_index, lease_sequence)",
    ),
    # 4: one event leases many chunks (ChunksLeased): a run's place in lease
    # order is its event's sequence and its position among the event's leases.
    (
        "ALTER TABLE runs ADD COLUMN lease_position INTEGER NOT NULL DEFAULT 0",
        "DROP INDEX runs_by_backfill",
        "CREATE INDEX runs_by_backfill ON runs (backfill_id, lease_sequence, lease_position)",
    ),
    # 5: partition status per asset and status space (StoredPartitionStatus bytes), kept by chunk events.
    (
        """
        CREATE TABLE partition_status (
            asset_key TEXT NOT NULL,
            space TEXT NOT NULL,
            status BLOB NOT NULL,
            PRIMARY KEY (asset_key, space)
        )
        """,
    ),
    # 6: per target, the partitions a failure upstream keeps from running (PartitionSubset bytes; NULL when empty).
    ("ALTER TABLE backfill_targets ADD COLUMN upstream_failed BLOB",),
    # 7: one run ledger for every origin. Runs submitted through RunService are streams of one chunk; their
    # first attempt has a row from submission on (state QUEUED), indexed by its dedupe scope.
    (
        "ALTER TABLE runs ADD COLUMN origin INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE runs ADD COLUMN origin_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN parent_run_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN root_run_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN waited_for TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN scope_key TEXT",
        "ALTER TABLE runs ADD COLUMN origin_run_key TEXT",
        "ALTER TABLE runs ADD COLUMN scheduled_at_us INTEGER",
        "ALTER TABLE runs ADD COLUMN submitted_at_us INTEGER",
        "CREATE INDEX runs_by_scope ON runs (scope_key) WHERE scope_key IS NOT NULL",
        "CREATE INDEX runs_in_order ON runs (lease_sequence, lease_position)",
        "CREATE INDEX runs_by_asset ON runs (asset_key, lease_sequence, lease_position)",
        "CREATE INDEX runs_by_origin ON runs (origin, origin_name, lease_sequence, lease_position)",
    ),
    # 8: schedules, one row per schedule (a projection of its stream "schedule/{name}"): the snapshot holds
    # the whole folded state (a Schedule message); the other columns are for lookups and listing order.
    (
        """
        CREATE TABLE schedules (
            name TEXT PRIMARY KEY,
            state INTEGER NOT NULL,
            asset_key TEXT NOT NULL,
            stream_version INTEGER NOT NULL,
            created_sequence INTEGER NOT NULL UNIQUE,
            created_at_us INTEGER NOT NULL,
            updated_at_us INTEGER NOT NULL,
            snapshot BLOB NOT NULL
        )
        """,
    ),
    # 9: chunks_by_state went unused (every chunk query searches the primary key by backfill, as fast) and
    # cost an index write at every chunk row write (a state change is a delete and an insert).
    ("DROP INDEX chunks_by_state",),
)

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(connection: Any, now_us: int) -> int:
    """Brings the database to :data:`SCHEMA_VERSION`; returns the version found before.

    Raises:
        NewerSchema: the database was written by a newer arco-grpc (a RuntimeError).
    """
    await connection.execute("BEGIN IMMEDIATE")
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)"
        )
        rows = list(await connection.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
        found = int(rows[0][0]) if rows else 0
        for version, statements in pending_migrations(found, MIGRATIONS):
            for statement in statements:
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO schema_version (version, applied_at_us) VALUES (?, ?)", (version, now_us)
            )
        await connection.execute("COMMIT")
    except BaseException:
        await connection.execute("ROLLBACK")
        raise
    return found
