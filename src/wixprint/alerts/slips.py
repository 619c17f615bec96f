"""The other printer speaks up: which problems print an alert slip, and on which printers.
Pure; the channel (``slip_channel.py``) queues the slips, ``receipts/alert_slip.py`` words
and renders them in the ticket language.

A slip is printed once per problem (its raise; never its repeats) and, if
``[alerts] announce_resolved``, once more when the problem ends, on the printers that
printed its raise (no "resolved" for a problem nobody read about). It goes to the printers
``[alerts] announce_printers`` names (absent: all), never to the printer the problem is
about, and only to printers that can print now: a slip queued behind a fault would come
out long after it mattered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from wixprint.alerts.messages import AlertFacts, Category, MailKind
from wixprint.alerts.problems import printer_of

__all__ = [
    "SLIP_CATEGORIES",
    "AlertSlip",
    "decode_facts",
    "decode_slip",
    "encode_facts",
    "encode_slip",
    "slip_prefix",
    "slip_printers",
    "wants_slip",
]

SLIP_CATEGORIES: frozenset[Category] = frozenset(
    {
        "paper_out",
        "cover_open",
        "printer_offline",
        "needs_attention",
        "quarantined",
        "order_quarantined",
        "internet_down",
        "wix_auth",
        "unprinted_orders",
    }
)
"""What the kitchen must hear during service: a station that prints nothing, a ticket or an
order that will not print, orders that arrive late or not at all."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSlip:
    """What a slip prints: stored as the text of its spool job."""

    key: str
    kind: MailKind
    raised_at: float
    facts: AlertFacts

    @property
    def slip_id(self) -> str:
        """The spool key of this slip: one problem's raise (or end) is queued once."""
        return f"{slip_prefix(self.kind, self.key)}{self.raised_at:.3f}"


def slip_prefix(kind: MailKind, key: str) -> str:
    """How the spool keys of ``kind`` slips about problem ``key`` begin."""
    return f"alert-slip:{kind}:{key}@"


def wants_slip(kind: MailKind, facts: AlertFacts | None, *, announce_resolved: bool) -> bool:
    """Whether a message of ``kind`` about ``facts`` prints a slip."""
    if facts is None or facts.category not in SLIP_CATEGORIES:
        return False
    return kind == "raise" or (kind == "resolve" and announce_resolved)


def slip_printers(
    printers: Sequence[str],
    announce: Sequence[str] | None,
    facts: AlertFacts,
    working: Mapping[str, bool],
) -> tuple[str, ...]:
    """The printers that print a slip about ``facts``, in configuration order: those
    ``announce`` names (None: all), but not the one the problem is about, and only those
    ``working`` says can print (a printer it does not know yet counts as working)."""
    about = printer_of(facts) or facts.printer or None
    chosen = printers if announce is None else [p for p in printers if p in announce]
    return tuple(p for p in chosen if p != about and working.get(p, True))


_FACTS_ENCODER = msgspec.json.Encoder()
_FACTS_DECODER = msgspec.json.Decoder(AlertFacts)
_SLIP_DECODER = msgspec.json.Decoder(AlertSlip)


def encode_facts(facts: AlertFacts | None) -> str:
    return "" if facts is None else _FACTS_ENCODER.encode(facts).decode("utf-8")


def decode_facts(text: str) -> AlertFacts | None:
    """None for an empty or unreadable text (an alert stored before facts were kept)."""
    if not text:
        return None
    try:
        return _FACTS_DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def encode_slip(slip: AlertSlip) -> str:
    return _FACTS_ENCODER.encode(slip).decode("utf-8")


def decode_slip(text: str) -> AlertSlip:
    """Raises ValueError for anything but a slip (the printer then counts a render failure)."""
    try:
        return _SLIP_DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"unreadable alert slip: {exc}") from exc
