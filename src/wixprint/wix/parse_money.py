"""Money beyond the totals: VAT per rate, discounts and fees, as Wix stated them.

VAT comes from ``taxInfo`` (current), falling back to the deprecated ``taxDetails`` /
``taxSummary`` ("use taxInfo instead"):

1. the order's ``taxInfo.taxBreakdown[]`` (``rate``, ``aggregatedTaxAmount``): Wix's own sum
   over lines, shipping and fees;
2. else per line item, shipping cost and fee: ``taxInfo.taxBreakdown[]`` (``rate``,
   ``taxAmount``), else ``taxInfo.taxRate`` with ``taxInfo.taxAmount``, else
   ``taxDetails.taxRate`` with ``taxDetails.totalTax``; grouped by rate.

Rates are never applied and amounts never recomputed: the receipt shows Wix's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from wixprint.wix.model import Discount, Fee, TaxLine
from wixprint.wix.reader import Obj, Reader, at, blank

__all__ = [
    "TaxPart",
    "discounts",
    "fees",
    "group_taxes",
    "line_taxes",
    "order_tax",
    "order_tax_lines",
]

TaxPart = tuple[Decimal, Decimal]
"""(rate, amount) of VAT."""


def line_taxes(r: Reader, m: Obj | None, path: str) -> tuple[Decimal | None, list[TaxPart]]:
    """The VAT rate and the VAT parts of a line item, a shipping cost or a fee."""
    ip = at(path, "taxInfo")
    info = r.obj(m, "taxInfo", path)
    rate = r.decimal(info, "taxRate", ip)
    parts = _complete(
        (r.decimal(b, "rate", bp), r.money(b, "taxAmount", bp))
        for bp, b in r.objs(info, "taxBreakdown", ip)
    )
    if not parts:
        parts = _complete([(rate, r.money(info, "taxAmount", ip))])
    dp = at(path, "taxDetails")
    details = r.obj(m, "taxDetails", path)
    old_rate = r.decimal(details, "taxRate", dp)
    if not parts:
        parts = _complete([(old_rate, r.money(details, "totalTax", dp))])
    return (rate if rate is not None else old_rate), parts


def order_tax_lines(r: Reader, raw: Obj, parts: list[TaxPart]) -> tuple[TaxLine, ...]:
    """VAT per rate: the order's own breakdown if it has one, else ``parts`` grouped."""
    ip = "taxInfo"
    info = r.obj(raw, "taxInfo", "")
    aggregated = _complete(
        (r.decimal(b, "rate", bp), r.money(b, "aggregatedTaxAmount", bp))
        for bp, b in r.objs(info, "taxBreakdown", ip)
    )
    return group_taxes(aggregated or parts)


def order_tax(r: Reader, raw: Obj, summary: Obj | None) -> Decimal | None:
    """The order's VAT: ``priceSummary.tax``, else ``taxInfo.totalTax``, else the deprecated
    ``taxSummary.totalTax``."""
    tax = r.money(summary, "tax", "priceSummary")
    if tax is None:
        tax = r.money(r.obj(raw, "taxInfo", ""), "totalTax", "taxInfo")
    if tax is None:
        tax = r.money(r.obj(raw, "taxSummary", ""), "totalTax", "taxSummary")
    return tax


def group_taxes(parts: list[TaxPart]) -> tuple[TaxLine, ...]:
    grouped: dict[Decimal, Decimal] = {}
    for rate, amount in parts:
        grouped[rate] = grouped.get(rate, Decimal(0)) + amount
    return tuple(TaxLine(rate=k, amount=v) for k, v in sorted(grouped.items()) if v != 0)


def _complete(pairs: Iterable[tuple[Decimal | None, Decimal | None]]) -> list[TaxPart]:
    """The pairs with both a rate and an amount."""
    return [(rate, amount) for rate, amount in pairs if rate is not None and amount is not None]


def fees(r: Reader, raw: Obj) -> tuple[tuple[Fee, ...], list[TaxPart]]:
    """``additionalFees[]`` (service fee, tip, ...) and their VAT parts."""
    out: list[Fee] = []
    parts: list[TaxPart] = []
    for path, fee in r.objs(raw, "additionalFees", ""):
        out.append(Fee(name=r.text(fee, "name", path) or "", amount=r.money(fee, "price", path)))
        parts.extend(line_taxes(r, fee, path)[1])
    return tuple(out), parts


def discounts(r: Reader, raw: Obj) -> tuple[Discount, ...]:
    out: list[Discount] = []
    for path, d in r.objs(raw, "appliedDiscounts", ""):
        coupon = r.obj(d, "coupon", path)
        merchant = r.obj(d, "merchantDiscount", path)
        rule = r.obj(d, "discountRule", path)
        if coupon is not None:
            cp = f"{path}.coupon"
            code = blank(r.text(coupon, "code", cp))
            name = blank(r.text(coupon, "name", cp)) or code or ""
            out.append(Discount(name=name, code=code, amount=r.money(coupon, "amount", cp)))
        elif merchant is not None:
            mp = f"{path}.merchantDiscount"
            reason = blank(r.text(merchant, "description", mp))
            reason = reason or blank(r.text(merchant, "discountReason", mp)) or ""
            out.append(Discount(name=reason, code=None, amount=r.money(merchant, "amount", mp)))
        elif rule is not None:
            rp = f"{path}.discountRule"
            name = blank(r.localized(rule, "name", rp)) or ""
            out.append(Discount(name=name, code=None, amount=r.money(rule, "amount", rp)))
    return tuple(out)
