"""Render one ticket: order + request -> ESC/POS bytes and a plain-text preview. Pure.

python-escpos is only a byte builder here (a fresh ``Dummy`` per ticket); sending and status
commands belong to the transport. The byte stream is ``ESC @``, ``ESC t <page>`` (the page
is fixed for the whole ticket, so MagicEncode never picks one), then the ticket once per copy,
each followed by a cut: ``GS V 66 0`` (feed to the cutter and cut) where the printer profile
has it, else python-escpos' ``ESC d 6`` + ``GS V 0``. The width comes from the profile
unless ``[[printers]] columns`` overrides it. escpos is imported on first use: its import
configures logging.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wixprint.config import Config, PrinterConfig
from wixprint.errors import RenderError
from wixprint.printing.profiles import PrinterProfile, TicketLength, resolve_profile
from wixprint.receipts import customer, driver, kitchen, notice
from wixprint.receipts.labels import labels_for
from wixprint.receipts.layout import (
    PLAIN,
    Context,
    QrCode,
    Sheet,
    Style,
    TextLine,
    Ticket,
    TicketRequest,
)
from wixprint.receipts.text import canonical_codepage, center
from wixprint.wix.model import Order

PROFILE = "TM-T20II"
"""python-escpos' byte builder profile (its own, only for the cut and code pages); the 3.1
wheel has no TM-m30III profile (escpos.md §2.4). Widths come from ours."""
FEED_CUT = b"\x1dVB\x00"
"""``GS V 66 0``: feed to the cutting position and cut (escpos.md §13)."""
MIN_COLUMNS = 24
CUT_MARK = "[cut]"
QR_SIZE = 5
"""Dots per QR module: 0.6 mm at 203 dpi, easy for phone cameras."""

_BUILDERS: dict[str, Callable[[Context], None]] = {
    "kitchen": kitchen.build,
    "driver": driver.build,
    "customer": customer.build,
    "preorder": notice.build,
}


def render_ticket(
    order: Order,
    request: TicketRequest,
    *,
    config: Config,
    printer: PrinterConfig,
    profile: PrinterProfile | None = None,
) -> Ticket:
    """The ticket ``request.kind`` for ``order`` on ``printer``.

    ``profile`` is the printer's (default: its configured ``model``, generic for ``"auto"``).
    Raises ``RenderError`` when it cannot be rendered (unknown kind, unsupported code page,
    fewer than 24 columns, or an unexpected failure: the job is then a poison job, never a
    crashed actor). The message holds no order content.
    """
    sheet, copies = build_sheet(order, request, config=config, printer=printer, profile=profile)
    return finish(sheet, request, copies=copies, profile=profile or resolve_profile(printer.model))


def build_sheet(
    order: Order,
    request: TicketRequest,
    *,
    config: Config,
    printer: PrinterConfig,
    profile: PrinterProfile | None = None,
) -> tuple[Sheet, int]:
    """The laid-out lines of a ticket and its number of copies (see :func:`render_ticket`)."""
    build = _BUILDERS.get(request.kind)
    if build is None:
        raise RenderError(f"unknown receipt kind {request.kind!r}")
    sheet = blank_sheet(printer, profile or resolve_profile(printer.model))
    ctx = Context(order, request, config, printer, labels_for(config.layout.language), sheet)
    try:
        build(ctx)
    except Exception as exc:
        raise RenderError(
            f"{request.kind} ticket of job {request.job_id} failed: {type(exc).__name__}"
        ) from exc
    return sheet, max(1, config.layout.copies.get(request.kind, 1))


def blank_sheet(printer: PrinterConfig, profile: PrinterProfile) -> Sheet:
    """An empty sheet for ``printer``: its code page and width. Raises ``RenderError`` for
    a code page we cannot encode or fewer than ``MIN_COLUMNS`` columns."""
    codepage = canonical_codepage(printer.codepage)
    if codepage is None:
        raise RenderError(f"printer {printer.name!r}: unsupported code page {printer.codepage!r}")
    columns = printer.columns or profile.columns
    if columns < MIN_COLUMNS:
        raise RenderError(f"printer {printer.name!r}: {columns} columns is too narrow")
    return Sheet(columns=columns, codepage=codepage)


def finish(sheet: Sheet, request: TicketRequest, *, copies: int, profile: PrinterProfile) -> Ticket:
    """Encode a laid-out sheet for ``profile``. Raises ``RenderError`` like render_ticket."""
    try:
        data = _encode(
            sheet, sheet.codepage, copies, feed_cut=profile.feed_cut, cut_first=request.cut_first
        )
    except Exception as exc:
        raise RenderError(
            f"{request.kind} ticket of job {request.job_id} failed: {type(exc).__name__}"
        ) from exc
    return Ticket(data=data, preview=preview(sheet, copies), length=length(sheet, copies))


def length(sheet: Sheet, copies: int = 1) -> TicketLength:
    """Paper the ticket takes: the proof wait scales with it."""
    lines = sum(isinstance(b, TextLine) and not b.style.tall for b in sheet.blocks)
    tall = sum(isinstance(b, TextLine) and b.style.tall for b in sheet.blocks)
    codes = sum(isinstance(b, QrCode) for b in sheet.blocks)
    return TicketLength(lines * copies, tall * copies, codes * copies, copies)


def preview(sheet: Sheet, copies: int = 1) -> str:
    """The printed text; double-width lines laid out across the full width as they look."""
    lines: list[str] = []
    for block in sheet.blocks:
        if isinstance(block, TextLine):
            lines.append(block.fitted(sheet.columns).rstrip())
        else:
            lines.append(center("[QR]", sheet.columns))
    lines.append(CUT_MARK)
    return "\n".join(lines * copies) + "\n"


def import_escpos() -> None:
    """Import python-escpos now; meant for a worker thread right after start-up.

    The import loads escpos's printer database: tens of milliseconds from its pickle, a YAML
    parse of a quarter second at the very first start. Done at the first ticket instead, it
    would stall the event loop, webhooks and ``/health`` included. A failure is left for
    that first render to report.
    """
    with contextlib.suppress(Exception):
        _escpos_dummy()


def _escpos_dummy() -> Any:
    """``escpos.printer.Dummy``, imported on first use.

    escpos keeps its printer database as a pickle in ``ESCPOS_CAPABILITIES_PICKLE_DIR`` (the
    state folder) and writes it in place: a process killed while writing it leaves a file
    that fails every later import, so every ticket would fail to render. Such a file is
    removed and the import tried once more (escpos then writes it anew).
    """
    try:
        from escpos.printer import Dummy
    except Exception:
        folder = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
        if not folder:
            raise
        stale = Path(folder) / f"{platform.python_version()}.capabilities.pickle"
        stale.unlink(missing_ok=True)
        from escpos.printer import Dummy
    return Dummy


def _encode(
    sheet: Sheet, codepage: str, copies: int, *, feed_cut: bool, cut_first: bool = False
) -> bytes:
    dummy = _escpos_dummy()
    from escpos.constants import QR_ECLEVEL_M

    p: Any = dummy(profile=PROFILE)
    p.hw("INIT")
    p.charcode(codepage)

    def cut() -> None:
        if feed_cut:
            p._raw(FEED_CUT)
        else:
            p.cut()

    if cut_first:
        cut()
    for _ in range(copies):
        current = PLAIN
        for block in sheet.blocks:
            if isinstance(block, QrCode):
                current = _style(p, current, PLAIN)
                p.set(align="center")
                p.qr(block.data, ec=QR_ECLEVEL_M, size=QR_SIZE, native=True)
                p.set(align="left")
                continue
            current = _style(p, current, block.style)
            p.text(block.fitted(sheet.cells(block.style)) + "\n")
        _style(p, current, PLAIN)
        cut()
    return bytes(p.output)


def _style(p: Any, current: Style, wanted: Style) -> Style:
    if wanted != current:
        p.set(
            normal_textsize=not (wanted.wide or wanted.tall),
            double_width=wanted.wide,
            double_height=wanted.tall,
            bold=wanted.bold,
            invert=wanted.invert,
        )
    return wanted
