"""The ticket ``wixprint test-print`` sends: a real kitchen layout with the characters that
other tools garble (äöüß €), so one look at the paper shows the code page is right, and a
ruler across the full width, so one look shows the column count is right: the ruler must fit
on one line, its last mark at the right edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wixprint.config import Config, PrinterConfig
from wixprint.printing.base import JobOptions, Transport
from wixprint.printing.profiles import PrinterProfile, resolve_profile
from wixprint.receipts.layout import PLAIN, TextLine, Ticket, TicketRequest
from wixprint.receipts.render import build_sheet, finish
from wixprint.vocabulary import PrinterStatus, Variant
from wixprint.wix.model import Fulfillment, LineItem, Modifier, Order


def ruler(columns: int) -> list[str]:
    """``----+----1----+----2…`` exactly ``columns`` wide, then the count in words."""
    marks = "".join(
        str(i // 10 % 10) if i % 10 == 0 else "+" if i % 5 == 0 else "-"
        for i in range(1, columns + 1)
    )
    return [marks, f"^ {columns} columns, edge to edge"[:columns]]


def render_test_ticket(
    *,
    config: Config,
    printer: PrinterConfig,
    now: datetime,
    profile: PrinterProfile | None = None,
) -> Ticket:
    profile = profile or resolve_profile(printer.model)
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
        buyer_note=f"{config.service.restaurant_name}: Drucker {printer.name} druckt.",
    )
    request = TicketRequest(
        kind="kitchen", variant=Variant.NEW, reprint=False, job_id=0, revision=1
    )
    sheet, _ = build_sheet(order, request, config=config, printer=printer, profile=profile)
    sheet.blocks[:0] = [TextLine(line, PLAIN) for line in ruler(sheet.columns)]
    return finish(sheet, request, copies=1, profile=profile)


TEST_TAG = b"~TST"
"""Not a job tag (job tags never contain ``~``): a late reply can never confirm a job."""


@dataclass(frozen=True, slots=True)
class TestPrinted:
    """What a test print found out about the printer."""

    model: str | None
    """What the printer said it is (``GS I``); None if it did not say."""
    profile: str
    columns: int
    proof: str
    warning: str
    """Why its tickets cannot be confirmed by process id; "" when they can."""
    model_hint: str
    """``model = "…"`` to set when the printer names a model the config does not; "" else."""


async def print_test_ticket(
    config: Config, printer: PrinterConfig, transport: Transport, now: datetime
) -> TestPrinted:
    """Ask the printer what it is, then print the test ticket through the same transport,
    status check and proof as real orders (``wixprint test-print`` and the dashboard).

    Raises ``PrinterOffline``, ``PrinterNotReady`` or ``PrintOutcomeUnknown`` like a job.
    """
    caps = await transport.identify()
    profile = resolve_profile(printer.model, caps.model)
    ticket = render_test_ticket(config=config, printer=printer, now=now, profile=profile)
    statuses: list[PrinterStatus] = []
    options = JobOptions(print_seconds=profile.print_seconds(ticket.length))
    await transport.print_job(ticket.data, tag=TEST_TAG, on_status=statuses.append, options=options)
    proof = transport.proof_mode()
    detected = resolve_profile("auto", caps.model)
    hint = ""
    if printer.model not in ("auto", detected.name) and detected.epson:
        hint = f'model = "{detected.name}"'
    return TestPrinted(
        model=caps.model,
        profile=profile.name,
        columns=printer.columns or profile.columns,
        proof=proof.mode,
        warning=proof.warning or "",
        model_hint=hint,
    )
