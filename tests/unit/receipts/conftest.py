"""Fixture orders and a restaurant configuration for the receipt tests."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wixprint.config import Config, LayoutConfig, PrinterConfig, ServiceConfig
from wixprint.receipts import Ticket, TicketRequest, render_ticket
from wixprint.vocabulary import Variant
from wixprint.wix.model import Order
from wixprint.wix.parse import parse_order
from wixprint.wix.payments import with_payment_methods

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wix"
ORDERS = (
    "order-01-delivery",
    "order-02-pickup",
    "order-03-dine-in-pos",
    "order-04-many-items-modifiers",
    "order-07-cash-not-paid",
    "order-08-canceled",
)
SHAPES = (
    "order-09-tax-info-only",
    "order-10-modifier-groups",
    "order-11-table-reservation",
    "order-12-gift-card",
    "order-13-stores-item",
    "order-14-scheduled",
    "order-15-pos-take-away",
    "order-16-zum-mitnehmen",
    "order-17-vor-ort-essen",
    "order-18-lieferung-ohne-adresse",
    "order-19-pending",
    "order-20-rejected",
)
"""The shapes real restaurant sites send besides the classic samples (fixtures README)."""
KINDS = ("kitchen", "driver", "customer")
DRINKS = "89676f59-3d2a-57d8-9014-a466cfde357d"


def load_order(name: str) -> Order:
    """The fixture order, with the payment methods of its transactions fixture if it has one
    (as the printer will see it once the transactions were fetched)."""
    raw = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    order = parse_order(raw, ZoneInfo("Europe/Berlin")).order
    answer = FIXTURES / f"transactions-{name}.json"
    if answer.exists():
        tx = json.loads(answer.read_text(encoding="utf-8"))["orderTransactions"]
        order = with_payment_methods(order, tx)
    return order


def make_config(**layout: object) -> Config:
    return Config(
        service=ServiceConfig(restaurant_name="Gasthaus Grünwald"),
        layout=LayoutConfig(
            header=["Kastanienallee 21", "10435 Berlin"],
            footer=["Vielen Dank und guten Appetit!"],
            **layout,  # type: ignore[arg-type]
        ),
        printers=[PrinterConfig(name="theke", receipts=["kitchen", "driver", "customer"])],
    )


def render(
    order: Order,
    kind: str,
    *,
    config: Config | None = None,
    printer: PrinterConfig | None = None,
    variant: Variant = Variant.NEW,
    reprint: bool = False,
) -> Ticket:
    config = config or make_config()
    printer = printer or config.printers[0]
    request = TicketRequest(kind=kind, variant=variant, reprint=reprint, job_id=42, revision=1)
    return render_ticket(order, request, config=config, printer=printer)


@pytest.fixture(scope="session")
def orders() -> dict[str, Order]:
    return {name: load_order(name) for name in (*ORDERS, *SHAPES)}
