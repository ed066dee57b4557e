"""The append-only event store and the projections kept beside it.

The service talks to :class:`EventStore`; only the server chooses a backend,
through :func:`open_store`.
"""

from arco_grpc.store.errors import DuplicateRunKey, RequestIdReused, StoreUnavailable, WrongExpectedVersion
from arco_grpc.store.model import (
    AppendResult,
    AppendUnit,
    AssetRecord,
    BackfillDetails,
    BackfillFilter,
    BackfillRecord,
    BackfillRowSource,
    CatalogSnapshot,
    ChunkQuery,
    ChunkRecord,
    ChunkStateCount,
    DynamicPartitionsSnapshot,
    NewEvent,
    Projector,
    RequestRecord,
    RoundRecord,
    RunEnd,
    RunQuery,
    RunRecord,
    RunStart,
    ScheduleRecord,
    StoredEvent,
    StreamAppend,
    TransitionRecord,
)
from arco_grpc.store.opening import open_store
from arco_grpc.store.port import EventStore, Transaction

__all__ = [
    "AppendResult",
    "AppendUnit",
    "AssetRecord",
    "BackfillDetails",
    "BackfillFilter",
    "BackfillRecord",
    "BackfillRowSource",
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
    "RoundRecord",
    "RunEnd",
    "RunQuery",
    "RunRecord",
    "RunStart",
    "ScheduleRecord",
    "StoreUnavailable",
    "StoredEvent",
    "StreamAppend",
    "Transaction",
    "TransitionRecord",
    "WrongExpectedVersion",
    "open_store",
]
