"""The sample orders shipped with the simulation, and fresh orders cloned from them.

``orders/`` holds the classic samples (delivery, pickup, dine-in, cash, canceled): the demo
clones them. ``shapes/`` holds what real restaurant sites also send (a table reservation, a
gift card, a Stores item, taxInfo-only VAT, modifier groups, a scheduled order, a POS order,
fulfilment titles without an address, PENDING and REJECTED), each with the answer of the
Order Transactions API for it (``transactions-<name>.json``).
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import timedelta
from importlib import resources
from typing import Any

from wixprint.wix.intake import format_wix_time, parse_wix_time

__all__ = ["fixture_orders", "number_of", "shape_orders", "shape_transactions", "shift_dates"]


def fixture_orders() -> list[dict[str, Any]]:
    """The orders in ``wixprint/sim/orders`` (fresh copies on every call)."""
    return copy.deepcopy(list(_load("orders", "order-").values()))


def shape_orders() -> dict[str, dict[str, Any]]:
    """The orders in ``wixprint/sim/shapes`` by file name without ``.json`` (fresh copies)."""
    return copy.deepcopy(_load("shapes", "order-"))


def shape_transactions() -> dict[str, dict[str, Any]]:
    """``orderTransactions`` of the shapes, by order id (fresh copies)."""
    answers = _load("shapes", "transactions-").values()
    by_id = {a["orderTransactions"]["orderId"]: a["orderTransactions"] for a in answers}
    return copy.deepcopy(by_id)


@functools.cache
def _load(folder_name: str, prefix: str) -> dict[str, dict[str, Any]]:
    folder = resources.files("wixprint.sim") / folder_name
    entries = sorted(
        (e for e in folder.iterdir() if e.name.startswith(prefix) and e.name.endswith(".json")),
        key=lambda e: e.name,
    )
    return {e.name[: -len(".json")]: json.loads(e.read_text(encoding="utf-8")) for e in entries}


def number_of(order: dict[str, Any]) -> int | None:
    """The order number as an int, if it is one."""
    text = str(order.get("number", ""))
    return int(text) if text.isdigit() else None


def shift_dates(node: Any, shift: timedelta) -> Any:
    """A deep copy with every timestamp under a ``…Date``/``from``/``to`` key moved by ``shift``.

    Keeps each value's precision: milliseconds where it had them, whole seconds otherwise.
    """
    if isinstance(node, list):
        return [shift_dates(item, shift) for item in node]
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    moved: dict[str, Any] = {}
    for key, value in node.items():
        when = parse_wix_time(value) if _is_date_key(key) else None
        if when is None:
            moved[key] = shift_dates(value, shift)
        elif "." in value:
            moved[key] = format_wix_time(when + shift)
        else:
            moved[key] = (when + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moved


def _is_date_key(key: str) -> bool:
    return key.endswith("Date") or key in ("from", "to", "eventTime")
