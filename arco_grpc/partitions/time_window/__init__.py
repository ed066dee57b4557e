"""Time-window partitions, exact to Dagster and computed by arithmetic, not enumeration.

A definition is a cron schedule in an IANA zone; partition i is the half-open window
between its ticks i and i+1, counted from the first tick at or after ``start``, and its
key is the window start formatted with ``fmt``. How ticks meet daylight-saving changes
depends on the cron's hour field, exactly as in Dagster:

* Hour field '*' ("0 * * * *", "*/15 * * * *"): the ticks are the instants whose local
  wall time matches. A wall time skipped by a spring-forward gap has no tick; one
  repeated by a fall-back overlap has two, and the second one's key gets its UTC offset
  appended ("2023-11-05-01:00-0800") unless fmt has %z.
* Restricted hour field (daily, weekly, monthly, "0 */6 * * *"): every matching wall
  time gives one tick: a repeated one fires at its later occurrence, a skipped one at
  the first instant after the gap. Keys never get a suffix.

Why index math is exact. The matching wall times form a grid that the calendar
repeats every 400 years, so the number of grid points before any wall time is
arithmetic (``_calendar``). Restricted-hour ticks map one-to-one and in order onto
grid points, except where a gap swallows several of them (they then share one
instant, found from the zone's transitions), so an index is a grid count. Hour-'*'
ticks are the grid shifted by the UTC offset between the zone's offset changes; each
change adds or removes the grid points of the repeated or skipped interval, so an
index is a grid count plus those per-transition corrections. Transitions are found
per (zone, year) by sampling the offset daily and bisecting to the second, and
cached; nothing iterates over windows, so count, key_at, index_of and window_at cost
O(1) amortized after the years involved have been looked at once.
"""

from arco_grpc.partitions.time_window.definition import Cadence, TimeWindowPartitionsDefinition
from arco_grpc.partitions.time_window.space import TimeWindowSpace

__all__ = ["Cadence", "TimeWindowPartitionsDefinition", "TimeWindowSpace"]
