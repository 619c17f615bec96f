"""The simulated Wix shop: orders in memory, the two order endpoints, faults on demand.

Request handling is plain synchronous code returning a ``Reply`` (status, headers, body); the
HTTP shell in ``shop.py`` only adds the optional delay. That keeps the Wix behaviour the client
depends on (wrapped bodies, cursor-only follow-ups, hidden INITIALIZED orders, error shapes)
testable without sockets, and the same in the tests and in ``wixprint demo``.
"""

from __future__ import annotations

import copy
import json
import random
import secrets
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from wixprint.sim.query import (
    QueryError,
    SortSpec,
    after_key,
    matches,
    parse_sort,
    sort_key_of,
    sort_orders,
)
from wixprint.sim.replies import (
    JSON_HEADERS,
    Reply,
    error,
    json_reply,
    opaque,
    served,
    transactions,
    validation_error,
)
from wixprint.sim.samples import (
    fixture_orders,
    number_of,
    shape_orders,
    shape_transactions,
    shift_dates,
)
from wixprint.wix.intake import format_wix_time, parse_wix_time

__all__ = ["FakeWixShop", "Reply", "ShopStatistics"]

DEFAULT_API_KEY: Final = "IST.sim-api-key"
DEFAULT_SITE_ID: Final = "5d4b6a0e-0000-4000-8000-00000000517e"
MAX_LIMIT: Final = 100
_MAX_CURSORS: Final = 1000
_MAX_RECORDED: Final = 200


@dataclass(frozen=True, slots=True)
class ShopStatistics:
    requests: int
    searches: int
    gets: int
    transactions: int
    by_status: Mapping[int, int]
    """Answers per HTTP status."""
    cursor_misuse: int
    """Searches refused because a cursor came with filter or sort."""


@dataclass(slots=True)
class _Cursor:
    search_filter: dict[str, Any]
    spec: SortSpec
    last_key: list[object]


class FakeWixShop:
    """Orders in memory, served like Wix's eCommerce Orders API.

    ``clock`` gives "now" for the dates the shop writes (updates, cancellations).
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        site_id: str = DEFAULT_SITE_ID,
        clock: Callable[[], datetime] | None = None,
        seed: int = 0,
    ) -> None:
        self.api_key = api_key
        self.site_id = site_id
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._orders: dict[str, dict[str, Any]] = {}
        self._transactions: dict[str, dict[str, Any]] = {}
        self._indexed_at: dict[str, datetime] = {}
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._demo_round = 0
        self.delay = 0.0
        self.down = False
        self.key_lacks_read_orders = False
        """Answer like Wix for a key without the "Read Orders" permission: 403, no description."""
        self._fail: list[int] = []
        self._rate_limit: list[str | None] = []
        self._garbage = 0
        self._malformed: list[object] = []
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self.search_bodies: list[object] = []
        """Decoded bodies of the searches received (the most recent ``_MAX_RECORDED``)."""

    def now(self) -> datetime:
        """The shop's clock: its order dates and its ``Date`` header follow it."""
        return self._clock()

    # -- orders -----------------------------------------------------------------------------

    def add_order(self, order: dict[str, Any]) -> None:
        """Store a copy of ``order`` (replacing one with the same id)."""
        order_id = order.get("id")
        if not isinstance(order_id, str) or not order_id:
            raise ValueError("an order needs a string id")
        self._orders[order_id] = copy.deepcopy(order)

    def order(self, order_id: str) -> dict[str, Any] | None:
        """A copy of the stored order, as kept (without the extras added when served)."""
        found = self._orders.get(order_id)
        return None if found is None else copy.deepcopy(found)

    def order_ids(self) -> list[str]:
        return list(self._orders)

    def index_late(self, order_id: str, seconds: float) -> None:
        """Keep the order out of search results for ``seconds`` of the shop's clock, as Wix's
        search index lags its writes (by id it is there at once). Orders indexed out of
        their ``updatedDate`` order are what the poll's overlap window is for."""
        self._indexed_at[order_id] = self._clock() + timedelta(seconds=seconds)

    def update_order(self, order_id: str, **changes: Any) -> dict[str, Any]:
        """Apply top-level ``changes`` and bump ``updatedDate``; returns a copy."""
        order = self._orders[order_id]
        order.update(copy.deepcopy(changes))
        self._touch(order)
        return copy.deepcopy(order)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancel like the dashboard does: status, an ``ORDER_CANCELED`` activity, a new date."""
        order = self._orders[order_id]
        order["status"] = "CANCELED"
        now = self._touch(order)
        activities = order.setdefault("activities", [])
        if isinstance(activities, list):
            activities.append(
                {"id": str(self._uuid()), "createdDate": now, "type": "ORDER_CANCELED"}
            )
        return copy.deepcopy(order)

    def _touch(self, order: dict[str, Any]) -> str:
        """Move ``updatedDate`` to now, and always forward, as Wix does on every change."""
        now = self._clock()
        previous = parse_wix_time(order.get("updatedDate"))
        if previous is not None and now <= previous:
            now = previous + timedelta(milliseconds=1)
        stamp = format_wix_time(now)
        order["updatedDate"] = stamp
        return stamp

    def load_fixture_orders(self) -> list[str]:
        """Add the six sample orders shipped in ``wixprint/sim/orders``; returns their ids."""
        ids: list[str] = []
        for order in fixture_orders():
            self.add_order(order)
            ids.append(order["id"])
        return ids

    def load_shape_orders(self) -> list[str]:
        """Add the field shapes shipped in ``wixprint/sim/shapes`` (reservation, gift card,
        Stores item, taxInfo-only, modifier groups, scheduled, POS, titles without address,
        PENDING, REJECTED) with their transactions; returns their ids."""
        for order_id, answer in shape_transactions().items():
            self.set_transactions(order_id, answer)
        ids: list[str] = []
        for order in shape_orders().values():
            self.add_order(order)
            ids.append(order["id"])
        return ids

    def set_transactions(self, order_id: str, transactions: dict[str, Any]) -> None:
        """Answer ``GET /ecom/v1/payments/orders/{order_id}`` with these ``orderTransactions``
        instead of the ones derived from the order."""
        self._transactions[order_id] = copy.deepcopy(transactions)

    def new_demo_order(self, now: datetime) -> dict[str, Any]:
        """Add a fresh APPROVED order cloned from a sample, created ``now``; returns a copy.

        New id and number; every date moves by the same amount, so the delivery slot keeps its
        distance from the order time.
        """
        templates = [o for o in fixture_orders() if o.get("status") == "APPROVED"]
        template = templates[self._demo_round % len(templates)]
        self._demo_round += 1
        created = parse_wix_time(template.get("createdDate"))
        shift = (now if now.tzinfo else now.replace(tzinfo=UTC)) - (created or now)
        order = shift_dates(template, shift)
        order["id"] = str(self._uuid())
        order["number"] = str(self._next_number())
        order["createdDate"] = order["updatedDate"] = format_wix_time(now)
        self.add_order(order)
        return copy.deepcopy(order)

    def _next_number(self) -> int:
        everything = [*self._orders.values(), *fixture_orders()]
        numbers = [n for n in map(number_of, everything) if n is not None]
        return max(numbers, default=10000) + 1

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    # -- faults -----------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next ``n`` requests get ``status`` with an empty body (Wix's 5xx style)."""
        self._fail.extend([status] * n)

    def rate_limit_next(self, n: int, retry_after: float | str | None = 1) -> None:
        """The next ``n`` requests get 429; ``Retry-After`` as given (seconds or HTTP date)."""
        header = None if retry_after is None else _header_seconds(retry_after)
        self._rate_limit.extend([header] * n)

    def garbage_next(self, n: int) -> None:
        """The next ``n`` authorised requests get a 200 whose body is not JSON."""
        self._garbage += n

    def malformed_next(self, entries: list[object]) -> None:
        """The next search page also carries these raw entries in ``orders``."""
        self._malformed.extend(entries)

    def delay_responses(self, seconds: float) -> None:
        """Every answer waits this long first (``trio.sleep``: virtual under a mock clock)."""
        self.delay = max(seconds, 0.0)

    def set_down(self, down: bool) -> None:
        """While down, every request gets 503."""
        self.down = down

    # -- statistics -------------------------------------------------------------------------

    def statistics(self) -> ShopStatistics:
        return ShopStatistics(
            requests=self._counts["requests"],
            searches=self._counts["search"],
            gets=self._counts["get"],
            transactions=self._counts["transactions"],
            by_status=MappingProxyType(dict(self._statuses)),
            cursor_misuse=self._counts["cursor_misuse"],
        )

    # -- requests ---------------------------------------------------------------------------

    def handle_search(self, authorization: str | None, site_id: str | None, body: bytes) -> Reply:
        return self._answer("search", authorization, site_id, lambda: self._search(body))

    def handle_get(self, authorization: str | None, site_id: str | None, order_id: str) -> Reply:
        return self._answer("get", authorization, site_id, lambda: self._get(order_id))

    def handle_transactions(
        self, authorization: str | None, site_id: str | None, order_id: str
    ) -> Reply:
        return self._answer("transactions", authorization, site_id, lambda: self._tx(order_id))

    def _answer(
        self,
        kind: str,
        authorization: str | None,
        site_id: str | None,
        serve: Callable[[], Reply],
    ) -> Reply:
        self._counts["requests"] += 1
        self._counts[kind] += 1
        reply = self._fault_or_auth(authorization, site_id) or self._garbage_reply() or serve()
        self._statuses[reply.status] += 1
        return reply

    def _fault_or_auth(self, authorization: str | None, site_id: str | None) -> Reply | None:
        if self.down:
            return Reply(503)
        if self._fail:
            return Reply(self._fail.pop(0))
        if self._rate_limit:
            header = self._rate_limit.pop(0)
            headers = dict(JSON_HEADERS) | ({"Retry-After": header} if header is not None else {})
            return error(429, "Too many requests", "TOO_MANY_REQUESTS", headers=headers)
        if not authorization or authorization != self.api_key:
            return error(401, "Not authenticated", "MISSING_TOKEN" if not authorization else None)
        if site_id != self.site_id:
            return error(403, "Permission denied", "PERMISSION_DENIED")
        if self.key_lacks_read_orders:
            # Wix's permission 403s carry an empty description (wix/skills#1119).
            return error(403, "", "PERMISSION_DENIED")
        return None

    def _garbage_reply(self) -> Reply | None:
        if self._garbage <= 0:
            return None
        self._garbage -= 1
        return Reply(200, b"<html>upstream hiccup", {"Content-Type": "text/html"})

    def _search(self, body: bytes) -> Reply:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return validation_error("body", "request body is not JSON")
        self.search_bodies.append(request)
        del self.search_bodies[:-_MAX_RECORDED]
        search = request.get("search") if isinstance(request, dict) else None
        if not isinstance(search, dict):
            return validation_error("search", 'the body must be {"search": {...}}')
        paging = search.get("cursorPaging", {})
        if not isinstance(paging, dict):
            return validation_error("search.cursorPaging", "must be an object")
        limit = paging.get("limit", MAX_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            return validation_error("search.cursorPaging.limit", f"must be 1..{MAX_LIMIT}")
        cursor_text = paging.get("cursor")
        try:
            if cursor_text is not None:
                if search.get("filter") is not None or search.get("sort") is not None:
                    self._counts["cursor_misuse"] += 1
                    return validation_error(
                        "search.cursorPaging.cursor",
                        "cursorPaging.cursor cannot be used with 'filter' or 'sort'",
                    )
                cursor = self._cursors.get(cursor_text) if isinstance(cursor_text, str) else None
                if cursor is None:
                    return validation_error("search.cursorPaging.cursor", "invalid cursor")
                search_filter, spec, last = cursor.search_filter, cursor.spec, cursor.last_key
            else:
                search_filter = search.get("filter") or {}
                spec, last = parse_sort(search.get("sort")), None
            now = self._clock()
            hits = [
                o
                for key, o in self._orders.items()
                if o.get("status") != "INITIALIZED"
                and self._indexed_at.get(key, now) <= now
                and matches(o, search_filter)
            ]
        except QueryError as exc:
            return validation_error("search.filter", str(exc))
        ordered = sort_orders(hits, spec)
        remaining = ordered if last is None else after_key(ordered, spec, last)
        page, has_next = remaining[:limit], len(remaining) > limit
        cursors: dict[str, str] = {}
        if has_next:
            cursors["next"] = self._new_cursor(search_filter, spec, sort_key_of(page[-1], spec))
        if cursor_text is not None:
            cursors["prev"] = opaque(secrets.token_hex(8))
        orders: list[object] = [served(o) for o in page]
        orders.extend(self._malformed)
        self._malformed.clear()
        metadata = {"count": len(page), "cursors": cursors, "hasNext": has_next}
        return json_reply(200, {"orders": orders, "metadata": metadata})

    def _new_cursor(self, search_filter: dict[str, Any], spec: SortSpec, last: list[object]) -> str:
        token = opaque(secrets.token_hex(12))
        self._cursors[token] = _Cursor(copy.deepcopy(search_filter), list(spec), last)
        while len(self._cursors) > _MAX_CURSORS:
            self._cursors.popitem(last=False)
        return token

    def _get(self, order_id: str) -> Reply:
        order = self._orders.get(order_id)
        if order is None:
            return error(404, "Order not found", "ORDER_NOT_FOUND")
        return json_reply(200, {"order": served(order)})

    def _tx(self, order_id: str) -> Reply:
        order = self._orders.get(order_id)
        if order is None:
            return error(404, "Order not found", "ORDER_NOT_FOUND")
        answer = self._transactions.get(order_id) or transactions(order)
        return json_reply(200, {"orderTransactions": answer})


def _header_seconds(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)
