"""The order as receipts need it, parsed from a Wix eCommerce Order object.

Every Wix field is optional: absent is not an error. A field of the wrong type is reported in
``ParsedOrder.warnings`` and treated as absent. Money stays ``Decimal`` from Wix's strings and
is never recomputed; times are converted to the restaurant's zone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from wixprint.vocabulary import ItemKind

CANCELED_STATUSES = ("CANCELED", "REJECTED")
"""Statuses after which nothing of the order may be cooked."""


class Fulfillment(enum.Enum):
    DELIVERY = "delivery"
    """Wix gave a delivery address (``shippingDestination``): the only proof of delivery."""
    PICKUP = "pickup"
    DINE_IN = "dine_in"
    UNKNOWN = "unknown"
    """Nothing tells how the food leaves the kitchen: printed as such, never as delivery."""


class PaymentMethod(enum.Enum):
    """How an order is (to be) paid, from the Order Transactions API (``wix/payments.py``)."""

    CASH = "cash"
    CARD = "card"
    """Paid or to be paid by card on site (terminal at the counter or the door)."""
    ONLINE = "online"
    """Paid through the website's checkout (card, PayPal, Klarna, ...): nothing to collect."""
    GIFT_CARD = "gift_card"
    OFFLINE = "offline"
    """Paid on site, method not stated ("InPerson", "Offline")."""


@dataclass(frozen=True, slots=True)
class Modifier:
    """One modifier, variant or note: ``name: value``.

    From ``descriptionLines`` (value may be empty) or from
    ``catalogReference.options.modifierGroups`` / ``priceVariant`` (name may be empty when
    Wix sent none: the value stands alone then).
    """

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    name: str
    quantity: int
    modifiers: tuple[Modifier, ...] = ()
    unit_price: Decimal | None = None
    total_price: Decimal | None = None
    """``totalPriceAfterTax``: the line total after discounts."""
    tax_rate: Decimal | None = None
    section_id: str | None = None
    """``catalogReference.options.sectionId``: the menu section (station routing)."""
    app_id: str | None = None
    """``catalogReference.appId``: the Wix app that sold it; None for a custom line item."""
    catalog_item_id: str | None = None
    item_type: str | None = None
    """``itemType.preset``: PHYSICAL, DIGITAL, GIFT_CARD, SERVICE, or None."""
    kind: ItemKind = ItemKind.CUSTOM
    """What it is (dish, reservation, gift card, ...), decided from ``app_id`` and
    ``item_type`` by ``wix/apps.py``; what prints is ``wix/printable.py``'s decision."""


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Discount:
    name: str
    code: str | None
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class Fee:
    name: str
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    number: str
    status: str
    """APPROVED, CANCELED, INITIALIZED or whatever Wix sends."""
    payment_status: str | None
    created: datetime | None
    """Local time (aware, restaurant zone)."""
    updated: datetime | None
    created_raw: str | None
    """``createdDate`` exactly as Wix sent it (UTC ISO string), for marks and ordering."""
    updated_raw: str | None
    fulfillment: Fulfillment
    fulfillment_title: str | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    due_note: str | None = None
    """``logistics.deliveryTime``: Wix's free-text due time, printed when there is no slot."""
    channel: str | None = None
    line_items: tuple[LineItem, ...] = ()
    buyer_note: str | None = None
    contact: Contact | None = None
    """Who receives the order: delivery destination contact, else recipient, else billing."""
    address: Address | None = None
    """Delivery destination address (delivery only)."""
    instructions: str | None = None
    region: str | None = None
    custom_fields: tuple[tuple[str, str], ...] = ()
    currency: str = "EUR"
    tax_included: bool | None = None
    """``taxIncludedInPrices``: VAT is contained in the prices (German gross prices)."""
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    discount: Decimal | None = None
    additional_fees: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    balance: Decimal | None = None
    """Amount still to collect (``balanceSummary.balance``)."""
    discounts: tuple[Discount, ...] = ()
    fees: tuple[Fee, ...] = ()
    tax_lines: tuple[TaxLine, ...] = ()
    """VAT per rate, as Wix stated it (``taxInfo`` first, deprecated ``taxDetails`` after),
    grouped by rate."""
    payment_methods: tuple[PaymentMethod, ...] = ()
    """From the Order Transactions API, not the order: empty until someone fetched and
    applied them (``wix/payments.py``). Unknown is printed as unknown, never as cash."""

    @property
    def is_canceled(self) -> bool:
        """Canceled or rejected: nothing of it may be cooked."""
        return self.status in CANCELED_STATUSES

    @property
    def tax_unitemized(self) -> bool:
        """Wix says the order carries tax, but no VAT line per rate could be read."""
        return not self.tax_lines and bool(self.tax)


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    order: Order
    warnings: tuple[str, ...] = field(default=())
    """Fields of unexpected type, by path (never their values: they may hold personal data)."""
