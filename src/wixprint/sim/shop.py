"""The simulated shop over HTTP: a quart-trio app and a hypercorn server for it.

Used by the tests (real sockets on 127.0.0.1, port 0) and by ``wixprint demo``, so the client
talks to the simulation exactly as it talks to Wix. All Wix behaviour lives in ``FakeWixShop``;
this shell only routes, applies the configured delay and writes the reply.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart import Response, request
from quart_trio import QuartTrio

from wixprint.sim.state import FakeWixShop, Reply, ShopStatistics

__all__ = ["FakeWixShop", "Reply", "ShopStatistics", "create_shop_app", "serve_shop"]


def create_shop_app(shop: FakeWixShop) -> QuartTrio:
    """The app serving ``shop``: search, get order, and order transactions."""
    app = QuartTrio("wixprint.sim")

    async def search_orders() -> Response:
        body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        auth, site = _credentials()
        return await _respond(shop, shop.handle_search(auth, site, body))

    async def get_order(order_id: str) -> Response:
        auth, site = _credentials()
        return await _respond(shop, shop.handle_get(auth, site, order_id))

    async def order_transactions(order_id: str) -> Response:
        auth, site = _credentials()
        return await _respond(shop, shop.handle_transactions(auth, site, order_id))

    app.add_url_rule("/ecom/v1/orders/search", "search", search_orders, methods=["POST"])
    app.add_url_rule("/ecom/v1/orders/<order_id>", "get_order", get_order, methods=["GET"])
    app.add_url_rule(
        "/ecom/v1/payments/orders/<order_id>",
        "order_transactions",
        order_transactions,
        methods=["GET"],
    )
    return app


def _credentials() -> tuple[str | None, str | None]:
    return request.headers.get("Authorization"), request.headers.get("wix-site-id")


async def _respond(shop: FakeWixShop, reply: Reply) -> Response:
    if shop.delay > 0:
        await trio.sleep(shop.delay)
    # Like every HTTP server, Wix dates its answers; the service checks its clock against it.
    headers = {"Date": format_datetime(shop.now().astimezone(UTC), usegmt=True), **reply.headers}
    return Response(reply.body, status=reply.status, headers=headers)


async def serve_shop(
    shop: FakeWixShop,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``shop`` until cancelled; reports the base URL (``http://127.0.0.1:<port>``)."""
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.include_date_header = False  # the shop's own clock dates its answers
    config.graceful_timeout = 1.0
    # Long keep-alive: under a virtual clock an idle poll interval must not close the pool.
    config.keep_alive_timeout = 3600.0
    app = create_shop_app(shop)
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(partial(serve, app, config))
        task_status.started(binds[0])
