"""Tickets of the shapes real restaurant sites send: VAT from taxInfo, modifiers from groups,
fulfilment printed as known (or as unknown)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from tests.unit.receipts.conftest import FIXTURES, load_order, make_config, render
from wixprint.receipts import plan_targets
from wixprint.vocabulary import JobTarget
from wixprint.wix.model import Modifier
from wixprint.wix.parse import parse_order


def test_customer_receipt_shows_vat_per_rate_from_tax_info() -> None:
    text = render(load_order("order-09-tax-info-only"), "customer").preview
    assert "enthaltene MwSt 7 %                     0,78 €" in text
    assert "enthaltene MwSt 19 %                    1,02 €" in text
    assert "nicht übermittelt" not in text


def test_vat_without_rates_is_said_on_the_receipt_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = json.loads((FIXTURES / "order-09-tax-info-only.json").read_text(encoding="utf-8"))
    del raw["taxInfo"]["taxBreakdown"]
    for item in raw["lineItems"]:
        del item["taxInfo"]
    order = parse_order(raw, ZoneInfo("Europe/Berlin")).order
    with caplog.at_level(logging.WARNING, logger="wixprint"):
        text = render(order, "customer").preview
    assert "  enthaltene MwSt                         1,80 €" in text
    assert "(MwSt-Sätze von Wix nicht übermittelt)" in text
    assert any("receipt_vat_unitemized" in r.getMessage() for r in caplog.records)
    english = render(order, "customer", config=make_config(language="en")).preview
    assert "(VAT rates not sent by Wix)" in english


def test_kitchen_prints_modifiers_from_groups_once() -> None:
    text = render(load_order("order-10-modifier-groups"), "kitchen").preview
    assert text.count("Extra Käse") == 1
    assert text.count("Groß (32 cm)") == 1
    assert "   Dip: 2x Knoblauch-Dip" in text
    assert "   Sonderwunsch: ohne Zwiebeln" in text


def test_a_modifier_without_a_name_stands_alone() -> None:
    order = load_order("order-10-modifier-groups")
    pizza = order.line_items[0]
    bare = replace(pizza, modifiers=(Modifier("", "Groß (32 cm)"),))
    text = render(replace(order, line_items=(bare,)), "kitchen").preview
    assert "\n   Groß (32 cm)\n" in text


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("order-16-zum-mitnehmen", "ABHOLUNG"),
        ("order-15-pos-take-away", "ABHOLUNG"),
        ("order-17-vor-ort-essen", "VOR ORT"),
        ("order-18-lieferung-ohne-adresse", "ART UNKLAR"),
    ],
)
def test_no_address_is_never_lieferung(name: str, label: str) -> None:
    order = load_order(name)
    kitchen = render(order, "kitchen").preview.splitlines()
    assert label in kitchen
    assert "LIEFERUNG" not in kitchen
    targets = plan_targets(order, make_config())
    assert JobTarget("driver", "theke") not in targets


def test_unknown_fulfilment_asks_staff_and_spares_the_customer() -> None:
    order = load_order("order-18-lieferung-ohne-adresse")
    kitchen = render(order, "kitchen").preview
    assert "ART UNKLAR\nLieferung\nAbholung, Lieferung oder vor Ort? Bitte prüfen." in kitchen
    customer = render(order, "customer").preview
    assert "Art unklar" not in customer
    assert "Lieferung" in customer
    assert plan_targets(order, make_config()) == (
        JobTarget("kitchen", "theke"),
        JobTarget("customer", "theke"),
    )
    english = render(order, "kitchen", config=make_config(language="en")).preview
    assert "TYPE UNCLEAR" in english


def test_free_text_due_time_is_printed() -> None:
    text = render(load_order("order-16-zum-mitnehmen"), "kitchen").preview
    assert "Fällig: ca. 19:15 Uhr" in text
    assert "so schnell wie möglich" not in text


def test_rejected_order_is_never_cooked() -> None:
    text = render(load_order("order-20-rejected"), "kitchen").preview
    assert text.splitlines()[:2] == [" " * 19 + "STORNIERT", " " * 16 + "NICHT ZUBEREITEN"]
