"""What prints: the per-line-item policy, the same on every intake path.

A Wix site's orders are not all food: table reservations (free ones are APPROVED at once,
total 0), gift cards, Bookings, Events, Pricing Plans and Stores merchandise all come through
the same Orders API. ``[wix] print_apps`` lists what prints, as kinds (``restaurants``,
``custom``, ``stores``, ``bookings``, ``events``, ``pricing_plans``, ``gift_cards``,
``table_reservations``) or raw Wix app ids; the default is the Wix Restaurants menus plus
custom line items (no app id: a deposit, a manual item).

Why an allow-list and not a list of apps to exclude: Wix adds apps, and an item of an app we
never heard of printing in the kitchen is the very fault this fixes; an unknown app is skipped
visibly instead (the caller logs and shows it), and one line in the configuration prints it.

An order without any line item prints as before (its kitchen ticket says so): nothing tells
what it is, and silence would hide it. An order whose items are all skipped prints nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from wixprint.config import Config
from wixprint.vocabulary import ItemKind
from wixprint.wix.model import LineItem, Order

__all__ = ["PrintSelection", "is_printable_item", "printable_items", "select_items"]


@dataclass(frozen=True, slots=True)
class PrintSelection:
    """An order's line items split by the policy."""

    items: tuple[LineItem, ...]
    """The items that print (kitchen, and the lists on the other tickets)."""
    skipped: tuple[LineItem, ...]
    """The items that never print under this configuration."""

    @property
    def prints(self) -> bool:
        """Whether the order prints at all: something printable, or no line items at all."""
        return bool(self.items) or not self.skipped

    def skipped_kinds(self) -> tuple[str, ...]:
        """What was skipped, for logs and ``/orders``: kinds, and app ids of unknown apps."""
        names = (
            (i.app_id or ItemKind.OTHER.value) if i.kind is ItemKind.OTHER else i.kind.value
            for i in self.skipped
        )
        return tuple(dict.fromkeys(names))


def is_printable_item(item: LineItem, print_apps: list[str] | tuple[str, ...]) -> bool:
    """Whether ``item`` prints: its kind or its app id is listed."""
    if item.kind.value in print_apps:
        return True
    app_id = (item.app_id or "").strip().lower()
    return bool(app_id) and app_id in (a.strip().lower() for a in print_apps)


def select_items(order: Order, config: Config) -> PrintSelection:
    """Split ``order``'s line items by ``config.wix.print_apps``, keeping their order."""
    apps = config.wix.print_apps
    printable = tuple(i for i in order.line_items if is_printable_item(i, apps))
    skipped = tuple(i for i in order.line_items if not is_printable_item(i, apps))
    return PrintSelection(items=printable, skipped=skipped)


def printable_items(order: Order, config: Config) -> tuple[LineItem, ...]:
    """The line items of ``order`` that print under ``config``."""
    return select_items(order, config).items
