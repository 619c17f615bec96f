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


class Fulfillment(enum.Enum):
    DELIVERY = "delivery"
    PICKUP = "pickup"
    DINE_IN = "dine_in"
    """No shippingInfo at all: POS or dine-in."""


@dataclass(frozen=True, slots=True)
class Modifier:
    """One ``descriptionLines`` entry: ``name: value`` (value may be empty)."""

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
    """``catalogReference.appId``: the Wix app that sold the item (None for custom items)."""


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
    """VAT per rate, as Wix stated it per line (and for shipping), grouped by rate."""


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    order: Order
    warnings: tuple[str, ...] = field(default=())
    """Fields of unexpected type, by path (never their values: they may hold personal data)."""
