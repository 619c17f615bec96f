"""Value types several layers share: what a printer reports, what a ticket announces and
where it goes.

They sit at the bottom with ``errors`` and import nothing from the service, so the errors, the
events, the spool and the pure receipts can all speak them without pointing upward.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = ["UNKNOWN", "AuthCause", "ItemKind", "JobTarget", "Paper", "PrinterStatus", "Variant"]

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
