"""What prints, decided per line item on the fixture orders (the policy part B plugs in)."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from wixprint.config import Config, WixConfig
from wixprint.wix.apps import TABLE_RESERVATIONS_APP_ID
from wixprint.wix.model import Order
from wixprint.wix.parse import parse_order
from wixprint.wix.printable import printable_items, select_items

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT = Config()


def order(fixtures_dir: Path, name: str) -> Order:
    raw = json.loads((fixtures_dir / f"{name}.json").read_text(encoding="utf-8"))
    return parse_order(raw, BERLIN).order


def with_apps(*apps: str) -> Config:
    return msgspec.structs.replace(DEFAULT, wix=WixConfig(print_apps=list(apps)))


@pytest.mark.parametrize(
    "name",
    [
        "order-01-delivery",
        "order-02-pickup",
        "order-03-dine-in-pos",
        "order-07-cash-not-paid",
        "order-09-tax-info-only",
        "order-10-modifier-groups",
        "order-14-scheduled",
        "order-15-pos-take-away",
        "order-16-zum-mitnehmen",
        "order-17-vor-ort-essen",
        "order-18-lieferung-ohne-adresse",
    ],
)
def test_food_prints_whole(fixtures_dir: Path, name: str) -> None:
    o = order(fixtures_dir, name)
    selection = select_items(o, DEFAULT)
    assert selection.items == o.line_items
    assert selection.skipped == ()
    assert selection.prints


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("order-11-table-reservation", ("table_reservations",)),
        ("order-12-gift-card", ("gift_cards",)),
        ("order-13-stores-item", ("stores",)),
    ],
)
def test_what_is_not_food_never_prints_by_default(
    fixtures_dir: Path, name: str, skipped: tuple[str, ...]
) -> None:
    o = order(fixtures_dir, name)
    selection = select_items(o, DEFAULT)
    assert printable_items(o, DEFAULT) == ()
    assert not selection.prints
    assert selection.skipped_kinds() == skipped


def test_free_reservation_is_approved_at_once_and_still_skipped(fixtures_dir: Path) -> None:
    o = order(fixtures_dir, "order-11-table-reservation")
    assert o.status == "APPROVED"
    assert o.total == 0
    assert not select_items(o, DEFAULT).prints


def test_a_mixed_order_prints_its_dishes_and_the_deposit(fixtures_dir: Path) -> None:
    o = order(fixtures_dir, "order-04-many-items-modifiers")
    selection = select_items(o, DEFAULT)
    assert "Pfand Flasche" in [i.name for i in selection.items]  # custom item: no app id
    assert [i.name for i in selection.skipped] == ["Kaffeebecher „Grünwald“"]
    assert len(selection.items) == 8
    assert selection.prints


def test_print_apps_by_kind_or_by_app_id(fixtures_dir: Path) -> None:
    reservation = order(fixtures_dir, "order-11-table-reservation")
    assert select_items(reservation, with_apps("restaurants", "table_reservations")).prints
    assert select_items(reservation, with_apps(TABLE_RESERVATIONS_APP_ID.upper())).prints
    # Without "custom", the deposit stays off the kitchen ticket.
    mixed = order(fixtures_dir, "order-04-many-items-modifiers")
    names = [i.name for i in printable_items(mixed, with_apps("restaurants"))]
    assert "Pfand Flasche" not in names
    assert len(names) == 7


def test_unknown_app_is_skipped_visibly_with_its_id(fixtures_dir: Path) -> None:
    raw = json.loads((fixtures_dir / "order-01-delivery.json").read_text(encoding="utf-8"))
    raw["lineItems"][0]["catalogReference"]["appId"] = "0a1b2c3d-0000-4000-8000-00000000abcd"
    selection = select_items(parse_order(raw, BERLIN).order, DEFAULT)
    assert len(selection.items) == 2
    assert selection.skipped_kinds() == ("0a1b2c3d-0000-4000-8000-00000000abcd",)
    allowed = with_apps("restaurants", "0a1b2c3d-0000-4000-8000-00000000abcd")
    assert len(printable_items(parse_order(raw, BERLIN).order, allowed)) == 3


def test_an_order_without_any_line_item_still_prints() -> None:
    o = parse_order({"id": "x", "status": "APPROVED"}, BERLIN).order
    selection = select_items(o, DEFAULT)
    assert selection.items == ()
    assert selection.prints
