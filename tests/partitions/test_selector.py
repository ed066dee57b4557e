"""Selectors: normalization, fingerprints, and resolution against spaces (vs brute-force models)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arco_grpc.errors import InvalidArgument
from arco_grpc.partitions.dynamic import DynamicKeys, DynamicPartitionsDefinition
from arco_grpc.partitions.evaluate import partition_space
from arco_grpc.partitions.multi import MultiPartitionsDefinition, MultiSpace, PartitionDimension
from arco_grpc.partitions.multi_subset import MultiPartitionSubset
from arco_grpc.partitions.selection import select, subset_count, subset_keys
from arco_grpc.partitions.selector import (
    MAX_EXPLICIT_KEYS,
    AllPartitions,
    KeyList,
    KeyRange,
    MultiSelector,
    TimeRange,
    normalize_selector,
    selector_fingerprint,
)
from arco_grpc.partitions.static import StaticPartitionsDefinition
from arco_grpc.partitions.subset import PartitionSubset
from arco_grpc.partitions.time_window import Cadence, TimeWindowPartitionsDefinition

AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
ORIGIN = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


# An hourly definition across the 2023 fall-back in Los Angeles: 01:00 happens twice.
HOURLY_LA = TimeWindowPartitionsDefinition.create(
    start="2023-11-04", cron_schedule="0 * * * *", timezone="America/Los_Angeles"
)
HOURLY_AS_OF = datetime(2023, 11, 6, 8, tzinfo=timezone.utc)
DAILY_UTC = TimeWindowPartitionsDefinition.create(start="2024-01-01", cadence=Cadence("daily"))


def violation_fields(error: InvalidArgument) -> list[str]:
    return [violation.field for violation in error.violations]


def expect_invalid(field: str, call, *args) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        call(*args)
    assert violation_fields(caught.value) == [field]
    return caught.value


# -- normalization ---------------------------------------------------------------


def test_key_list_is_deduplicated_and_sorted_by_code_point() -> None:
    assert normalize_selector(KeyList(("b", "a", "B", "é", "a", "Z"))) == KeyList(("B", "Z", "a", "b", "é"))


def test_time_range_instants_are_converted_to_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    normalized = normalize_selector(TimeRange(datetime(2024, 3, 1, 1, tzinfo=berlin), datetime(2024, 7, 1, tzinfo=berlin)))
    assert normalized == TimeRange(datetime(2024, 3, 1, 0, tzinfo=timezone.utc), datetime(2024, 6, 30, 22, tzinfo=timezone.utc))
    assert normalized.start.tzinfo is timezone.utc and normalized.end.tzinfo is timezone.utc


def test_multi_selector_entries_are_sorted_normalized_and_all_dropped() -> None:
    selector = MultiSelector((("z", KeyList(("b", "a", "b"))), ("m", AllPartitions()), ("a", KeyRange("x", "y"))))
    assert normalize_selector(selector) == MultiSelector((("a", KeyRange("x", "y")), ("z", KeyList(("a", "b")))))


def test_multi_selector_selecting_everything_normalizes_to_all() -> None:
    assert normalize_selector(MultiSelector(())) == AllPartitions()
    assert normalize_selector(MultiSelector((("a", AllPartitions()), ("b", AllPartitions())))) == AllPartitions()


def test_key_range_and_all_are_already_normal() -> None:
    assert normalize_selector(KeyRange("z", "a")) == KeyRange("z", "a")
    assert normalize_selector(AllPartitions()) == AllPartitions()


def test_empty_key_in_a_list_names_its_position() -> None:
    expect_invalid("keys.keys[3]", normalize_selector, KeyList(("a", "b", "c", "", "d")))


def test_too_many_keys_says_how_many_and_suggests_ranges() -> None:
    error = expect_invalid("keys.keys", normalize_selector, KeyList(tuple(f"k{i}" for i in range(MAX_EXPLICIT_KEYS + 1))))
    assert "10001" in error.message and "range" in error.message
    assert normalize_selector(KeyList(tuple(f"k{i}" for i in range(MAX_EXPLICIT_KEYS)))) is not None


@pytest.mark.parametrize("which", ["start", "end"])
def test_naive_instants_are_refused(which: str) -> None:
    aware, naive = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 2)
    selector = TimeRange(naive, aware) if which == "start" else TimeRange(aware, naive)
    error = expect_invalid(f"time_range.{which}", normalize_selector, selector)
    assert "timezone" in error.message


def test_a_dimension_named_twice_is_refused() -> None:
    selector = MultiSelector((("color", KeyList(("red",))), ("color", AllPartitions())))
    error = expect_invalid("multi.dimensions[1].dimension", normalize_selector, selector)
    assert "'color'" in error.message


def test_an_empty_dimension_name_is_refused() -> None:
    expect_invalid("multi.dimensions[0].dimension", normalize_selector, MultiSelector((("", AllPartitions()),)))


def test_a_nested_multi_selector_is_refused() -> None:
    nested = MultiSelector((("a", AllPartitions()), ("b", MultiSelector(()))))
    expect_invalid("multi.dimensions[1].selector.multi", normalize_selector, nested)


def test_errors_inside_a_dimension_are_placed_under_it() -> None:
    selector = MultiSelector((("a", AllPartitions()), ("b", KeyList(("x", "")))))
    expect_invalid("multi.dimensions[1].selector.keys.keys[1]", normalize_selector, selector)
    naive = MultiSelector((("t", TimeRange(datetime(2024, 1, 1), datetime(2024, 1, 2))),))
    expect_invalid("multi.dimensions[0].selector.time_range.start", normalize_selector, naive)


# -- fingerprints ------------------------------------------------------------------

key_lists = st.lists(st.text(alphabet="abcé|,", min_size=1, max_size=3), min_size=0, max_size=6)


@given(key_lists, st.randoms(use_true_random=False))
def test_fingerprint_ignores_key_order_and_duplicates(keys: list[str], shuffler) -> None:
    reordered = keys + keys[: len(keys) // 2]
    shuffler.shuffle(reordered)
    assert selector_fingerprint(KeyList(tuple(keys))) == selector_fingerprint(KeyList(tuple(reordered)))


@given(key_lists, key_lists)
def test_fingerprints_differ_exactly_when_key_sets_differ(left: list[str], right: list[str]) -> None:
    same = selector_fingerprint(KeyList(tuple(left))) == selector_fingerprint(KeyList(tuple(right)))
    assert same == (set(left) == set(right))


def test_fingerprint_ignores_multi_entry_order_offsets_and_redundant_alls() -> None:
    new_york = ZoneInfo("America/New_York")
    start_utc, end_utc = datetime(2024, 3, 10, 7, tzinfo=timezone.utc), datetime(2024, 3, 11, 4, tzinfo=timezone.utc)
    local = TimeRange(start_utc.astimezone(new_york), end_utc.astimezone(new_york))
    one = MultiSelector((("date", local), ("color", KeyList(("red", "blue")))))
    two = MultiSelector((("color", KeyList(("blue", "red", "blue"))), ("shape", AllPartitions()), ("date", TimeRange(start_utc, end_utc))))
    assert selector_fingerprint(one) == selector_fingerprint(two)
    assert selector_fingerprint(MultiSelector((("a", AllPartitions()),))) == selector_fingerprint(AllPartitions())


def test_different_selectors_have_different_fingerprints() -> None:
    t0, t1 = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 2, tzinfo=timezone.utc)
    selectors = [
        AllPartitions(),
        KeyRange("a", "b"),
        KeyRange("b", "a"),
        KeyRange("a|b", ""),
        KeyRange("a", "|b"),
        KeyList(("a",)),
        KeyList(("a", "b")),
        KeyList(("a,b",)),
        TimeRange(t0, t1),
        TimeRange(t0, t1 + timedelta(microseconds=1)),
        MultiSelector((("a", KeyList(("x",))),)),
        MultiSelector((("b", KeyList(("x",))),)),
        MultiSelector((("a", KeyList(("x",))), ("b", KeyRange("p", "q")))),
    ]
    fingerprints = [selector_fingerprint(s) for s in selectors]
    assert len(set(fingerprints)) == len(selectors)
    assert all(len(f) == 64 and int(f, 16) >= 0 for f in fingerprints)


def test_fingerprint_encoding_is_stable() -> None:
    # Fingerprints are stored with backfills: changing the encoding silently
    # changes every stored identity, so it is pinned here.
    assert selector_fingerprint(KeyList(("b", "a"))) == "a88739e49c9beab48c980f8cf64c9af2ec75b6b9fc2887c9cd74329039c80ccc"


# -- resolution: single-dimension spaces ---------------------------------------------

unique_keys = st.lists(st.text(alphabet="abxyz-_ ", min_size=0, max_size=3), min_size=1, max_size=8, unique=True)


@st.composite
def space_and_selector(draw: st.DrawFn):
    keys = draw(unique_keys)
    if draw(st.booleans()):
        space = StaticPartitionsDefinition(tuple(keys)).space()
    else:
        keys = [k for k in keys if k] or ["only"]
        space = DynamicPartitionsDefinition("events").space(DynamicKeys(keys))
    kind = draw(st.sampled_from(["all", "range", "list"]))
    if kind == "all":
        return space, keys, AllPartitions(), set(range(len(keys)))
    if kind == "range":
        start, end = draw(st.sampled_from(keys)), draw(st.sampled_from(keys))
        chosen = keys[keys.index(start) : keys.index(end) + 1]  # Dagster's slice: reversed is empty
        return space, keys, KeyRange(start, end), {keys.index(k) for k in chosen}
    listed = draw(st.lists(st.sampled_from([k for k in keys if k] or keys), max_size=6))
    listed = [k for k in listed if k]
    return space, keys, KeyList(tuple(listed)), {keys.index(k) for k in listed}


@given(space_and_selector(), st.integers(0, 9), st.integers(0, 9))
def test_select_on_static_and_dynamic_spaces_matches_model(drawn, page_start: int, page_stop: int) -> None:
    space, keys, selector, expected = drawn
    subset = select(space, selector)
    assert isinstance(subset, PartitionSubset)
    assert set(subset.indices()) == expected
    assert subset_count(subset) == len(expected)
    in_order = [keys[i] for i in sorted(expected)]
    assert subset_keys(space, subset, 0, len(keys)) == in_order
    assert subset_keys(space, subset, page_start, page_stop) == in_order[page_start:page_stop]
    assert subset_keys(space, subset, page_start, page_stop, descending=True) == in_order[::-1][page_start:page_stop]


def test_key_range_endpoints_must_be_partitions() -> None:
    space = StaticPartitionsDefinition(("a", "b", "c")).space()
    error = expect_invalid("key_range.start", select, space, KeyRange("nope", "c"))
    assert "'nope'" in error.message and "not a partition" in error.message
    expect_invalid("key_range.end", select, space, KeyRange("a", "nope"))
    assert select(space, KeyRange("c", "a")).is_empty


def test_key_list_reports_the_first_unknown_key_at_its_request_position() -> None:
    space = StaticPartitionsDefinition(("a", "b", "c")).space()
    error = expect_invalid("keys.keys[2]", select, space, KeyList(("c", "a", "zz", "yy")))
    assert "'zz'" in error.message


def test_selectors_that_do_not_apply_to_a_single_dimension_space() -> None:
    space = StaticPartitionsDefinition(("a",)).space()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    expect_invalid("time_range", select, space, TimeRange(t0, t0 + DAY))
    expect_invalid("multi", select, space, MultiSelector((("a", AllPartitions()),)))


def test_select_validates_the_selector_shape_too() -> None:
    space = StaticPartitionsDefinition(("a",)).space()
    expect_invalid("keys.keys[0]", select, space, KeyList(("",)))


@given(st.integers(-30, 60), st.integers(-30, 60), st.sampled_from([0, 1, 59, 30 * 60]))
def test_time_range_selects_windows_starting_inside(first_hour: int, last_hour: int, second: int) -> None:
    space = HOURLY_LA.space(HOURLY_AS_OF)
    base = datetime(2023, 11, 5, 9, tzinfo=timezone.utc)  # the first 01:00 in Los Angeles
    start = base + timedelta(hours=first_hour, seconds=second)
    end = base + timedelta(hours=last_hour)
    subset = select(space, TimeRange(start, end))
    assert set(subset.indices()) == {i for i in range(space.count) if start <= space.window_at(i)[0] < end}


def test_time_range_over_a_repeated_hour_selects_both_windows() -> None:
    space = HOURLY_LA.space(HOURLY_AS_OF)
    los_angeles = ZoneInfo("America/Los_Angeles")
    selector = TimeRange(datetime(2023, 11, 5, 1, tzinfo=los_angeles), datetime(2023, 11, 5, 3, tzinfo=los_angeles))
    assert subset_keys(space, select(space, selector), 0, 10) == [
        "2023-11-05-01:00",
        "2023-11-05-01:00-0800",
        "2023-11-05-02:00",
    ]


def test_time_range_in_another_zone_selects_the_same_instants() -> None:
    space = DAILY_UTC.space(AS_OF)
    tokyo = ZoneInfo("Asia/Tokyo")
    local = TimeRange((ORIGIN + 2 * DAY).astimezone(tokyo), (ORIGIN + 5 * DAY).astimezone(tokyo))
    assert select(space, local) == PartitionSubset.of_range(2, 5)
    assert subset_keys(space, select(space, local), 0, 5) == ["2024-01-03", "2024-01-04", "2024-01-05"]


def test_time_range_is_clipped_to_the_partitions_that_exist() -> None:
    space = DAILY_UTC.space(datetime(2024, 1, 10, 12, tzinfo=timezone.utc))
    everything = TimeRange(datetime(2023, 6, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert select(space, everything) == PartitionSubset.of_range(0, 9)
    assert select(space, TimeRange(ORIGIN + 5 * DAY, ORIGIN + 2 * DAY)).is_empty


# -- resolution: multi spaces --------------------------------------------------------

FIRST_KEYS = ["red", "green", "blue", "cyan"]
SECOND_KEYS = ["s2", "s0", "s1"]


def multi_space() -> MultiSpace:
    definition = MultiPartitionsDefinition(
        (
            PartitionDimension("shard", DynamicPartitionsDefinition("shards")),
            PartitionDimension("color", StaticPartitionsDefinition(tuple(FIRST_KEYS))),
        )
    )
    space = partition_space(definition, as_of=AS_OF, dynamic_keys=lambda name: DynamicKeys(SECOND_KEYS))
    assert isinstance(space, MultiSpace)
    return space


ALL_PAIRS = [(i, j) for i in range(len(FIRST_KEYS)) for j in range(len(SECOND_KEYS))]


def key_of(pair: tuple[int, int]) -> str:
    return f"{FIRST_KEYS[pair[0]]}|{SECOND_KEYS[pair[1]]}"


dimension_selectors = st.one_of(
    st.just(("all", None)),
    st.tuples(st.just("range"), st.tuples(st.integers(0, 3), st.integers(0, 3))),
    st.tuples(st.just("list"), st.frozensets(st.integers(0, 3), max_size=4)),
)


def dimension_selector(spec, keys: list[str]):
    kind, value = spec
    indices = range(len(keys))
    if kind == "all":
        return AllPartitions(), set(indices)
    if kind == "range":
        low, high = (min(v, len(keys) - 1) for v in value)
        return KeyRange(keys[low], keys[high]), set(range(low, high + 1))
    chosen = {min(v, len(keys) - 1) for v in value}
    return KeyList(tuple(keys[i] for i in chosen)), chosen


@given(dimension_selectors, dimension_selectors, st.booleans())
def test_multi_selector_is_the_rectangle_of_dimension_selections(color_spec, shard_spec, swap: bool) -> None:
    space = multi_space()
    color_selector, colors = dimension_selector(color_spec, FIRST_KEYS)
    shard_selector, shards = dimension_selector(shard_spec, SECOND_KEYS)
    entries = (("color", color_selector), ("shard", shard_selector))
    subset = select(space, MultiSelector(entries[::-1] if swap else entries))
    expected = [p for p in ALL_PAIRS if p[0] in colors and p[1] in shards]
    assert isinstance(subset, MultiPartitionSubset)
    assert list(subset.iter_pairs()) == expected
    assert subset_keys(space, subset, 0, 100) == [key_of(p) for p in expected]
    assert subset_keys(space, subset, 1, 4, descending=True) == [key_of(p) for p in expected[::-1][1:4]]


@given(st.sampled_from(ALL_PAIRS), st.sampled_from(ALL_PAIRS))
def test_multi_key_range_is_a_rectangle_not_a_flat_slice(start, end) -> None:
    space = multi_space()
    subset = select(space, KeyRange(key_of(start), key_of(end)))
    expected = [p for p in ALL_PAIRS if start[0] <= p[0] <= end[0] and start[1] <= p[1] <= end[1]]
    assert list(subset.iter_pairs()) == expected


@given(st.lists(st.sampled_from(ALL_PAIRS), max_size=8))
def test_multi_key_list_and_all(pairs) -> None:
    space = multi_space()
    subset = select(space, KeyList(tuple(key_of(p) for p in pairs)))
    assert list(subset.iter_pairs()) == sorted(set(pairs))
    everything = select(space, AllPartitions())
    assert len(everything.bands) == 1 and list(everything.iter_pairs()) == ALL_PAIRS


def test_multi_errors_name_the_field() -> None:
    space = multi_space()
    expect_invalid("key_range.start", select, space, KeyRange("red", "cyan|s1"))
    error = expect_invalid("key_range.end", select, space, KeyRange("red|s2", "cyan|s1|x"))
    assert "'color'" in error.message and "'shard'" in error.message
    error = expect_invalid("key_range.end", select, space, KeyRange("red|s2", "cyan|nope"))
    assert "'nope'" in error.message and "'shard'" in error.message
    expect_invalid("keys.keys[1]", select, space, KeyList(("red|s2", "s2|red")))
    expect_invalid("time_range", select, space, TimeRange(ORIGIN, ORIGIN + DAY))
    error = expect_invalid(
        "multi.dimensions[1].dimension", select, space, MultiSelector((("color", AllPartitions()), ("date", AllPartitions())))
    )
    assert "'date'" in error.message and "'color'" in error.message and "'shard'" in error.message
    expect_invalid(
        "multi.dimensions[0].selector.keys.keys[0]", select, space, MultiSelector((("shard", KeyList(("red",))),))
    )
    expect_invalid(
        "multi.dimensions[0].selector.time_range", select, space, MultiSelector((("color", TimeRange(ORIGIN, ORIGIN + DAY)),))
    )


def test_time_range_on_a_time_dimension_of_a_multi_space() -> None:
    definition = MultiPartitionsDefinition(
        (
            PartitionDimension("date", DAILY_UTC),
            PartitionDimension("color", StaticPartitionsDefinition(("red", "blue"))),
        )
    )
    space = partition_space(definition, as_of=AS_OF)
    selector = MultiSelector((("date", TimeRange(ORIGIN + 3 * DAY, ORIGIN + 5 * DAY)), ("color", KeyList(("blue",)))))
    assert subset_keys(space, select(space, selector), 0, 10) == ["blue|2024-01-04", "blue|2024-01-05"]
    key_range = KeyRange("red|2024-01-30", "blue|2024-02-01")
    assert subset_keys(space, select(space, key_range), 0, 10) == [
        "red|2024-01-30",
        "red|2024-01-31",
        "red|2024-02-01",
        "blue|2024-01-30",
        "blue|2024-01-31",
        "blue|2024-02-01",
    ]
    expect_invalid("key_range.end", select, space, KeyRange("red|2024-01-30", "blue|2030-01-01"))


def test_selecting_from_a_hundred_million_partitions_stays_compact() -> None:
    # Not a timing test: enumerating 10^8 pairs would not finish within the test timeout.
    keys = tuple(f"k{i:05d}" for i in range(10_000))
    definition = MultiPartitionsDefinition(
        (PartitionDimension("a", StaticPartitionsDefinition(keys)), PartitionDimension("b", StaticPartitionsDefinition(keys)))
    )
    space = partition_space(definition, as_of=AS_OF)
    everything = select(space, AllPartitions())
    assert everything.count == space.count == 10**8
    assert len(everything.bands) == 1
    assert everything.nth(10**8 - 2) == (9_999, 9_998)
    assert subset_keys(space, everything, 0, 2, descending=True) == ["k09999|k09999", "k09999|k09998"]
    corner = select(space, KeyRange("k00010|k09990", "k09989|k09999"))
    assert corner.count == 9_980 * 10
    remainder = everything - corner
    assert remainder.count == 10**8 - 9_980 * 10
    assert remainder.rank((9_999, 9_999)) == remainder.count - 1
    assert subset_keys(space, remainder, 100_000 + 9_989, 100_000 + 9_991) == ["k00010|k09989", "k00011|k00000"]
