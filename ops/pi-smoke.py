"""Smoke test of an installed release: ``wixprint run`` against the simulated Wix shop.

Run with the release's own interpreter (``make pi-check`` does, inside each ARM userland):
it serves the simulated shop on loopback, writes a config with a virtual printer, starts
``wixprint run`` as a real process, adds an order, waits for its ticket and for ``/health``,
then stops the service with SIGTERM and expects exit 0. Prints one JSON line; exit 0 = pass.

    <venv>/bin/python ops/pi-smoke.py <venv>/bin/wixprint <scratch folder>
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import trio

from wixprint.sim.shop import FakeWixShop, serve_shop

API_KEY = "pi-smoke-key"
SITE = "pi-smoke-site"
LIMIT = 600.0
"""Seconds for the whole run: an emulated CPU starts Python slowly."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def smoke(wixprint: str, scratch: Path) -> dict[str, object]:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE)
    port = free_port()
    tickets = scratch / "tickets"
    began = time.monotonic()
    async with trio.open_nursery() as nursery:
        shop_url = await nursery.start(serve_shop, shop)
        not_before = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = scratch / "config.toml"
        config.write_text(
            f'[service]\nstate_dir = "{scratch / "state"}"\nstop_timeout = 10.0\n'
            f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
            f'[wix]\nbase_url = "{shop_url}"\nsite_id = "{SITE}"\napi_key = "{API_KEY}"\n'
            f'poll_interval = 1.0\nnot_before = "{not_before}"\n'
            f'[connectivity]\ninternet_target = "{shop_url.removeprefix("http://")}"\n'
            f'[[printers]]\nname = "kitchen"\ntransport = "virtual"\n'
            f'directory = "{tickets}"\nreceipts = ["kitchen"]\n'
        )
        config.chmod(0o600)
        order = shop.new_demo_order(datetime.now(UTC))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        process = await trio.lowlevel.open_process(
            [wixprint, "run", "--config", str(config)], env=env, stdout=subprocess.DEVNULL
        )
        health: dict[str, object] = {}
        with trio.fail_after(LIMIT):
            async with httpx.AsyncClient() as client:
                while not (tickets.exists() and any(tickets.iterdir())):
                    await trio.sleep(0.5)
                while health.get("status") not in ("ok", "degraded"):
                    try:
                        health = (await client.get(f"http://127.0.0.1:{port}/health")).json()
                    except httpx.HTTPError:
                        await trio.sleep(0.5)
        printed = time.monotonic() - began
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(60):
            code = await process.wait()
        nursery.cancel_scope.cancel()
    return {
        "ok": code == 0
        and str(order["number"]).encode() in b"".join(p.read_bytes() for p in tickets.iterdir()),
        "exit_code": code,
        "health": health.get("status"),
        "version": health.get("version"),
        "first_ticket_after_s": round(printed, 1),
        "machine": os.uname().machine,
    }


def main() -> int:
    wixprint, scratch = sys.argv[1], Path(sys.argv[2])
    scratch.mkdir(parents=True, exist_ok=True)
    result = trio.run(smoke, wixprint, scratch)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
