"""The PostgreSQL schema, as numbered migrations applied once each at open, under an advisory lock.

The tables, columns, keys and indexes are SQLite's (``store/sqlite/_schema.py``,
whose history of nine migrations is folded here into the first), in
PostgreSQL's types: BIGINT for sequences, versions, counts, flags and
microsecond times, BYTEA for payloads and subsets, TEXT for text. Every text
column is ``COLLATE "C"``: keys, ids and names sort and page by their bytes,
as SQLite's BINARY collation does, whatever the database's locale.
"""

from __future__ import annotations

from typing import Any

from arco_grpc.store.sql.migrations import NewerSchema, pending_migrations
from arco_grpc.store.sql.rows import PROJECTION_TABLES

__all__ = ["APPEND_LOCK", "MIGRATIONS", "MIGRATION_LOCK", "PROJECTION_TABLES", "SCHEMA_VERSION", "NewerSchema", "migrate"]

# Advisory lock keys of this schema ("arco" and a number): migrating, and appending (see _store).
MIGRATION_LOCK = 0x6172_636F_0000_0001
APPEND_LOCK = 0x6172_636F_0000_0002

_TEXT = 'TEXT COLLATE "C"'

# Each entry migrates from version N-1 to N; never edit a released entry, add one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""
        CREATE TABLE events (
            sequence BIGINT PRIMARY KEY,
            stream_id {_TEXT} NOT NULL,
            stream_version BIGINT NOT NULL,
            event_type {_TEXT} NOT NULL,
            payload BYTEA NOT NULL,
            request_id {_TEXT},
            recorded_at_us BIGINT NOT NULL,
            UNIQUE (stream_id, stream_version)
        )
        """,
        # The event log is append-only: refuse any change to a written row.
        """
        CREATE FUNCTION arco_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: rows are never %', lower(TG_OP) || 'd';
        END
        $$
        """,
        """
        CREATE TRIGGER events_are_never_changed BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION arco_events_are_append_only()
        """,
        """
        CREATE TRIGGER events_are_never_truncated BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION arco_events_are_append_only()
        """,
        f"""
        CREATE TABLE requests (
            request_id {_TEXT} PRIMARY KEY,
            method {_TEXT} NOT NULL,
            body_fingerprint {_TEXT} NOT NULL,
            response BYTEA NOT NULL,
            recorded_at_us BIGINT NOT NULL
        )
        """,
        f"""
        CREATE TABLE assets (
            key {_TEXT} PRIMARY KEY,
            version BIGINT NOT NULL,
            definition BYTEA NOT NULL,
            updated_at_us BIGINT NOT NULL
        )
        """,
        # ordinal = sequence of the event that added the key, position = its place in that event:
        # (ordinal, position) is insertion order, and a re-added key gets a new, larger ordinal.
        f"""
        CREATE TABLE dynamic_partitions (
            name {_TEXT} NOT NULL,
            partition_key {_TEXT} NOT NULL,
            ordinal BIGINT NOT NULL,
            position BIGINT NOT NULL,
            PRIMARY KEY (name, partition_key)
        )
        """,
        "CREATE INDEX dynamic_partitions_by_order ON dynamic_partitions (name, ordinal, position)",
        # Every version of every asset: a backfill keeps planning with the definition it was created against.
        f"""
        CREATE TABLE asset_versions (
            key {_TEXT} NOT NULL,
            version BIGINT NOT NULL,
            definition BYTEA NOT NULL,
            applied_at_us BIGINT NOT NULL,
            PRIMARY KEY (key, version)
        )
        """,
        f"""
        CREATE TABLE backfills (
            backfill_id {_TEXT} PRIMARY KEY,
            state BIGINT NOT NULL,
            state_version BIGINT NOT NULL,
            max_concurrency BIGINT NOT NULL,
            dispatch_order BIGINT NOT NULL,
            title {_TEXT} NOT NULL,
            creator {_TEXT} NOT NULL,
            fingerprint {_TEXT} NOT NULL,
            as_of_us BIGINT NOT NULL,
            created_at_us BIGINT NOT NULL,
            updated_at_us BIGINT NOT NULL,
            ended_at_us BIGINT,
            created_sequence BIGINT NOT NULL UNIQUE,
            partitions_total BIGINT NOT NULL,
            chunks_total BIGINT NOT NULL,
            partitions_succeeded BIGINT NOT NULL,
            partitions_failed BIGINT NOT NULL,
            partitions_cancelled BIGINT NOT NULL,
            leased_chunks BIGINT NOT NULL,
            spec BYTEA NOT NULL,
            round BIGINT NOT NULL DEFAULT 1,
            round_chunks BIGINT NOT NULL DEFAULT 0,
            round_finished BIGINT NOT NULL DEFAULT 0,
            partitions_running BIGINT NOT NULL DEFAULT 0,
            round_partitions BIGINT NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX backfills_by_state ON backfills (state, created_sequence)",
        # Per target: the partitions that succeeded, failed for good, and that a failure upstream keeps from
        # running (PartitionSubset bytes; NULL when empty).
        f"""
        CREATE TABLE backfill_targets (
            backfill_id {_TEXT} NOT NULL,
            position BIGINT NOT NULL,
            asset_key {_TEXT} NOT NULL,
            succeeded BYTEA,
            failed BYTEA,
            upstream_failed BYTEA,
            PRIMARY KEY (backfill_id, position)
        )
        """,
        "CREATE INDEX backfill_targets_by_asset ON backfill_targets (asset_key, backfill_id)",
        f"""
        CREATE TABLE backfill_tags (
            backfill_id {_TEXT} NOT NULL,
            tag_key {_TEXT} NOT NULL,
            tag_value {_TEXT} NOT NULL,
            PRIMARY KEY (backfill_id, tag_key)
        )
        """,
        "CREATE INDEX backfill_tags_by_tag ON backfill_tags (tag_key, tag_value, backfill_id)",
        f"""
        CREATE TABLE backfill_transitions (
            backfill_id {_TEXT} NOT NULL,
            state_version BIGINT NOT NULL,
            from_state BIGINT NOT NULL,
            to_state BIGINT NOT NULL,
            reason {_TEXT} NOT NULL,
            recorded_at_us BIGINT NOT NULL,
            request_id {_TEXT},
            PRIMARY KEY (backfill_id, state_version)
        )
        """,
        f"""
        CREATE TABLE backfill_rounds (
            backfill_id {_TEXT} NOT NULL,
            round BIGINT NOT NULL,
            target_position BIGINT NOT NULL,
            asset_key {_TEXT} NOT NULL,
            partitions BYTEA NOT NULL,
            partition_count BIGINT NOT NULL,
            chunk_count BIGINT NOT NULL,
            PRIMARY KEY (backfill_id, round, target_position)
        )
        """,
        # Only chunks that have had events; planned chunks are computed.
        f"""
        CREATE TABLE chunks (
            backfill_id {_TEXT} NOT NULL,
            target_position BIGINT NOT NULL,
            round BIGINT NOT NULL,
            chunk_index BIGINT NOT NULL,
            asset_key {_TEXT} NOT NULL,
            state BIGINT NOT NULL,
            attempt BIGINT NOT NULL,
            run_key {_TEXT} NOT NULL,
            partition_count BIGINT NOT NULL,
            subset BYTEA,
            updated_at_us BIGINT NOT NULL,
            remaining BYTEA,
            remaining_count BIGINT,
            run_id {_TEXT} NOT NULL DEFAULT '',
            worker_id {_TEXT} NOT NULL DEFAULT '',
            leased_at_us BIGINT,
            lease_expires_at_us BIGINT,
            lease_ttl_ms BIGINT NOT NULL DEFAULT 0,
            next_attempt_at_us BIGINT,
            failed_attempts BIGINT NOT NULL DEFAULT 0,
            failed_count BIGINT NOT NULL DEFAULT 0,
            error {_TEXT} NOT NULL DEFAULT '',
            PRIMARY KEY (backfill_id, target_position, round, chunk_index)
        )
        """,
        # PRIMARY KEY (run_key) is what makes a second launch of one attempt impossible.
        f"""
        CREATE TABLE runs (
            run_key {_TEXT} PRIMARY KEY,
            backfill_id {_TEXT} NOT NULL,
            asset_key {_TEXT} NOT NULL,
            round BIGINT NOT NULL,
            chunk_index BIGINT NOT NULL,
            attempt BIGINT NOT NULL,
            created_at_us BIGINT NOT NULL,
            run_id {_TEXT},
            target_position BIGINT NOT NULL DEFAULT 0,
            worker_id {_TEXT} NOT NULL DEFAULT '',
            state BIGINT NOT NULL DEFAULT 1,
            lease_sequence BIGINT NOT NULL DEFAULT 0,
            ended_at_us BIGINT,
            partitions BYTEA,
            partition_count BIGINT NOT NULL DEFAULT 0,
            failed BYTEA,
            failed_count BIGINT NOT NULL DEFAULT 0,
            error {_TEXT} NOT NULL DEFAULT '',
            metadata {_TEXT} NOT NULL DEFAULT '{{}}',
            will_retry BIGINT NOT NULL DEFAULT 0,
            lease_position BIGINT NOT NULL DEFAULT 0,
            origin BIGINT NOT NULL DEFAULT 1,
            origin_name {_TEXT} NOT NULL DEFAULT '',
            parent_run_id {_TEXT} NOT NULL DEFAULT '',
            root_run_id {_TEXT} NOT NULL DEFAULT '',
            waited_for {_TEXT} NOT NULL DEFAULT '',
            scope_key {_TEXT},
            origin_run_key {_TEXT},
            scheduled_at_us BIGINT,
            submitted_at_us BIGINT
        )
        """,
        "CREATE UNIQUE INDEX runs_by_id ON runs (run_id)",
        "CREATE INDEX runs_by_backfill ON runs (backfill_id, lease_sequence, lease_position)",
        "CREATE INDEX runs_by_chunk ON runs (backfill_id, target_position, round, chunk_index, lease_sequence)",
        "CREATE INDEX runs_by_scope ON runs (scope_key) WHERE scope_key IS NOT NULL",
        "CREATE INDEX runs_in_order ON runs (lease_sequence, lease_position)",
        "CREATE INDEX runs_by_asset ON runs (asset_key, lease_sequence, lease_position)",
        "CREATE INDEX runs_by_origin ON runs (origin, origin_name, lease_sequence, lease_position)",
        # Partition status per asset and status space (StoredPartitionStatus bytes), kept by chunk events.
        f"""
        CREATE TABLE partition_status (
            asset_key {_TEXT} NOT NULL,
            space {_TEXT} NOT NULL,
            status BYTEA NOT NULL,
            PRIMARY KEY (asset_key, space)
        )
        """,
        # One row per schedule: the snapshot holds the whole folded state; the other columns are for lookups
        # and listing order.
        f"""
        CREATE TABLE schedules (
            name {_TEXT} PRIMARY KEY,
            state BIGINT NOT NULL,
            asset_key {_TEXT} NOT NULL,
            stream_version BIGINT NOT NULL,
            created_sequence BIGINT NOT NULL UNIQUE,
            created_at_us BIGINT NOT NULL,
            updated_at_us BIGINT NOT NULL,
            snapshot BYTEA NOT NULL
        )
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(connection: Any, now_us: int) -> int:
    """Brings the database to :data:`SCHEMA_VERSION` in one transaction; returns the version found before.

    The transaction takes :data:`MIGRATION_LOCK` first, so two processes opening one database at once
    migrate it once: the second waits, then finds it migrated.

    Raises:
        NewerSchema: the database was written by a newer arco-grpc.
    """
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at_us BIGINT NOT NULL)"
        )
        found = int(await connection.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
        for version, statements in pending_migrations(found, MIGRATIONS):
            for statement in statements:
                await connection.execute(statement)
            await connection.execute("INSERT INTO schema_version (version, applied_at_us) VALUES ($1, $2)", version, now_us)
    return found
