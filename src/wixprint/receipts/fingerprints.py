"""What each receipt kind depends on, as a digest: a change means a CHANGED ticket of that kind.

One digest per kind that gets update tickets. Each covers exactly what its ticket tells the
station, so a correction reaches the station that needs it and no other:

* kitchen: every item (name, quantity, modifiers, menu section), the buyer's note, the
  fulfilment and its title, the checkout fields (the table number), the promised time;
* driver: the fulfilment and its title, the promised time, the recipient (name, company,
  phone), the address, the delivery zone, instructions and note, the total and what to
  collect at the door.

Left out on purpose: payment flags that change nothing at the stove, staff flags, the order
of items and modifiers (Wix reordering them is no change), text formatting of amounts
(``"5.0"`` and ``"5.00"`` are the same money) and the time zone (times are hashed in UTC).
The customer receipt has no digest: the guest has left with theirs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

from wixprint.receipts.layout import payment
from wixprint.wix.jsontext import safe_text
from wixprint.wix.model import Order

__all__ = ["FINGERPRINTED_KINDS", "fingerprints"]


def _utc(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat()


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount.normalize(), "f")


def _common(order: Order) -> dict[str, object]:
    common: dict[str, object] = {
        "fulfillment": order.fulfillment.value,
        "title": order.fulfillment_title,
        "due": [_utc(order.due_from), _utc(order.due_to)],
        "note": order.buyer_note,
    }
    if order.due_note:  # Wix's free-text due time, only when there is one
        common["due_note"] = order.due_note
    return common


def _kitchen(order: Order) -> dict[str, object]:
    items = sorted(
        [i.name, i.quantity, i.section_id or "", sorted([m.name, m.value] for m in i.modifiers)]
        for i in order.line_items
    )
    return _common(order) | {"items": items, "fields": sorted(order.custom_fields)}


def _driver(order: Order) -> dict[str, object]:
    contact, address = order.contact, order.address
    state, collect = payment(order)
    return _common(order) | {
        "contact": None
        if contact is None
        else [contact.first_name, contact.last_name, contact.company, contact.phone],
        "address": None
        if address is None
        else [address.line1, address.line2, address.postal_code, address.city, address.country],
        "region": order.region,
        "instructions": order.instructions,
        "total": _money(order.total),
        "payment": [state.value, _money(collect)],
    }


_CONTENT: Mapping[str, Callable[[Order], dict[str, object]]] = {
    "kitchen": _kitchen,
    "driver": _driver,
}
FINGERPRINTED_KINDS = frozenset(_CONTENT)
"""Receipt kinds that get CHANGED tickets when their digest changes."""


def _digest(payload: Mapping[str, object]) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # Parsed orders are clean already; the replacement keeps hashing total anyway.
    return hashlib.sha256(safe_text(text).encode("utf-8", "replace")).hexdigest()


def fingerprints(order: Order) -> dict[str, str]:
    """The digest of each fingerprinted receipt kind for ``order``."""
    return {kind: _digest(content(order)) for kind, content in _CONTENT.items()}
