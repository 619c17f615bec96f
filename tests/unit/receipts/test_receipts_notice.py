"""The notice slip of a held pre-order: it came, it is not for now, and when the real one comes."""

from __future__ import annotations

from tests.unit.receipts.conftest import render
from wixprint.wix.model import Order


def test_the_notice_says_when_the_kitchen_ticket_comes_and_lists_nothing_to_cook(
    orders: dict[str, Order],
) -> None:
    order = orders["order-14-scheduled"]  # due 12.07. 12:00 Berlin time
    text = render(order, "preorder").preview
    assert "VORBESTELLUNG ERHALTEN" in text
    assert "Noch nicht zubereiten." in text
    assert "Küchenbon kommt um 11:15" in text  # 45 minutes before, local time
    assert "#" + order.number in text
    for item in order.line_items:
        assert item.name not in text
