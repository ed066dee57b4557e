"""Navigating a multi-target plan without listing it, and the plan fingerprint."""

import pytest

from arco_grpc.planning.plan import plan_fingerprint, preview_chunks, round_one_chunk_at


def test_positions_map_to_targets_in_order() -> None:
    counts = [2, 0, 3]
    assert [round_one_chunk_at(counts, p) for p in range(5)] == [(0, 0), (0, 1), (2, 0), (2, 1), (2, 2)]
    with pytest.raises(IndexError):
        round_one_chunk_at(counts, 5)


@pytest.mark.parametrize(
    ("counts", "first", "last"),
    [
        ([1], [(0, 0)], []),
        ([4], [(0, 0), (0, 1), (0, 2)], [(0, 3)]),
        ([10_000_000], [(0, 0), (0, 1), (0, 2)], [(0, 9_999_997), (0, 9_999_998), (0, 9_999_999)]),
        ([2, 2], [(0, 0), (0, 1), (1, 0)], [(1, 1)]),
        ([], [], []),
    ],
)
def test_preview_shows_the_edges_once(counts: list[int], first: list[tuple[int, int]], last: list[tuple[int, int]]) -> None:
    assert preview_chunks(counts) == (first, last)


def test_fingerprint_depends_on_assets_selections_and_their_order() -> None:
    one = plan_fingerprint([("a", "f1"), ("b", "f2")])
    assert one == plan_fingerprint([("a", "f1"), ("b", "f2")])
    assert len({one, plan_fingerprint([("b", "f2"), ("a", "f1")]), plan_fingerprint([("a", "f1")]),
                plan_fingerprint([("a", "f1x"), ("b", "f2")]), plan_fingerprint([("a\x1ff1", "b")])}) == 5
