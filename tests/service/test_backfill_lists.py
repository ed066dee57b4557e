"""ListBackfills: newest first, filters by state, asset and tags, keyset pagination."""

from __future__ import annotations

import grpc
import pytest

from arco_grpc._gen.arco.orchestration.v1 import backfill_service_pb2 as api, backfills_pb2 as bf
from tests.service.backfill_helpers import Backfills, backfills, create, target  # noqa: F401 - fixture
from tests.service.builders import key_range
from tests.service.conftest import call_failure

pytestmark = pytest.mark.backends("sqlite", "postgres")

S = bf.Backfill


async def listing(backfills: Backfills, page_size: int = 0, **filters: object) -> list[str]:
    """Every id the listing returns, following the tokens; checks each page's size."""
    ids: list[str] = []
    token = ""
    while True:
        page = await backfills.stub.ListBackfills(
            api.ListBackfillsRequest(page_size=page_size, page_token=token, **filters)  # type: ignore[arg-type]
        )
        assert len(page.backfills) <= (page_size or 50)
        assert all(len(b.transitions) == 0 for b in page.backfills)  # lists stay small
        ids.extend(b.id for b in page.backfills)
        token = page.next_page_token
        if not token:
            return ids


@pytest.fixture
async def seven(backfills: Backfills) -> list[str]:
    """Seven backfills, oldest first: orders x4 (tags alternate), regions x2, both x1; some paused or cancelled."""
    ids = []
    for n in range(7):
        targets = [target("orders", key_range("2024-01-01", "2024-01-05"))] if n < 4 else [target("regions")]
        if n == 6:
            targets.append(target("orders"))
        tags = {"team": "red" if n % 2 else "blue", "n": str(n)}
        ids.append((await backfills.stub.CreateBackfill(create(f"c-{n}", *targets, tags=tags))).backfill.id)
    for n in (1, 4):
        await backfills.stub.PauseBackfill(api.PauseBackfillRequest(request_id=f"p-{n}", backfill_id=ids[n]))
    await backfills.stub.CancelBackfill(api.CancelBackfillRequest(request_id="x-2", backfill_id=ids[2]))
    return ids


async def test_newest_first_across_pages_of_every_size(backfills: Backfills, seven: list[str]) -> None:
    for size in (1, 2, 3, 7, 0):
        assert await listing(backfills, size) == seven[::-1]


async def test_filters_by_state_asset_and_tags(backfills: Backfills, seven: list[str]) -> None:
    newest_first = seven[::-1]

    def only(*ns: int) -> list[str]:
        return [i for i in newest_first if seven.index(i) in ns]

    assert await listing(backfills, 2, states=[S.STATE_PAUSED]) == only(1, 4)
    assert await listing(backfills, 2, states=[S.STATE_PAUSED, S.STATE_CANCELLED]) == only(1, 2, 4)
    assert await listing(backfills, 2, asset_key="orders") == only(0, 1, 2, 3, 6)
    assert await listing(backfills, 2, asset_key="regions") == only(4, 5, 6)
    assert await listing(backfills, 2, tags={"team": "red"}) == only(1, 3, 5)
    assert await listing(backfills, 2, tags={"team": "red", "n": "3"}) == only(3)
    assert await listing(backfills, 2, asset_key="regions", states=[S.STATE_RUNNING], tags={"team": "blue"}) == only(6)
    assert await listing(backfills, 2, asset_key="grid") == []


async def test_a_token_is_bound_to_its_filters(backfills: Backfills, seven: list[str]) -> None:
    first = await backfills.stub.ListBackfills(api.ListBackfillsRequest(page_size=2, asset_key="orders"))
    failure = await call_failure(
        backfills.stub.ListBackfills(api.ListBackfillsRequest(page_size=2, page_token=first.next_page_token))
    )
    assert (failure.code, failure.violations[0][0]) == (grpc.StatusCode.INVALID_ARGUMENT, "page_token")
    # The page size may change between pages.
    rest = await backfills.stub.ListBackfills(
        api.ListBackfillsRequest(page_size=10, asset_key="orders", page_token=first.next_page_token)
    )
    assert len(first.backfills) + len(rest.backfills) == 5 and rest.next_page_token == ""


async def test_a_backfill_created_between_pages_is_not_duplicated(backfills: Backfills, seven: list[str]) -> None:
    first = await backfills.stub.ListBackfills(api.ListBackfillsRequest(page_size=3))
    await backfills.stub.CreateBackfill(create("c-new", target("regions")))
    rest = await listing_from(backfills, first.next_page_token)
    assert [b.id for b in first.backfills] + rest == seven[::-1]


async def listing_from(backfills: Backfills, token: str) -> list[str]:
    ids: list[str] = []
    while token:
        page = await backfills.stub.ListBackfills(api.ListBackfillsRequest(page_size=3, page_token=token))
        ids.extend(b.id for b in page.backfills)
        token = page.next_page_token
    return ids


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"page_size": -1}, "page_size"), ({"states": [42]}, "states[0]"), ({"states": [0]}, "states[0]"),
     ({"page_token": "not-a-token"}, "page_token")],
)
async def test_bad_list_requests_name_the_field(backfills: Backfills, fields: dict[str, object], field: str) -> None:
    failure = await call_failure(backfills.stub.ListBackfills(api.ListBackfillsRequest(**fields)))  # type: ignore[arg-type]
    assert (failure.code, [f for f, _ in failure.violations]) == (grpc.StatusCode.INVALID_ARGUMENT, [field])


async def test_listed_backfills_carry_progress_and_targets(backfills: Backfills, seven: list[str]) -> None:
    page = await backfills.stub.ListBackfills(api.ListBackfillsRequest(page_size=1))
    newest = page.backfills[0]
    assert [t.asset_key for t in newest.targets] == ["regions", "orders"]
    assert newest.progress.partitions_total == 3 + 366
    assert newest.tags == {"team": "blue", "n": "6"}
