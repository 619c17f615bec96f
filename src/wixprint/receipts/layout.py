"""The ticket as lines: a small layout model shared by the kitchen, driver and customer tickets.

A ``Sheet`` collects fitted lines (and QR codes); ``render.py`` turns it into ESC/POS bytes
and into the plain-text preview. Text is transliterated to the printer's code page as it is
added, so every width below counts real printer columns.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from wixprint.config import Config, PrinterConfig
from wixprint.printing.profiles import TicketLength
from wixprint.printing.protocol import MAX_PENDING_PAYLOAD
from wixprint.receipts.labels import Labels
from wixprint.receipts.text import center, format_money, item_lines, transliterate, wrap
from wixprint.vocabulary import Variant
from wixprint.wix.fulfilment import is_table_title
from wixprint.wix.model import Fulfillment, Order, PaymentMethod


@dataclass(frozen=True, slots=True)
class TicketRequest:
    kind: str
    """kitchen | driver | customer"""
    variant: Variant
    reprint: bool
    """Print the REPRINT banner: this ticket may already be on paper."""
    job_id: int
    revision: int
    cut_first: bool = False
    """Cut before the ticket: an earlier attempt may have left part of itself on the strip,
    and the retry belongs on its own piece of paper, banner on top."""


@dataclass(frozen=True, slots=True)
class Ticket:
    data: bytes
    """ESC/POS: ESC @, ESC t <page>, the ticket (times ``copies``, each followed by a cut)."""
    preview: str
    """The same content as plain text, one line per printed line; ``[cut]`` after each copy."""
    length: TicketLength = field(default_factory=TicketLength)
    """Paper it takes (all copies): how long the printer needs for it."""


@dataclass(frozen=True, slots=True)
class Style:
    bold: bool = False
    wide: bool = False
    """Double width: half as many characters fit."""
    tall: bool = False
    invert: bool = False


PLAIN = Style()
BOLD = Style(bold=True)
TALL = Style(bold=True, tall=True)
BIG = Style(bold=True, wide=True, tall=True)
BAR = Style(bold=True, tall=True, invert=True)
BIG_BAR = Style(bold=True, wide=True, tall=True, invert=True)


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line. ``left``/``right`` are already fitted to the style's cell width."""

    left: str
    style: Style = PLAIN
    right: str = ""
    align: Literal["left", "center"] = "left"
    fill: bool = False
    """Pad to the full width (inverted bars print as a solid black band)."""

    def fitted(self, cells: int) -> str:
        if self.right:
            text = self.left.ljust(cells - len(self.right)) + self.right
        elif self.align == "center":
            text = center(self.left, cells)
        else:
            text = self.left
        return text.ljust(cells) if self.fill else text


MAX_QR_BYTES = MAX_PENDING_PAYLOAD - 16
"""QR data longer than this is left out (the text next to it says the same)."""


@dataclass(frozen=True, slots=True)
class QrCode:
    data: str


Block = TextLine | QrCode


@dataclass
class Sheet:
    columns: int
    codepage: str
    blocks: list[Block] = field(default_factory=list)

    def cells(self, style: Style) -> int:
        return self.columns // 2 if style.wide else self.columns

    def clean(self, s: str) -> str:
        return transliterate(s, self.codepage)

    def text(
        self,
        s: str,
        style: Style = PLAIN,
        *,
        align: Literal["left", "center"] = "left",
        indent: int = 0,
        label: str = "",
        fill: bool = False,
    ) -> None:
        """Wrapped text, ``indent`` columns in; ``label`` (``"Fällig: "``) before the first
        line, with continuation lines hanging under the text rather than under the label."""
        width = max(1, self.cells(style) - indent)
        head = self.clean(label)
        hang = len(head) if len(head) <= width // 2 else 0
        pad = " " * min(indent, self.cells(style) - 1)
        for line in wrap(head + self.clean(s), width, indent=hang):
            self.blocks.append(TextLine(pad + line, style, align=align, fill=fill))

    def pair(self, left: str, right: str, style: Style = PLAIN, *, indent: int = 0) -> None:
        """``left`` wrapped, ``right`` flush right on its first line.

        When that would squeeze ``left`` below half the width (narrow paper, long right
        side), ``right`` gets a line of its own under it instead.
        """
        width = self.cells(style)
        right = self.clean(right).strip()[:width]
        left = self.clean(left)
        room = width - indent - (len(right) + 1 if right else 0)
        if right and room < min(len(left), (width - indent) // 2):
            self.pair(left, "", style, indent=indent)
            self.blocks.append(TextLine("", style, right=right))
            return
        lines = wrap(left, max(1, room)) or [""]
        pad = " " * indent
        self.blocks.append(TextLine(pad + lines[0], style, right=right))
        self.blocks.extend(TextLine(pad + line, style) for line in lines[1:])

    def item(self, qty: int, name: str, style: Style = PLAIN, price: str = "") -> None:
        """``2x Name`` with the name wrapped under itself and an optional price on the right."""
        width = self.cells(style)
        price = self.clean(price).strip()
        room = width - len(price) - 1 if price else width
        lines = item_lines(qty, self.clean(name) or "?", room)
        self.blocks.append(TextLine(lines[0], style, right=price))
        self.blocks.extend(TextLine(line, style) for line in lines[1:])

    def bar(self, s: str, style: Style = BAR) -> None:
        """A banner: centred, padded to the full width (black band when inverted)."""
        self.text(s, style, align="center", fill=True)

    def rule(self, char: str = "-") -> None:
        """A separator; never two in a row (an empty section leaves no double line)."""
        line = TextLine(char * self.columns)
        last = self.blocks[-1] if self.blocks else None
        if isinstance(last, TextLine) and last.left and set(last.left) <= set("-="):
            self.blocks[-1] = line
        else:
            self.blocks.append(line)

    def blank(self) -> None:
        self.blocks.append(TextLine(""))

    def qr(self, data: str) -> None:
        """A QR code, unless its data is too long: the longest payload a cut-off ticket may
        leave open in the printer must stay below what a retry pads (MAX_PENDING_PAYLOAD)."""
        if len(data.encode("utf-8")) <= MAX_QR_BYTES:
            self.blocks.append(QrCode(data))


@dataclass(frozen=True)
class Context:
    order: Order
    request: TicketRequest
    config: Config
    printer: PrinterConfig
    labels: Labels
    sheet: Sheet

    @property
    def language(self) -> str:
        return self.config.layout.language

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.order.currency, self.language)


# --- pieces every ticket shares -------------------------------------------------------------


def banners(ctx: Context) -> None:
    """REPRINT on top when the ticket may be a duplicate; STORNIERT / GEÄNDERT below it.

    STORNIERT shows for a CANCELED job and for any ticket of an order Wix says is canceled
    or rejected.
    """
    sheet, lab = ctx.sheet, ctx.labels
    if ctx.request.reprint:
        sheet.bar(lab.reprint, BAR)
    variant = ctx.request.variant
    if ctx.order.is_canceled:
        variant = Variant.CANCELED  # whatever the job says: a canceled order is never cooked
    if variant is Variant.CANCELED:
        sheet.bar(lab.canceled, BIG_BAR)
        if ctx.request.kind == "kitchen":
            sheet.text(lab.canceled_hint, TALL, align="center")
    elif variant is Variant.CHANGED:
        sheet.bar(lab.changed, BIG_BAR)
        sheet.text(lab.changed_hint, BOLD, align="center")
    if ctx.request.reprint or variant is not Variant.NEW:
        sheet.blank()


def order_number(order: Order) -> str:
    return order.number or order.id[:8]


def header(ctx: Context) -> None:
    """Big ``#10231`` and the local order time on one line."""
    order, sheet = ctx.order, ctx.sheet
    number = sheet.clean("#" + order_number(order))
    time = order.created.strftime("%H:%M") if order.created else ""
    width = sheet.cells(BIG)
    if len(number) + 1 + len(time) <= width:
        sheet.blocks.append(TextLine(number, BIG, right=time))
    else:
        sheet.text(number, BIG)
        if time:
            sheet.text(time, BIG)


def fulfillment_label(order: Order, lab: Labels) -> str:
    return {
        Fulfillment.DELIVERY: lab.delivery,
        Fulfillment.PICKUP: lab.pickup,
        Fulfillment.DINE_IN: lab.dine_in,
        Fulfillment.UNKNOWN: lab.unknown,
    }[order.fulfillment]


def fulfillment(ctx: Context, style: Style = BIG) -> None:
    """``LIEFERUNG`` big, Wix's own title when it says more, and the due time.

    An unknown fulfilment says so and asks staff to check, with whatever title Wix gave.
    """
    order, sheet, lab = ctx.order, ctx.sheet, ctx.labels
    label = fulfillment_label(order, lab)
    sheet.text(label.upper(), style)
    title = order.fulfillment_title
    if title and title.casefold() != label.casefold():
        sheet.text(title, BOLD)
    if order.fulfillment is Fulfillment.UNKNOWN:
        sheet.text(lab.unknown_hint, PLAIN)
    due = due_text(order, lab)
    if due:
        sheet.text(due, TALL, label=f"{lab.due}: ")


def due_text(order: Order, lab: Labels) -> str | None:
    """``19:30-19:45``; with the date when the slot is not on the order's day.

    Orders without a slot are due at Wix's free-text due time if it gave one, else as soon
    as possible, except dine-in (served at the table).
    """
    start, end = order.due_from, order.due_to
    if start is None and end is None:
        if order.due_note:
            return order.due_note
        return None if order.fulfillment is Fulfillment.DINE_IN else lab.asap
    first = start or end
    assert first is not None
    span = first.strftime("%H:%M")
    if start is not None and end is not None and end != start:
        span += "–" + end.strftime("%H:%M")
    day = order.created.date() if order.created else None
    if day is None or first.date() == day:
        return span
    when = short_date(first, lab)
    if first.date() == day + timedelta(days=1):
        when = f"{lab.tomorrow} {when}"
    else:
        when = f"{lab.weekdays[first.weekday()]} {when}"
    return f"{when}, {span}"


def short_date(t: datetime, lab: Labels) -> str:
    if lab.months:
        return f"{t.day} {lab.months[t.month - 1]}"
    return t.strftime("%d.%m.")


def long_date(t: datetime, lab: Labels) -> str:
    if lab.months:
        return f"{t.day} {lab.months[t.month - 1]} {t.year}, {t.strftime('%H:%M')}"
    return t.strftime("%d.%m.%Y %H:%M")


def custom_fields(ctx: Context, *, big_table: bool) -> None:
    """Checkout custom fields (``Tisch: 12``); the table number big on kitchen tickets."""
    for title, value in ctx.order.custom_fields:
        is_table = is_table_title(title)
        style = BIG if big_table and is_table else BOLD
        ctx.sheet.text(value, style, label=f"{title}: " if title else "")


def note(ctx: Context, label: str, text: str | None, style: Style = BOLD) -> None:
    if text:
        ctx.sheet.text(f"{label}:", BOLD)
        ctx.sheet.text(text, style)


def modifiers(ctx: Context, mods: Sequence[tuple[str, str]], indent: int) -> None:
    """``name: value`` under an item (the value alone when it has no name); modifiers
    without a value are left out (nothing chosen)."""
    for name, value in mods:
        if value.strip():
            ctx.sheet.text(value, PLAIN, indent=indent, label=f"{name}: " if name else "")


def footer(ctx: Context) -> None:
    """A small line to find the job again: station, job id, order revision."""
    lab, req = ctx.labels, ctx.request
    station = ctx.printer.station or ctx.printer.name
    ctx.sheet.text(
        f"{station} · {lab.job} {req.job_id} · {lab.revision} {req.revision}",
        PLAIN,
        align="center",
    )


class Payment(enum.Enum):
    PAID = "paid"
    COLLECT = "collect"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"


def payment(order: Order) -> tuple[Payment, Decimal | None]:
    """What the driver / counter must do about money, from Wix's balance first.

    ``balanceSummary.balance`` > 0 means money to collect; without a balance, NOT_PAID and
    PENDING mean the whole total is open.
    """
    if order.payment_status == "FULLY_REFUNDED":
        return Payment.REFUNDED, None
    if order.balance is not None:
        if order.balance > 0:
            return Payment.COLLECT, order.balance
        return Payment.PAID, None
    if order.payment_status == "PAID":
        return Payment.PAID, None
    if order.payment_status in ("NOT_PAID", "PENDING") and order.total is not None:
        return Payment.COLLECT, order.total
    return Payment.UNKNOWN, None


def collect_label(order: Order, lab: Labels) -> str:
    """``BAR KASSIEREN`` only when Wix says cash, ``MIT KARTE KASSIEREN`` for a card on site,
    plain ``KASSIEREN`` when the method is not known: unknown is never printed as cash."""
    methods = order.payment_methods
    if PaymentMethod.CARD in methods and PaymentMethod.CASH not in methods:
        return lab.collect_card
    if PaymentMethod.CASH in methods:
        return lab.collect_cash
    return lab.collect


def payment_method_text(order: Order, lab: Labels) -> str | None:
    """``Gutschein + Karte``: the methods Wix's transactions name, or None if none."""
    names = [lab.methods.get(m.value, m.value) for m in order.payment_methods]
    return " + ".join(names) if names else None


def payment_method_line(ctx: Context) -> None:
    """``Zahlungsart: Bar`` under the payment state, when known."""
    text = payment_method_text(ctx.order, ctx.labels)
    if text:
        ctx.sheet.text(text, BOLD, align="center", label=f"{ctx.labels.payment_method}: ")


def tax_rate(rate: Decimal, language: str) -> str:
    """``0.07`` -> ``7 %``; ``0.075`` -> ``7,5 %`` (German) / ``7.5 %``."""
    pct = (rate * 100).normalize()
    text = f"{pct:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (text.replace(".", ",") if language == "de" else text) + " %"
