"""The kitchen ticket: what to cook, by when, and nothing else (never prices)."""

from __future__ import annotations

from wixprint.receipts import layout
from wixprint.receipts.layout import BOLD, PLAIN, TALL, Context
from wixprint.receipts.routing import route_items
from wixprint.receipts.text import item_lines
from wixprint.wix.model import LineItem


def build(ctx: Context) -> None:
    sheet, lab, order = ctx.sheet, ctx.labels, ctx.order
    layout.banners(ctx)
    layout.header(ctx)
    layout.fulfillment(ctx)
    layout.custom_fields(ctx, big_table=True)
    sheet.rule()

    routed = route_items(order, ctx.printer, ctx.config)
    item_style = TALL if ctx.config.layout.large_items else BOLD
    if not routed.mine:
        sheet.text(lab.no_items, PLAIN)
    for item in routed.mine:
        _item(ctx, item, item_style)

    if order.buyer_note:
        sheet.rule()
        layout.note(ctx, lab.note, order.buyer_note, BOLD)

    if routed.elsewhere:
        sheet.rule()
        sheet.text(f"{lab.other_stations}:", BOLD)
        stations: dict[str, list[LineItem]] = {}
        for station, item in routed.elsewhere:
            stations.setdefault(station, []).append(item)
        for station, items in stations.items():
            sheet.text(station, PLAIN, label="> ")
            for item in items:
                sheet.blocks.extend(_indented(ctx, item))
    sheet.rule()
    layout.footer(ctx)


def _item(ctx: Context, item: LineItem, style: layout.Style) -> None:
    ctx.sheet.item(item.quantity, item.name, style)
    indent = len(f"{item.quantity}x ")
    layout.modifiers(ctx, [(m.name, m.value) for m in item.modifiers], indent)


def _indented(ctx: Context, item: LineItem) -> list[layout.TextLine]:
    """``  2x Apfelschorle`` for the other-stations list: names only, no modifiers."""
    sheet = ctx.sheet
    lines = item_lines(item.quantity, sheet.clean(item.name) or "?", sheet.columns - 2)
    return [layout.TextLine("  " + line) for line in lines]
