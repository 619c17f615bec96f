"""The simulated shop behaves like Wix where the client depends on it (no sockets here)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wixprint.sim.state import FakeWixShop, Reply
from wixprint.wix.intake import RESTAURANTS_APP_ID


def _shop() -> FakeWixShop:
    shop = FakeWixShop(clock=lambda: datetime(2025, 8, 1, 12, 0, tzinfo=UTC))
    shop.load_fixture_orders()
    return shop


def _search(shop: FakeWixShop, search: object, **auth: str) -> Reply:
    return shop.handle_search(
        auth.get("authorization", shop.api_key),
        auth.get("site_id", shop.site_id),
        json.dumps(search).encode(),
    )


def _payload(reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(reply.body)
    return payload


def _numbers(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [o["number"] for o in _payload(reply)["orders"]]


def test_default_sort_is_created_date_descending_like_the_fixture_pages() -> None:
    shop = _shop()
    first = _search(shop, {"search": {"cursorPaging": {"limit": 4}}})
    assert _numbers(first) == ["10256", "10244", "10232", "10231"]
    meta = _payload(first)["metadata"]
    assert meta["count"] == 4
    assert meta["hasNext"] is True
    cursor = meta["cursors"]["next"]
    assert "sim:" in base64.urlsafe_b64decode(cursor + "==").decode()  # opaque token
    second = _search(shop, {"search": {"cursorPaging": {"limit": 4, "cursor": cursor}}})
    assert _numbers(second) == ["10142", "10187"]
    assert _payload(second)["metadata"]["hasNext"] is False
    assert "next" not in _payload(second)["metadata"]["cursors"]


@pytest.mark.parametrize("extra", [{"filter": {}}, {"sort": []}, {"filter": {"status": "X"}}])
def test_cursor_with_filter_or_sort_is_400(extra: dict[str, Any]) -> None:
    shop = _shop()
    cursor = _payload(_search(shop, {"search": {"cursorPaging": {"limit": 1}}}))["metadata"][
        "cursors"
    ]["next"]
    reply = _search(shop, {"search": {"cursorPaging": {"limit": 1, "cursor": cursor}, **extra}})
    assert reply.status == 400
    assert "cursor" in _payload(reply)["message"]
    assert shop.statistics().cursor_misuse == 1


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {}, "cursorPaging": {"limit": 2}},  # not wrapped in "search"
        {"search": {"cursorPaging": {"limit": 0}}},
        {"search": {"cursorPaging": {"limit": 101}}},
        {"search": {"cursorPaging": {"limit": "2"}}},
        {"search": {"cursorPaging": {"cursor": "made-up"}}},
        {"search": {"filter": {"createdDate": {"$regex": "x"}}}},
        {"search": {"sort": [{"fieldName": "buyerNote"}]}},
        {"search": {"sort": [{"fieldName": "createdDate", "order": "UP"}]}},
        {"search": {"filter": {"updatedDate": {"$gte": "last tuesday"}}}},
    ],
)
def test_bad_search_bodies_are_400_with_wix_validation_shape(body: object) -> None:
    reply = _search(_shop(), body)
    assert reply.status == 400
    violations = _payload(reply)["details"]["validationError"]["fieldViolations"]
    assert violations[0]["field"].startswith("search")


def test_filters_the_fetcher_uses() -> None:
    shop = _shop()
    search = {
        "filter": {
            "status": {"$in": ["APPROVED"]},
            "updatedDate": {"$gte": "2025-06-13T16:47:23.905Z"},
            "lineItems.catalogReference.appId": {"$hasSome": [RESTAURANTS_APP_ID]},
        },
        "sort": [{"fieldName": "updatedDate", "order": "ASC"}],
    }
    assert _numbers(_search(shop, {"search": search})) == ["10231", "10232", "10244"]
    lt = {"filter": {"createdDate": {"$lt": "2025-06-13T16:47:21.482Z"}, "status": "APPROVED"}}
    assert _numbers(_search(shop, {"search": lt})) == ["10142", "10187"]
    other_app = {"filter": {"lineItems.catalogReference.appId": {"$hasSome": ["other"]}}}
    assert _numbers(_search(shop, {"search": other_app})) == []
    both = {"filter": {"$or": [{"number": "10142"}, {"status": {"$eq": "CANCELED"}}]}}
    assert sorted(_numbers(_search(shop, {"search": both}))) == ["10142", "10256"]


def test_initialized_orders_are_hidden_from_search_but_not_from_get() -> None:
    shop = _shop()
    order = shop.order("92e59bd5-ef25-5d02-a11c-a616a34f9bb2")
    assert order is not None
    shop.add_order(order | {"id": "init-1", "number": "99999", "status": "INITIALIZED"})
    everything = _numbers(_search(shop, {"search": {"filter": {}}}))
    assert "99999" not in everything
    assert len(everything) == 6
    explicit = {"filter": {"status": "INITIALIZED"}}
    assert _numbers(_search(shop, {"search": explicit})) == []
    assert shop.handle_get(shop.api_key, shop.site_id, "init-1").status == 200


def test_served_orders_carry_unknown_keys_but_the_stored_ones_do_not() -> None:
    shop = _shop()
    reply = shop.handle_get(shop.api_key, shop.site_id, "92e59bd5-ef25-5d02-a11c-a616a34f9bb2")
    served = _payload(reply)["order"]
    assert "simFutureField" in served
    assert "simFutureField" in served["lineItems"][0]
    stored = shop.order(served["id"])
    assert stored is not None
    assert "simFutureField" not in stored


def test_keyset_paging_is_stable_when_orders_change_between_pages() -> None:
    shop = _shop()
    sort = [{"fieldName": "updatedDate", "order": "ASC"}]
    first = _payload(_search(shop, {"search": {"sort": sort, "cursorPaging": {"limit": 3}}}))
    assert [o["number"] for o in first["orders"]] == ["10187", "10142", "10231"]
    # The oldest order changes: it moves to the end instead of shifting the next page.
    shop.update_order("01625169-6112-5835-b4ed-dc96a2eeba0d", buyerNote="bitte klingeln")
    cursor = first["metadata"]["cursors"]["next"]
    rest = _search(shop, {"search": {"cursorPaging": {"limit": 3, "cursor": cursor}}})
    assert _numbers(rest) == ["10232", "10244", "10256"]


@pytest.mark.parametrize(
    ("authorization", "site_id", "status", "code"),
    [
        (None, "site", 401, "MISSING_TOKEN"),
        ("Bearer IST.sim-api-key", "site", 401, None),
        ("wrong", "site", 401, None),
        ("key", None, 403, "PERMISSION_DENIED"),
        ("key", "another-site", 403, "PERMISSION_DENIED"),
    ],
)
def test_credentials_are_checked(
    authorization: str | None, site_id: str | None, status: int, code: str | None
) -> None:
    shop = FakeWixShop(api_key="key", site_id="site")
    reply = shop.handle_get(authorization, site_id, "x")
    assert reply.status == status
    payload = _payload(reply)
    assert payload["message"]
    assert payload["details"].get("applicationError", {}).get("code") == code


def test_faults_are_consumed_in_order_then_service_resumes() -> None:
    shop = _shop()
    shop.fail_next(1, status=502)
    shop.rate_limit_next(1, retry_after=12)
    shop.garbage_next(1)
    search: dict[str, Any] = {"search": {}}
    first, second, third, fourth = (_search(shop, search) for _ in range(4))
    assert (first.status, first.body) == (502, b"")
    assert second.status == 429
    assert second.headers["Retry-After"] == "12"
    assert third.status == 200
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(third.body)
    assert fourth.status == 200
    shop.set_down(True)
    assert _search(shop, search).status == 503
    shop.set_down(False)
    stats = shop.statistics()
    assert (stats.requests, stats.searches) == (5, 5)
    assert dict(stats.by_status) == {502: 1, 429: 1, 200: 2, 503: 1}


def test_malformed_entries_ride_along_on_the_next_page_only() -> None:
    shop = _shop()
    shop.malformed_next(["junk", {"number": "1"}])
    orders = _payload(_search(shop, {"search": {}}))["orders"]
    assert orders[-2:] == ["junk", {"number": "1"}]
    assert len(_payload(_search(shop, {"search": {}}))["orders"]) == 6


def test_update_and_cancel_move_updated_date_forward() -> None:
    shop = _shop()
    order_id = "503c10e1-251e-536a-aa77-646921b5cc86"  # updated 2025-07-05, clock is 2025-08-01
    assert shop.update_order(order_id, buyerNote="x")["updatedDate"] == "2025-08-01T12:00:00.000Z"
    # Same clock reading again: still strictly later.
    canceled = shop.cancel_order(order_id)
    assert canceled["updatedDate"] == "2025-08-01T12:00:00.001Z"
    assert canceled["status"] == "CANCELED"
    assert canceled["activities"][-1]["type"] == "ORDER_CANCELED"


def test_new_demo_orders_are_fresh_approved_and_consistent() -> None:
    shop = _shop()
    now = datetime(2025, 12, 24, 17, 30, 0, 250000, tzinfo=UTC)
    first = shop.new_demo_order(now)
    second = shop.new_demo_order(now + timedelta(minutes=1))
    assert first["status"] == second["status"] == "APPROVED"
    assert first["id"] != second["id"]
    assert int(second["number"]) == int(first["number"]) + 1
    assert int(first["number"]) > 10256
    assert first["createdDate"] == first["updatedDate"] == "2025-12-24T17:30:00.250Z"
    # Order 01 is the first template: its slot was 42.5 min after creation, and still is.
    slot = first["shippingInfo"]["logistics"]["deliveryTimeSlot"]
    assert slot["from"] == "2025-12-24T18:12:38Z"
    assert shop.order(first["id"]) == first
    reply = shop.handle_transactions(shop.api_key, shop.site_id, first["id"])
    payment = _payload(reply)["orderTransactions"]["payments"][0]
    assert payment["regularPaymentDetails"]["paymentMethod"] == "CreditCard"


def test_add_order_needs_an_id() -> None:
    with pytest.raises(ValueError, match="string id"):
        FakeWixShop().add_order({"number": "1"})
