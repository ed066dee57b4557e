"""Dependency gating inside one backfill: the reference's observed example, chains, and a brute-force model."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.mapping import (
    AllMapping,
    IdentityMapping,
    LastMapping,
    PartitionMapping,
    StaticMapping,
    TimeWindowMapping,
    upstream_partitions,
)
from arco_grpc.partitions.space import PartitionSpace
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import TimeWindowPartitionsDefinition
from arco_grpc.planning.asset_graph import BackfillGraph, GraphAsset, GraphEdge, blocked_by_missing_upstream

AS_OF = datetime(2025, 1, 1, tzinfo=timezone.utc)


def daily(start: str = "2023-01-01") -> PartitionSpace:
    return partition_space(TimeWindowPartitionsDefinition.create(start=start, cron_schedule="0 0 * * *"), as_of=AS_OF)


def hourly(start: str = "2023-01-01-00:00") -> PartitionSpace:
    return partition_space(TimeWindowPartitionsDefinition.create(start=start, cron_schedule="0 * * * *"), as_of=AS_OF)


def keys(space: PartitionSpace, *names: str) -> PartitionSubset:
    return PartitionSubset.from_indices(space.index_of(name) for name in names)  # type: ignore[misc]


def key_range(space: PartitionSpace, first: str, last: str) -> PartitionSubset:
    return PartitionSubset.of_range(space.index_of(first), space.index_of(last) + 1)  # type: ignore[operator]


def names(space: PartitionSpace, subset: PartitionSubset) -> list[str]:
    return [space.key_at(i) for i in subset.indices()]


def test_dagster_observed_failure_example() -> None:
    """Reference 4.7: a->b->c identity, d reads c with start_offset -1; b fails on 01-03."""
    day = daily()
    spaces = {k: day for k in "abcd"}
    edges = [
        GraphEdge("a", "b", IdentityMapping()),
        GraphEdge("b", "c", IdentityMapping()),
        GraphEdge("c", "d", TimeWindowMapping(start_offset=-1)),
    ]
    graph = BackfillGraph.propagate(spaces, edges, key_range(day, "2023-01-02", "2023-01-05"))
    assert names(day, graph.asset("d").selection) == [f"2023-01-0{n}" for n in range(2, 7)]

    closure = graph.failure_closure({"b": keys(day, "2023-01-03")})
    assert {k: names(day, v) for k, v in closure.items()} == {
        "c": ["2023-01-03"],
        "d": ["2023-01-03", "2023-01-04"],
    }
    succeeded = {
        "a": key_range(day, "2023-01-02", "2023-01-05"),
        "b": keys(day, "2023-01-02", "2023-01-04", "2023-01-05"),
        "c": keys(day, "2023-01-02", "2023-01-04", "2023-01-05"),
    }
    # Dagster then launches d over 01-02 and 01-05..01-06.
    first = graph.gate("d", key_range(day, "2023-01-02", "2023-01-03"), succeeded, closure)
    assert first.ready and names(day, first.runnable) == ["2023-01-02"]
    assert names(day, first.upstream_failed) == ["2023-01-03"]
    last = graph.gate("d", key_range(day, "2023-01-05", "2023-01-06"), succeeded, closure)
    assert last.ready and names(day, last.runnable) == ["2023-01-05", "2023-01-06"]
    blocked = graph.gate("d", keys(day, "2023-01-04"), succeeded, closure)
    assert not blocked.runnable and not blocked.ready


def test_downstream_waits_for_every_mapped_upstream_partition() -> None:
    """Daily from hourly: a day waits until all 24 of its hours succeeded."""
    hour, day = hourly(), daily()
    graph = BackfillGraph(
        [
            GraphAsset("hourly", hour, key_range(hour, "2023-01-01-00:00", "2023-01-02-23:00")),
            GraphAsset("daily", day, key_range(day, "2023-01-01", "2023-01-02")),
        ],
        [GraphEdge("hourly", "daily")],
    )
    assert graph.order == ("hourly", "daily")
    first_day = keys(day, "2023-01-01")
    gate = graph.gate("daily", first_day, {"hourly": key_range(hour, "2023-01-01-00:00", "2023-01-01-22:00")}, {})
    assert not gate.ready
    assert names(hour, gate.waiting_on["hourly"]) == ["2023-01-01-23:00"]
    gate = graph.gate("daily", first_day, {"hourly": key_range(hour, "2023-01-01-00:00", "2023-01-01-23:00")}, {})
    assert gate.ready and gate.waiting_on == {}


def test_upstream_outside_the_backfill_never_blocks() -> None:
    day = daily()
    graph = BackfillGraph([GraphAsset("child", day, key_range(day, "2023-01-01", "2023-01-10"))], [GraphEdge("parent", "child")])
    assert graph.parents("child") == ()
    assert graph.gate("child", keys(day, "2023-01-05"), {}, {}).ready


def test_upstream_partitions_outside_the_selection_never_block() -> None:
    """The parent is targeted, but not over the partitions the child reads."""
    day = daily()
    graph = BackfillGraph(
        [
            GraphAsset("parent", day, key_range(day, "2023-01-05", "2023-01-10")),
            GraphAsset("child", day, key_range(day, "2023-01-01", "2023-01-10")),
        ],
        [GraphEdge("parent", "child")],
    )
    assert graph.gate("child", key_range(day, "2023-01-01", "2023-01-04"), {}, {}).ready
    assert not graph.gate("child", key_range(day, "2023-01-04", "2023-01-05"), {}, {}).ready


def test_self_dependent_chain_advances_partition_by_partition() -> None:
    day = daily()
    selection = key_range(day, "2023-01-01", "2023-12-31")
    graph = BackfillGraph([GraphAsset("totals", day, selection)], [GraphEdge("totals", "totals", TimeWindowMapping(-1, -1))])
    assert graph.roots() == ("totals",)
    assert graph.gate("totals", keys(day, "2023-01-01"), {}, {}).ready  # the first day reads nothing inside
    assert not graph.gate("totals", keys(day, "2023-01-02"), {}, {}).ready
    assert graph.gate("totals", keys(day, "2023-01-02"), {"totals": keys(day, "2023-01-01")}, {}).ready
    # A chunk of a week needs only the day before it: the run does the week in order.
    week = key_range(day, "2023-01-08", "2023-01-14")
    gate = graph.gate("totals", week, {}, {})
    assert names(day, gate.waiting_on["totals"]) == ["2023-01-07"]


def test_failure_in_a_self_dependent_chain_blocks_every_later_partition() -> None:
    day = daily()
    selection = key_range(day, "2023-01-01", "2023-12-31")
    graph = BackfillGraph(
        [GraphAsset("totals", day, selection), GraphAsset("report", day, selection)],
        [GraphEdge("totals", "totals", TimeWindowMapping(-1, -1)), GraphEdge("totals", "report")],
    )
    closure = graph.failure_closure({"totals": keys(day, "2023-12-01")})
    assert names(day, closure["totals"]) == [day.key_at(i) for i in range(day.index_of("2023-12-02"), day.index_of("2023-12-31") + 1)]  # type: ignore[arg-type]
    assert closure["report"] == key_range(day, "2023-12-01", "2023-12-31")


def test_targets_in_a_cycle_are_refused() -> None:
    day = daily()
    selection = keys(day, "2023-01-01")
    with pytest.raises(InvalidArgument, match="cycle"):
        BackfillGraph(
            [GraphAsset("a", day, selection), GraphAsset("b", day, selection)],
            [GraphEdge("a", "b"), GraphEdge("b", "a")],
        )


def test_roots_partitioned_differently_cannot_share_one_selection() -> None:
    with pytest.raises(InvalidArgument, match="partitioned differently") as raised:
        BackfillGraph.propagate({"h": hourly(), "d": daily()}, [], PartitionSubset.of_range(0, 3))
    assert raised.value.violations[0].field == "selector"


def test_propagation_follows_mappings_but_not_self_dependencies() -> None:
    hour, day = hourly(), daily()
    graph = BackfillGraph.propagate(
        {"hourly": hour, "daily": day},
        [GraphEdge("hourly", "daily"), GraphEdge("daily", "daily", TimeWindowMapping(-1, -1))],
        key_range(hour, "2023-03-01-05:00", "2023-03-02-01:00"),
    )
    assert names(day, graph.asset("daily").selection) == ["2023-03-01", "2023-03-02"]


def test_missing_upstream_blocks_only_the_affected_partitions() -> None:
    """Reference 3.5: daily from 2023-12-25 reading a daily from 2024-01-01; Dagster fails the whole backfill."""
    down, up = daily("2023-12-25"), daily("2024-01-01")
    selection = keys(down, "2023-12-30", "2024-01-02")
    blocked = blocked_by_missing_upstream(None, down, selection, up)
    assert names(down, blocked) == ["2023-12-30"]


def test_missing_upstream_over_ten_years_is_the_ranges_outside_the_upstream() -> None:
    down = daily("2015-01-01")
    up = partition_space(
        TimeWindowPartitionsDefinition.create(start="2016-01-01", end="2020-01-01", cron_schedule="0 0 * * *"), as_of=AS_OF
    )
    selection = PartitionSubset.of_range(0, down.count)
    blocked = blocked_by_missing_upstream(TimeWindowMapping(), down, selection, up)
    assert blocked == key_range(down, "2015-01-01", "2015-12-31") | key_range(down, "2020-01-01", "2024-12-31")


def test_missing_upstream_agrees_with_each_partition_alone() -> None:
    """Hourly reading a daily that starts later: whatever the mapping reports per partition, bisection finds."""
    down, up = hourly("2015-12-30-00:00"), daily("2016-01-01")
    selection = key_range(down, "2015-12-30-00:00", "2016-01-02-23:00")
    for mapping in (TimeWindowMapping(), TimeWindowMapping(-1, 0), TimeWindowMapping(0, 30)):
        expected = PartitionSubset.from_indices(
            i
            for i in selection.indices()
            if upstream_partitions(mapping, PartitionSubset.of_range(i, i + 1), down, up).required_but_nonexistent
        )
        assert expected or mapping.start_offset < 0, mapping  # offsets clamp, as in Dagster (reference 3.4)
        assert blocked_by_missing_upstream(mapping, down, selection, up) == expected


# A brute-force model: partition by partition, over small static assets.

KEYS = tuple("abcdefgh")
STATIC = StaticPartitionsDefinition(KEYS).space()
MAPPINGS: list[PartitionMapping | None] = [
    None,
    IdentityMapping(),
    AllMapping(),
    LastMapping(),
    StaticMapping((("a", ("b", "c")), ("b", ("d",)), ("e", ("e", "f")), ("h", ("a",)))),
]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[BackfillGraph, dict[str, PartitionSubset]]:
    count = draw(st.integers(1, 4))
    names_ = [f"asset{i}" for i in range(count)]
    subsets = st.sets(st.integers(0, len(KEYS) - 1)).map(PartitionSubset.from_indices)
    assets = [GraphAsset(name, STATIC, draw(subsets)) for name in names_]
    edges = [
        GraphEdge(names_[i], names_[j], draw(st.sampled_from(MAPPINGS)))
        for j in range(count)
        for i in range(j)
        if draw(st.booleans())
    ]
    failed = {name: draw(subsets) & asset.selection for name, asset in zip(names_, assets)}
    return BackfillGraph(assets, edges), failed


def _reads(graph: BackfillGraph, asset: str, index: int) -> set[tuple[str, int]]:
    reads: set[tuple[str, int]] = set()
    for edge in graph.parents(asset):
        mapped = upstream_partitions(edge.mapping, PartitionSubset.of_range(index, index + 1), STATIC, STATIC).subset
        reads |= {(edge.upstream, i) for i in (mapped & graph.asset(edge.upstream).selection).indices()}
    return reads


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_gate_agrees_with_a_partition_by_partition_model(drawn: tuple[BackfillGraph, dict[str, PartitionSubset]], data: st.DataObject) -> None:
    graph, failed = drawn
    selected = {(a, i) for a in graph.order for i in graph.asset(a).selection.indices()}
    failed_set = {(a, i) for a, s in failed.items() for i in s.indices()}
    # Upstream-failed: reachable from a failure through reads, not failed itself.
    doomed: set[tuple[str, int]] = set()
    changed = True
    while changed:
        changed = False
        for node in selected - doomed - failed_set:
            if _reads(graph, *node) & (failed_set | doomed):
                doomed.add(node)
                changed = True
    closure = graph.failure_closure(failed)
    assert {(a, i) for a, s in closure.items() for i in s.indices()} == doomed

    succeeded = {a: data.draw(st.sets(st.integers(0, len(KEYS) - 1)).map(PartitionSubset.from_indices)) & graph.asset(a).selection - failed[a] for a in graph.order}
    asset = data.draw(st.sampled_from(graph.order))
    chunk = data.draw(st.sets(st.sampled_from(sorted(graph.asset(asset).selection.indices()) or [0])).map(PartitionSubset.from_indices)) & graph.asset(asset).selection
    gate = graph.gate(asset, chunk, succeeded, closure)
    runnable = {i for i in chunk.indices() if (asset, i) not in doomed}
    assert set(gate.runnable.indices()) == runnable
    assert set(gate.upstream_failed.indices()) == set(chunk.indices()) - runnable
    needed = set().union(*(_reads(graph, asset, i) for i in runnable)) if runnable else set()
    waiting = {(a, i) for a, i in needed if i not in succeeded[a]}
    assert {(a, i) for a, s in gate.waiting_on.items() for i in s.indices()} == waiting
    assert gate.ready == (bool(runnable) and not waiting)


def test_a_failure_does_not_reach_through_partitions_that_succeeded() -> None:
    """A run that did a week of a self-dependent chain in order reported 01-03 failed and the rest succeeded."""
    day = daily()
    selection = key_range(day, "2023-01-01", "2023-01-31")
    graph = BackfillGraph([GraphAsset("totals", day, selection)], [GraphEdge("totals", "totals", TimeWindowMapping(-1, -1))])
    succeeded = {"totals": key_range(day, "2023-01-01", "2023-01-07") - keys(day, "2023-01-03")}
    assert graph.failure_closure({"totals": keys(day, "2023-01-03")}, succeeded) == {}
    closure = graph.failure_closure({"totals": keys(day, "2023-01-07")}, {"totals": key_range(day, "2023-01-01", "2023-01-06")})
    assert closure["totals"] == key_range(day, "2023-01-08", "2023-01-31")


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.integers(0, 40), min_size=1).map(PartitionSubset.from_indices),
    st.sets(st.integers(0, 40)).map(PartitionSubset.from_indices),
    st.sets(st.integers(0, 40)).map(PartitionSubset.from_indices),
)
def test_the_previous_window_shortcut_agrees_with_walking_the_mapping(
    selection: PartitionSubset, failed: PartitionSubset, succeeded: PartitionSubset
) -> None:
    day = daily()
    failed, succeeded = failed & selection, (succeeded & selection) - failed
    edge = GraphEdge("t", "t", TimeWindowMapping(-1, -1))
    graph = BackfillGraph([GraphAsset("t", day, selection)], [edge])
    assert graph._walk_self_dependency(edge, failed, succeeded) == graph._walk_by_steps(edge, failed, succeeded)


def test_a_failure_early_in_ten_years_of_hours_blocks_the_rest_at_once() -> None:
    hour = hourly("2015-01-01-00:00")
    selection = PartitionSubset.of_range(0, hour.count)
    graph = BackfillGraph([GraphAsset("h", hour, selection)], [GraphEdge("h", "h", TimeWindowMapping(-1, -1))])
    closure = graph.failure_closure({"h": PartitionSubset.of_range(5, 6)})
    assert closure == {"h": PartitionSubset.of_range(6, hour.count)}
