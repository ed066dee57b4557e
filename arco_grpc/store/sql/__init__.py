"""What the SQL backends (SQLite, PostgreSQL) share: one set of tables, so one set of queries and row forms.

Statements are written once, with ``?`` placeholders, in the SQL both databases
accept; a backend runs them through a connection that answers
:class:`~arco_grpc.store.sql.reads.Queryable` (PostgreSQL's numbers the
placeholders). The projection writes of an append are buffered by
:class:`~arco_grpc.store.sql.writes.BufferedTransaction` and the units of a
batch planned by :mod:`arco_grpc.store.sql.appending`, whatever runs them.
"""
