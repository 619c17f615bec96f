"""Cash, card or online on the driver slip and the customer receipt."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.receipts.conftest import make_config, render
from wixprint.wix.model import Order, PaymentMethod


@pytest.mark.parametrize(
    ("methods", "driver_bar", "line"),
    [
        ((PaymentMethod.CASH,), "BAR KASSIEREN: 43,20 €", "Zahlungsart: Bar"),
        ((PaymentMethod.CARD,), "MIT KARTE KASSIEREN:", "Zahlungsart: Karte"),
        ((PaymentMethod.OFFLINE,), "KASSIEREN: 43,20 €", "Zahlungsart: bei Übergabe"),
        ((), "KASSIEREN: 43,20 €", None),
    ],
)
def test_driver_and_customer_say_how_to_collect(
    orders: dict[str, Order], methods: tuple[PaymentMethod, ...], driver_bar: str, line: str | None
) -> None:
    order = replace(orders["order-07-cash-not-paid"], payment_methods=methods)
    driver = render(order, "driver").preview
    customer = render(order, "customer").preview
    assert driver_bar in driver
    if PaymentMethod.CASH not in methods:
        assert "BAR" not in driver  # unknown is never printed as cash
        assert "BAR KASSIEREN" not in customer
    for text in (driver, customer):
        if line is None:
            assert "Zahlungsart" not in text
        else:
            assert line in text


def test_paid_online_and_english_labels(orders: dict[str, Order]) -> None:
    order = orders["order-14-scheduled"]
    assert "Zahlungsart: Gutschein + Online" in render(order, "customer").preview
    en = make_config(language="en")
    assert "Payment: Gift card + Online" in render(order, "driver", config=en).preview
    card = replace(orders["order-07-cash-not-paid"], payment_methods=(PaymentMethod.CARD,))
    text = render(card, "customer", config=en).preview
    assert "NOT PAID - COLLECT BY CARD" in text
    assert "Payment: Card" in text
