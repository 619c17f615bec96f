"""What sold each line item: ``catalogReference.appId`` and ``itemType`` to a kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wixprint.vocabulary import ItemKind
from wixprint.wix.parse import parse_order

BERLIN = ZoneInfo("Europe/Berlin")


def load(fixtures_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("order-01-delivery.json", [ItemKind.RESTAURANTS] * 3),
        ("order-11-table-reservation.json", [ItemKind.TABLE_RESERVATIONS]),
        ("order-12-gift-card.json", [ItemKind.GIFT_CARDS]),
        ("order-13-stores-item.json", [ItemKind.STORES]),
    ],
)
def test_line_items_know_their_app(fixtures_dir: Path, name: str, kinds: list[ItemKind]) -> None:
    order = parse_order(load(fixtures_dir, name), BERLIN).order
    assert [i.kind for i in order.line_items] == kinds
    assert all(i.app_id for i in order.line_items)


def test_order_04_mixes_dishes_a_deposit_and_merchandise(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-04-many-items-modifiers.json"), BERLIN).order
    kinds = {i.name: i.kind for i in order.line_items}
    assert kinds["Pfand Flasche"] is ItemKind.CUSTOM
    assert kinds["Kaffeebecher „Grünwald“"] is ItemKind.STORES
    assert kinds["Pizza Margherita"] is ItemKind.RESTAURANTS
    mug = next(i for i in order.line_items if i.kind is ItemKind.STORES)
    assert mug.item_type == "PHYSICAL"
    assert mug.catalog_item_id == "cd639a16-4bcd-511f-a01f-af0c5f7f89f3"


def test_gift_card_by_item_type_whatever_the_app(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    raw["lineItems"][0]["itemType"] = {"preset": "GIFT_CARD"}
    assert parse_order(raw, BERLIN).order.line_items[0].kind is ItemKind.GIFT_CARDS
    raw["lineItems"][0]["catalogReference"]["appId"] = "00000000-1111-2222-3333-444444444444"
    raw["lineItems"][0]["itemType"] = {"preset": "PHYSICAL"}
    assert parse_order(raw, BERLIN).order.line_items[0].kind is ItemKind.OTHER
