"""Projections derived from events: how each event changes the query tables.

A projector is a function of the events alone, so the same code keeps the
tables up to date inside each append and rebuilds them from the log.
"""

from __future__ import annotations

from arco_grpc._gen.arco.orchestration.v1 import events_pb2
from arco_grpc.store.model import AssetRecord, StoredEvent
from arco_grpc.store.payloads import decode_payload
from arco_grpc.store.port import Transaction


async def project_catalog(transaction: Transaction, events: list[StoredEvent]) -> None:
    """Updates the assets and dynamic_partitions tables; other event types are not its business."""
    for event in events:
        if event.event_type == "AssetsApplied":
            applied = decode_payload(event.event_type, event.payload)
            assert isinstance(applied, events_pb2.AssetsApplied)
            for asset in applied.assets:
                await transaction.put_asset(
                    AssetRecord(
                        key=asset.key,
                        version=asset.version,
                        definition=asset.SerializeToString(deterministic=True),
                        updated_at=event.recorded_at,
                    )
                )
        elif event.event_type == "DynamicPartitionsAdded":
            added = decode_payload(event.event_type, event.payload)
            assert isinstance(added, events_pb2.DynamicPartitionsAdded)
            await transaction.add_dynamic_partitions(added.name, list(added.keys), ordinal=event.sequence)
        elif event.event_type == "DynamicPartitionsDeleted":
            deleted = decode_payload(event.event_type, event.payload)
            assert isinstance(deleted, events_pb2.DynamicPartitionsDeleted)
            await transaction.delete_dynamic_partitions(deleted.name, list(deleted.keys))
