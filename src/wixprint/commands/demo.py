"""``wixprint demo``: the whole service against an embedded simulated Wix shop and virtual
printers. A newcomer sees the product work in one command.

New orders appear in the shop every few seconds; every other one is also pushed as a signed
webhook (the fast path), the rest arrive by polling (the source of truth). Tickets are shown
in the terminal and written under ``<dir>/tickets/<printer>/``. Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import trio

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from wixprint.sim.shop import FakeWixShop

DRINKS_SECTION = "89676f59-3d2a-57d8-9014-a466cfde357d"
DEMO_KEY = "demo-api-key"
DEMO_SITE = "demo-site-0001"


def demo_config_text(base: Path, shop_url: str, public_pem: str, port: int, not_before: str) -> str:
    tickets = base / "tickets"
    pem = public_pem.replace("\n", "\\n")
    return f"""
[service]
state_dir = "{base / "state"}"
timezone = "Europe/Berlin"
restaurant_name = "Gasthaus Grünwald (Demo)"
stop_timeout = 5.0

[http]
host = "127.0.0.1"
port = {port}
admin_token = "demo-admin-token"

[wix]
base_url = "{shop_url}"
site_id = "{DEMO_SITE}"
api_key = "{DEMO_KEY}"
poll_interval = 5.0
not_before = "{not_before}"
webhook_public_key = "{pem}"

[[printers]]
name = "kitchen"
transport = "virtual"
directory = "{tickets / "kitchen"}"
receipts = ["kitchen"]
station = "Küche"

[[printers]]
name = "bar"
transport = "virtual"
directory = "{tickets / "bar"}"
receipts = ["kitchen"]
sections = ["{DRINKS_SECTION}"]
station = "Bar"

[[printers]]
name = "counter"
transport = "virtual"
directory = "{tickets / "counter"}"
receipts = ["driver", "customer"]

[layout]
header = ["Kastanienallee 21, 10435 Berlin", "Tel. 030 1234567"]
footer = ["Vielen Dank und guten Appetit!"]

[connectivity]
interval = 10.0
interval_down = 3.0

[monitor]
interval = 15.0
"""


def echo_ticket(preview: str) -> None:
    print(preview, flush=True)


async def _orders(
    shop: FakeWixShop, every: float, server_url: str, private_key: RSAPrivateKey
) -> None:
    from wixprint.sim.webhooks import order_webhook_body

    count = 0
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            order = shop.new_demo_order(datetime.now(UTC))
            count += 1
            if count % 2 == 0:
                body = order_webhook_body(order, private_key, event="order_created")
                with contextlib.suppress(httpx.HTTPError):
                    await client.post(f"{server_url}/webhooks/wix", content=body)
            await trio.sleep(every)


async def demo_main(base: Path, port: int, every: float, duration: float) -> tuple[int, str]:
    """Run the demo; (exit code, why it ended)."""
    from wixprint.app import ServiceOptions
    from wixprint.config import load_config_text
    from wixprint.runner import serve
    from wixprint.sim.shop import FakeWixShop, serve_shop
    from wixprint.sim.webhooks import generate_key_pair

    private_key, public_pem = generate_key_pair()
    shop = FakeWixShop(api_key=DEMO_KEY, site_id=DEMO_SITE)
    not_before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    code = 0
    async with trio.open_nursery() as nursery:
        shop_url = await nursery.start(partial(serve_shop, shop))
        config = load_config_text(demo_config_text(base, shop_url, public_pem, port, not_before))
        print(
            f"wixprint demo: shop at {shop_url}, status at http://127.0.0.1:{port}/health, "
            f"tickets under {base / 'tickets'} (Ctrl-C to stop)",
            flush=True,
        )
        nursery.start_soon(_orders, shop, every, f"http://127.0.0.1:{port}", private_key)
        if duration > 0:

            async def stop_later() -> None:
                await trio.sleep(duration)
                os.kill(os.getpid(), 2)

            nursery.start_soon(stop_later)
        options = ServiceOptions(environ=dict(os.environ), echo=echo_ticket)
        code = await serve(config, options)
        nursery.cancel_scope.cancel()
    return code, options.exit_reason


def run_demo(directory: str, *, port: int = 8000, every: float = 8.0, duration: float = 0.0) -> int:
    from wixprint.logs import configure_logging, escpos_env

    base = Path(directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    log_path = base / "service.log"
    with log_path.open("a", encoding="utf-8") as log_file:
        configure_logging(stream=log_file)
        escpos_env(base / "state")
        print(f"structured logs go to {log_path}", file=sys.stderr)
        started = time.monotonic()
        code, reason = trio.run(demo_main, base, port, every, duration)
        print(
            f"demo stopped after {time.monotonic() - started:.0f} s ({reason or 'stopped'})",
            file=sys.stderr,
        )
        if code and reason.startswith("cannot start: http.port"):
            print(f"hint: another program uses port {port}; try --port", file=sys.stderr)
    return code
