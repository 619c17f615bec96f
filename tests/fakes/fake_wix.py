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
    "RawJsonShop",
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


class RawJsonShop(FakeWixShop):
    """The simulated shop, able to serve order entries as raw JSON text.

    Wix writes its answers with a serializer of its own: a lone surrogate as ``"\\ud83d"``,
    numbers of any length, nesting as deep as the data. ``raw_next`` puts such text into every
    later search answer verbatim, in front of the regular orders, so the client's decoder
    meets exactly those bytes. Every later one, not only the next: Wix keeps the order, so an
    answer lost on its way (a timeout, a closed connection) loses nothing but that answer.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._raw: list[str] = []

    def raw_next(self, entries: list[str]) -> None:
        """Every search answer from now on also carries these JSON texts in ``orders``."""
        self._raw.extend(entries)

    def handle_search(self, authorization: str | None, site_id: str | None, body: bytes) -> Reply:
        reply = super().handle_search(authorization, site_id, body)
        head = b'{"orders": ['
        if reply.status != 200 or not self._raw or not reply.body.startswith(head):
            return reply
        rest = reply.body[len(head) :]
        raw = ", ".join(self._raw).encode("utf-8")
        joined = head + raw + (b"" if rest.startswith(b"]") else b", ") + rest
        return Reply(reply.status, joined, dict(reply.headers))
