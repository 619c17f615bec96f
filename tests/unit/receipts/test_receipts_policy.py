"""The one rule for what is printable and where it goes, whatever way an order came in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from wixprint.config import Config, LayoutConfig, PrinterConfig, WixConfig
from wixprint.receipts.policy import decide
from wixprint.vocabulary import BusinessLocation, JobTarget
from wixprint.wix.apps import item_kind
from wixprint.wix.model import Order

KITCHEN = PrinterConfig(name="kueche", receipts=["kitchen"])
NOW = datetime(2025, 6, 13, 12, 0, tzinfo=UTC)
LOCATION = "5a1c7e0b-3f3a-4c55-9d4e-8b7a6c5d4e3f"
STORES_APP = "215238eb-22a5-4c36-9e7b-e7c08025e04e"


def config(**wix: object) -> Config:
    return Config(printers=[KITCHEN], wix=WixConfig(**wix))  # type: ignore[arg-type]


def test_an_approved_order_prints_where_routing_says(orders: dict[str, Order]) -> None:
    decision = decide(orders["order-03-dine-in-pos"], config(), not_before="", now=NOW)
    assert (decision.printable, decision.reason) == (True, "")
    assert decision.targets == (JobTarget("kitchen", "kueche"),)
    assert set(decision.fingerprints) == {"kitchen", "driver"}


def test_a_canceled_order_is_not_printable_but_knows_its_stations(
    orders: dict[str, Order],
) -> None:
    decision = decide(orders["order-08-canceled"], config(), not_before="", now=NOW)
    assert (decision.printable, decision.reason) == (False, "status CANCELED")
    assert decision.targets == (JobTarget("kitchen", "kueche"),)


def test_orders_created_before_not_before_are_not_printable(orders: dict[str, Order]) -> None:
    order = orders["order-02-pickup"]  # created in January
    decision = decide(order, config(), not_before="2025-06-01T00:00:00Z", now=NOW)
    assert (decision.printable, decision.reason) == (False, "created before not_before")
    assert decide(order, config(), not_before="2025-01-01T00:00:00Z", now=NOW).printable


@pytest.mark.parametrize(
    ("apps", "by_default", "printable"),
    [
        ((STORES_APP,), False, False),  # a shop item: never kitchen work by default
        ((None,), True, False),  # a custom item (a deposit)
        ((STORES_APP, "9a5d83fd-8570-482e-81ab-cfa88942ee60"), True, True),
        (("b278a256-2757-4f19-9313-c05c783bec92",), True, True),  # Restaurants Menus (New)
    ],
)
def test_restaurants_app_only_looks_at_the_items(
    orders: dict[str, Order], apps: tuple[str | None, ...], by_default: bool, printable: bool
) -> None:
    base = orders["order-03-dine-in-pos"]
    items = tuple(
        replace(base.line_items[0], app_id=app, kind=item_kind(app, None)) for app in apps
    )
    order = replace(base, line_items=items)
    assert decide(order, config(), not_before="", now=NOW).printable is by_default
    decision = decide(order, config(restaurants_app_only=True), not_before="", now=NOW)
    assert decision.printable is printable
    if not printable:
        assert decision.reason == "no Wix Restaurants item"


def test_changes_matter_for_a_week_after_the_order_was_due(orders: dict[str, Order]) -> None:
    delivery = orders["order-01-delivery"]  # due 2025-06-13 17:30-17:45 UTC
    assert (
        decide(delivery, config(), not_before="", now=NOW).changes_until
        == "2025-06-20T17:45:00.000Z"
    )
    no_slot = replace(delivery, due_from=None, due_to=None, created=None)
    assert decide(no_slot, config(), not_before="", now=NOW).changes_until == ""


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("order-11-table-reservation", "table_reservations"),
        ("order-12-gift-card", "gift_cards"),
        ("order-13-stores-item", "stores"),
    ],
)
def test_an_order_with_nothing_to_cook_is_skipped_visibly(
    orders: dict[str, Order], name: str, kind: str
) -> None:
    decision = decide(orders[name], config(), not_before="", now=NOW)
    assert (decision.printable, decision.reason) == (False, f"nothing to print: {kind}")
    assert decision.skipped_items == (kind,)
    # One line of configuration prints them after all.
    assert decide(orders[name], config(print_apps=[kind]), not_before="", now=NOW).printable


def test_a_preorder_is_held_until_its_lead_before_the_due_time(orders: dict[str, Order]) -> None:
    order = orders["order-14-scheduled"]  # ordered 11.07. evening, due 12.07. 10:00 UTC
    evening = datetime(2025, 7, 11, 19, 6, tzinfo=UTC)
    decision = decide(order, config(), not_before="", now=evening)
    assert decision.printable
    assert decision.hold_until == "2025-07-12T09:15:00.000Z"  # 45 minutes before
    assert decision.notice_targets == (JobTarget("preorder", "kueche"),)
    assert decision.due == "2025-07-12T10:00:00.000Z"
    quiet = Config(printers=[KITCHEN], layout=LayoutConfig(preorder_notice=False))
    assert decide(order, quiet, not_before="", now=evening).notice_targets == ()
    at_cook_time = datetime(2025, 7, 12, 9, 15, tzinfo=UTC)
    assert decide(order, config(), not_before="", now=at_cook_time).hold_until == ""
    # An order due soon (or with no due time) is never held.
    soon = datetime(2025, 7, 12, 9, 30, tzinfo=UTC)
    assert decide(order, config(), not_before="", now=soon).hold_until == ""


def test_a_pi_takes_only_its_locations_orders(orders: dict[str, Order]) -> None:
    base = orders["order-03-dine-in-pos"]
    mitte = replace(base, location=BusinessLocation(id=LOCATION, name="Berlin Mitte"))
    by_name = config(location_id="berlin mitte ")
    assert decide(mitte, by_name, not_before="", now=NOW).printable
    assert decide(mitte, config(location_id=LOCATION), not_before="", now=NOW).printable
    other = decide(mitte, config(location_id="Kreuzberg"), not_before="", now=NOW)
    assert (other.printable, other.reason) == (False, "location Berlin Mitte")
    # An order that names no location prints anyway: never lost for want of a match.
    assert decide(base, config(location_id="Kreuzberg"), not_before="", now=NOW).printable
