"""What is printable and where it goes: the one rule every way in shares.

The poller, the webhook route and any later entry hand a parsed order to :func:`decide`, so
an order can never print by one path and not by another (``restaurants_app_only`` once
filtered the poll only, and a webhook brought in anything). Pure: the order and the
configuration in, the decision out. Rules about what prints (per line item, held pre-orders,
one business location) belong here, as one more step of :func:`decide`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from wixprint.config import Config
from wixprint.receipts.fingerprints import fingerprints
from wixprint.receipts.routing import plan_targets
from wixprint.vocabulary import JobTarget
from wixprint.wix.intake import RESTAURANTS_APP_ID, is_before
from wixprint.wix.model import Order
from wixprint.wixtime import format_wix_time

__all__ = ["CHANGES_MATTER_FOR", "PrintDecision", "decide"]

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


def _why_not(order: Order, config: Config, not_before: str) -> str:
    wix = config.wix
    if order.status not in wix.print_statuses:
        return f"status {order.status or 'missing'}"
    if not_before and is_before(order.created_raw, not_before):
        return "created before not_before"
    if wix.restaurants_app_only and not any(
        item.app_id == RESTAURANTS_APP_ID for item in order.line_items
    ):
        return "no Wix Restaurants item"
    return ""


def decide(order: Order, config: Config, *, not_before: str) -> PrintDecision:
    """Whether ``order`` prints, where, and what each ticket depends on.

    ``not_before`` is the effective gate (``wix.not_before``, else the service's first start).
    """
    reason = _why_not(order, config, not_before)
    return PrintDecision(
        printable=not reason,
        reason=reason,
        targets=plan_targets(order, config),
        fingerprints=fingerprints(order),
        changes_until=_changes_until(order),
    )


def _changes_until(order: Order) -> str:
    """A week after the order was due (its slot, else its creation): a change after that is
    a refund, an archive or a chargeback, not something to cook or deliver."""
    due = order.due_to or order.due_from or order.created
    return "" if due is None else format_wix_time(due + CHANGES_MATTER_FOR)
