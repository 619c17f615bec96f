"""Parsing a Wix eCommerce Order object into the ``Order`` model.

Every Wix field is optional: absent is not an error. A field of the wrong type is reported in
``ParsedOrder.warnings`` by path (never its value) and treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from wixprint.wix.model import (
    Address,
    Contact,
    Discount,
    Fee,
    Fulfillment,
    LineItem,
    Modifier,
    Order,
    ParsedOrder,
    TaxLine,
)
from wixprint.wixtime import parse_wix_time

# Wix marks every field optional and sources disagree on types, so no shape is trusted: each
# read names its path; a wrong type becomes a warning and the field counts as absent.
_Obj = Mapping[str, object]
_PICKUP_WORDS = ("abhol", "pickup", "pick-up", "pick up", "collect", "take away", "takeaway")
MAX_AMOUNT = Decimal(10) ** 9
"""Amounts and rates at or beyond this are unreadable (a warning): no sum of them can then
overflow ``Decimal``'s context, and no receipt line can be absurdly long."""


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def get(self, m: _Obj | None, key: str, path: str, typ: type | tuple[type, ...]) -> Any:
        value = None if m is None else m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) and typ is not bool:
            value = _WRONG  # JSON true/false is an int to Python, never a number to Wix
        if not isinstance(value, typ):
            self.warnings.append(f"{path}.{key}" if path else key)
            return None
        return value

    def obj(self, m: _Obj | None, key: str, path: str) -> _Obj | None:
        result: _Obj | None = self.get(m, key, path, Mapping)
        return result

    def objs(self, m: _Obj | None, key: str, path: str) -> list[tuple[str, _Obj]]:
        """The mappings of a list, each with its path; other elements are warned about."""
        items: list[object] = self.get(m, key, path, list) or []
        base = f"{path}.{key}" if path else key
        out: list[tuple[str, _Obj]] = []
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                out.append((f"{base}[{i}]", item))
            else:
                self.warnings.append(f"{base}[{i}]")
        return out

    def text(self, m: _Obj | None, key: str, path: str) -> str | None:
        result: str | None = self.get(m, key, path, str)
        return result

    def localized(self, m: _Obj | None, key: str, path: str) -> str | None:
        """A ``{original, translated}`` text: the original (site language)."""
        bare = None if m is None else m.get(key)
        if isinstance(bare, str):
            return bare
        inner = self.obj(m, key, path)
        sub = f"{path}.{key}" if path else key
        original = self.text(inner, "original", sub)
        return original if original is not None else self.text(inner, "translated", sub)

    def decimal(self, m: _Obj | None, key: str, path: str) -> Decimal | None:
        value = self.get(m, key, path, (str, int))
        if value is None:
            return None
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except ArithmeticError:
            result = Decimal("NaN")
        if not result.is_finite() or abs(result) >= MAX_AMOUNT:
            self.warnings.append(f"{path}.{key}" if path else key)
            return None
        return result

    def money(self, m: _Obj | None, key: str, path: str) -> Decimal | None:
        """A Wix ``Price`` ``{amount, formattedAmount}``: the amount string as a Decimal."""
        return self.decimal(self.obj(m, key, path), "amount", f"{path}.{key}" if path else key)

    def time(self, m: _Obj | None, key: str, path: str, tz: ZoneInfo) -> datetime | None:
        raw = self.text(m, key, path)
        if raw is None or not raw.strip():
            return None
        parsed = parse_wix_time(raw)
        if parsed is None:
            self.warnings.append(f"{path}.{key}" if path else key)
            return None
        return parsed.astimezone(tz)


_WRONG = object()


def _raw_text(m: _Obj, key: str) -> str | None:
    value = m.get(key)
    return value if isinstance(value, str) else None


def _blank(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def parse_order(raw: Mapping[str, object], tz: ZoneInfo) -> ParsedOrder:
    """Turn a Wix Order object into an ``Order``; a field's shape never makes it fail.

    Raises ``ValueError`` only when ``id`` is missing or not a string: an order without an
    identity cannot be spooled or deduplicated.

    Fulfillment: ``shippingInfo.logistics.shippingDestination`` ⇒ DELIVERY, ``pickupDetails``
    ⇒ PICKUP, no ``shippingInfo`` ⇒ DINE_IN. A ``shippingInfo`` with neither is PICKUP when its
    title reads like one ("Abholung", "Pickup", ...), else DELIVERY: a driver slip without an
    address makes staff call the customer, a wrong "pickup" leaves the food on the counter.

    ``tax_lines`` groups the VAT Wix stated (``taxDetails.totalTax`` of each line item, of
    ``shippingInfo.cost`` and of each additional fee) by ``taxRate``. Rates are never applied
    and amounts never recomputed: the receipt shows Wix's own numbers.
    """
    r = _Reader()
    order_id = raw.get("id") if isinstance(raw, Mapping) else None
    if not isinstance(order_id, str) or not order_id:
        raise ValueError("order has no id")
    number = r.get(raw, "number", "", (str, int))

    ship = r.obj(raw, "shippingInfo", "")
    lp = "shippingInfo.logistics"
    logistics = r.obj(ship, "logistics", "shippingInfo")
    destination = r.obj(logistics, "shippingDestination", lp)
    pickup = r.obj(logistics, "pickupDetails", lp)
    title = _blank(r.text(ship, "title", "shippingInfo"))
    if ship is None:
        fulfillment = Fulfillment.DINE_IN
    elif destination is not None:
        fulfillment = Fulfillment.DELIVERY
    elif pickup is not None or any(w in (title or "").casefold() for w in _PICKUP_WORDS):
        fulfillment = Fulfillment.PICKUP
    else:
        fulfillment = Fulfillment.DELIVERY
    slot = r.obj(logistics, "deliveryTimeSlot", lp)

    dp = f"{lp}.shippingDestination"
    contact = _contact(r, destination, dp)
    for key in ("recipientInfo", "billingInfo"):
        contact = contact or _contact(r, r.obj(raw, key, ""), key)

    items: list[LineItem] = []
    taxes: list[tuple[Decimal | None, Decimal | None]] = []
    for path, item in r.objs(raw, "lineItems", ""):
        parsed, tax = _line_item(r, item, path)
        items.append(parsed)
        taxes.append((parsed.tax_rate, tax))
    taxes.append(_tax(r, r.obj(ship, "cost", "shippingInfo"), "shippingInfo.cost"))
    fees: list[Fee] = []
    for path, fee in r.objs(raw, "additionalFees", ""):
        fees.append(Fee(name=r.text(fee, "name", path) or "", amount=r.money(fee, "price", path)))
        taxes.append(_tax(r, fee, path))

    summary = r.obj(raw, "priceSummary", "")
    order = Order(
        id=order_id,
        number=str(number) if number is not None else "",
        status=r.text(raw, "status", "") or "",
        payment_status=_blank(r.text(raw, "paymentStatus", "")),
        created=r.time(raw, "createdDate", "", tz),
        updated=r.time(raw, "updatedDate", "", tz),
        created_raw=_raw_text(raw, "createdDate"),
        updated_raw=_raw_text(raw, "updatedDate"),
        fulfillment=fulfillment,
        fulfillment_title=title,
        due_from=r.time(slot, "from", f"{lp}.deliveryTimeSlot", tz),
        due_to=r.time(slot, "to", f"{lp}.deliveryTimeSlot", tz),
        channel=_blank(r.text(r.obj(raw, "channelInfo", ""), "type", "channelInfo")),
        line_items=tuple(items),
        buyer_note=_blank(r.text(raw, "buyerNote", "")),
        contact=contact,
        address=_address(r, destination, dp) if fulfillment is Fulfillment.DELIVERY else None,
        instructions=_blank(r.text(logistics, "instructions", lp)),
        region=_blank(r.text(r.obj(ship, "region", "shippingInfo"), "name", "shippingInfo.region")),
        custom_fields=_custom_fields(r, raw),
        currency=_blank(r.text(raw, "currency", "")) or "EUR",
        tax_included=r.get(raw, "taxIncludedInPrices", "", bool),
        subtotal=r.money(summary, "subtotal", "priceSummary"),
        shipping=r.money(summary, "shipping", "priceSummary"),
        discount=r.money(summary, "discount", "priceSummary"),
        additional_fees=r.money(summary, "totalAdditionalFees", "priceSummary"),
        tax=r.money(summary, "tax", "priceSummary"),
        total=r.money(summary, "total", "priceSummary"),
        balance=r.money(r.obj(raw, "balanceSummary", ""), "balance", "balanceSummary"),
        discounts=_discounts(r, raw),
        fees=tuple(fees),
        tax_lines=_group_taxes(taxes),
    )
    return ParsedOrder(order=order, warnings=tuple(dict.fromkeys(r.warnings)))


def _line_item(r: _Reader, item: _Obj, path: str) -> tuple[LineItem, Decimal | None]:
    modifiers: list[Modifier] = []
    for mp, line in r.objs(item, "descriptionLines", path):
        name = (r.localized(line, "name", mp) or "").strip()
        if not name:
            continue
        value = r.localized(line, "plainText", mp)
        if value is None:
            value = r.localized(line, "colorInfo", mp)
        modifiers.append(Modifier(name=name, value=(value or "").strip()))
    catalog = r.obj(item, "catalogReference", path)
    options = r.obj(catalog, "options", f"{path}.catalogReference")
    quantity = r.get(item, "quantity", path, int)
    rate, tax = _tax(r, item, path)
    parsed = LineItem(
        id=r.text(item, "id", path) or "",
        name=(r.localized(item, "productName", path) or "").strip(),
        quantity=1 if quantity is None else quantity,
        modifiers=tuple(modifiers),
        unit_price=r.money(item, "price", path),
        total_price=r.money(item, "totalPriceAfterTax", path),
        tax_rate=rate,
        section_id=_blank(r.text(options, "sectionId", f"{path}.catalogReference.options")),
        app_id=_blank(r.text(catalog, "appId", f"{path}.catalogReference")),
    )
    return parsed, tax


def _tax(r: _Reader, m: _Obj | None, path: str) -> tuple[Decimal | None, Decimal | None]:
    details = r.obj(m, "taxDetails", path)
    p = f"{path}.taxDetails"
    return r.decimal(details, "taxRate", p), r.money(details, "totalTax", p)


def _group_taxes(taxes: list[tuple[Decimal | None, Decimal | None]]) -> tuple[TaxLine, ...]:
    grouped: dict[Decimal, Decimal] = {}
    for rate, amount in taxes:
        if rate is not None and amount is not None:
            grouped[rate] = grouped.get(rate, Decimal(0)) + amount
    return tuple(TaxLine(rate=k, amount=v) for k, v in sorted(grouped.items()) if v != 0)


def _contact(r: _Reader, holder: _Obj | None, path: str) -> Contact | None:
    details = r.obj(holder, "contactDetails", path)
    p = f"{path}.contactDetails"
    contact = Contact(
        first_name=_blank(r.text(details, "firstName", p)),
        last_name=_blank(r.text(details, "lastName", p)),
        phone=_blank(r.text(details, "phone", p)),
        company=_blank(r.text(details, "company", p)),
    )
    return None if contact == Contact() else contact


def _address(r: _Reader, holder: _Obj | None, path: str) -> Address | None:
    p = f"{path}.address"
    addr = r.obj(holder, "address", path)
    line1 = _blank(r.text(addr, "addressLine", p))
    street = r.obj(addr, "streetAddress", p)
    sp = f"{p}.streetAddress"
    street_line = " ".join(
        s for s in (r.text(street, "name", sp), r.text(street, "number", sp)) if s and s.strip()
    )
    address = Address(
        line1=line1 or _blank(street_line),
        line2=_blank(r.text(addr, "addressLine2", p)),
        postal_code=_blank(r.text(addr, "postalCode", p)),
        city=_blank(r.text(addr, "city", p)),
        country=_blank(r.text(addr, "country", p)),
    )
    return None if address == Address() else address


def _custom_fields(r: _Reader, raw: _Obj) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for path, cf in r.objs(raw, "customFields", ""):
        title = _blank(r.text(cf, "translatedTitle", path)) or r.text(cf, "title", path) or ""
        value = cf.get("value")
        if value is None or isinstance(value, (dict, list)):
            if value is not None:
                r.warnings.append(f"{path}.value")
            continue
        text = ("ja" if value else "nein") if isinstance(value, bool) else str(value)
        if title.strip() or text.strip():
            out.append((title.strip(), text.strip()))
    return tuple(out)


def _discounts(r: _Reader, raw: _Obj) -> tuple[Discount, ...]:
    out: list[Discount] = []
    for path, d in r.objs(raw, "appliedDiscounts", ""):
        coupon = r.obj(d, "coupon", path)
        merchant = r.obj(d, "merchantDiscount", path)
        rule = r.obj(d, "discountRule", path)
        if coupon is not None:
            cp = f"{path}.coupon"
            code = _blank(r.text(coupon, "code", cp))
            name = _blank(r.text(coupon, "name", cp)) or code or ""
            out.append(Discount(name=name, code=code, amount=r.money(coupon, "amount", cp)))
        elif merchant is not None:
            mp = f"{path}.merchantDiscount"
            reason = _blank(r.text(merchant, "description", mp))
            reason = reason or _blank(r.text(merchant, "discountReason", mp)) or ""
            out.append(Discount(name=reason, code=None, amount=r.money(merchant, "amount", mp)))
        elif rule is not None:
            rp = f"{path}.discountRule"
            name = _blank(r.localized(rule, "name", rp)) or ""
            out.append(Discount(name=name, code=None, amount=r.money(rule, "amount", rp)))
    return tuple(out)
