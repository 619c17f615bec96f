"""The ticket ``wixprint test-print`` sends: a real kitchen layout with the characters that
other tools garble (äöüß €), so one look at the paper shows the code page is right, and a
ruler of ``columns`` digits: on one line, ending in the last digit of ``columns``, when the
configured width is the printer's (``wixprint setup`` asks)."""

from __future__ import annotations

from datetime import datetime

from wixprint.config import Config, PrinterConfig
from wixprint.receipts.layout import TicketRequest
from wixprint.receipts.render import render_ticket
from wixprint.vocabulary import Variant
from wixprint.wix.model import Fulfillment, LineItem, Modifier, Order


def ruler(columns: int) -> str:
    """``1234567890123…`` up to ``columns`` characters."""
    return "".join(str(i % 10) for i in range(1, columns + 1))


def render_test_ticket(*, config: Config, printer: PrinterConfig, now: datetime) -> bytes:
    order = Order(
        id="test-print",
        number="TEST",
        status="APPROVED",
        payment_status=None,
        created=now,
        updated=now,
        created_raw=None,
        updated_raw=None,
        fulfillment=Fulfillment.DINE_IN,
        line_items=(
            LineItem(
                id="1",
                name="Testdruck: Größe Ärger Übel öäü ß 5,00 €",
                quantity=1,
                modifiers=(Modifier("Drucker", printer.name),),
            ),
        ),
        buyer_note=(
            f"{config.service.restaurant_name}: Drucker {printer.name} druckt.\n"
            f"{ruler(printer.columns)}"
        ),
    )
    request = TicketRequest(
        kind="kitchen", variant=Variant.NEW, reprint=False, job_id=0, revision=1
    )
    return render_ticket(order, request, config=config, printer=printer).data
