"""Which tickets an order makes, rendered exactly as the printer actor renders them.

``wixprint preview`` and the dashboard show them: the same :func:`render_ticket` call with the
same config, so trying a layout setting in the preview shows what the kitchen will get. The
dashboard passes each printer's profile as the printer named it (``model = "auto"``); the
command, which asks no printer, uses the configured model. Without a printer configured (a
first try before ``setup``), a default 80 mm printer takes every kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wixprint.config import Config, PrinterConfig
from wixprint.printing.base import Transport
from wixprint.printing.paper import CELL, Paper, lay_out
from wixprint.printing.png import png_bytes
from wixprint.printing.profiles import PrinterProfile, resolve_profile
from wixprint.printing.virtual import render_preview
from wixprint.receipts.layout import Ticket, TicketRequest
from wixprint.receipts.render import render_ticket
from wixprint.receipts.routing import plan_targets
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wix.model import Order

__all__ = [
    "PREVIEW_PRINTER",
    "PreviewTicket",
    "detected_profiles",
    "preview_png",
    "preview_tickets",
]

PREVIEW_PRINTER = PrinterConfig(
    name="preview", transport="virtual", receipts=["kitchen", "driver", "customer"]
)


@dataclass(frozen=True, slots=True)
class PreviewTicket:
    kind: str
    printer: PrinterConfig
    ticket: Ticket
    profile: PrinterProfile

    @property
    def columns(self) -> int:
        return self.printer.columns or self.profile.columns

    @property
    def title(self) -> str:
        return f"{self.kind} @ {self.printer.name} ({self.columns} columns)"

    @property
    def text(self) -> str:
        """The ticket as the printer would read it back (decoded from its bytes)."""
        return render_preview(self.ticket.data, title=self.title)

    def papers(self) -> list[Paper]:
        return lay_out(self.ticket.data, width=self.columns * CELL["A"][0])


def detected_profiles(
    config: Config, transports: Mapping[str, Transport]
) -> dict[str, PrinterProfile]:
    """Each printer's profile as the printer actor chooses it: the configured model, or with
    ``"auto"`` what the printer said it is (once it was asked)."""
    out = {}
    for printer in config.printers:
        transport = transports.get(printer.name)
        caps = transport.capabilities if transport is not None else None
        out[printer.name] = resolve_profile(printer.model, caps.model if caps else None)
    return out


def preview_png(tickets: Sequence[PreviewTicket]) -> bytes:
    """One PNG of ``tickets``, drawn from their ESC/POS bytes at each printer's width."""
    return png_bytes([paper for shown in tickets for paper in shown.papers()])


def _targets(order: Order, config: Config, kind: str | None) -> list[JobTarget]:
    planned = [t for t in plan_targets(order, config) if kind in (None, t.kind)]
    if planned or kind is None:
        return planned
    # Asked for a kind the order would not get (a driver slip for a pickup): show it anyway
    # on the first printer that prints that kind, so its layout can be tried.
    takers = [p for p in config.printers if kind in p.receipts] or config.printers[:1]
    return [JobTarget(kind=kind, printer=p.name) for p in takers[:1]]


def preview_tickets(
    order: Order,
    config: Config,
    kind: str | None = None,
    *,
    job_id: int = 0,
    profiles: Mapping[str, PrinterProfile] | None = None,
) -> list[PreviewTicket]:
    """The tickets ``order`` would print as new (not a reprint), in the spool's order.

    ``job_id`` is printed in the footer; with a printed job's id the bytes are that job's.
    ``profiles`` by printer name (as the printers named themselves); a printer not in it
    gets its configured model's profile (generic for ``"auto"``).

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
        profile = (profiles or {}).get(printer.name) or resolve_profile(printer.model)
        ticket = render_ticket(order, request, config=config, printer=printer, profile=profile)
        out.append(PreviewTicket(target.kind, printer, ticket, profile))
    return out
