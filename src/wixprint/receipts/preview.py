"""Which tickets an order makes, rendered exactly as the printer actor renders them.

``wixprint preview`` shows them: the same :func:`render_ticket` call with the same config,
so trying a layout setting in the preview shows what the kitchen will get. Without a
printer configured (a first try before ``setup``), a default 80 mm printer takes every kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from wixprint.config import Config, PrinterConfig
from wixprint.receipts.layout import Ticket, TicketRequest
from wixprint.receipts.render import render_ticket
from wixprint.receipts.routing import plan_targets
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wix.model import Order

__all__ = ["PREVIEW_PRINTER", "PreviewTicket", "preview_tickets"]

PREVIEW_PRINTER = PrinterConfig(
    name="preview", transport="virtual", receipts=["kitchen", "driver", "customer"]
)


@dataclass(frozen=True, slots=True)
class PreviewTicket:
    kind: str
    printer: PrinterConfig
    ticket: Ticket


def _targets(order: Order, config: Config, kind: str | None) -> list[JobTarget]:
    planned = [t for t in plan_targets(order, config) if kind in (None, t.kind)]
    if planned or kind is None:
        return planned
    # Asked for a kind the order would not get (a driver slip for a pickup): show it anyway
    # on the first printer that prints that kind, so its layout can be tried.
    takers = [p for p in config.printers if kind in p.receipts] or config.printers[:1]
    return [JobTarget(kind=kind, printer=p.name) for p in takers[:1]]


def preview_tickets(
    order: Order, config: Config, kind: str | None = None, *, job_id: int = 0
) -> list[PreviewTicket]:
    """The tickets ``order`` would print as new (not a reprint), in the spool's order.

    ``job_id`` is printed in the footer; with a printed job's id the bytes are that job's.

    Raises ``RenderError`` like the printer actor when a ticket cannot be rendered.
    """
    if not config.printers:
        config = Config(service=config.service, layout=config.layout, printers=[PREVIEW_PRINTER])
    printers = {p.name: p for p in config.printers}
    out = []
    for target in _targets(order, config, kind):
        printer = printers[target.printer]
        request = TicketRequest(
            kind=target.kind, variant=Variant.NEW, reprint=False, job_id=job_id, revision=1
        )
        ticket = render_ticket(order, request, config=config, printer=printer)
        out.append(PreviewTicket(target.kind, printer, ticket))
    return out
