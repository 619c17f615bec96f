"""Which receipts an order needs, on which printers, and which items each kitchen station gets.

Pure functions of the order and the configuration: the spool calls ``plan_targets`` once
when an order first arrives; the renderer calls ``route_items`` for each kitchen ticket.

Kitchen routing: a printer with ``sections`` takes the items of those menu sections (every
such printer does, if two list the same section). Printers without ``sections`` take the
rest. If no kitchen printer is without ``sections``, the first kitchen printer takes the
rest, so an item of an unlisted section is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from wixprint.config import Config, PrinterConfig, ReceiptKind
from wixprint.vocabulary import JobTarget
from wixprint.wix.model import Fulfillment, LineItem, Order


@dataclass(frozen=True, slots=True)
class RoutedItems:
    mine: tuple[LineItem, ...]
    """The items this printer's kitchen ticket lists in full."""
    elsewhere: tuple[tuple[str, LineItem], ...]
    """(station name, item) for items other kitchen printers print."""


def station_name(printer: PrinterConfig) -> str:
    return printer.station or printer.name


def receipt_kinds(order: Order, config: Config) -> tuple[str, ...]:
    """The receipt kinds ``layout`` asks for this order's fulfillment, without repeats."""
    layout = config.layout
    by_fulfillment: dict[Fulfillment, list[ReceiptKind]] = {
        Fulfillment.DELIVERY: layout.delivery,
        Fulfillment.PICKUP: layout.pickup,
        Fulfillment.DINE_IN: layout.dine_in,
        Fulfillment.UNKNOWN: [k for k in layout.unknown if k != "driver"],
    }
    kinds = by_fulfillment[order.fulfillment]
    return tuple(dict.fromkeys(kinds))


def _kitchen_printers(config: Config) -> list[PrinterConfig]:
    return [p for p in config.printers if "kitchen" in p.receipts]


def _takers(item: LineItem, kitchens: list[PrinterConfig]) -> list[PrinterConfig]:
    """The kitchen printers that print ``item``, in configuration order."""
    by_section = [p for p in kitchens if p.sections and item.section_id in p.sections]
    if by_section:
        return by_section
    rest = [p for p in kitchens if not p.sections]
    return rest or kitchens[:1]


def route_items(order: Order, printer: PrinterConfig, config: Config) -> RoutedItems:
    """Split the order's items into this printer's and the other stations'.

    A printer that is not a kitchen printer in ``config`` (e.g. a one-off test) gets all.
    """
    kitchens = _kitchen_printers(config)
    if not any(p.name == printer.name for p in kitchens):
        return RoutedItems(mine=order.line_items, elsewhere=())
    mine: list[LineItem] = []
    elsewhere: list[tuple[str, LineItem]] = []
    for item in order.line_items:
        takers = _takers(item, kitchens)
        if any(p.name == printer.name for p in takers):
            mine.append(item)
        else:
            # One line per other station, once per station name.
            for station in dict.fromkeys(station_name(p) for p in takers):
                elsewhere.append((station, item))
    return RoutedItems(mine=tuple(mine), elsewhere=tuple(elsewhere))


def _kitchen_wants(order: Order, printer: PrinterConfig, config: Config) -> bool:
    if route_items(order, printer, config).mine:
        return True
    if order.line_items:
        return False  # everything went to other stations: nothing to print here
    # No items at all: still one kitchen ticket (saying so) where the rest would go.
    kitchens = _kitchen_printers(config)
    rest = [p for p in kitchens if not p.sections] or kitchens[:1]
    return any(p.name == printer.name for p in rest)


def plan_targets(order: Order, config: Config) -> tuple[JobTarget, ...]:
    """One target per (receipt kind, printer) this order needs; each unique.

    ``layout.copies`` never repeats a target: copies are printed inside one job.
    """
    targets: list[JobTarget] = []
    for kind in receipt_kinds(order, config):
        for printer in config.printers:
            if kind not in printer.receipts:
                continue
            if kind == "kitchen" and not _kitchen_wants(order, printer, config):
                continue
            targets.append(JobTarget(kind=kind, printer=printer.name))
    return tuple(dict.fromkeys(targets))
