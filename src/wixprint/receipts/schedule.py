"""When a pre-order's tickets print: the hold rule, pure.

Wix Restaurants takes orders for later ("schedule for later", preorder-only menus). Such an
order carries its due time in ``deliveryTimeSlot``; printing it when it is approved puts
tomorrow's lunch on tonight's rail. So an order whose due time lies more than
``[layout] preorder_lead`` minutes ahead is *held*: stored, shown as scheduled, and its
tickets print at ``due - lead``.

Times: the due time is Wix's (UTC); "now" is this machine's clock. A clock that runs ahead
prints pre-orders early (never late, never lost); one that runs behind holds them until it
reaches their release time. :func:`is_due` is the one place that decides, so a trust signal
for the clock can gate it later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wixprint.wix.model import Order
from wixprint.wixtime import format_wix_time, parse_wix_time

__all__ = ["hold_until", "is_due", "release_time"]


def release_time(order: Order, lead_minutes: float) -> datetime | None:
    """When ``order``'s tickets should print: its due time (the slot's start, else its end)
    less the lead; None for an order with no due time (print at once)."""
    due = order.due_from or order.due_to
    if due is None:
        return None
    return due - timedelta(minutes=lead_minutes)


def is_due(release_at: datetime | str | None, now: datetime) -> bool:
    """Whether a release time has come (an unreadable or missing one has: print rather than
    hold for ever)."""
    when = parse_wix_time(release_at) if isinstance(release_at, str) else release_at
    return when is None or when <= now


def hold_until(order: Order, lead_minutes: float, now: datetime) -> str:
    """The release time (Wix form) while ``order`` must still be held, else ""."""
    when = release_time(order, lead_minutes)
    if when is None or is_due(when, now):
        return ""
    return format_wix_time(when)
