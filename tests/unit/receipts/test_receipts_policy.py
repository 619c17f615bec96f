"""The one rule for what is printable and where it goes, whatever way an order came in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wixprint.config import Config, PrinterConfig, WixConfig
from wixprint.receipts.policy import decide
from wixprint.vocabulary import JobTarget
from wixprint.wix.model import Order

KITCHEN = PrinterConfig(name="kueche", receipts=["kitchen"])
STORES_APP = "215238eb-22a5-4c36-9e7b-e7c08025e04e"


def config(**wix: object) -> Config:
    return Config(printers=[KITCHEN], wix=WixConfig(**wix))  # type: ignore[arg-type]


def test_an_approved_order_prints_where_routing_says(orders: dict[str, Order]) -> None:
    decision = decide(orders["order-03-dine-in-pos"], config(), not_before="")
    assert (decision.printable, decision.reason) == (True, "")
    assert decision.targets == (JobTarget("kitchen", "kueche"),)
    assert set(decision.fingerprints) == {"kitchen", "driver"}


def test_a_canceled_order_is_not_printable_but_knows_its_stations(
    orders: dict[str, Order],
) -> None:
    decision = decide(orders["order-08-canceled"], config(), not_before="")
    assert (decision.printable, decision.reason) == (False, "status CANCELED")
    assert decision.targets == (JobTarget("kitchen", "kueche"),)


def test_orders_created_before_not_before_are_not_printable(orders: dict[str, Order]) -> None:
    order = orders["order-02-pickup"]  # created in January
    decision = decide(order, config(), not_before="2025-06-01T00:00:00Z")
    assert (decision.printable, decision.reason) == (False, "created before not_before")
    assert decide(order, config(), not_before="2025-01-01T00:00:00Z").printable


@pytest.mark.parametrize(
    ("apps", "printable"),
    [
        ((STORES_APP,), False),  # a gift card, a shop item
        ((None,), False),  # a custom item (a deposit)
        ((STORES_APP, "9a5d83fd-8570-482e-81ab-cfa88942ee60"), True),
    ],
)
def test_restaurants_app_only_looks_at_the_items(
    orders: dict[str, Order], apps: tuple[str | None, ...], printable: bool
) -> None:
    base = orders["order-03-dine-in-pos"]
    items = tuple(replace(base.line_items[0], app_id=app) for app in apps)
    order = replace(base, line_items=items)
    assert decide(order, config(), not_before="").printable
    decision = decide(order, config(restaurants_app_only=True), not_before="")
    assert decision.printable is printable
    if not printable:
        assert decision.reason == "no Wix Restaurants item"


def test_changes_matter_for_a_week_after_the_order_was_due(orders: dict[str, Order]) -> None:
    delivery = orders["order-01-delivery"]  # due 2025-06-13 17:30-17:45 UTC
    assert decide(delivery, config(), not_before="").changes_until == "2025-06-20T17:45:00.000Z"
    no_slot = replace(delivery, due_from=None, due_to=None, created=None)
    assert decide(no_slot, config(), not_before="").changes_until == ""
