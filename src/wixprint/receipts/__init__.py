"""Tickets: station routing, layout and ESC/POS rendering (pure; escpos imported lazily)."""

from __future__ import annotations

from wixprint.receipts.layout import Ticket, TicketRequest
from wixprint.receipts.render import render_ticket
from wixprint.receipts.routing import RoutedItems, plan_targets, route_items

__all__ = ["RoutedItems", "Ticket", "TicketRequest", "plan_targets", "render_ticket", "route_items"]
