"""The customer receipt: items and Wix's own totals, exactly as Wix stated them.

Nothing is added up here: subtotal, discounts, fees, VAT and total come from the order.
(A German fiscal receipt, KassenSichV/TSE, is a different document.)
"""

from __future__ import annotations

from wixprint.logs import get_logger
from wixprint.receipts import layout
from wixprint.receipts.layout import BIG, BOLD, PLAIN, TALL, Context, Payment
from wixprint.wix.model import Fulfillment

_log = get_logger("receipts")


def build(ctx: Context) -> None:
    sheet, lab, order = ctx.sheet, ctx.labels, ctx.order
    show_prices = ctx.config.layout.show_prices
    layout.banners(ctx)
    sheet.text(ctx.config.service.restaurant_name, BIG, align="center")
    for line in ctx.config.layout.header:
        sheet.text(line, PLAIN, align="center")
    sheet.rule()

    when = layout.long_date(order.created, lab) if order.created else ""
    sheet.pair(f"{lab.order} {layout.order_number(order)}", when, BOLD)
    kind = layout.fulfillment_label(order, lab)
    if order.fulfillment is Fulfillment.UNKNOWN:
        kind = order.fulfillment_title or ""  # the customer is not asked to check anything
    due = layout.due_text(order, lab)
    sheet.pair(kind, due or "", PLAIN)
    if order.contact is not None and order.fulfillment is not Fulfillment.DINE_IN:
        c = order.contact
        name = " ".join(n for n in (c.first_name, c.last_name) if n)
        if name:
            sheet.text(name, PLAIN)
    layout.custom_fields(ctx, big_table=False)
    sheet.rule()

    if not order.line_items:
        sheet.text(lab.no_items, PLAIN)
    for item in order.line_items:
        price = ctx.money(item.total_price) if show_prices and item.total_price is not None else ""
        sheet.item(item.quantity, item.name, PLAIN, price)
        indent = len(f"{item.quantity}x ")
        if show_prices and item.quantity != 1 and item.unit_price is not None:
            sheet.text(f"{lab.each} {ctx.money(item.unit_price)}", PLAIN, indent=indent)
        layout.modifiers(ctx, [(m.name, m.value) for m in item.modifiers], indent)
    sheet.rule()

    _totals(ctx)
    sheet.rule()
    state, amount = layout.payment(order)
    if state is Payment.COLLECT and amount is not None:
        collect = layout.collect_label(order, lab)
        sheet.text(f"{lab.not_paid} – {collect}", BOLD, align="center")
        sheet.pair(lab.to_collect, ctx.money(amount), TALL)
    elif state is Payment.PAID:
        sheet.text(lab.paid, TALL, align="center")
    elif state is Payment.REFUNDED:
        sheet.text(lab.refunded, TALL, align="center")
    layout.payment_method_line(ctx)

    if ctx.config.layout.footer:
        sheet.rule()
        for line in ctx.config.layout.footer:
            sheet.text(line, PLAIN, align="center")
    sheet.rule()
    layout.footer(ctx)


def _totals(ctx: Context) -> None:
    sheet, lab, order = ctx.sheet, ctx.labels, ctx.order
    if order.subtotal is not None:
        sheet.pair(lab.subtotal, ctx.money(order.subtotal))
    if order.discounts:
        for d in order.discounts:
            name = d.name or lab.discount
            if d.code and d.code != d.name:
                name = f"{lab.coupon} {d.code}" + (f" ({d.name})" if d.name else "")
            sheet.pair(name, ctx.money(-d.amount) if d.amount is not None else "")
    elif order.discount:
        sheet.pair(lab.discount, ctx.money(-order.discount))
    if order.shipping or (order.shipping is not None and order.fulfillment is Fulfillment.DELIVERY):
        sheet.pair(lab.delivery_fee, ctx.money(order.shipping))
    if order.fees:
        for fee in order.fees:
            amount = ctx.money(fee.amount) if fee.amount is not None else ""
            sheet.pair(fee.name or lab.fee, amount)
    elif order.additional_fees:
        sheet.pair(lab.fees, ctx.money(order.additional_fees))
    if order.total is not None:
        sheet.rule("=")
        sheet.pair(lab.total.upper(), ctx.money(order.total), TALL)
    vat = lab.vat_included if order.tax_included is not False else lab.vat_added
    for t in order.tax_lines:
        rate = layout.tax_rate(t.rate, ctx.language)
        sheet.pair(f"{vat} {rate}", ctx.money(t.amount), indent=2)
    if order.tax_unitemized and order.tax is not None:
        # Wix says there is VAT but no rate could be read: show the sum and say so.
        sheet.pair(vat, ctx.money(order.tax), indent=2)
        sheet.text(lab.vat_unitemized, PLAIN, indent=2)
        _log.warning("receipt_vat_unitemized", order=order.number)
