"""The ledger: what should have printed where, against what the fake printers printed.

Expected tickets come from the product's own rule (``receipts.policy.decide`` and
``route_items`` on each parsed order and the running configuration): one ticket per (order,
receipt kind, printer). Printed tickets are read back from the FakePrinters' decoded paper:
order number, receipt kind, REPRINT banner, job id and revision (from the footer).

The promise checked: every expected ticket is on paper at least once, complete; at most one
copy per (order, kind, printer, revision) lacks the REPRINT banner, and at most
``MAX_COPIES`` complete copies of it are on paper at all, marked or not (a REPRINT banner
excuses a duplicate, not a printer that keeps printing the same ticket); no ticket is at a printer
that should not have it; a kitchen ticket lists the items routed to its station. A failing
report names the seed and every difference, so a chaos run can be replayed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.fakes.fake_printer import FakePrinter, is_alert_slip
from wixprint.config import Config
from wixprint.receipts import route_items
from wixprint.receipts.policy import decide
from wixprint.wix.parse import parse_order

EVENTUALLY = datetime(9999, 1, 1, tzinfo=UTC)
"""The ledger counts tickets once every held pre-order came due."""

__all__ = [
    "MAX_COPIES",
    "ExpectedOrder",
    "LedgerReport",
    "PrintedTicket",
    "classify",
    "compare",
    "expected_orders",
    "printed_tickets",
]

# The number alone, or with the time laid out to the right (never a word of a note).
_NUMBER = re.compile(r"^#(\S+)(?:\s{2,}.*)?$")
_CUSTOMER = re.compile(r"^(?:Bestellung|Order) (\S+)(?:\s{2,}.*)?$")
_FOOTER = re.compile(r"· Job (\d+) · Rev\. (\d+)\s*$", re.MULTILINE)
_DRIVER_TITLES = ("FAHRER", "DRIVER")
_CANCELED = ("STORNIERT", "CANCELED")
_CHANGED = ("GEÄNDERT", "CHANGED")

MAX_COPIES = 3
"""Complete copies of one ticket (order, kind, printer, revision): the first and two marked
ones. A fragment (a send cut by a crash) is torn paper, not a copy, and is not counted; each
further complete copy needs another crash between send and proof of that same job, so the
chaos scenarios allow one more per crash they injected (``compare(max_copies=...)``)."""


@dataclass(frozen=True, slots=True)
class PrintedTicket:
    """One ticket as it came out of a fake printer, classified from its text."""

    printer: str
    index: int
    """Position in that printer's output."""
    order_number: str | None
    kind: str | None
    """kitchen | driver | customer; None when the text names no order."""
    reprint: bool
    variant: str
    """new | changed | canceled (from the banners)."""
    job_id: int | None
    revision: int | None
    complete: bool
    """Cut and carrying its footer; a fragment is what a reset or crash mid-job left."""
    text: str

    def label(self) -> str:
        banner = " REPRINT" if self.reprint else ""
        state = "" if self.complete else " (fragment)"
        return (
            f"#{self.order_number} {self.kind}@{self.printer} job {self.job_id} "
            f"rev {self.revision}{banner}{state} [ticket {self.index}]"
        )


def classify(printer: str, index: int, text: str, *, cut: bool = True) -> PrintedTicket:
    """Read order number, kind, banners, job id and revision from a ticket's text."""
    lines = [line.strip() for line in text.splitlines()]
    number: str | None = None
    kind: str | None = None
    head = lines[:6]
    for position, line in enumerate(lines):
        customer = _CUSTOMER.match(line)
        found = None if customer else _NUMBER.match(line)
        if customer or found:
            head = lines[:position]  # the banners are printed above the order number
            if customer:
                number, kind = customer.group(1), "customer"
            elif found:
                number = found.group(1)
                kind = "driver" if any(t in head for t in _DRIVER_TITLES) else "kitchen"
            break
    variant = "new"
    if any(word in line for line in head for word in _CANCELED):
        variant = "canceled"
    elif any(word in line for line in head for word in _CHANGED):
        variant = "changed"
    footers = _FOOTER.findall(text)
    job_id = int(footers[-1][0]) if footers else None
    revision = int(footers[-1][1]) if footers else None
    return PrintedTicket(
        printer=printer,
        index=index,
        order_number=number,
        kind=kind,
        reprint=any("REPRINT" in line for line in head),
        variant=variant,
        job_id=job_id,
        revision=revision,
        complete=cut and job_id is not None,
        text=text,
    )


def printed_tickets(printers: Mapping[str, FakePrinter]) -> list[PrintedTicket]:
    """Every order ticket every fake printer printed, classified (alert slips left out).

    A strip of paper holds more than one ticket when a job was cut off and the next one
    printed on without a cut: each ``ESC @`` on the strip starts a ticket, and all but the
    last of them are fragments.
    """
    found: list[PrintedTicket] = []
    for name, printer in printers.items():
        for strip in printer.paper():
            parts = strip.parts
            for k, text in enumerate(parts):
                if is_alert_slip(text):
                    continue  # another printer's trouble, not an order's ticket
                cut = strip.cut and k == len(parts) - 1
                found.append(classify(name, len(found), text, cut=cut))
    return found


@dataclass(frozen=True, slots=True)
class ExpectedOrder:
    order_id: str
    number: str
    targets: frozenset[tuple[str, str]]
    """(receipt kind, printer) pairs the order must print on."""
    kitchen_items: Mapping[str, tuple[str, ...]]
    """Per kitchen printer, ``"2x Currywurst"``-style item lines its ticket must list."""


def expected_orders(
    raw_orders: Iterable[Mapping[str, object]], config: Config, *, check_items: bool = True
) -> dict[str, ExpectedOrder]:
    """The orders the service must print, by order number, with their targets.

    Printable: what ``receipts.policy.decide`` says, the rule every way in shares.
    """
    tz = ZoneInfo(config.service.timezone)
    result: dict[str, ExpectedOrder] = {}
    for raw in raw_orders:
        try:
            order = parse_order(raw, tz).order
        except ValueError:
            continue
        decision = decide(order, config, not_before=config.wix.not_before, now=EVENTUALLY)
        if not decision.printable:
            continue
        targets = decision.targets
        items: dict[str, tuple[str, ...]] = {}
        if check_items:
            for printer in config.printers:
                if any(t.kind == "kitchen" and t.printer == printer.name for t in targets):
                    mine = route_items(order, printer, config).mine
                    items[printer.name] = tuple(_item_line(i.quantity, i.name) for i in mine)
        number = order.number or order.id[:8]
        result[number] = ExpectedOrder(
            order_id=order.id,
            number=number,
            targets=frozenset((t.kind, t.printer) for t in targets),
            kitchen_items=items,
        )
    return result


def _item_line(quantity: int, name: str) -> str:
    words = name.split()
    return f"{quantity}x {words[0] if words else ''}".rstrip()


@dataclass(frozen=True, slots=True)
class LedgerReport:
    seed: int | None
    expected: int
    """Expected tickets (order, kind, printer)."""
    printed: int
    reprints: int
    fragments: int
    missing: tuple[str, ...] = ()
    unmarked_duplicates: tuple[str, ...] = ()
    wrong_printer: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    """Tickets of orders that must not print at all (or cannot be read)."""
    wrong_items: tuple[str, ...] = ()
    too_many_copies: tuple[str, ...] = ()
    """Tickets on paper complete more than ``MAX_COPIES`` times (REPRINT or not)."""
    most_copies: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.unmarked_duplicates
            or self.wrong_printer
            or self.unexpected
            or self.wrong_items
            or self.too_many_copies
        )

    def summary(self) -> str:
        return (
            f"seed={self.seed} expected={self.expected} printed={self.printed} "
            f"reprints={self.reprints} fragments={self.fragments} most_copies={self.most_copies}"
        )

    def describe(self, limit: int = 30) -> str:
        """The seed, the counts and every difference (up to ``limit`` per kind)."""
        out = [
            f"ledger differs; replay with WIXPRINT_CHAOS_SEED={self.seed}",
            self.summary(),
        ]
        for title, items in (
            ("missing (never printed complete)", self.missing),
            ("duplicates without REPRINT banner", self.unmarked_duplicates),
            ("at the wrong printer", self.wrong_printer),
            ("unexpected tickets", self.unexpected),
            ("kitchen ticket lacks routed items", self.wrong_items),
            (f"printed more than {MAX_COPIES} times", self.too_many_copies),
        ):
            if items:
                out.append(f"{title}: {len(items)}")
                out.extend(f"  {item}" for item in items[:limit])
                if len(items) > limit:
                    out.append(f"  ... {len(items) - limit} more")
        out.extend(self.notes)
        return "\n".join(out)


def compare(
    expected: Mapping[str, ExpectedOrder],
    printed: Sequence[PrintedTicket],
    *,
    seed: int | None = None,
    max_copies: int = MAX_COPIES,
    optional: Collection[str] = (),
) -> LedgerReport:
    """Expected tickets against printed ones (see the module docstring for the rules).

    ``optional``: numbers of orders that may print or not (bad input the service may take
    in or set aside); their tickets are neither expected nor unexpected.
    """
    complete: Counter[tuple[str, str, str]] = Counter()
    unmarked: Counter[tuple[str, str, str, int | None]] = Counter()
    unmarked_labels: dict[tuple[str, str, str, int | None], list[str]] = defaultdict(list)
    copies: dict[tuple[str, str, str, int], list[str]] = defaultdict(list)
    wrong_printer: list[str] = []
    unexpected: list[str] = []
    wrong_items: list[str] = []
    for ticket in printed:
        if ticket.order_number is None or ticket.kind is None:
            if ticket.complete:
                unexpected.append(f"unreadable: {ticket.label()}: {ticket.text[:120]!r}")
            continue
        if ticket.order_number in optional and ticket.order_number not in expected:
            continue
        order = expected.get(ticket.order_number)
        if order is None:
            if ticket.complete:  # a fragment may end inside its number ("#108" of #10830)
                unexpected.append(ticket.label())
            continue
        if (ticket.kind, ticket.printer) not in order.targets:
            wrong_printer.append(ticket.label())
            continue
        key = (ticket.order_number, ticket.kind, ticket.printer)
        if ticket.complete:
            copies[(*key, ticket.revision or 1)].append(ticket.label())
            complete[key] += 1
            lines = order.kitchen_items.get(ticket.printer, ()) if ticket.kind == "kitchen" else ()
            # Own items start the line; the "other stations" list indents its copies.
            printed_lines = ticket.text.splitlines()
            lacking = [i for i in lines if not any(p.startswith(i) for p in printed_lines)]
            if lacking:
                wrong_items.append(f"{ticket.label()}: lacks {lacking}")
        if not ticket.reprint:
            # A fragment cut before its footer counts as the revision's copy all the same.
            unmarked[(*key, ticket.revision or 1)] += 1
            unmarked_labels[(*key, ticket.revision or 1)].append(ticket.label())
    missing = [
        f"#{number} {kind}@{printer}"
        for number, order in sorted(expected.items())
        for kind, printer in sorted(order.targets)
        if complete[(number, kind, printer)] == 0
    ]
    duplicates = [
        f"{' + '.join(unmarked_labels[key])}" for key, count in unmarked.items() if count > 1
    ]
    too_many = [" + ".join(labels) for labels in copies.values() if len(labels) > max_copies]
    return LedgerReport(
        seed=seed,
        expected=sum(len(o.targets) for o in expected.values()),
        printed=len(printed),
        reprints=sum(t.reprint for t in printed),
        fragments=sum(not t.complete for t in printed),
        missing=tuple(missing),
        unmarked_duplicates=tuple(duplicates),
        wrong_printer=tuple(wrong_printer),
        unexpected=tuple(unexpected),
        wrong_items=tuple(wrong_items),
        too_many_copies=tuple(too_many),
        most_copies=max((len(labels) for labels in copies.values()), default=0),
    )
