"""Dagster's time-range lookups that ignore the partition bounds, for parity checks.

Dagster's ``get_partition_keys_in_time_window`` lists every cron window starting in a
range, even before the first partition or after ``as_of``; its
``get_partition_key_range_for_time_window`` pairs the window containing the range
start with the last window ending by the range end. Selections in arco use
:meth:`TimeWindowSpace.index_range_starting_in` instead, which is clipped; these exist
so the parity tests can check the underlying tick math against Dagster's answers.
"""

from __future__ import annotations

from datetime import datetime

from arco_grpc.partitions.time_window._zone import ceil_instant, floor_instant, localize
from arco_grpc.partitions.time_window.space import TimeWindowSpace


def keys_in_time_window(space: TimeWindowSpace, start: datetime, end: datetime) -> list[str]:
    """The keys of all cron windows whose start lies in [start, end), partitions or not."""
    zone, ticks = space.definition._zone, space.definition._ticks
    low = ticks.count_before(ceil_instant(localize(start, zone)))
    high = ticks.count_before(ceil_instant(localize(end, zone)))
    return [space.definition._key_of_instant(ticks.instant(i)) for i in range(low, high)]


def key_range_for_time_window(space: TimeWindowSpace, start: datetime, end: datetime) -> tuple[str, str] | None:
    """Dagster's key range for a time window (respect_bounds=True), or None where Dagster raises.

    The first key is the window containing ``start`` and the last the window that ends
    last at or before ``end``; the range may come out reversed. Dagster fails when the
    definition has no partitions or when that last window starts before the first
    partition.
    """
    zone, ticks = space.definition._zone, space.definition._ticks
    containing_start = ticks.count_before(floor_instant(localize(start, zone)) + 1) - 1
    ending_by_end = ticks.count_before(floor_instant(localize(end, zone)) + 1) - 2
    if space.count == 0 or ending_by_end < 0:
        return None
    key_of = space.definition._key_of_instant
    return (key_of(ticks.instant(containing_start)), key_of(ticks.instant(ending_by_end)))
