"""The fake ESC/POS network printer the tests use (the package ``tests.fakes.epson``).

Import from here: :class:`FakePrinter`, the :class:`Strip` it prints (``FakeTicket``), and a
small real ticket to send it.
"""

from __future__ import annotations

import trio

from tests.fakes.epson.paper import Strip
from tests.fakes.epson.printer import CLEAR_BUFFERS, Connections, FakePrinter

FakeTicket = Strip

__all__ = [
    "CLEAR_BUFFERS",
    "TICKET_UNITS",
    "Connections",
    "FakePrinter",
    "FakeTicket",
    "Strip",
    "is_alert_slip",
    "line_delay",
    "line_ticket",
    "sample_ticket",
    "start_printer",
]

TICKET_UNITS = 50
"""Line heights of a typical ticket (tall item lines count two, the cut four)."""


def line_delay(per_ticket: float) -> float:
    """``print_delay`` (seconds per line height) for a typical ticket to take ``per_ticket``."""
    return per_ticket / TICKET_UNITS


async def start_printer(nursery: trio.Nursery, **options: object) -> FakePrinter:
    """A :class:`FakePrinter` with ``options``, serving in ``nursery``."""
    printer = FakePrinter(**options)  # type: ignore[arg-type]
    await nursery.start(printer.serve)
    return printer


SLIP_BANNERS = frozenset({"! ACHTUNG !", "! ALERT !", "BEHOBEN", "RESOLVED"})
"""The banner an alert slip starts with (``receipts/alert_slip.py``), in both languages."""


def is_alert_slip(text: str) -> bool:
    """An alert slip the service printed (another printer's or the internet's trouble), not
    an order ticket: its banner is among its first lines (a REPRINT bar may come first)."""
    return any(line.strip() in SLIP_BANNERS for line in text.splitlines()[:3])


def line_ticket(lines: int, text: str = "Item") -> bytes:
    """A plain ticket of ``lines`` numbered text lines and a cut (one line height each)."""
    body = b"".join(f"{i + 1}x {text} {i}\n".encode() for i in range(lines))
    return b"\x1b@\x1bt\x13" + body + b"\x1dVB\x00"


def sample_ticket(text: str = "Tisch 4: 2x Käsespätzle, 1x Apfelstrudel 5,00 €") -> bytes:
    """A small real ticket made by python-escpos: init, CP858, text, native QR, cut."""
    from escpos.printer import Dummy

    p = Dummy(profile="TM-T20II")
    p.hw("INIT")
    p.charcode("CP858")
    p.textln(text)
    p.qr("order", native=True)
    p.cut()
    return bytes(p.output)
