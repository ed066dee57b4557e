"""The append-only event store and the projections kept beside it.

The service talks to :class:`EventStore`; only the server chooses a backend,
through :func:`open_store`.
"""

from arco_grpc.store.errors import DuplicateRunKey, RequestIdReused, StoreUnavailable, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AssetRecord,
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    CatalogSnapshot,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    RunRecord,
    StoredEvent,
    TransitionRecord,
)
from arco_grpc.store.opening import open_store
from arco_grpc.store.port import EventStore, Transaction

__all__ = [
    "AppendResult",
    "AssetRecord",
    "BackfillDetails",
    "BackfillFilter",
    "BackfillRecord",
    "CatalogSnapshot",
    "ChunkQuery",
    "ChunkRecord",
    "ChunkStateCount",
    "DuplicateRunKey",
    "DynamicPartitionsSnapshot",
    "EventStore",
    "NewEvent",
    "Projector",
    "RequestIdReused",
    "RequestRecord",
    "RunRecord",
    "StoreUnavailable",
    "StoredEvent",
    "Transaction",
    "TransitionRecord",
    "WrongExpectedVersion",
    "open_store",
]
