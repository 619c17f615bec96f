"""The simulated shop carries the field shapes the test fixtures have, and answers the Order
Transactions API for them as Wix would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wixprint.sim.samples import fixture_orders, shape_orders, shape_transactions
from wixprint.sim.sdk import sdk_order, velo_order_event
from wixprint.sim.state import FakeWixShop
from wixprint.wix.payments import payment_methods

SIM = Path(__file__).resolve().parents[3] / "src" / "wixprint" / "sim"


def test_sim_orders_and_shapes_are_the_test_fixtures(fixtures_dir: Path) -> None:
    """One set of shapes: the demo meets what the tests meet."""
    for folder in ("orders", "shapes"):
        files = sorted((SIM / folder).glob("*.json"))
        assert files
        for file in files:
            assert file.read_bytes() == (fixtures_dir / file.name).read_bytes(), file.name
    shapes = {f.name for f in (SIM / "shapes").glob("order-*.json")}
    fixtures = {f.name for f in fixtures_dir.glob("order-*.json")}
    assert fixtures - shapes == {f.name for f in (SIM / "orders").glob("*.json")}


def test_shapes_load_into_the_shop_with_their_transactions() -> None:
    shop = FakeWixShop(clock=lambda: datetime(2025, 8, 1, 12, 0, tzinfo=UTC))
    classic = shop.load_fixture_orders()
    ids = shop.load_shape_orders()
    assert len(ids) == len(shape_orders()) == 12
    assert not set(ids) & set(classic)
    assert len(fixture_orders()) == 6  # the demo's templates are unchanged
    by_number = {shop.order(i)["number"]: i for i in ids}  # type: ignore[index]

    def methods(order_id: str) -> Any:
        reply = shop.handle_transactions(shop.api_key, shop.site_id, order_id)
        assert reply.status == 200
        return payment_methods(json.loads(reply.body)["orderTransactions"])

    assert [m.value for m in methods(by_number["10261"])] == ["card"]
    assert [m.value for m in methods(by_number["10265"])] == ["gift_card", "online"]
    assert methods(by_number["10262"]) == ()  # the free reservation
    assert shape_transactions()[by_number["10262"]]["payments"] == []


def test_derived_transactions_of_a_free_order_have_no_payment() -> None:
    shop = FakeWixShop()
    order = next(iter(shape_orders().values()))
    order = {**order, "id": "free", "paymentStatus": "PAID"}
    order["priceSummary"] = {"total": {"amount": "0.00", "formattedAmount": "0,00 €"}}
    shop.add_order(order)
    reply = shop.handle_transactions(shop.api_key, shop.site_id, "free")
    assert json.loads(reply.body)["orderTransactions"]["payments"] == []


def test_velo_event_fixture_is_the_sdk_shape_of_order_01(fixtures_dir: Path) -> None:
    rest = json.loads((fixtures_dir / "order-01-delivery.json").read_text(encoding="utf-8"))
    fixture = json.loads((fixtures_dir / "velo-order-approved.json").read_text(encoding="utf-8"))
    assert velo_order_event(rest, "2025-06-13T16:47:24.118Z") == fixture
    sdk = sdk_order(rest)
    address = sdk["shippingInfo"]["logistics"]["shippingDestination"]["address"]
    assert "addressLine1" in address
    assert "addressLine" not in address
    assert sdk["lineItems"][0]["_id"] == rest["lineItems"][0]["id"]
    assert "_createdDate" in sdk
    assert "createdDate" not in sdk
