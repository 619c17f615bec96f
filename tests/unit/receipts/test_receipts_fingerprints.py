"""Per-kind fingerprints: each covers what its ticket tells its station, and nothing else."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wixprint.receipts.fingerprints import FINGERPRINTED_KINDS, fingerprints
from wixprint.wix.parse import parse_order

BERLIN = ZoneInfo("Europe/Berlin")
Change = Callable[[dict[str, Any]], object]


@pytest.fixture
def o01(fixtures_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (fixtures_dir / "order-01-delivery.json").read_text(encoding="utf-8")
    )
    return data


def prints(raw: dict[str, Any], zone: ZoneInfo = BERLIN) -> dict[str, str]:
    return fingerprints(parse_order(raw, zone).order)


def changed_kinds(raw: dict[str, Any], change: Change) -> set[str]:
    before = prints(raw)
    change(raw)
    after = prints(raw)
    return {kind for kind in FINGERPRINTED_KINDS if before[kind] != after[kind]}


def test_fingerprints_are_stable_hex_and_ignore_the_time_zone(o01: dict[str, Any]) -> None:
    first = prints(o01)
    assert set(first) == {"kitchen", "driver"} == FINGERPRINTED_KINDS
    assert first == prints(copy.deepcopy(o01))
    for digest in first.values():
        int(digest, 16)
    assert prints(o01, ZoneInfo("America/New_York")) == first


def _destination(o: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = o["shippingInfo"]["logistics"]["shippingDestination"]
    return found


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.update(paymentStatus="PAID"),
        lambda o: o.update(seenByAHuman=True),
        lambda o: o.update(updatedDate="2025-06-13T17:00:00.000Z"),
        lambda o: o.update(archived=True),
        lambda o: o["lineItems"][0]["price"].update(amount="1.00"),
        lambda o: o["activities"].append({"type": "MERCHANT_COMMENT"}),
        lambda o: o["lineItems"].reverse(),
        # The same money written differently is no change.
        lambda o: o["priceSummary"]["total"].update(
            amount=o["priceSummary"]["total"]["amount"] + "0"
        ),
    ],
)
def test_nothing_a_station_reads_changed(o01: dict[str, Any], change: Change) -> None:
    assert changed_kinds(o01, change) == set()


@pytest.mark.parametrize(
    ("change", "kinds"),
    [
        (lambda o: o["lineItems"][1].update(quantity=3), {"kitchen"}),
        (lambda o: o["lineItems"][0]["productName"].update(original="Jägerschnitzel"), {"kitchen"}),
        (
            lambda o: o["lineItems"][0]["descriptionLines"][0]["plainText"].update(
                original="Pommes"
            ),
            {"kitchen"},
        ),
        (lambda o: o["lineItems"].pop(), {"kitchen"}),
        (lambda o: o.update(customFields=[{"title": "Tisch", "value": "12"}]), {"kitchen"}),
        (lambda o: _destination(o)["contactDetails"].update(phone="+49 30 999"), {"driver"}),
        (lambda o: _destination(o)["address"].update(addressLine="Neue Str. 1"), {"driver"}),
        (lambda o: _destination(o)["address"].update(addressLine2="3. OG links"), {"driver"}),
        (lambda o: o["balanceSummary"]["balance"].update(amount="12.50"), {"driver"}),
        (lambda o: o["priceSummary"]["total"].update(amount="99.90"), {"driver"}),
        (lambda o: o.update(buyerNote="Bitte ohne Zwiebeln"), {"kitchen", "driver"}),
        (
            lambda o: o["shippingInfo"]["logistics"]["deliveryTimeSlot"].update(
                {"from": "2025-06-13T18:00:00Z"}
            ),
            {"kitchen", "driver"},
        ),
        (lambda o: o.pop("shippingInfo"), {"kitchen", "driver"}),
    ],
)
def test_each_change_reaches_the_kinds_that_read_it(
    o01: dict[str, Any], change: Change, kinds: set[str]
) -> None:
    assert changed_kinds(o01, change) == kinds
