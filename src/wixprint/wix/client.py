"""The Wix eCommerce Orders API client: one site, one API key, httpx on Trio.

The client does one thing per call and maps every failure onto the error tree in ``errors.py``:
an outage (connect error, timeout, 429, 5xx, garbage in a 200) is ``WixUnavailable``, a
credential problem is ``WixAuthError``, anything else Wix refuses is ``WixRequestError``.
It never retries and never sleeps: backing off is the fetcher's decision (``next_poll_delay``),
because only the fetcher knows whether a webhook or a shutdown should cut the wait short.

The API key goes into one header and nowhere else: no error message, log line or statistic
contains it (any text Wix sends back is scrubbed of it too).
"""

from __future__ import annotations

import functools
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal, overload
from urllib.parse import quote

import httpx
import trio

from wixprint.errors import WixAuthError, WixRequestError, WixUnavailable
from wixprint.wix import jsontext
from wixprint.wix.diagnosis import wix_said

__all__ = [
    "MAX_RETRY_AFTER",
    "SearchPage",
    "WixClient",
    "WixClientStatistics",
    "next_poll_delay",
    "open_wix_client",
    "parse_retry_after",
]

SEARCH_PATH: Final = "/ecom/v1/orders/search"
ORDER_PATH: Final = "/ecom/v1/orders/{}"
TRANSACTIONS_PATH: Final = "/ecom/v1/payments/orders/{}"

MAX_RETRY_AFTER: Final = 3600.0
"""A ``Retry-After`` longer than an hour is taken as an hour: a bogus header must not stall
intake for a day."""

_MAX_MESSAGE: Final = 200


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of Search Orders.

    Attributes:
        orders: the orders on this page that are JSON objects with a string ``id``.
        next_cursor: the cursor of the next page, None on the last one.
        malformed: one description per skipped entry (position and type only, no content).
    """

    orders: list[dict[str, Any]]
    next_cursor: str | None
    malformed: list[str]


@dataclass(frozen=True, slots=True)
class WixClientStatistics:
    requests: int
    """Requests sent (each page counts)."""
    failures: int
    """Requests that raised (outage, auth, rejected)."""
    last_status: int | None
    """HTTP status of the last answer; None before the first or after a transport failure."""


class WixClient:
    """Use ``open_wix_client``; the client owns an ``httpx.AsyncClient`` and its pool."""

    def __init__(self, http: httpx.AsyncClient, *, api_key: str, request_timeout: float) -> None:
        self._http = http
        self._api_key = api_key
        self._request_timeout = request_timeout
        self._requests = 0
        self._failures = 0
        self._last_status: int | None = None

    def statistics(self) -> WixClientStatistics:
        return WixClientStatistics(
            requests=self._requests, failures=self._failures, last_status=self._last_status
        )

    async def search_orders(
        self, *, filter: dict[str, Any], sort: list[dict[str, Any]], limit: int = 100
    ) -> AsyncGenerator[SearchPage, None]:
        """Yield pages until Wix says there are no more.

        The first request carries filter and sort; every follow-up carries only the cursor
        (Wix refuses a cursor combined with filter or sort: the cursor encodes them).
        Nothing is held open between pages, so the caller may stop at any time; wrap the
        generator in ``contextlib.aclosing`` when breaking out early.
        """
        body: dict[str, Any] = {
            "search": {"filter": filter, "sort": sort, "cursorPaging": {"limit": limit}}
        }
        sent_cursor: str | None = None
        while True:
            payload = await self._call_json("POST", SEARCH_PATH, body)
            try:
                page = parse_search_page(payload)
            except WixUnavailable:
                self._failures += 1
                raise
            if page.next_cursor is not None and page.next_cursor == sent_cursor:
                self._failures += 1
                raise WixUnavailable("Wix search returned the same cursor again")
            yield page
            if page.next_cursor is None:
                return
            sent_cursor = page.next_cursor
            body = {"search": {"cursorPaging": {"limit": limit, "cursor": sent_cursor}}}

    async def get_order(self, order_id: str) -> dict[str, Any] | None:
        """The order, or None if Wix does not know the id (404)."""
        path = ORDER_PATH.format(quote(order_id, safe=""))
        payload = await self._call_json("GET", path, missing_ok=True)
        if payload is None:
            return None
        order = payload.get("order")
        if not isinstance(order, dict):
            self._failures += 1
            raise WixUnavailable("Wix get order answered without an order object")
        return order

    async def list_order_transactions(self, order_id: str) -> dict[str, Any] | None:
        """``orderTransactions`` of an order (payments, refunds), or None on 404.

        The only documented source of cash vs card (``wix/payments.py`` maps it). An answer
        without transactions (key absent or null) is an order without payments, not an outage.
        """
        path = TRANSACTIONS_PATH.format(quote(order_id, safe=""))
        payload = await self._call_json("GET", path, missing_ok=True)
        if payload is None:
            return None
        transactions = payload.get("orderTransactions")
        if transactions is None:
            return {}
        if not isinstance(transactions, dict):
            self._failures += 1
            raise WixUnavailable("Wix order transactions answer is malformed")
        return transactions

    async def server_time(self) -> float:
        """Wix's clock: the ``Date`` header of a minimal search (one order at most), as epoch
        seconds, half a second added for the header's truncation. Any HTTP answer counts,
        a refusal included: only the header matters.

        Raises:
            WixUnavailable: no answer, or an answer without a readable ``Date``.
        """
        self._requests += 1
        body = {"search": {"cursorPaging": {"limit": 1}}}
        try:
            response = await self._send("POST", SEARCH_PATH, body)
        except WixUnavailable:
            self._failures += 1
            raise
        self._last_status = response.status_code
        try:
            date = parsedate_to_datetime(response.headers.get("date", ""))
        except (TypeError, ValueError):
            date = None
        if date is None or date.tzinfo is None:
            self._failures += 1
            raise WixUnavailable("Wix answered without a readable Date header")
        return date.timestamp() + 0.5

    @overload
    async def _call_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        missing_ok: Literal[False] = False,
    ) -> dict[str, Any]: ...

    @overload
    async def _call_json(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, missing_ok: bool
    ) -> dict[str, Any] | None: ...

    async def _call_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """One request under an overall deadline; the decoded JSON object.

        With ``missing_ok`` a 404 is None instead of ``WixRequestError``.
        """
        self._requests += 1
        try:
            response = await self._send(method, path, body)
            self._last_status = response.status_code
            if missing_ok and response.status_code == 404:
                return None
            raise_for_wix_status(response, api_key=self._api_key)
            return _json_object(response)
        except (WixUnavailable, WixAuthError, WixRequestError):
            self._failures += 1
            raise

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        what = f"Wix {method} {_kind(path)}"
        try:
            with trio.fail_after(self._request_timeout):
                return await self._http.request(method, path, json=body)
        except trio.TooSlowError:
            self._last_status = None
            raise WixUnavailable(f"{what}: no answer within {self._request_timeout:g} s") from None
        except httpx.HTTPError as exc:
            self._last_status = None
            raise WixUnavailable(f"{what}: {type(exc).__name__}") from None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process. httpx otherwise builds one per client, reading the whole CA
    bundle on the event loop (40 ms here, several times that on a Pi) at every fetcher
    restart."""
    return httpx.create_ssl_context()


@asynccontextmanager
async def open_wix_client(
    base_url: str,
    api_key: str,
    site_id: str,
    *,
    request_timeout: float = 20.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[WixClient]:
    """A client for one site; the connection pool closes when the block exits."""
    headers = {
        "Authorization": api_key,
        "wix-site-id": site_id,
        "Accept": "application/json",
        "User-Agent": "wix-printer-service",
    }
    async with httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers=headers,
        # Per-phase limits no tighter than the overall deadline, which is the one that counts.
        timeout=httpx.Timeout(request_timeout),
        transport=transport,
        follow_redirects=False,
        verify=tls_context(),
    ) as http:
        yield WixClient(http, api_key=api_key, request_timeout=request_timeout)


def parse_search_page(payload: dict[str, Any]) -> SearchPage:
    """Split a Search Orders answer into good orders, the next cursor, and what was skipped."""
    raw_orders = payload.get("orders", [])
    if not isinstance(raw_orders, list):
        raise WixUnavailable("Wix search answer has no order list")
    orders: list[dict[str, Any]] = []
    malformed: list[str] = []
    for index, entry in enumerate(raw_orders):
        if not isinstance(entry, dict):
            malformed.append(f"orders[{index}] is {_json_type(entry)}, not an object")
        elif not isinstance(entry.get("id"), str) or not entry["id"]:
            malformed.append(f"orders[{index}] has no string id")
        else:
            orders.append(entry)
    return SearchPage(orders=orders, next_cursor=_next_cursor(payload), malformed=malformed)


def _next_cursor(payload: dict[str, Any]) -> str | None:
    meta = payload.get("metadata")
    if not isinstance(meta, dict):
        meta = payload.get("pagingMetadata")
    if not isinstance(meta, dict) or meta.get("hasNext") is False:
        return None
    cursors = meta.get("cursors")
    cursor = cursors.get("next") if isinstance(cursors, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


def raise_for_wix_status(response: httpx.Response, *, api_key: str = "") -> None:
    """Map a non-2xx answer onto the error tree; return quietly on 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message, code = _wix_error(response, api_key)
    said = wix_said(message, code)
    detail = f": {said}" if said else ""
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise WixUnavailable(f"Wix rate limit (429){detail}", retry_after=retry_after)
    if status >= 500:
        raise WixUnavailable(f"Wix server error ({status}){detail}")
    if status in (401, 403):
        raise WixAuthError(
            f"Wix refused the credentials ({status}){detail}",
            status_code=status,
            wix_message=message,
            wix_code=code,
        )
    if 300 <= status < 400:
        raise WixUnavailable(f"Wix answered with a redirect ({status})")
    raise WixRequestError(f"Wix rejected the request ({status}){detail}", status_code=status)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date), clamped to
    ``[0, MAX_RETRY_AFTER]``; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def next_poll_delay(
    failures: int,
    *,
    base: float,
    cap: float = 300.0,
    retry_after: float | None,
    rng: random.Random,
) -> float:
    """Seconds to wait before the next poll.

    No failures: ``base`` (the poll interval). After ``n`` consecutive failures the delay
    doubles per failure up to ``cap`` and is jittered into ``[d/2, d]`` so several services
    recovering together do not hit Wix in lockstep. A ``retry_after`` from Wix is a floor.
    """
    if failures <= 0:
        delay = base
    else:
        ceiling = min(cap, base * 2.0 ** min(failures, 32))
        delay = rng.uniform(ceiling / 2.0, ceiling)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return max(delay, 0.0)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = jsontext.loads(response.content)
    except ValueError:
        raise WixUnavailable(f"Wix answered {response.status_code} with unreadable JSON") from None
    if not isinstance(payload, dict):
        raise WixUnavailable(f"Wix answered {response.status_code} with a non-object JSON")
    return payload


def _wix_error(response: httpx.Response, api_key: str) -> tuple[str, str]:
    """``message`` and ``details.applicationError.code`` of Wix's error shape, scrubbed of the
    key; "" for what is absent (empty or non-JSON bodies: "system errors are sent empty")."""
    try:
        payload = jsontext.loads(response.content)
    except ValueError:
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    message = payload.get("message")
    details = payload.get("details")
    app_error = details.get("applicationError") if isinstance(details, dict) else None
    code = app_error.get("code") if isinstance(app_error, dict) else None
    return (
        _scrub(message.strip(), api_key) if isinstance(message, str) else "",
        _scrub(code.strip(), api_key) if isinstance(code, str) else "",
    )


def _scrub(text: str, api_key: str) -> str:
    if api_key:
        text = text.replace(api_key, "<api key>")
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "…"
    return text


def _kind(path: str) -> str:
    if path == SEARCH_PATH:
        return "search"
    return "transactions" if path.startswith("/ecom/v1/payments/") else "order"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "unknown"
