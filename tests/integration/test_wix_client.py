"""The Wix client against the simulated shop over real HTTP on 127.0.0.1.

Every test names ``thread_clock`` itself: pytest-trio only uses a clock that is a direct
argument of the test, not one pulled in by a fixture.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from tests.fakes.fake_wix import FakeWixShop, open_fake_wix
from wixprint.errors import WixAuthError, WixUnavailable
from wixprint.wix.client import SearchPage, WixClient, open_wix_client
from wixprint.wix.intake import POLL_SORT, advance_mark, build_search_filter
from wixprint.wix.model import PaymentMethod
from wixprint.wix.payments import payment_methods

ALL_NUMBERS = {"10231", "10187", "10232", "10244", "10142", "10256"}
ORDER_01_ID = "92e59bd5-ef25-5d02-a11c-a616a34f9bb2"


@pytest.fixture
async def shop_url() -> AsyncIterator[tuple[FakeWixShop, str]]:
    shop = FakeWixShop(clock=lambda: datetime(2025, 8, 1, 12, 0, tzinfo=UTC))
    shop.load_fixture_orders()
    async with open_fake_wix(shop) as running:
        yield running


@pytest.fixture
async def client(shop_url: tuple[FakeWixShop, str]) -> AsyncIterator[WixClient]:
    shop, url = shop_url
    async with open_wix_client(url, shop.api_key, shop.site_id, request_timeout=5.0) as wix:
        yield wix


async def _all_pages(client: WixClient, **search: Any) -> list[SearchPage]:
    return [
        page
        async for page in client.search_orders(
            filter=search.get("filter", {}),
            sort=search.get("sort", POLL_SORT),
            limit=search.get("limit", 100),
        )
    ]


async def test_fixture_orders_arrive_over_several_pages_with_cursor_only_follow_ups(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    search_filter = build_search_filter(
        None, overlap=600, statuses=["APPROVED"], restaurants_app_only=True
    )
    pages = await _all_pages(client, filter=search_filter, limit=2)
    assert [len(p.orders) for p in pages] == [2, 2, 2]
    assert {o["number"] for p in pages for o in p.orders} == ALL_NUMBERS
    updated = [o["updatedDate"] for p in pages for o in p.orders]
    assert updated == sorted(updated)
    assert pages[-1].next_cursor is None
    first, *follow_ups = shop.search_bodies
    assert first == {
        "search": {"filter": search_filter, "sort": POLL_SORT, "cursorPaging": {"limit": 2}}
    }
    for body, page in zip(follow_ups, pages, strict=False):
        assert body == {"search": {"cursorPaging": {"limit": 2, "cursor": page.next_cursor}}}
    stats = shop.statistics()
    assert (stats.searches, stats.cursor_misuse) == (3, 0)
    assert client.statistics().requests == 3


async def test_the_fake_really_refuses_a_cursor_with_a_filter(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    """So the test above proves the client never combines them."""
    shop, url = shop_url
    cursor = (await _all_pages(client, limit=2))[0].next_cursor
    assert cursor is not None
    body = {"search": {"filter": {}, "cursorPaging": {"limit": 2, "cursor": cursor}}}
    headers = {"Authorization": shop.api_key, "wix-site-id": shop.site_id}
    async with httpx.AsyncClient(base_url=url, headers=headers) as raw:
        response = await raw.post("/ecom/v1/orders/search", json=body)
    assert response.status_code == 400
    assert shop.statistics().cursor_misuse == 1


async def test_mark_filter_excludes_older_orders_and_hides_initialized(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    template = shop.order(ORDER_01_ID)
    assert template is not None
    shop.add_order(
        template
        | {
            "id": "init",
            "number": "1",
            "status": "INITIALIZED",
            "updatedDate": "2025-07-06T00:00:00Z",
        }
    )
    # Mark just after order 03's update (19:41:57.610); 10 min overlap reaches back to 19:31:57.
    mark = "2025-06-14T19:41:58.000Z"
    search_filter = build_search_filter(
        mark, overlap=600, statuses=["APPROVED"], restaurants_app_only=False
    )
    pages = await _all_pages(client, filter=search_filter, limit=2)
    orders = [o for p in pages for o in p.orders]
    assert [o["number"] for o in orders] == ["10232", "10244", "10256"]
    assert advance_mark(mark, orders) == "2025-07-05T16:19:04.391Z"
    # Even unfiltered, Search never shows an INITIALIZED order.
    unfiltered = await _all_pages(client, filter={})
    assert {o["number"] for o in unfiltered[0].orders} == ALL_NUMBERS


async def test_malformed_orders_are_reported_and_good_ones_still_arrive(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    shop.malformed_next(["junk", 7, {"number": "2", "buyerInfo": {"email": "a@example.com"}}])
    pages = await _all_pages(client)
    assert {o["number"] for o in pages[0].orders} == ALL_NUMBERS
    assert len(pages[0].malformed) == 3
    assert "a@example.com" not in " ".join(pages[0].malformed)
    assert any("no string id" in m for m in pages[0].malformed)


async def test_get_order(thread_clock: trio.testing.MockClock, client: WixClient) -> None:
    order = await client.get_order(ORDER_01_ID)
    assert order is not None
    assert order["number"] == "10231"
    assert "simFutureField" in order  # unknown keys come through untouched
    assert await client.get_order("no-such-order") is None
    assert await client.get_order("../search?x=1") is None


async def test_order_transactions_tell_cash_card_or_online(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    shop.load_shape_orders()
    numbers = {shop.order(i)["number"]: i for i in shop.order_ids()}  # type: ignore[index]
    expected = {
        "10231": (PaymentMethod.ONLINE,),  # derived: paid online by card
        "10142": (PaymentMethod.CASH,),  # derived: cash, not paid yet
        "10261": (PaymentMethod.CARD,),  # card at the door
        "10266": (PaymentMethod.CASH,),  # Wix POS, paid cash
        "10262": (),  # free table reservation: no payment
    }
    for number, methods in expected.items():
        transactions = await client.list_order_transactions(numbers[number])
        assert transactions is not None
        assert transactions["orderId"] == numbers[number]
        assert payment_methods(transactions) == methods, number
    assert await client.list_order_transactions("no-such-order") is None
    assert shop.statistics().transactions == len(expected) + 1


@pytest.mark.parametrize(("key", "site", "status"), [("wrong", None, 401), (None, "wrong", 403)])
async def test_bad_credentials_are_auth_errors_without_the_key(
    thread_clock: trio.testing.MockClock,
    shop_url: tuple[FakeWixShop, str],
    key: str | None,
    site: str | None,
    status: int,
) -> None:
    shop, url = shop_url
    api_key = key or shop.api_key
    async with open_wix_client(url, api_key, site or shop.site_id) as wix:
        with pytest.raises(WixAuthError) as caught:
            await _all_pages(wix)
    assert caught.value.status_code == status
    assert api_key not in str(caught.value)


async def test_rate_limit_carries_retry_after(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    shop.rate_limit_next(1, retry_after=42)
    with pytest.raises(WixUnavailable) as caught:
        await _all_pages(client)
    assert caught.value.retry_after == 42.0
    assert len(await _all_pages(client)) == 1  # the next poll works


@pytest.mark.parametrize("fault", ["empty_500", "garbage_200", "down_503"])
async def test_server_faults_are_outages_and_the_client_recovers(
    thread_clock: trio.testing.MockClock,
    shop_url: tuple[FakeWixShop, str],
    client: WixClient,
    fault: str,
) -> None:
    shop, _url = shop_url
    if fault == "empty_500":
        shop.fail_next(1, status=500)
    elif fault == "garbage_200":
        shop.garbage_next(1)
    else:
        shop.set_down(True)
    with pytest.raises(WixUnavailable) as caught:
        await client.get_order(ORDER_01_ID)
    assert caught.value.retry_after is None
    shop.set_down(False)
    assert await client.get_order(ORDER_01_ID) is not None
    stats = client.statistics()
    assert (stats.requests, stats.failures, stats.last_status) == (2, 1, 200)


async def test_a_slow_answer_hits_the_overall_deadline(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    shop.delay_responses(30.0)
    started = trio.current_time()
    with pytest.raises(WixUnavailable, match="no answer within 5 s"):
        await _all_pages(client)
    assert 5.0 <= trio.current_time() - started < 6.0  # virtual seconds
    shop.delay_responses(0)
    assert len(await _all_pages(client)) == 1


async def test_nothing_listening_is_an_outage(thread_clock: trio.testing.MockClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with open_wix_client(f"http://127.0.0.1:{port}", "k", "s") as wix:
        with pytest.raises(WixUnavailable, match="ConnectError"):
            await wix.get_order(ORDER_01_ID)


async def test_stopping_after_the_first_page_leaves_the_client_usable(
    thread_clock: trio.testing.MockClock, shop_url: tuple[FakeWixShop, str], client: WixClient
) -> None:
    shop, _url = shop_url
    async with aclosing(client.search_orders(filter={}, sort=POLL_SORT, limit=2)) as pages:
        async for page in pages:
            assert len(page.orders) == 2
            break
    assert shop.statistics().searches == 1
    assert await client.get_order(ORDER_01_ID) is not None
