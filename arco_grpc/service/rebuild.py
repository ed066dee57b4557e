"""Rebuilding every projection from the event log alone.

The projectors are the ones appends run, so a rebuilt table equals the live
one; ``arco admin rebuild-projections`` and the tests that prove it use this.
"""

from __future__ import annotations

from arco_grpc.service.backfill_fold import project_backfills
from arco_grpc.service.schedule_app import project_schedules
from arco_grpc.store import EventStore, StoredEvent, Transaction
from arco_grpc.store.projections import project_catalog


async def project_everything(transaction: Transaction, events: list[StoredEvent]) -> None:
    """Every projector over ``events``; each one ignores the event types it does not project."""
    await project_catalog(transaction, events)
    await project_backfills(transaction, events)
    await project_schedules(transaction, events)


async def rebuild_projections(store: EventStore) -> int:
    """Empties and refills every projection from the events, in one transaction; returns the events replayed."""
    return await store.rebuild_projections(project_everything)
