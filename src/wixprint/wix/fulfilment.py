"""How the food leaves the kitchen: delivery, pickup, dine-in, or unknown. Never guessed as
delivery.

Wix documents two proofs: ``logistics.shippingDestination`` (an address: delivery) and
``logistics.pickupDetails`` (pickup). Everything else is a signal, weighed in this order:

1. an address in ``shippingDestination`` ⇒ DELIVERY (a driver slip needs one; a destination
   with only a contact is no address);
2. ``pickupDetails`` ⇒ PICKUP;
3. the option's title in German or English: "Abholung", "Zum Mitnehmen", "Take-Away",
   "To go", "Pickup", "Collect" ⇒ PICKUP; "Vor Ort essen", "Im Restaurant", "Dine-in",
   "Eat in", "Am Tisch" ⇒ DINE_IN;
4. a table number among the checkout custom fields, or the order came from Wix POS ⇒ DINE_IN;
5. otherwise UNKNOWN, printed as such: no driver slip, no "LIEFERUNG". A title like
   "Lieferung" without an address stays unknown too: the staff must ask the customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wixprint.wix.model import Address, Fulfillment

__all__ = ["TABLE_TITLES", "decide_fulfilment", "is_table_title"]

_PICKUP = re.compile(
    r"\w*abhol\w*|\bmitnehm\w*|\btake ?away\b|\bto ?go\b|\bpick ?up\b|\bcollect\w*"
    r"|\bau(?:ss|ß)er haus\b|\bcarry ?out\b"
)
_DINE_IN = re.compile(
    r"\bvor ort\b|\bim (?:restaurant|lokal|haus)\b|\bam tisch\b|\bhier essen\b"
    r"|\bdine ?in\b|\beat ?in\b|\btable service\b|\btischservice\b"
)
TABLE_TITLES = ("tisch", "tischnummer", "tisch-nr.", "tisch nr.", "table", "table number")
"""Checkout custom field titles (casefolded) that name the table."""


def _words(title: str) -> str:
    return " ".join(title.casefold().replace("-", " ").replace("_", " ").split())


def is_table_title(title: str) -> bool:
    return title.strip().casefold() in TABLE_TITLES


def decide_fulfilment(
    *,
    destination: Address | None,
    has_pickup_details: bool,
    title: str | None,
    channel: str | None,
    custom_field_titles: Iterable[str],
) -> Fulfillment:
    """The fulfilment by the rules above; ``destination`` is the parsed delivery address."""
    if destination is not None and (
        destination.line1 or destination.postal_code or destination.city
    ):
        return Fulfillment.DELIVERY
    if has_pickup_details:
        return Fulfillment.PICKUP
    words = _words(title or "")
    if _PICKUP.search(words):
        return Fulfillment.PICKUP
    if _DINE_IN.search(words):
        return Fulfillment.DINE_IN
    if any(is_table_title(t) for t in custom_field_titles) or channel == "POS":
        return Fulfillment.DINE_IN
    return Fulfillment.UNKNOWN
