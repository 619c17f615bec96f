"""The whole service in-process against the fakes: the simulated Wix shop over HTTP, fake
ESC/POS printers over TCP, optionally a real SMTP server — all on 127.0.0.1.

Time is Trio's virtual clock; the service's wall clock follows it (``VirtualWall``), so alert
grace periods and queue ages run on the same clock as everything else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio

from tests.fakes.fake_printer import FakePrinter
from wixprint.app import Service, ServiceOptions, create_service
from wixprint.config import Config, load_config_text
from wixprint.sim.shop import FakeWixShop, serve_shop

API_KEY = "test-api-key"
SITE_ID = "test-site"
DRINKS = "89676f59-3d2a-57d8-9014-a466cfde357d"
EPOCH = 1_750_000_000.0
"""Wall-clock seconds at virtual time 0 (mid-June 2025, after every fixture order)."""


class VirtualWall:
    """A wall clock that follows Trio's virtual clock."""

    def __call__(self) -> float:
        return EPOCH + trio.current_time()


def config_text(
    tmp: Path,
    shop_url: str,
    printers: dict[str, int],
    *,
    smtp_port: int | None = None,
    extra: str = "",
    public_pem: str = "",
) -> str:
    ports = dict(printers)
    blocks = []
    for name, port in ports.items():
        receipts = {
            "kitchen": '["kitchen"]',
            "bar": '["kitchen"]',
            "counter": '["driver", "customer"]',
        }
        sections = f'sections = ["{DRINKS}"]\nstation = "Bar"\n' if name == "bar" else ""
        blocks.append(
            f"""
[[printers]]
name = "{name}"
transport = "network"
host = "127.0.0.1"
port = {port}
receipts = {receipts.get(name, '["kitchen"]')}
{sections}connect_timeout = 2.0
reply_timeout = 10.0
probe_interval = 5.0
"""
        )
    smtp = (
        f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "pi@example.com"
recipients = ["owner@example.com"]
timeout = 5.0
"""
        if smtp_port
        else ""
    )
    pem = public_pem.replace("\n", "\\n")
    return (
        f"""
[service]
state_dir = "{tmp / "state"}"
restaurant_name = "Gasthaus Test"
stop_timeout = 5.0

[http]
host = "127.0.0.1"
port = 0
admin_token = "test-admin"

[wix]
base_url = "{shop_url}"
site_id = "{SITE_ID}"
api_key = "{API_KEY}"
poll_interval = 2.0
not_before = "2025-01-01T00:00:00Z"
webhook_public_key = "{pem}"

[connectivity]
internet_target = "{shop_url.removeprefix("http://")}"
interval = 5.0
interval_down = 2.0
"""
        + "".join(blocks)
        + smtp
        + extra
    )


@dataclass
class Rig:
    shop: FakeWixShop
    shop_url: str
    printers: dict[str, FakePrinter]
    tmp: Path
    nursery: trio.Nursery
    service: Service | None = None
    config: Config | None = None
    events: list[object] = field(default_factory=list)

    async def start(self, text: str) -> Service:
        self.config = load_config_text(text)
        service = create_service(
            self.config,
            ServiceOptions(wall=VirtualWall(), with_monitor=False, with_watchdog=False),
        )
        self.service = service
        await self.nursery.start(service.run)
        return service

    async def stop(self) -> None:
        assert self.service is not None
        await self.service.stop()
        self.service = None

    @property
    def web_url(self) -> str:
        assert self.service is not None
        assert self.service.ctx.web_url is not None
        return self.service.ctx.web_url

    def tickets(self, printer: str) -> list[str]:
        return [t.text for t in self.printers[printer].tickets]


@asynccontextmanager
async def open_rig(
    tmp: Path, printer_names: Sequence[str] = ("kitchen", "bar", "counter")
) -> AsyncIterator[Rig]:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(partial(serve_shop, shop))
        printers = {name: FakePrinter(print_delay=0.05) for name in printer_names}
        for printer in printers.values():
            await nursery.start(printer.serve)
        rig = Rig(shop, url, printers, tmp, nursery)
        try:
            yield rig
        finally:
            if rig.service is not None:
                await rig.stop()
            nursery.cancel_scope.cancel()


def fixture_order(fixtures: Path, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((fixtures / name).read_text())
    return data


async def wait_for(predicate: Callable[[], bool], limit: float = 60.0) -> None:
    """Poll the fakes' state on the virtual clock until ``predicate()`` (fail after ``limit``)."""
    with trio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - the fakes have no event for every condition
            await trio.sleep(0.5)
