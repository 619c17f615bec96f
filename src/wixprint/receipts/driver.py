"""The driver slip: where to, whom to call, by when, and whether to collect money."""

from __future__ import annotations

from urllib.parse import quote_plus

from wixprint.receipts import layout
from wixprint.receipts.layout import BIG, BIG_BAR, BOLD, PLAIN, TALL, Context, Payment
from wixprint.wix.model import Address, Fulfillment


def build(ctx: Context) -> None:
    sheet, lab, order = ctx.sheet, ctx.labels, ctx.order
    layout.banners(ctx)
    sheet.text(lab.driver, BOLD, align="center")
    layout.header(ctx)
    layout.fulfillment(ctx, TALL)
    sheet.rule()

    contact = order.contact
    if contact is not None:
        name = " ".join(n for n in (contact.first_name, contact.last_name) if n)
        if name:
            sheet.text(name, TALL)
        if contact.company:
            sheet.text(contact.company, BOLD)
        if contact.phone:
            sheet.text(contact.phone, TALL, label=f"{lab.phone} ")

    address = order.address
    if address is not None:
        sheet.blank()
        if address.line1:
            sheet.text(address.line1, TALL)
        if address.line2:
            sheet.text(address.line2, BOLD)
        city = " ".join(p for p in (address.postal_code, address.city) if p)
        if city:
            sheet.text(city, TALL)
    elif order.fulfillment is Fulfillment.DELIVERY:
        sheet.blank()
        sheet.bar(lab.no_address)
    if order.region:
        sheet.text(order.region, PLAIN)

    if order.instructions or order.buyer_note:
        sheet.rule()
        label = lab.delivery_instructions
        if order.fulfillment is not Fulfillment.DELIVERY:
            label = lab.instructions
        layout.note(ctx, label, order.instructions)
        layout.note(ctx, lab.note, order.buyer_note)

    sheet.rule()
    if order.total is not None:
        sheet.pair(lab.total, ctx.money(order.total), BOLD)
    state, amount = layout.payment(order)
    if state is Payment.COLLECT and amount is not None:
        sheet.bar(lab.not_paid)
        sheet.bar(f"{layout.collect_label(order, lab)}: {ctx.money(amount)}", BIG_BAR)
    elif state is Payment.PAID:
        sheet.text(lab.paid, BIG, align="center")
    elif state is Payment.REFUNDED:
        sheet.text(lab.refunded, BIG, align="center")
    else:
        sheet.bar(lab.payment_unknown)
    layout.payment_method_line(ctx)

    if address is not None and maps_query(address):
        sheet.blank()
        sheet.qr(maps_url(address))
        sheet.text(lab.navigate, PLAIN, align="center")
    sheet.rule()
    layout.footer(ctx)


def maps_query(address: Address) -> str:
    """The address as one search string: street, postcode and city, country (no floor/bell)."""
    city = " ".join(p for p in (address.postal_code, address.city) if p)
    return ", ".join(p for p in (address.line1, city, address.country) if p)


def maps_url(address: Address) -> str:
    return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(maps_query(address))
