"""Which tickets an order needs where, and which items each kitchen station gets."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.receipts.conftest import DRINKS
from wixprint.config import Config, LayoutConfig, PrinterConfig
from wixprint.receipts import plan_targets, route_items
from wixprint.vocabulary import BusinessLocation, ItemKind, JobTarget
from wixprint.wix.model import Order

LOCATION_ID = "7c4e1b2a-1111-4a2b-9c3d-0123456789ab"

KITCHEN = PrinterConfig(name="kueche", receipts=["kitchen"], station="Küche")
BAR = PrinterConfig(name="bar", receipts=["kitchen"], sections=[DRINKS], station="Bar")
COUNTER = PrinterConfig(name="theke", receipts=["driver", "customer"])


def config(*printers: PrinterConfig, **layout: object) -> Config:
    return Config(printers=list(printers), layout=LayoutConfig(**layout))  # type: ignore[arg-type]


def names(items: object) -> list[str]:
    return [i.name for i in items]  # type: ignore[attr-defined]


def test_delivery_plans_each_kind_on_its_printers(orders: dict[str, Order]) -> None:
    targets = plan_targets(orders["order-01-delivery"], config(KITCHEN, BAR, COUNTER))
    assert targets == (
        JobTarget("kitchen", "kueche"),
        JobTarget("kitchen", "bar"),
        JobTarget("driver", "theke"),
        JobTarget("customer", "theke"),
    )


def test_layout_decides_kinds_per_fulfillment(orders: dict[str, Order]) -> None:
    cfg = config(KITCHEN, COUNTER)
    assert plan_targets(orders["order-02-pickup"], cfg) == (
        JobTarget("kitchen", "kueche"),
        JobTarget("customer", "theke"),
    )
    assert plan_targets(orders["order-03-dine-in-pos"], cfg) == (JobTarget("kitchen", "kueche"),)
    cfg = config(KITCHEN, COUNTER, dine_in=["kitchen", "customer", "kitchen"])
    assert plan_targets(orders["order-03-dine-in-pos"], cfg) == (
        JobTarget("kitchen", "kueche"),
        JobTarget("customer", "theke"),
    )


def test_copies_never_repeat_targets(orders: dict[str, Order]) -> None:
    cfg = config(KITCHEN, COUNTER, copies={"kitchen": 3, "customer": 2})
    targets = plan_targets(orders["order-01-delivery"], cfg)
    assert len(targets) == len(set(targets)) == 3


def test_bar_gets_only_the_drinks(orders: dict[str, Order]) -> None:
    order = orders["order-01-delivery"]
    cfg = config(KITCHEN, BAR)
    bar = route_items(order, BAR, cfg)
    assert names(bar.mine) == ["Apfelschorle 0,5 l"]
    assert [(s, i.name) for s, i in bar.elsewhere] == [
        ("Küche", "Wiener Schnitzel vom Kalb"),
        ("Küche", "Currywurst mit Pommes"),
    ]
    kitchen = route_items(order, KITCHEN, cfg)
    assert names(kitchen.mine) == ["Wiener Schnitzel vom Kalb", "Currywurst mit Pommes"]
    assert [(s, i.name) for s, i in kitchen.elsewhere] == [("Bar", "Apfelschorle 0,5 l")]


def test_station_without_items_gets_no_kitchen_ticket(orders: dict[str, Order]) -> None:
    # Order 02 has no drinks: the bar prints nothing.
    targets = plan_targets(orders["order-02-pickup"], config(KITCHEN, BAR))
    assert targets == (JobTarget("kitchen", "kueche"),)
    # Only drinks: the kitchen prints nothing, the bar everything.
    only_drinks = replace(
        orders["order-01-delivery"],
        line_items=tuple(
            i for i in orders["order-01-delivery"].line_items if i.section_id == DRINKS
        ),
    )
    assert plan_targets(only_drinks, config(KITCHEN, BAR)) == (JobTarget("kitchen", "bar"),)


def test_order_without_items_still_reaches_the_kitchen(orders: dict[str, Order]) -> None:
    empty = replace(orders["order-01-delivery"], line_items=())
    assert plan_targets(empty, config(KITCHEN, BAR)) == (JobTarget("kitchen", "kueche"),)
    assert plan_targets(empty, config(BAR)) == (JobTarget("kitchen", "bar"),)


def test_unlisted_sections_go_to_the_first_kitchen_when_all_have_sections(
    orders: dict[str, Order],
) -> None:
    grill = PrinterConfig(name="grill", receipts=["kitchen"], sections=["nothing-matches"])
    cfg = config(grill, BAR)
    order = orders["order-01-delivery"]
    assert names(route_items(order, grill, cfg).mine) == [
        "Wiener Schnitzel vom Kalb",
        "Currywurst mit Pommes",
    ]
    assert names(route_items(order, BAR, cfg).mine) == ["Apfelschorle 0,5 l"]
    assert [s for s, _ in route_items(order, BAR, cfg).elsewhere] == ["grill", "grill"]


def test_two_unsectioned_kitchens_both_get_every_printable_item(orders: dict[str, Order]) -> None:
    second = PrinterConfig(name="kueche2", receipts=["kitchen"])
    cfg = config(KITCHEN, second)
    order = orders["order-04-many-items-modifiers"]
    food = tuple(i for i in order.line_items if i.kind is not ItemKind.STORES)
    assert len(food) == len(order.line_items) - 1  # a coffee mug from the shop
    for printer in (KITCHEN, second):
        routed = route_items(order, printer, cfg)
        assert routed.mine == food
        assert routed.elsewhere == ()


def test_a_printer_bound_to_a_location_takes_only_that_locations_orders(
    orders: dict[str, Order],
) -> None:
    mitte = PrinterConfig(name="mitte", receipts=["kitchen"], location="Mitte")
    cfg = config(KITCHEN, mitte)
    order = orders["order-03-dine-in-pos"]
    there = replace(order, location=BusinessLocation(id=LOCATION_ID, name="Mitte"))
    elsewhere = replace(order, location=BusinessLocation(id=LOCATION_ID, name="Kreuzberg"))
    assert {t.printer for t in plan_targets(there, cfg)} == {"kueche", "mitte"}
    assert {t.printer for t in plan_targets(elsewhere, cfg)} == {"kueche"}
    # An order that names no location is never lost for want of a match.
    assert {t.printer for t in plan_targets(order, cfg)} == {"kueche", "mitte"}


def test_items_without_section_go_to_the_rest(orders: dict[str, Order]) -> None:
    # Order 04's "Pfand Flasche" has no catalogReference: it is not a drink for the bar.
    order = orders["order-04-many-items-modifiers"]
    cfg = config(KITCHEN, BAR)
    assert names(route_items(order, BAR, cfg).mine) == ["Club-Mate 0,5 l"]
    assert "Pfand Flasche" in names(route_items(order, KITCHEN, cfg).mine)


def test_printer_outside_the_config_gets_everything(orders: dict[str, Order]) -> None:
    order = orders["order-01-delivery"]
    routed = route_items(order, PrinterConfig(name="test"), config(KITCHEN, BAR))
    assert routed.mine == order.line_items
    assert routed.elsewhere == ()
