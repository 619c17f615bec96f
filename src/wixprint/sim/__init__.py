"""A simulated Wix shop (HTTP API and signed webhooks) for the tests and ``wixprint demo``."""

from __future__ import annotations

from wixprint.sim.shop import create_shop_app, serve_shop
from wixprint.sim.state import FakeWixShop, Reply, ShopStatistics
from wixprint.sim.webhooks import (
    ORDER_EVENT_SLUGS,
    OrderEventSlug,
    generate_signing_key,
    order_event_envelope,
    sign_event,
    sign_webhook_for_shop,
)

__all__ = [
    "ORDER_EVENT_SLUGS",
    "FakeWixShop",
    "OrderEventSlug",
    "Reply",
    "ShopStatistics",
    "create_shop_app",
    "generate_signing_key",
    "order_event_envelope",
    "serve_shop",
    "sign_event",
    "sign_webhook_for_shop",
]
