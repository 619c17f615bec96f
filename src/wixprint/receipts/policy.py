"""What is printable, where it goes and when: the one rule every way in shares.

The poller, the webhook route, the automation push, the release of a held pre-order and the
arrival of its payment method all hand a parsed order to :func:`decide`, so an order can
never print by one path and not by another. Pure: the order, the configuration and the
clock in, the decision out. The steps, in order:

* status in ``wix.print_statuses``, not created before ``not_before``;
* ``wix.restaurants_app_only``: an order-level gate, exactly what the poll's filter asks Wix
  for (some line item of the Wix Restaurants app), so a push cannot print what the poll
  would never fetch;
* what prints per line item (``wix/printable.py``, ``wix.print_apps``): an order with
  nothing printable (a table reservation, a gift card) is stored and shown as skipped;
* one business location (``wix.location_id``), and printers bound to locations;
* held pre-orders (``receipts/schedule.py``): due later than ``layout.preorder_lead``
  minutes from now, its tickets wait; only a short notice slip prints at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from wixprint.config import Config
from wixprint.receipts.fingerprints import fingerprints
from wixprint.receipts.routing import plan_targets, serves
from wixprint.receipts.schedule import hold_until
from wixprint.vocabulary import JobTarget
from wixprint.wix.apps import RESTAURANT_APP_IDS
from wixprint.wix.intake import is_before
from wixprint.wix.model import Order
from wixprint.wix.printable import PrintSelection, select_items
from wixprint.wixtime import format_wix_time

__all__ = ["CHANGES_MATTER_FOR", "NOTICE_KIND", "PrintDecision", "decide"]

NOTICE_KIND = "preorder"
"""The job kind of the "Vorbestellung erhalten" slip a held order prints at once."""

CHANGES_MATTER_FOR = timedelta(days=7)
"""How long after its due time a change of an order still prints CHANGED/CANCELED tickets."""


@dataclass(frozen=True, slots=True)
class PrintDecision:
    printable: bool
    """Whether a first sight of the order (or its approval) prints tickets."""
    reason: str
    """Why not, for the log ("" when printable)."""
    targets: tuple[JobTarget, ...]
    """Where each receipt goes, also for an order that is not printable now (a cancellation
    of a printed order still needs to know its stations)."""
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    """What each receipt kind depends on (``receipts.fingerprints``)."""
    changes_until: str = ""
    """Wix time after which a change prints nothing: the order is history."""
    hold_until: str = ""
    """Wix time at which a held pre-order's tickets print; "" when nothing is held."""
    notice_targets: tuple[JobTarget, ...] = ()
    """Where the notice slip of a held order goes (the kitchen printers), if configured."""
    due: str = ""
    """The order's due time (Wix time), for the status pages; "" when it has none."""
    skipped_items: tuple[str, ...] = ()
    """Kinds (or app ids) of line items that never print, for the log."""


def _why_not(order: Order, config: Config, not_before: str, selection: PrintSelection) -> str:
    wix = config.wix
    if order.status not in wix.print_statuses:
        return f"status {order.status or 'missing'}"
    if not_before and is_before(order.created_raw, not_before):
        return "created before not_before"
    if wix.restaurants_app_only and not any(
        item.app_id in RESTAURANT_APP_IDS for item in order.line_items
    ):
        return "no Wix Restaurants item"
    if not selection.prints:
        return "nothing to print: " + ", ".join(selection.skipped_kinds())
    location = order.location
    if location is not None and not location.matches(wix.location_id):
        return f"location {location.name or location.id}"
    if (
        location is not None
        and config.printers
        and not any(serves(p, order) for p in config.printers)
    ):
        return f"no printer for location {location.name or location.id}"
    return ""


def decide(order: Order, config: Config, *, not_before: str, now: datetime) -> PrintDecision:
    """Whether ``order`` prints, where, when, and what each ticket depends on.

    ``not_before`` is the effective gate (``wix.not_before``, else the service's first start);
    ``now`` is this machine's clock (aware), against which a pre-order's release is decided.
    """
    selection = select_items(order, config)
    reason = _why_not(order, config, not_before, selection)
    targets = plan_targets(order, config)
    held = "" if reason else hold_until(order, config.layout.preorder_lead, now)
    due = order.due_from or order.due_to
    return PrintDecision(
        printable=not reason,
        reason=reason,
        targets=targets,
        # The kitchen's digest covers what its ticket lists: the items that print.
        fingerprints=fingerprints(replace(order, line_items=selection.items)),
        changes_until=_changes_until(order),
        hold_until=held,
        notice_targets=_notice_targets(targets) if held and config.layout.preorder_notice else (),
        due="" if due is None else format_wix_time(due),
        skipped_items=selection.skipped_kinds(),
    )


def _notice_targets(targets: tuple[JobTarget, ...]) -> tuple[JobTarget, ...]:
    """One notice per printer that gets the kitchen ticket (else the first target's)."""
    printers = [t.printer for t in targets if t.kind == "kitchen"] or [
        t.printer for t in targets[:1]
    ]
    return tuple(JobTarget(NOTICE_KIND, p) for p in dict.fromkeys(printers))


def _changes_until(order: Order) -> str:
    """A week after the order was due (its slot, else its creation): a change after that is
    a refund, an archive or a chargeback, not something to cook or deliver."""
    due = order.due_to or order.due_from or order.created
    return "" if due is None else format_wix_time(due + CHANGES_MATTER_FOR)
