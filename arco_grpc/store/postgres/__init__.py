"""The PostgreSQL backend (asyncpg): for when one machine is not enough; several servers may share a database."""

from arco_grpc.store.postgres._store import PostgresEventStore

__all__ = ["PostgresEventStore"]
