"""Cash vs card vs online from the Order Transactions API answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wixprint.wix.model import PaymentMethod
from wixprint.wix.payments import payment_methods

CASH, CARD, ONLINE = PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.ONLINE
GIFT, OFFLINE = PaymentMethod.GIFT_CARD, PaymentMethod.OFFLINE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("order-01-delivery", (ONLINE,)),
        ("order-07-cash-not-paid", (CASH,)),
        ("order-09-tax-info-only", (ONLINE,)),  # PayPal
        ("order-10-modifier-groups", (CARD,)),  # card at the door, still pending
        ("order-11-table-reservation", ()),  # free: no payment at all
        ("order-14-scheduled", (GIFT, ONLINE)),
        ("order-15-pos-take-away", (CASH,)),
        ("order-16-zum-mitnehmen", (OFFLINE,)),  # "InPerson": method not stated
        ("order-17-vor-ort-essen", (OFFLINE,)),
        ("order-20-rejected", ()),  # the only payment was voided
    ],
)
def test_fixture_transactions(fixtures_dir: Path, name: str, expected: tuple[Any, ...]) -> None:
    answer = json.loads((fixtures_dir / f"transactions-{name}.json").read_text(encoding="utf-8"))
    assert payment_methods(answer["orderTransactions"]) == expected


def _one(method: object, *, offline: object = False, status: object = "APPROVED") -> Any:
    details = {"paymentMethod": method, "offlinePayment": offline, "status": status}
    return {"payments": [{"regularPaymentDetails": details}], "refunds": []}


@pytest.mark.parametrize(
    ("method", "offline", "expected"),
    [
        ("Cash", True, CASH),
        ("CASH_ON_DELIVERY", True, CASH),
        ("Bar", True, CASH),
        ("CreditCard", False, ONLINE),
        ("CreditCard", True, CARD),
        ("DebitCard", True, CARD),
        ("PointOfSale", False, CARD),
        ("Barclaycard", False, ONLINE),
        ("PayPal", False, ONLINE),
        ("Klarna", False, ONLINE),
        ("Offline", True, OFFLINE),
        ("InPerson", False, OFFLINE),
        ("SomethingNew", True, OFFLINE),
        (None, False, ONLINE),
    ],
)
def test_method_names(method: object, offline: bool, expected: PaymentMethod) -> None:
    assert payment_methods(_one(method, offline=offline)) == (expected,)


@pytest.mark.parametrize("status", ["VOIDED", "DECLINED", "CANCELED", "failed"])
def test_payments_that_did_not_happen_do_not_count(status: str) -> None:
    assert payment_methods(_one("Cash", offline=True, status=status)) == ()


@pytest.mark.parametrize(
    "answer",
    [None, {}, {"payments": "cash"}, {"payments": [None, 3, {"amount": {}}]}, []],
)
def test_odd_answers_give_no_method(answer: Any) -> None:
    assert payment_methods(answer) == ()


def test_voided_gift_card_and_repeats() -> None:
    gift = {"giftcardPaymentDetails": {"giftCardId": "g", "voided": True}}
    cash = _one("Cash", offline=True)["payments"][0]
    assert payment_methods({"payments": [gift, cash, cash]}) == (CASH,)
