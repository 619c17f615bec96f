"""Value types several layers share: what a printer reports, what a ticket announces and
where it goes.

They sit at the bottom with ``errors`` and import nothing from the service, so the errors, the
events, the spool and the pure receipts can all speak them without pointing upward.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "STORED_TRANSACTIONS_KEY",
    "UNKNOWN",
    "AuthCause",
    "BusinessLocation",
    "ItemKind",
    "JobTarget",
    "Paper",
    "PrinterStatus",
    "Variant",
]

STORED_TRANSACTIONS_KEY = "wixprintOrderTransactions"
"""Where the spool puts an order's fetched Order Transactions answer beside the order's own
fields when it hands the order to a printer (a name Wix never sends): the parser reads the
payment method from there (``wix/payments.py``)."""

Paper = Literal["ok", "near_end", "out", "unknown"]


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    online: bool
    paper: Paper = "unknown"
    cover_open: bool = False
    error: bool = False
    """An error bit is set (autocutter, unrecoverable, head temperature)."""

    @property
    def can_print(self) -> bool:
        """True when a job sent now would print at once."""
        return self.online and not self.cover_open and not self.error and self.paper != "out"


UNKNOWN = PrinterStatus(online=False, paper="unknown")


class Variant(enum.Enum):
    """What a ticket announces."""

    NEW = "new"
    CHANGED = "changed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class JobTarget:
    """Where a ticket goes: one receipt kind on one printer."""

    kind: str
    """Receipt kind: kitchen, driver or customer."""
    printer: str


@dataclass(frozen=True, slots=True)
class BusinessLocation:
    """Where an order belongs on a site with several branches (``businessLocation`` of the
    order: ``{id, name}``), and the one rule for matching it against a configured location.

    A configured location is an id or a name (``[wix] location_id``, ``[[printers]]
    location``): a name is compared without case and outer spaces.
    """

    id: str | None = None
    name: str | None = None

    def matches(self, wanted: str) -> bool:
        """Whether this location is ``wanted``; an empty ``wanted`` matches every location."""
        want = wanted.strip().casefold()
        if not want:
            return True
        return any(v is not None and v.strip().casefold() == want for v in (self.id, self.name))

    @staticmethod
    def compatible(one: str, other: str) -> bool:
        """Whether two configured locations could both match one order: either is empty, or
        they are equal (an id and a name could name the same location, so they may)."""
        a, b = one.strip().casefold(), other.strip().casefold()
        if not a or not b or a == b:
            return True
        return _looks_like_id(a) != _looks_like_id(b)


def _looks_like_id(text: str) -> bool:
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdef" for c in text.replace("-", "")
    )


class ItemKind(enum.Enum):
    """What a Wix line item sells, as far as its ``catalogReference`` tells.

    The values are the names an owner writes in ``[wix] print_apps``; the app ids behind them
    are listed in ``wix/apps.py``.
    """

    RESTAURANTS = "restaurants"
    """A dish or drink of the Wix Restaurants menus."""
    CUSTOM = "custom"
    """A custom line item without ``catalogReference`` (deposit, manual item)."""
    STORES = "stores"
    BOOKINGS = "bookings"
    EVENTS = "events"
    PRICING_PLANS = "pricing_plans"
    GIFT_CARDS = "gift_cards"
    TABLE_RESERVATIONS = "table_reservations"
    OTHER = "other"
    """Any other app: printed only when its app id is listed in ``print_apps``."""


class AuthCause(enum.Enum):
    """The likely reason Wix refused our credentials (401/403), most likely first."""

    PERMISSION = "permission"
    """The API key lacks the "Read Orders" permission."""
    SITE_ID = "site_id"
    """The site ID is not the site the key may read."""
    ACCOUNT = "account"
    """The key was created by an account that does not own the site."""
    KEY = "key"
    """The key itself is missing, mistyped or revoked."""
