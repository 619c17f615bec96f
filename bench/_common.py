"""Shared parts of the benchmarks: statistics, output, the service's configuration, and a rig
that serves the simulated shop and fake network printers on 127.0.0.1 and can run the whole
service in-process on the real clock (``_process.py`` runs it as a real process instead).

Every benchmark prints exactly one JSON object on stdout and exits 0, target met or not. The
service logs at INFO as in production, into ``/dev/null``: rendering the log lines is part of
what a real order costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the fake printer lives in tests/fakes

from tests.fakes.fake_printer import FakePrinter, line_delay  # noqa: E402

from wixprint.app import Service, ServiceOptions, create_service  # noqa: E402
from wixprint.config import load_config_text  # noqa: E402
from wixprint.logs import configure_logging  # noqa: E402
from wixprint.sim.shop import FakeWixShop, serve_shop  # noqa: E402
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop  # noqa: E402
from wixprint.supervisor import ChildStatistics, SupervisorStatistics  # noqa: E402

__all__ = [
    "API_KEY",
    "SITE_ID",
    "FakePrinter",
    "Rig",
    "RssSampler",
    "emit",
    "find_child",
    "line_delay",
    "machine",
    "open_rig",
    "orders_main",
    "percentile",
    "quiet_logging",
    "service_config",
    "summary_ms",
    "temp_dir",
    "wix_time",
]

API_KEY = "bench-api-key"
SITE_ID = "bench-site"
RECEIPTS = {"kitchen": '["kitchen"]', "counter": '["driver", "customer"]'}


# -- statistics and output --------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (need not be sorted; empty gives NaN)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50/p90/p99/max/mean in milliseconds, and the sample count."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50": round(percentile(seconds, 0.50) * 1000, 2),
        "p90": round(percentile(seconds, 0.90) * 1000, 2),
        "p99": round(percentile(seconds, 0.99) * 1000, 2),
        "max": round(max(seconds) * 1000, 2),
        "mean": round(sum(seconds) / len(seconds) * 1000, 2),
    }


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def emit(result: Mapping[str, object]) -> None:
    """The benchmark's one JSON object, on one line."""
    json.dump({**result, "machine": machine()}, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def orders_main(
    doc: str, run: Callable[[int], Awaitable[dict[str, object]]], argv: list[str] | None
) -> int:
    """``main`` of a benchmark of ``--orders`` orders, a poll interval each (poll, push)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40, help="orders (a poll interval each)")
    args = parser.parse_args(argv)
    quiet_logging()
    emit(trio.run(run, args.orders))
    return 0


def quiet_logging() -> None:
    """The production JSON logging at INFO, written to ``/dev/null`` instead of stdout."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    configure_logging(level="INFO", stream=sink, journal=False)


def wix_time(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class RssSampler:
    """Samples a process's resident set size on a Trio timer; ``peak`` and ``last`` in bytes."""

    def __init__(self, pid: int | None = None, every: float = 0.05) -> None:
        self.process = psutil.Process(pid if pid is not None else os.getpid())
        self.every = every
        self.peak = 0
        self.last = 0
        self.samples: list[int] = []

    def sample(self) -> int:
        rss = int(self.process.memory_info().rss)
        self.peak = max(self.peak, rss)
        self.last = rss
        self.samples.append(rss)
        return rss

    async def run(self) -> None:
        while True:
            self.sample()
            await trio.sleep(self.every)


# -- configuration ------------------------------------------------------------------------------


def service_config(
    state_dir: Path,
    shop_url: str,
    printer_ports: Mapping[str, int],
    *,
    public_pem: str = "",
    not_before: str = "",
    http_port: int = 0,
    extra: str = "",
    automation_token: str = "",
) -> str:
    """The defaults of ``ops/config.example.toml`` pointed at local fakes.

    Only what must differ does: the state directory, the HTTP port (0: a free one), the shop's
    URL and credentials, the printers' addresses. Poll, probe and retry intervals are the
    defaults. ``kitchen`` takes kitchen tickets; ``counter`` driver slips and receipts.
    """
    pem = public_pem.replace("\n", "\\n")
    blocks = [
        f"""
[[printers]]
name = "{name}"
transport = "network"
host = "127.0.0.1"
port = {port}
receipts = {RECEIPTS.get(name, '["kitchen"]')}
"""
        for name, port in printer_ports.items()
    ]
    return (
        f"""
[service]
state_dir = "{state_dir}"
restaurant_name = "Gasthaus Bench"

[http]
host = "127.0.0.1"
port = {http_port}

[wix]
base_url = "{shop_url}"
site_id = "{SITE_ID}"
api_key = "{API_KEY}"
webhook_public_key = "{pem}"
not_before = "{not_before}"
automation_token = "{automation_token}"
"""
        + "".join(blocks)
        + extra
    )


# -- the in-process rig -------------------------------------------------------------------------


@dataclass
class Rig:
    """The simulated shop and fake printers, served in this process on 127.0.0.1; ``start``
    adds the whole service with the real clock."""

    shop: FakeWixShop
    shop_url: str
    printers: dict[str, FakePrinter]
    private_key: rsa.RSAPrivateKey
    public_pem: str
    tmp: Path
    nursery: trio.Nursery
    service: Service | None = None

    def config_text(
        self,
        *,
        not_before: str = "",
        extra: str = "",
        http_port: int = 0,
        automation_token: str = "",
    ) -> str:
        ports = {name: p.port for name, p in self.printers.items()}
        return service_config(
            self.tmp / "state",
            self.shop_url,
            ports,
            public_pem=self.public_pem,
            not_before=not_before,
            http_port=http_port,
            extra=extra,
            automation_token=automation_token,
        )

    async def start(
        self, *, not_before: str = "", extra: str = "", automation_token: str = ""
    ) -> Service:
        text = self.config_text(
            not_before=not_before, extra=extra, automation_token=automation_token
        )
        config = load_config_text(text)
        # The monitor samples every 30 s and the watchdog only talks to systemd: neither is
        # on the path of an order, and the idle benchmark measures them in a real process.
        service = create_service(config, ServiceOptions(with_monitor=False, with_watchdog=False))
        await self.nursery.start(service.run)
        self.service = service
        return service

    async def stop(self) -> None:
        if self.service is not None:
            service, self.service = self.service, None
            await service.stop()

    @property
    def web_url(self) -> str:
        assert self.service is not None
        assert self.service.ctx.web_url is not None
        return self.service.ctx.web_url

    def new_order(self) -> dict[str, Any]:
        """A fresh APPROVED order in the shop, created now."""
        return self.shop.new_demo_order(datetime.now(UTC))

    def webhook_body(self, order: Mapping[str, Any]) -> bytes:
        return sign_webhook_for_shop(order, "created", self.private_key, now=time.time())


@asynccontextmanager
async def open_rig(
    tmp: Path, printer_names: Sequence[str] = ("kitchen", "counter"), *, print_delay: float = 0.0
) -> AsyncIterator[Rig]:
    private_key, public_pem = generate_key_pair()
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(partial(serve_shop, shop))
        printers = {
            name: FakePrinter(print_delay=line_delay(print_delay)) for name in printer_names
        }
        for printer in printers.values():
            await nursery.start(printer.serve)
        rig = Rig(shop, url, printers, private_key, public_pem, tmp, nursery)
        try:
            yield rig
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await rig.stop()
            nursery.cancel_scope.cancel()


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def find_child(stats: SupervisorStatistics, name: str) -> ChildStatistics | None:
    """The child called ``name`` anywhere in the tree below ``stats``."""
    for child in stats.children:
        if child.name == name:
            return child
        if child.supervisor is not None:
            found = find_child(child.supervisor, name)
            if found is not None:
                return found
    return None
