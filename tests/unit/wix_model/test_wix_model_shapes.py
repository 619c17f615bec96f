"""parse_order on what real restaurant sites send besides the classic samples: taxInfo-only
VAT, modifier groups, fulfilment titles without an address, SDK shapes, new statuses."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wixprint.receipts.fingerprints import fingerprints
from wixprint.spool.revisions import is_canceled
from wixprint.wix.model import Modifier, TaxLine
from wixprint.wix.parse import parse_order

BERLIN = ZoneInfo("Europe/Berlin")


def load(fixtures_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures_dir / name).read_text(encoding="utf-8"))
    return data


# --- taxes ----------------------------------------------------------------------------------


def test_vat_lines_come_from_tax_info(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-09-tax-info-only.json")
    assert "taxSummary" not in raw
    assert all("taxDetails" not in item for item in raw["lineItems"])
    order = parse_order(raw, BERLIN).order
    assert order.tax_lines == (
        TaxLine(Decimal("0.07"), Decimal("0.78")),
        TaxLine(Decimal("0.19"), Decimal("1.02")),
    )
    assert [i.tax_rate for i in order.line_items] == [Decimal("0.07"), Decimal("0.19")]
    assert not order.tax_unitemized


def test_order_breakdown_is_wix_own_sum_and_wins(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-09-tax-info-only.json")
    # A line's own numbers disagreeing: the order's aggregated breakdown is what Wix charged.
    raw["lineItems"][0]["taxInfo"]["taxBreakdown"][0]["taxAmount"]["amount"] = "9.99"
    order = parse_order(raw, BERLIN).order
    assert order.tax_lines[0] == TaxLine(Decimal("0.07"), Decimal("0.78"))


def test_line_tax_info_without_order_breakdown(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-09-tax-info-only.json")
    del raw["taxInfo"]
    for item in raw["lineItems"]:
        del item["taxInfo"]["taxBreakdown"]  # only taxRate and taxAmount left
    order = parse_order(raw, BERLIN).order
    assert order.tax_lines == (
        TaxLine(Decimal("0.07"), Decimal("0.78")),
        TaxLine(Decimal("0.19"), Decimal("1.02")),
    )


def test_line_breakdown_with_several_parts(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-09-tax-info-only.json")
    del raw["taxInfo"]
    info = raw["lineItems"][0]["taxInfo"]
    info["taxBreakdown"] = [
        {"rate": "0.05", "taxAmount": {"amount": "0.50"}},
        {"rate": "0.02", "taxAmount": {"amount": "0.28"}},
    ]
    order = parse_order(raw, BERLIN).order
    assert order.tax_lines[:2] == (
        TaxLine(Decimal("0.02"), Decimal("0.28")),
        TaxLine(Decimal("0.05"), Decimal("0.50")),
    )


def test_deprecated_tax_details_still_read(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-01-delivery.json"), BERLIN).order
    assert order.tax_lines == (
        TaxLine(Decimal("0.07"), Decimal("2.51")),
        TaxLine(Decimal("0.19"), Decimal("1.25")),
    )


def test_tax_without_any_rate_is_unitemized(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-09-tax-info-only.json")
    del raw["taxInfo"]["taxBreakdown"]
    for item in raw["lineItems"]:
        del item["taxInfo"]
    del raw["priceSummary"]["tax"]
    order = parse_order(raw, BERLIN).order
    assert order.tax_lines == ()
    assert order.tax == Decimal("1.80")  # from taxInfo.totalTax
    assert order.tax_unitemized


# --- modifiers ------------------------------------------------------------------------------


def test_modifier_groups_and_variant_join_description_lines_once(fixtures_dir: Path) -> None:
    order = parse_order(load(fixtures_dir, "order-10-modifier-groups.json"), BERLIN).order
    pizza, lasagne, cola = order.line_items
    assert pizza.modifiers == (
        Modifier("Größe", "Groß (32 cm)"),
        Modifier("Extras", "Extra Käse, Rucola"),
        Modifier("Dip", "2x Knoblauch-Dip"),  # only in modifierGroups
    )
    # plainText is "", the deprecated plainTextValue carries the text.
    assert lasagne.modifiers == (Modifier("Sonderwunsch", "ohne Zwiebeln"),)
    assert cola.modifiers == ()


def test_modifier_groups_alone(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-10-modifier-groups.json")
    raw["lineItems"][0]["descriptionLines"] = []
    pizza = parse_order(raw, BERLIN).order.line_items[0]
    assert pizza.modifiers == (
        Modifier("Extras", "Extra Käse, Rucola"),
        Modifier("Dip", "2x Knoblauch-Dip"),
        Modifier("", "Groß (32 cm)"),
    )


def test_partly_described_group_keeps_what_is_new(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-10-modifier-groups.json")
    raw["lineItems"][0]["descriptionLines"][1]["plainText"]["original"] = "Extra Käse"
    pizza = parse_order(raw, BERLIN).order.line_items[0]
    assert Modifier("Extras", "Extra Käse") in pizza.modifiers
    assert Modifier("Extras", "Rucola") in pizza.modifiers


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        # groups keyed by id, names as plain text, members under "selectedModifiers"
        (
            {"g1": {"title": "Beilage", "selectedModifiers": [{"label": "Reis"}]}},
            (Modifier("Beilage", "Reis"),),
        ),
        # bare modifiers without groups
        (["Ohne Zwiebeln", {"name": {"translated": "Extra scharf"}}], None),
        # a group with nothing chosen prints nothing; junk is skipped
        ([{"name": "Soße", "modifiers": []}, 7, None, {"modifiers": [{"id": "x"}]}], ()),
    ],
)
def test_modifier_groups_are_walked_tolerantly(
    fixtures_dir: Path, groups: object, expected: tuple[Modifier, ...] | None
) -> None:
    raw = load(fixtures_dir, "order-10-modifier-groups.json")
    item = raw["lineItems"][0]
    item["descriptionLines"] = []
    options = item["catalogReference"]["options"]
    del options["priceVariant"]
    options["modifierGroups"] = groups
    parsed = parse_order(raw, BERLIN)
    mods = parsed.order.line_items[0].modifiers
    if expected is None:
        assert mods == (Modifier("", "Ohne Zwiebeln"), Modifier("", "Extra scharf"))
    else:
        assert mods == expected


def test_unreadable_modifier_groups_are_warned_by_path(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-10-modifier-groups.json")
    options = raw["lineItems"][0]["catalogReference"]["options"]
    options["modifierGroups"] = [{"modifiers": [{"id": "only-an-id"}]}, 5]
    options["priceVariant"] = {"id": "v1", "weird": ["structure"], "code": "XL"}
    parsed = parse_order(raw, BERLIN)
    base = "lineItems[0].catalogReference.options"
    assert f"{base}.modifierGroups" in parsed.warnings
    assert f"{base}.priceVariant" in parsed.warnings
    assert "XL" not in " ".join(parsed.warnings)


def test_modifier_groups_on_the_line_item_itself(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    raw["lineItems"][2]["modifierGroups"] = [
        {"name": {"original": "Eis"}, "modifiers": [{"name": {"original": "ohne Eis"}}]}
    ]
    item = parse_order(raw, BERLIN).order.line_items[2]
    assert item.modifiers == (Modifier("Eis", "ohne Eis"),)


def test_color_and_deprecated_plain_text_value(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    raw["lineItems"][0]["descriptionLines"] = [
        {"name": {"original": "Farbe"}, "colorInfo": {"original": "Rot", "code": "#FF0000"}},
        {"name": {"original": "Größe"}, "plainTextValue": {"original": "XL"}},
        {"name": {"original": "Gravur"}, "plainText": {"original": " "}, "color": "Gold"},
    ]
    item = parse_order(raw, BERLIN).order.line_items[0]
    assert item.modifiers == (
        Modifier("Farbe", "Rot"),
        Modifier("Größe", "XL"),
        Modifier("Gravur", "Gold"),
    )


def test_group_modifiers_are_kitchen_work(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-10-modifier-groups.json")
    before = fingerprints(parse_order(raw, BERLIN).order)["kitchen"]
    groups = raw["lineItems"][0]["catalogReference"]["options"]["modifierGroups"]
    groups[1]["modifiers"][0]["quantity"] = 3
    assert fingerprints(parse_order(raw, BERLIN).order)["kitchen"] != before


# --- fulfilment -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "title"),
    [
        ("order-16-zum-mitnehmen.json", "pickup", "Zum Mitnehmen"),
        ("order-15-pos-take-away.json", "pickup", "Take-Away"),
        ("order-17-vor-ort-essen.json", "dine_in", "Vor Ort essen"),
        ("order-18-lieferung-ohne-adresse.json", "unknown", "Lieferung"),
        ("order-14-scheduled.json", "pickup", "Abholung"),
        ("order-10-modifier-groups.json", "delivery", "Lieferung"),
    ],
)
def test_fulfilment_is_never_guessed_as_delivery(
    fixtures_dir: Path, name: str, expected: str, title: str
) -> None:
    order = parse_order(load(fixtures_dir, name), BERLIN).order
    assert order.fulfillment.value == expected
    assert order.fulfillment_title == title
    if expected != "delivery":
        assert order.address is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Selbstabholung", "pickup"),
        ("Zum Mitnehmen (10 % Rabatt)", "pickup"),
        ("Take away", "pickup"),
        ("TAKEAWAY", "pickup"),
        ("To go", "pickup"),
        ("Click & Collect", "pickup"),
        ("Außer Haus", "pickup"),
        ("Vor Ort abholen", "pickup"),
        ("Im Restaurant essen", "dine_in"),
        ("Dine-in", "dine_in"),
        ("Eat in", "dine_in"),
        ("Am Tisch servieren", "dine_in"),
        ("Lieferung", "unknown"),
        ("Express", "unknown"),
        ("", "unknown"),
    ],
)
def test_titles_without_address_in_both_languages(
    fixtures_dir: Path, title: str, expected: str
) -> None:
    raw = load(fixtures_dir, "order-18-lieferung-ohne-adresse.json")
    raw["shippingInfo"]["title"] = title
    assert parse_order(raw, BERLIN).order.fulfillment.value == expected


def test_pos_channel_and_table_number_mean_dine_in(fixtures_dir: Path) -> None:
    pos = load(fixtures_dir, "order-03-dine-in-pos.json")
    pos["customFields"] = []
    assert parse_order(pos, BERLIN).order.fulfillment.value == "dine_in"
    web = load(fixtures_dir, "order-18-lieferung-ohne-adresse.json")
    del web["shippingInfo"]
    assert parse_order(web, BERLIN).order.fulfillment.value == "unknown"
    web["customFields"] = [{"title": "Tischnummer", "value": 7}]
    assert parse_order(web, BERLIN).order.fulfillment.value == "dine_in"


def test_destination_with_only_a_contact_is_no_delivery(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-18-lieferung-ohne-adresse.json")
    order = parse_order(raw, BERLIN).order
    assert order.fulfillment.value == "unknown"
    assert order.contact is not None
    assert order.contact.phone == "+49 163 7788990"
    raw["shippingInfo"]["logistics"]["shippingDestination"]["address"] = {
        "postalCode": "10435",
        "city": "Berlin",
    }
    assert parse_order(raw, BERLIN).order.fulfillment.value == "delivery"


def test_free_text_delivery_time_is_a_due_note(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-16-zum-mitnehmen.json")
    order = parse_order(raw, BERLIN).order
    assert (order.due_from, order.due_to, order.due_note) == (None, None, "ca. 19:15 Uhr")
    before = fingerprints(order)["kitchen"]
    raw["shippingInfo"]["logistics"]["deliveryTime"] = "ca. 19:45 Uhr"
    assert fingerprints(parse_order(raw, BERLIN).order)["kitchen"] != before
    raw["shippingInfo"]["logistics"]["deliveryTime"] = "  "
    assert parse_order(raw, BERLIN).order.due_note is None


# --- statuses and SDK shapes ----------------------------------------------------------------


def test_pending_and_rejected(fixtures_dir: Path) -> None:
    pending = parse_order(load(fixtures_dir, "order-19-pending.json"), BERLIN).order
    rejected_raw = load(fixtures_dir, "order-20-rejected.json")
    rejected = parse_order(rejected_raw, BERLIN).order
    assert (pending.status, pending.is_canceled) == ("PENDING", False)
    assert (rejected.status, rejected.is_canceled) == ("REJECTED", True)
    approved = copy.deepcopy(rejected_raw)
    approved["status"] = "APPROVED"
    # Rejected after it was printed: the kitchen must hear of it like a cancellation.
    assert is_canceled(rejected.status)
    assert not is_canceled(parse_order(approved, BERLIN).order.status)


def test_velo_sdk_shape(fixtures_dir: Path) -> None:
    event = load(fixtures_dir, "velo-order-approved.json")
    sdk = event["data"]["order"]
    rest = load(fixtures_dir, "order-01-delivery.json")
    assert "id" not in sdk
    assert "_id" in sdk
    parsed = parse_order(sdk, BERLIN)
    assert parsed.warnings == ()
    assert parsed.order == parse_order(rest, BERLIN).order
    assert event["metadata"]["entityId"] == sdk["_id"]
