"""parse_order on the fixture orders and on broken shapes."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wixprint.wix.model import (
    Address,
    Contact,
    Fulfillment,
    Modifier,
    TaxLine,
)
from wixprint.wix.parse import parse_order

BERLIN = ZoneInfo("Europe/Berlin")


def load(fixtures_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def o01(fixtures_dir: Path) -> dict[str, Any]:
    return load(fixtures_dir, "order-01-delivery.json")


ALL = [
    "order-01-delivery.json",
    "order-02-pickup.json",
    "order-03-dine-in-pos.json",
    "order-04-many-items-modifiers.json",
    "order-07-cash-not-paid.json",
    "order-08-canceled.json",
    "order-09-tax-info-only.json",
    "order-10-modifier-groups.json",
    "order-11-table-reservation.json",
    "order-12-gift-card.json",
    "order-13-stores-item.json",
    "order-14-scheduled.json",
    "order-15-pos-take-away.json",
    "order-16-zum-mitnehmen.json",
    "order-17-vor-ort-essen.json",
    "order-18-lieferung-ohne-adresse.json",
    "order-19-pending.json",
    "order-20-rejected.json",
]


@pytest.mark.parametrize("name", ALL)
def test_fixture_orders_parse_without_warnings(fixtures_dir: Path, name: str) -> None:
    parsed = parse_order(load(fixtures_dir, name), BERLIN)
    assert parsed.warnings == ()
    order = parsed.order
    assert order.number.isdigit()
    assert order.line_items
    assert all(item.name and item.quantity >= 1 for item in order.line_items)
    assert order.created is not None
    assert order.created.tzinfo is BERLIN
    # Whatever source the VAT lines came from, they add up to Wix's tax for these orders.
    assert sum(t.amount for t in order.tax_lines) == order.tax


def test_delivery_order_01(o01: dict[str, Any]) -> None:
    order = parse_order(o01, BERLIN).order
    assert order.id == "92e59bd5-ef25-5d02-a11c-a616a34f9bb2"
    assert order.number == "10231"
    assert order.status == "APPROVED"
    assert order.payment_status == "PAID"
    assert order.fulfillment is Fulfillment.DELIVERY
    assert order.fulfillment_title == "Lieferung"
    assert order.created == datetime(2025, 6, 13, 18, 47, 21, 482000, tzinfo=BERLIN)
    assert order.created_raw == "2025-06-13T16:47:21.482Z"
    assert order.updated_raw == "2025-06-13T16:47:23.905Z"
    assert order.due_from == datetime(2025, 6, 13, 19, 30, tzinfo=BERLIN)
    assert order.due_to == datetime(2025, 6, 13, 19, 45, tzinfo=BERLIN)
    assert order.channel == "WEB"
    assert order.tax_included is True
    assert order.contact == Contact("Jürgen", "Weiß", "+49 170 1234567", None)
    assert order.address == Address(
        "Schönhauser Allee 148", "Hinterhaus, 3. OG, Klingel „Weiß/Groß“", "10437", "Berlin", "DE"
    )
    assert order.region == "Liefergebiet Prenzlauer Berg"
    assert order.instructions is not None
    assert order.instructions.startswith("Hof links")
    assert order.buyer_note == "Bitte klingeln, das Baby schläft – nicht klopfen. Danke!"
    assert (order.subtotal, order.shipping, order.total) == (
        Decimal("43.70"),
        Decimal("2.5"),
        Decimal("46.20"),
    )
    assert order.balance == Decimal("0.00")
    assert order.tax_lines == (
        TaxLine(Decimal("0.07"), Decimal("2.51")),  # 1.24 + 1.11 + shipping 0.16
        TaxLine(Decimal("0.19"), Decimal("1.25")),
    )
    schnitzel, curry, schorle = order.line_items
    assert schnitzel.modifiers == (
        Modifier("Beilage", "Bratkartoffeln"),
        Modifier("Sonderwunsch", "Zitrone extra"),
    )
    assert curry.quantity == 2
    assert curry.unit_price == Decimal("8.50")
    assert curry.total_price == Decimal("17.00")
    assert curry.tax_rate == Decimal("0.07")
    assert schorle.section_id == "89676f59-3d2a-57d8-9014-a466cfde357d"
    assert schnitzel.section_id == "a7a4fbef-dc66-5345-95a2-40121d0ab10a"


def test_pickup_order_02_has_no_buyer_note_and_winter_time(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-02-pickup.json"), BERLIN).order
    assert order.fulfillment is Fulfillment.PICKUP
    assert order.buyer_note is None
    assert order.address is None  # the pickup address is the restaurant's own
    assert order.contact == Contact("Zoë", "Müller-Lüdenscheidt", "030 4471 2290", None)
    assert order.created is not None
    assert order.created.utcoffset() is not None
    assert order.created.strftime("%H:%M %z") == "12:58 +0100"
    assert order.shipping == Decimal("0.0")


def test_dine_in_order_03_without_shipping_info(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-03-dine-in-pos.json"), BERLIN).order
    assert order.fulfillment is Fulfillment.DINE_IN
    assert order.fulfillment_title is None
    assert order.due_from is None
    assert order.contact is None
    assert order.address is None
    assert order.channel == "POS"
    assert order.custom_fields == (("Tisch", "12"),)


def test_order_04_modifiers_and_next_day_slot(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-04-many-items-modifiers.json"), BERLIN).order
    assert order.created is not None
    assert order.due_from is not None
    assert order.created.date().isoformat() == "2025-06-20"
    assert order.due_from == datetime(2025, 6, 21, 0, 20, tzinfo=BERLIN)
    assert order.due_from.date() > order.created.date()
    items = {item.name: item for item in order.line_items}
    assert len(order.line_items) == 9
    assert sum(item.quantity for item in order.line_items) == 19
    assert Modifier("Sonderwunsch", "") in items["Spaghetti Carbonara"].modifiers
    assert Modifier("Ohne", "—") in items["Pizza Margherita"].modifiers
    assert Modifier("Farbe", "Dunkelgrün") in items["Kaffeebecher „Grünwald“"].modifiers
    assert items["Pfand Flasche"].section_id is None  # custom line item, no catalogReference
    assert items["Kaffeebecher „Grünwald“"].section_id is None
    assert order.contact is not None
    assert order.contact.company == "Tiergarten Tech GmbH"
    assert order.contact.first_name == "Şebnem"


def test_order_07_cash_not_paid(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-07-cash-not-paid.json"), BERLIN).order
    assert order.payment_status == "NOT_PAID"
    assert order.balance == Decimal("43.20") == order.total
    assert order.fulfillment is Fulfillment.DELIVERY
    assert order.fulfillment_title == "Lieferung (Barzahlung)"
    assert order.address is not None
    assert order.address.line1 == "Sonnenallee 223"  # addressLine, no streetAddress
    assert order.created is not None
    assert order.created.strftime("%H:%M %z") == "19:20 +0100"


def test_order_08_canceled(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-08-canceled.json"), BERLIN).order
    assert order.status == "CANCELED"
    assert order.payment_status == "FULLY_REFUNDED"
    assert order.fulfillment is Fulfillment.PICKUP


def test_integer_number_is_text(o01: dict[str, Any]) -> None:
    o01["number"] = 10231
    parsed = parse_order(o01, BERLIN)
    assert parsed.order.number == "10231"
    assert parsed.warnings == ()


def test_wrong_types_are_warned_by_path_never_by_value(o01: dict[str, Any]) -> None:
    o01["buyerNote"] = ["Bitte klingeln"]
    o01["lineItems"][1]["quantity"] = "2"
    o01["lineItems"][0]["price"] = {"amount": 18.9}
    o01["priceSummary"]["total"] = {"amount": "viel"}
    o01["createdDate"] = "yesterday"
    o01["number"] = True
    o01["shippingInfo"]["logistics"]["shippingDestination"]["contactDetails"]["phone"] = 1701234
    o01["customFields"] = ["Tisch 4"]
    parsed = parse_order(o01, BERLIN)
    assert set(parsed.warnings) == {
        "buyerNote",
        "lineItems[1].quantity",
        "lineItems[0].price.amount",
        "priceSummary.total.amount",
        "createdDate",
        "number",
        "shippingInfo.logistics.shippingDestination.contactDetails.phone",
        "customFields[0]",
    }
    assert not any("Bitte" in w or "1701234" in w or "viel" in w for w in parsed.warnings)
    order = parsed.order
    assert order.buyer_note is None
    assert order.line_items[1].quantity == 1  # absent quantity: one
    assert order.line_items[0].unit_price is None  # a float is refused, never guessed at
    assert order.total is None
    assert order.created is None
    assert order.created_raw == "yesterday"
    assert order.number == ""
    assert order.contact is not None
    assert order.contact.phone is None


def test_wrong_container_types_are_absent(o01: dict[str, Any]) -> None:
    o01["shippingInfo"]["logistics"] = "Lieferung"
    o01["lineItems"] = {"0": "Schnitzel"}
    parsed = parse_order(o01, BERLIN)
    assert "shippingInfo.logistics" in parsed.warnings
    assert "lineItems" in parsed.warnings
    assert parsed.order.line_items == ()
    # Titled "Lieferung", but without an address it is no delivery.
    assert parsed.order.fulfillment is Fulfillment.UNKNOWN


def test_minimal_order_is_of_unknown_fulfilment_with_nothing() -> None:
    parsed = parse_order({"id": "x"}, BERLIN)
    assert parsed.warnings == ()
    order = parsed.order
    assert order.fulfillment is Fulfillment.UNKNOWN
    assert order.line_items == ()
    assert order.number == ""
    assert order.currency == "EUR"
    assert order.tax_lines == ()


@pytest.mark.parametrize("raw", [{}, {"id": 5}, {"id": ""}, {"number": "1"}, ["id"], None])
def test_missing_id_raises(raw: Any) -> None:
    with pytest.raises(ValueError, match="id"):
        parse_order(raw, BERLIN)


def test_shipping_info_without_destination_or_pickup(o01: dict[str, Any]) -> None:
    del o01["shippingInfo"]["logistics"]["shippingDestination"]
    o01["shippingInfo"]["title"] = "Selbstabholung"
    assert parse_order(o01, BERLIN).order.fulfillment is Fulfillment.PICKUP
    o01["shippingInfo"]["title"] = "Express"
    order = parse_order(o01, BERLIN).order
    assert order.fulfillment is Fulfillment.UNKNOWN
    assert order.address is None
    # The contact falls back to the recipient.
    assert order.contact is not None
    assert order.contact.last_name == "Weiß"


def test_contact_falls_back_to_billing(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-02-pickup.json")
    raw["recipientInfo"] = {"contactDetails": {"firstName": "Anna"}}
    assert parse_order(raw, BERLIN).order.contact == Contact(first_name="Anna")
    del raw["recipientInfo"]
    contact = parse_order(raw, BERLIN).order.contact
    assert contact is not None
    assert contact.first_name == "Zoë"


def test_street_address_builds_line1_when_address_line_missing(o01: dict[str, Any]) -> None:
    del o01["shippingInfo"]["logistics"]["shippingDestination"]["address"]["addressLine"]
    address = parse_order(o01, BERLIN).order.address
    assert address is not None
    assert address.line1 == "Schönhauser Allee 148"


def test_times_with_microseconds_and_offsets(o01: dict[str, Any]) -> None:
    o01["createdDate"] = "2025-06-13T16:47:21.482123Z"
    o01["updatedDate"] = "2025-06-13T18:47:23+02:00"
    order = parse_order(o01, BERLIN).order
    assert order.created == datetime(2025, 6, 13, 18, 47, 21, 482123, tzinfo=BERLIN)
    assert order.updated == datetime(2025, 6, 13, 18, 47, 23, tzinfo=BERLIN)


def test_discounts_and_fees(o01: dict[str, Any]) -> None:
    o01["appliedDiscounts"] = [
        {
            "discountType": "GLOBAL",
            "coupon": {"id": "c", "code": "SOMMER10", "name": "Sommer", "amount": {"amount": "4"}},
        },
        {"merchantDiscount": {"amount": {"amount": "1.5"}, "discountReason": "Stammgast"}},
        {"discountRule": {"id": "r", "name": {"original": "Mittagstisch"}, "amount": {}}},
    ]
    o01["additionalFees"] = [
        {
            "name": "Trinkgeld",
            "price": {"amount": "3.0"},
            "taxDetails": {"taxRate": "0.0", "totalTax": {"amount": "0"}},
        },
        {
            "name": "Servicegebühr",
            "price": {"amount": "1.19"},
            "taxDetails": {"taxRate": "0.19", "totalTax": {"amount": "0.19"}},
        },
    ]
    order = parse_order(o01, BERLIN).order
    coupon, merchant, rule = order.discounts
    assert (coupon.name, coupon.code, coupon.amount) == ("Sommer", "SOMMER10", Decimal(4))
    assert (merchant.name, merchant.code, merchant.amount) == ("Stammgast", None, Decimal("1.5"))
    assert (rule.name, rule.amount) == ("Mittagstisch", None)
    assert [(f.name, f.amount) for f in order.fees] == [
        ("Trinkgeld", Decimal("3.0")),
        ("Servicegebühr", Decimal("1.19")),
    ]
    assert order.tax_lines[-1] == TaxLine(Decimal("0.19"), Decimal("1.44"))


def test_empty_modifier_names_are_skipped_values_kept(o01: dict[str, Any]) -> None:
    o01["lineItems"][0]["descriptionLines"] = [
        {"name": {"original": ""}, "plainText": {"original": "x"}},
        {"name": {"original": "Ohne"}},
        {"name": "Soße", "plainText": {"original": "Senf"}},
    ]
    item = parse_order(o01, BERLIN).order.line_items[0]
    assert item.modifiers == (Modifier("Ohne", ""), Modifier("Soße", "Senf"))
