"""The fake Wix API for tests: the package's simulated shop, plus a helper to run it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio

from wixprint.sim.shop import FakeWixShop, Reply, ShopStatistics, create_shop_app, serve_shop

__all__ = [
    "FakeWixShop",
    "Reply",
    "ShopStatistics",
    "create_shop_app",
    "open_fake_wix",
    "serve_shop",
]


@asynccontextmanager
async def open_fake_wix(
    shop: FakeWixShop | None = None, **shop_options: Any
) -> AsyncIterator[tuple[FakeWixShop, str]]:
    """Serve a shop on 127.0.0.1 (a free port) for the block; yields ``(shop, base_url)``.

    ``shop_options`` go to ``FakeWixShop`` when no shop is given.
    """
    the_shop = shop if shop is not None else FakeWixShop(**shop_options)
    async with trio.open_nursery() as nursery:
        base_url: str = await nursery.start(partial(serve_shop, the_shop))
        try:
            yield the_shop, base_url
        finally:
            nursery.cancel_scope.cancel()
