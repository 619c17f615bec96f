"""Client behaviour that needs no server: error mapping, paging metadata, backoff, secrets."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from wixprint.errors import WixAuthError, WixRequestError, WixUnavailable
from wixprint.wix.client import (
    MAX_RETRY_AFTER,
    SearchPage,
    WixClient,
    next_poll_delay,
    open_wix_client,
    parse_retry_after,
)

API_KEY = "IST.secret-key-never-in-messages"

Handler = Callable[[httpx.Request], httpx.Response]


async def _pages(handler: Handler, **search: Any) -> list[SearchPage]:
    async with open_wix_client(
        "https://wix.invalid", API_KEY, "site", transport=httpx.MockTransport(handler)
    ) as client:
        return [
            page
            async for page in client.search_orders(
                filter=search.get("filter", {}), sort=search.get("sort", []), limit=2
            )
        ]


async def _error_of(answer: httpx.Response | Handler) -> Exception:
    """What the client raises for one answer (or for what a handler does)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return answer(request) if callable(answer) else answer

    with pytest.raises((WixUnavailable, WixAuthError, WixRequestError)) as caught:
        await _pages(handler)
    return caught.value


def _json(status: int, payload: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(payload).encode(), headers=headers)


async def test_paging_metadata_is_a_fallback_and_has_next_false_stops() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if len(seen) == 1:
            meta = {"cursors": {"next": "c1"}, "hasNext": True}
            return _json(200, {"orders": [{"id": "a"}], "pagingMetadata": meta})
        # A stray next cursor with hasNext false must not be followed.
        meta = {"cursors": {"next": "c2"}, "hasNext": False}
        return _json(200, {"orders": [{"id": "b"}], "metadata": meta})

    pages = await _pages(handler, filter={"status": "APPROVED"})
    assert [[o["id"] for o in p.orders] for p in pages] == [["a"], ["b"]]
    assert seen[1] == {"search": {"cursorPaging": {"limit": 2, "cursor": "c1"}}}


async def test_missing_orders_and_metadata_mean_one_empty_page() -> None:
    pages = await _pages(lambda request: _json(200, {}))
    assert pages == [SearchPage(orders=[], next_cursor=None, malformed=[])]


async def test_a_cursor_that_does_not_advance_is_an_outage_not_a_loop() -> None:
    meta = {"cursors": {"next": "same"}, "hasNext": True}

    def handler(request: httpx.Request) -> httpx.Response:
        return _json(200, {"orders": [], "metadata": meta})

    with pytest.raises(WixUnavailable, match="same cursor"):
        await _pages(handler)


async def test_headers_carry_the_raw_key_and_site_id() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return _json(200, {"orders": []})

    await _pages(handler)
    assert captured[0].headers["Authorization"] == API_KEY
    assert captured[0].headers["wix-site-id"] == "site"
    assert captured[0].url.path == "/ecom/v1/orders/search"


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors(status: int) -> None:
    error = await _error_of(_json(status, {"message": f"denied for {API_KEY}"}))
    assert isinstance(error, WixAuthError)
    assert error.status_code == status
    assert API_KEY not in str(error)


async def test_other_4xx_carries_wix_message_and_code() -> None:
    payload = {
        "message": "Invalid revision",
        "details": {"applicationError": {"code": "INVALID_REVISION", "description": "x"}},
    }
    error = await _error_of(_json(409, payload))
    assert isinstance(error, WixRequestError)
    assert error.status_code == 409
    assert "Invalid revision" in str(error)
    assert "INVALID_REVISION" in str(error)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500),
        httpx.Response(503, content=b"<html>Service Unavailable</html>"),
        httpx.Response(504, content=b""),
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, content=b"[1, 2]"),
        httpx.Response(200, content=json.dumps({"orders": "nope"}).encode()),
        httpx.Response(302, headers={"Location": "https://elsewhere.invalid/"}),
    ],
    ids=["500-empty", "503-html", "504", "200-garbage", "200-array", "orders-not-list", "302"],
)
async def test_outages(response: httpx.Response) -> None:
    error = await _error_of(response)
    assert isinstance(error, WixUnavailable)
    assert error.retry_after is None


async def test_transport_errors_are_outages_without_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connect failed {request.headers['Authorization']}")

    error = await _error_of(handler)
    assert isinstance(error, WixUnavailable)
    assert API_KEY not in str(error)


async def test_429_reads_retry_after() -> None:
    error = await _error_of(_json(429, {"message": "slow down"}, **{"Retry-After": "7"}))
    assert isinstance(error, WixUnavailable)
    assert error.retry_after == 7.0


async def test_statistics_count_requests_and_failures() -> None:
    answers = iter([_json(200, {"orders": []}), httpx.Response(500)])
    async with open_wix_client(
        "https://wix.invalid",
        API_KEY,
        "site",
        transport=httpx.MockTransport(lambda request: next(answers)),
    ) as client:
        assert isinstance(client, WixClient)
        async for _page in client.search_orders(filter={}, sort=[]):
            pass
        with pytest.raises(WixUnavailable):
            async for _page in client.search_orders(filter={}, sort=[]):
                pass
        stats = client.statistics()
    assert (stats.requests, stats.failures, stats.last_status) == (2, 1, 500)


def test_retry_after_forms() -> None:
    now = datetime(2025, 6, 13, 12, 0, tzinfo=UTC)
    later = format_datetime(datetime(2025, 6, 13, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(later, now=now.timestamp()) == 30.0
    assert parse_retry_after(later, now=now.timestamp() + 60) == 0.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("99999999") == MAX_RETRY_AFTER
    for bad in (None, "", "soon", "nan", "Fri, 99 Foo 2025"):
        assert parse_retry_after(bad) is None


def test_poll_delay_without_failures_is_the_interval() -> None:
    rng = random.Random(1)
    assert next_poll_delay(0, base=10.0, retry_after=None, rng=rng) == 10.0
    assert next_poll_delay(0, base=10.0, retry_after=30.0, rng=rng) == 30.0


def test_poll_delay_grows_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for failures, ceiling in [(1, 20.0), (2, 40.0), (3, 80.0), (5, 300.0), (500, 300.0)]:
        delays = [
            next_poll_delay(failures, base=10.0, retry_after=None, rng=rng) for _ in range(50)
        ]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (failures, delays)
        assert len(set(delays)) > 1  # jittered, not lockstep


def test_poll_delay_respects_retry_after_as_a_floor() -> None:
    rng = random.Random(3)
    assert next_poll_delay(1, base=10.0, retry_after=600.0, rng=rng) == 600.0
    assert 10.0 <= next_poll_delay(1, base=10.0, retry_after=1.0, rng=rng) <= 20.0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"orderTransactions": {"orderId": "o", "payments": []}}, {"orderId": "o", "payments": []}),
        ({"orderTransactions": None}, {}),
        ({}, {}),
    ],
)
async def test_order_transactions_path_and_empty_answers(
    body: dict[str, Any], expected: dict[str, Any]
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    async with open_wix_client("https://wix.invalid", API_KEY, "s", transport=transport) as wix:
        assert await wix.list_order_transactions("a/b c") == expected
    assert seen == ["/ecom/v1/payments/orders/a%2Fb%20c"]


async def test_malformed_order_transactions_are_an_outage() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"orderTransactions": []}))
    async with open_wix_client("https://wix.invalid", API_KEY, "s", transport=transport) as wix:
        with pytest.raises(WixUnavailable, match="transactions"):
            await wix.list_order_transactions("o")
