"""The notice slip of a held pre-order: "it came, it is not for now".

Printed once at the kitchen printers when an order is held (``[layout] preorder_notice``),
so staff know a pre-order exists and when its real tickets will come. It lists no items: a
slip with dishes on the rail gets cooked.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from wixprint.receipts import layout
from wixprint.receipts.layout import BAR, BOLD, TALL, Context
from wixprint.receipts.schedule import release_time


def build(ctx: Context) -> None:
    sheet, lab, order = ctx.sheet, ctx.labels, ctx.order
    layout.banners(ctx)
    sheet.bar(lab.preorder, BAR)
    layout.header(ctx)
    layout.fulfillment(ctx)
    sheet.text(lab.preorder_hint, BOLD)
    release = release_time(order, ctx.config.layout.preorder_lead)
    if release is not None:
        local = release.astimezone(ZoneInfo(ctx.config.service.timezone))
        sheet.text(lab.preorder_release.format(time=local.strftime("%H:%M")), TALL)
    sheet.rule()
    layout.footer(ctx)
