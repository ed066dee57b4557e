"""The append-only event store and the projections kept beside it.

The service talks to :class:`EventStore`; only the server chooses a backend,
through :func:`open_store`.
"""

from arco_grpc.store.errors import RequestIdReused, StoreUnavailable, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AssetRecord,
    CatalogSnapshot,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    StoredEvent,
)
from arco_grpc.store.opening import open_store
from arco_grpc.store.port import EventStore, Transaction

__all__ = [
    "AppendResult",
    "AssetRecord",
    "CatalogSnapshot",
    "DynamicPartitionsSnapshot",
    "EventStore",
    "NewEvent",
    "Projector",
    "RequestIdReused",
    "RequestRecord",
    "StoreUnavailable",
    "StoredEvent",
    "Transaction",
    "WrongExpectedVersion",
    "open_store",
]
