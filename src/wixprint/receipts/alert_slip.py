"""The alert slip: a short note another printer prints when something goes wrong (issue 16).

In the ticket language (``[layout] language``), in large type, readable from across the
kitchen: what is wrong, what to do, since when. A resolved slip says the problem is over
and how long it lasted. Then the profile's buzzer, if it has one (``PrinterProfile.buzzer``),
after the cut: the slip is there when it sounds. No customer data: order numbers only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from wixprint.alerts.messages import AlertFacts, Category, format_duration
from wixprint.alerts.slips import AlertSlip
from wixprint.config import Config, PrinterConfig
from wixprint.printing.profiles import PrinterProfile, resolve_profile
from wixprint.receipts.layout import BAR, BIG, BIG_BAR, PLAIN, TALL, Ticket, TicketRequest
from wixprint.receipts.render import blank_sheet, finish

__all__ = ["MAX_SLIP_ORDERS", "render_alert_slip", "slip_lines"]

Language = Literal["de", "en"]
MAX_SLIP_ORDERS = 8
"""Order numbers named on one slip; the rest are counted."""

# category -> (headline, what to do); fields: printer, order, orders.
_TEXTS: dict[Language, dict[Category, tuple[str, str]]] = {
    "de": {
        "paper_out": (
            "{printer}: Papier leer",
            "Papier nachlegen. Die wartenden Tickets kommen danach von selbst.",
        ),
        "cover_open": (
            "{printer}: Deckel offen",
            "Deckel schließen. Die wartenden Tickets kommen danach von selbst.",
        ),
        "printer_offline": (
            "{printer} druckt nicht",
            "Drucker einschalten, Kabel prüfen. Die Tickets warten und kommen danach.",
        ),
        "needs_attention": (
            "Bestellung {order}: Ticket fehlt?",
            "Am Drucker {printer} nachsehen. Fehlt das Ticket: im Dashboard nachdrucken.",
        ),
        "quarantined": (
            "Bestellung {order} druckt nicht",
            "Im Wix-Dashboard ansehen und von Hand weitergeben.",
        ),
        "order_quarantined": (
            "Bestellung {order} druckt nicht",
            "Im Wix-Dashboard ansehen und von Hand weitergeben.",
        ),
        "internet_down": (
            "Internet weg",
            "Bestellungen können verspätet ankommen. Wix-Dashboard am Handy prüfen.",
        ),
        "wix_auth": (
            "Wix lehnt den Zugang ab",
            "Es kommen KEINE Bestellungen an. Chef Bescheid geben, Bestellungen im "
            "Wix-Dashboard ansehen.",
        ),
        "unprinted_orders": (
            "Nicht gedruckt: {orders}",
            "Bestellungen im Wix-Dashboard ansehen und Drucker prüfen.",
        ),
    },
    "en": {
        "paper_out": (
            "{printer}: out of paper",
            "Load paper. The waiting tickets then print by themselves.",
        ),
        "cover_open": (
            "{printer}: cover open",
            "Close the cover. The waiting tickets then print by themselves.",
        ),
        "printer_offline": (
            "{printer} is not printing",
            "Switch it on, check the cable. The tickets wait and print afterwards.",
        ),
        "needs_attention": (
            "Order {order}: ticket missing?",
            "Look at printer {printer}. If the ticket is missing, reprint it from the dashboard.",
        ),
        "quarantined": (
            "Order {order} does not print",
            "Look it up in the Wix dashboard and pass it on by hand.",
        ),
        "order_quarantined": (
            "Order {order} does not print",
            "Look it up in the Wix dashboard and pass it on by hand.",
        ),
        "internet_down": (
            "Internet down",
            "Orders may arrive late. Check the Wix dashboard on a phone.",
        ),
        "wix_auth": (
            "Wix refuses access",
            "NO orders are coming in. Tell the manager, watch orders in the Wix dashboard.",
        ),
        "unprinted_orders": (
            "Not printed: {orders}",
            "Look them up in the Wix dashboard and check the printers.",
        ),
    },
}
_WORDS: dict[Language, dict[str, str]] = {
    "de": {
        "alert": "! ACHTUNG !",
        "resolved": "BEHOBEN",
        "since": "seit {time}",
        "over": "wieder in Ordnung, Dauer {duration}",
        "more": "+{n} weitere",
        "reprint": "REPRINT – möglicherweise doppelt",
    },
    "en": {
        "alert": "! ALERT !",
        "resolved": "RESOLVED",
        "since": "since {time}",
        "over": "back to normal after {duration}",
        "more": "+{n} more",
        "reprint": "REPRINT – may be a duplicate",
    },
}


def slip_lines(slip: AlertSlip, language: Language, tz: ZoneInfo) -> tuple[str, str, str, str]:
    """(banner, headline, what to do or how it ended, time line) of a slip."""
    facts, words = slip.facts, _WORDS[language]
    headline, todo = _TEXTS[language].get(facts.category, ("{printer}", ""))
    fields = _fields(facts, words)
    since = words["since"].format(time=_clock(facts.since, tz))
    if slip.kind == "resolve":
        lasted = format_duration(max(0.0, slip.raised_at - facts.since), language)
        return (
            words["resolved"],
            headline.format(**fields),
            words["over"].format(duration=lasted),
            _clock(slip.raised_at, tz),
        )
    return words["alert"], headline.format(**fields), todo.format(**fields), since


def render_alert_slip(
    slip: AlertSlip,
    request: TicketRequest,
    *,
    config: Config,
    printer: PrinterConfig,
    profile: PrinterProfile | None = None,
) -> Ticket:
    """The slip for ``printer``; raises ``RenderError`` like ``render_ticket``."""
    profile = profile or resolve_profile(printer.model)
    language: Language = config.layout.language
    banner, headline, todo, when = slip_lines(slip, language, ZoneInfo(config.service.timezone))
    sheet = blank_sheet(printer, profile)
    if request.reprint:
        sheet.bar(_WORDS[language]["reprint"], BAR)
    sheet.bar(banner, BIG_BAR)
    sheet.blank()
    sheet.text(headline, BIG, align="center")
    sheet.blank()
    sheet.text(todo, TALL)
    sheet.text(when, PLAIN)
    ticket = finish(sheet, request, copies=1, profile=profile)
    return Ticket(data=ticket.data + profile.buzzer, preview=ticket.preview, length=ticket.length)


def _fields(facts: AlertFacts, words: dict[str, str]) -> dict[str, str]:
    orders = ", ".join(facts.orders[:MAX_SLIP_ORDERS])
    if len(facts.orders) > MAX_SLIP_ORDERS:
        orders += " " + words["more"].format(n=len(facts.orders) - MAX_SLIP_ORDERS)
    printer = facts.printer or facts.target
    return {"printer": printer, "order": facts.target, "orders": orders}


def _clock(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%H:%M")
