"""Parsing a Wix eCommerce Order object into the ``Order`` model.

Every Wix field is optional: absent is not an error. A field of the wrong type is reported in
``ParsedOrder.warnings`` by path (never its value) and treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from wixprint.wix.fulfilment import decide_fulfilment
from wixprint.wix.model import Address, Contact, Fulfillment, LineItem, Order, ParsedOrder
from wixprint.wix.parse_items import parse_line_item
from wixprint.wix.parse_money import (
    TaxPart,
    discounts,
    fees,
    line_taxes,
    order_tax,
    order_tax_lines,
)
from wixprint.wix.reader import Obj, Reader, blank, raw_text


def parse_order(raw: Mapping[str, object], tz: ZoneInfo) -> ParsedOrder:
    """Turn a Wix Order object into an ``Order``; a field's shape never makes it fail.

    Raises ``ValueError`` only when the id is missing or not a string: an order without an
    identity cannot be spooled or deduplicated. REST names are read first, the JavaScript
    SDK's (Velo ``events.js``) after: ``_id``, ``_createdDate``, ``addressLine1``.

    Fulfilment is never guessed as delivery: see ``wix/fulfilment.py``. VAT lines come from
    ``taxInfo`` with the deprecated ``taxDetails`` as fallback: see ``wix/parse_money.py``.
    Modifiers come from every place Wix puts them: see ``wix/parse_items.py``.
    """
    r = Reader()
    order_id = _order_id(raw)
    if order_id is None:
        raise ValueError("order has no id")
    number = r.get(raw, "number", "", (str, int))

    ship = r.obj(raw, "shippingInfo", "")
    lp = "shippingInfo.logistics"
    logistics = r.obj(ship, "logistics", "shippingInfo")
    destination = r.obj(logistics, "shippingDestination", lp)
    dp = f"{lp}.shippingDestination"
    address = _address(r, destination, dp)
    title = blank(r.text(ship, "title", "shippingInfo"))
    channel = blank(r.text(r.obj(raw, "channelInfo", ""), "type", "channelInfo"))
    custom_fields = _custom_fields(r, raw)
    fulfillment = decide_fulfilment(
        destination=address,
        has_pickup_details=r.obj(logistics, "pickupDetails", lp) is not None,
        title=title,
        channel=channel,
        custom_field_titles=[t for t, _ in custom_fields],
    )
    slot = r.obj(logistics, "deliveryTimeSlot", lp)

    contact = _contact(r, destination, dp)
    for key in ("recipientInfo", "billingInfo"):
        contact = contact or _contact(r, r.obj(raw, key, ""), key)

    items: list[LineItem] = []
    taxes: list[TaxPart] = []
    for path, item in r.objs(raw, "lineItems", ""):
        parsed, parts = parse_line_item(r, item, path)
        items.append(parsed)
        taxes.extend(parts)
    taxes.extend(line_taxes(r, r.obj(ship, "cost", "shippingInfo"), "shippingInfo.cost")[1])
    fee_list, fee_taxes = fees(r, raw)
    taxes.extend(fee_taxes)

    summary = r.obj(raw, "priceSummary", "")
    order = Order(
        id=order_id,
        number=str(number) if number is not None else "",
        status=r.text(raw, "status", "") or "",
        payment_status=blank(r.text(raw, "paymentStatus", "")),
        created=_time(r, raw, "createdDate", tz),
        updated=_time(r, raw, "updatedDate", tz),
        created_raw=_raw_time(raw, "createdDate"),
        updated_raw=_raw_time(raw, "updatedDate"),
        fulfillment=fulfillment,
        fulfillment_title=title,
        due_from=r.time(slot, "from", f"{lp}.deliveryTimeSlot", tz),
        due_to=r.time(slot, "to", f"{lp}.deliveryTimeSlot", tz),
        due_note=_one_line(blank(r.text(logistics, "deliveryTime", lp))),
        channel=channel,
        line_items=tuple(items),
        buyer_note=blank(r.text(raw, "buyerNote", "")),
        contact=contact,
        address=address if fulfillment is Fulfillment.DELIVERY else None,
        instructions=blank(r.text(logistics, "instructions", lp)),
        region=blank(r.text(r.obj(ship, "region", "shippingInfo"), "name", "shippingInfo.region")),
        custom_fields=custom_fields,
        currency=blank(r.text(raw, "currency", "")) or "EUR",
        tax_included=r.get(raw, "taxIncludedInPrices", "", bool),
        subtotal=r.money(summary, "subtotal", "priceSummary"),
        shipping=r.money(summary, "shipping", "priceSummary"),
        discount=r.money(summary, "discount", "priceSummary"),
        additional_fees=r.money(summary, "totalAdditionalFees", "priceSummary"),
        tax=order_tax(r, raw, summary),
        total=r.money(summary, "total", "priceSummary"),
        balance=r.money(r.obj(raw, "balanceSummary", ""), "balance", "balanceSummary"),
        discounts=discounts(r, raw),
        fees=fee_list,
        tax_lines=order_tax_lines(r, raw, taxes),
    )
    return ParsedOrder(order=order, warnings=tuple(dict.fromkeys(r.warnings)))


def _order_id(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    for key in ("id", "_id"):
        value = raw.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _time(r: Reader, raw: Obj, key: str, tz: ZoneInfo) -> datetime | None:
    """``createdDate``, or the SDK's ``_createdDate``."""
    sdk = f"_{key}"
    return r.time(raw, key if key in raw or sdk not in raw else sdk, "", tz)


def _raw_time(raw: Obj, key: str) -> str | None:
    """The timestamp exactly as Wix sent it (UTC ISO string), for marks and ordering."""
    return raw_text(raw, key) or raw_text(raw, f"_{key}")


def _one_line(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


def _contact(r: Reader, holder: Obj | None, path: str) -> Contact | None:
    details = r.obj(holder, "contactDetails", path)
    p = f"{path}.contactDetails"
    contact = Contact(
        first_name=blank(r.text(details, "firstName", p)),
        last_name=blank(r.text(details, "lastName", p)),
        phone=blank(r.text(details, "phone", p)),
        company=blank(r.text(details, "company", p)),
    )
    return None if contact == Contact() else contact


def _address(r: Reader, holder: Obj | None, path: str) -> Address | None:
    p = f"{path}.address"
    addr = r.obj(holder, "address", path)
    line1 = blank(r.first_text(addr, ("addressLine", "addressLine1"), p))
    street = r.obj(addr, "streetAddress", p)
    sp = f"{p}.streetAddress"
    street_line = " ".join(
        s for s in (r.text(street, "name", sp), r.text(street, "number", sp)) if s and s.strip()
    )
    address = Address(
        line1=line1 or blank(street_line),
        line2=blank(r.text(addr, "addressLine2", p)),
        postal_code=blank(r.text(addr, "postalCode", p)),
        city=blank(r.text(addr, "city", p)),
        country=blank(r.text(addr, "country", p)),
    )
    return None if address == Address() else address


def _custom_fields(r: Reader, raw: Obj) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for path, cf in r.objs(raw, "customFields", ""):
        title = blank(r.text(cf, "translatedTitle", path)) or r.text(cf, "title", path) or ""
        value = cf.get("value")
        if value is None or isinstance(value, (dict, list)):
            if value is not None:
                r.warnings.append(f"{path}.value")
            continue
        text = ("ja" if value else "nein") if isinstance(value, bool) else str(value)
        if title.strip() or text.strip():
            out.append((title.strip(), text.strip()))
    return tuple(out)
