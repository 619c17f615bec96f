"""The whole service in-process against the fakes: the simulated Wix shop over HTTP, fake
ESC/POS printers over TCP, optionally a real SMTP server — all on 127.0.0.1.

Time is Trio's virtual clock; the service's wall clock follows it (``VirtualWall``), so alert
grace periods and queue ages run on the same clock as everything else.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import AsyncIterator, Callable, Container, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import FakePrinter, is_alert_slip, line_delay
from tests.fakes.smtp import ReceivedMail
from wixprint.actors import intake
from wixprint.app import Service, ServiceOptions, create_service
from wixprint.config import Config, load_config_text
from wixprint.config.tomledit import Value, toml_value
from wixprint.printing.base import Transport
from wixprint.sim.shop import FakeWixShop, serve_shop
from wixprint.wix.parse import parse_order

API_KEY = "test-api-key"
SITE_ID = "7a3e0c52-1b9d-4f60-8e21-5c4d3b2a1f00"  # a GUID, as Wix site IDs are
DRINKS = "89676f59-3d2a-57d8-9014-a466cfde357d"
EPOCH = 1_750_000_000.0
"""Wall-clock seconds at virtual time 0 (mid-June 2025, after every fixture order)."""


class VirtualWall:
    """A wall clock that follows Trio's virtual clock."""

    def __call__(self) -> float:
        return EPOCH + trio.current_time()


def virtual_now() -> datetime:
    """The virtual wall clock as an aware UTC datetime (what the simulated shop stamps)."""
    return datetime.fromtimestamp(VirtualWall()(), UTC)


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

    async def start(self, text: str, transports: dict[str, Transport] | None = None) -> Service:
        """Start the service on ``text``; ``transports`` stand in for every printer's (one entry per
        printer: a printer missing from it has no transport)."""
        self.config = load_config_text(text)
        options = ServiceOptions(
            wall=VirtualWall(), transports=transports, with_monitor=False, with_watchdog=False
        )
        service = create_service(self.config, options)
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
        """The order tickets ``printer`` cut, in print order (alert slips left out)."""
        return [t for t in self.paper(printer) if not is_alert_slip(t)]

    def slips(self, printer: str) -> list[str]:
        """The alert slips ``printer`` cut (another printer's or the internet's trouble)."""
        return [t for t in self.paper(printer) if is_alert_slip(t)]

    def paper(self, printer: str) -> list[str]:
        """Everything ``printer`` cut: order tickets and alert slips."""
        return [t.text for t in self.printers[printer].tickets]


@asynccontextmanager
async def open_rig(
    tmp: Path,
    printer_names: Sequence[str] = ("kitchen", "bar", "counter"),
    *,
    shop_class: type[FakeWixShop] = FakeWixShop,
    shop_clock: Callable[[], datetime] = virtual_now,
) -> AsyncIterator[Rig]:
    # The shop stamps updates, cancellations and its Date header on the service's wall clock:
    # the virtual one in process, the real one for a service in a process of its own.
    shop = shop_class(api_key=API_KEY, site_id=SITE_ID, clock=shop_clock)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(partial(serve_shop, shop))
        printers = {name: FakePrinter(print_delay=line_delay(0.05)) for name in printer_names}
        for printer in printers.values():
            await nursery.start(printer.serve)
        rig = Rig(shop, url, printers, tmp, nursery)
        try:
            yield rig
        finally:
            if rig.service is not None:
                await rig.stop()
            nursery.cancel_scope.cancel()


def spy_on_parse(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Intake's parser, counted: the number of each order it reads, in that order."""
    parsed: list[str] = []

    def parse(raw: Any, tz: Any) -> Any:
        parsed.append(str(raw.get("number")))
        return parse_order(raw, tz)

    monkeypatch.setattr(intake, "parse_order", parse)
    return parsed


def poisoned(
    real: Callable[..., Any], bad: Container[str], stage: str = "parse"
) -> Callable[..., Any]:
    """``real``, with a bug we do not know yet for each order whose number is in ``bad``
    (looked at on every call: a test may name the order later). Its text: ``a bug at
    {stage}``."""

    def step(*args: Any, **kwargs: Any) -> Any:
        numbers = [
            a.get("number") if isinstance(a, dict) else getattr(a, "number", None) for a in args
        ]
        if any(n in bad for n in numbers if isinstance(n, str)):
            raise RuntimeError(f"a bug at {stage}")
        return real(*args, **kwargs)

    return step


def fixture_order(fixtures: Path, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((fixtures / name).read_text())
    return data


async def wait_for(predicate: Callable[[], bool], limit: float = 60.0) -> None:
    """Poll the fakes' state on the virtual clock until ``predicate()`` (fail after ``limit``)."""
    with trio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - the fakes have no event for every condition
            await trio.sleep(0.5)


# -- additions for the service-level suites -------------------------------------------------

FAST_AUTOJUMP = 0.001
"""Real idle seconds before a jump while :func:`pass_time` runs (the fixture uses 0.1)."""


def tune(text: str, section: str, **values: Value) -> str:
    """Set ``key = value`` in every ``[section]`` / ``[[section]]`` table of a config text.

    Existing keys are replaced, missing ones appended to the table, so a test can change what
    :func:`config_text` already wrote (TOML forbids defining a key or table twice).
    """
    rendered = {key: toml_value(value) for key, value in values.items()}
    out: list[str] = []
    pending: dict[str, str] | None = None

    def flush() -> None:
        if pending:
            while out and not out[-1].strip():
                out.pop()
            out.extend(f"{key} = {value}" for key, value in pending.items())
            out.append("")

    for line in text.splitlines():
        header = re.fullmatch(r"\s*\[\[?([^\]]+)\]\]?\s*", line)
        if header:
            flush()
            pending = dict(rendered) if header.group(1).strip() == section else None
        elif pending is not None:
            key = line.partition("=")[0].strip()
            if key in pending:
                line = f"{key} = {pending.pop(key)}"
        out.append(line)
    flush()
    return "\n".join(out) + "\n"


async def pass_time(
    clock: trio.testing.MockClock, seconds: float, *, threshold: float = FAST_AUTOJUMP
) -> None:
    """Let ``seconds`` of virtual time pass, jumping after ``threshold`` real idle seconds.

    For long steady stretches (a printer unplugged for half an hour): every timer still fires
    in order, only the real wait before each jump is shorter. Do not use it across a start-up
    or a moment whose timing a test asserts; worker threads may see time move while they run.
    """
    before = clock.autojump_threshold
    clock.autojump_threshold = threshold
    try:
        await trio.sleep(seconds)
    finally:
        clock.autojump_threshold = before


async def wait_fast(
    clock: trio.testing.MockClock,
    predicate: Callable[[], bool],
    limit: float = 600.0,
    *,
    threshold: float = FAST_AUTOJUMP,
) -> None:
    """:func:`wait_for` with :func:`pass_time`'s short jumps: for long catch-ups (backoff)."""
    before = clock.autojump_threshold
    clock.autojump_threshold = threshold
    try:
        await wait_for(predicate, limit)
    finally:
        clock.autojump_threshold = before


_NUMBER = re.compile(r"#(\d{3,})")


def ticket_numbers(rig: Rig, printer: str) -> list[str]:
    """The order number of every ticket on ``printer``'s paper, in print order."""
    numbers = []
    for text in rig.tickets(printer):
        found = _NUMBER.search(text)
        numbers.append(found.group(1) if found else "?")
    return numbers


def count(tickets: list[str], needle: str) -> int:
    """How many tickets contain ``needle``."""
    return sum(needle in t for t in tickets)


def new_order(rig: Rig) -> dict[str, Any]:
    """A fresh APPROVED order in the shop, created now on the virtual wall clock."""
    return rig.shop.new_demo_order(virtual_now())


async def new_orders(
    rig: Rig, n: int, *, every: float = 1.0, clock: trio.testing.MockClock | None = None
) -> list[str]:
    """``n`` fresh orders, ``every`` virtual seconds apart (Wix sorts ties arbitrarily);
    returns their numbers in the order they were placed. With ``clock`` the gaps pass
    with :func:`pass_time`."""
    numbers = []
    for i in range(n):
        if i:
            if clock is None:
                await trio.sleep(every)
            else:
                await pass_time(clock, every)
        numbers.append(str(new_order(rig)["number"]))
    return numbers


async def get_json(rig: Rig, path: str) -> Any:
    """GET one of the service's JSON endpoints, as an operator's script would."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        response = await client.get(f"{rig.web_url}{path}")
    return response.json()


async def orders_shown(rig: Rig, numbers: Sequence[str], limit: float = 60.0) -> dict[str, Any]:
    """``GET /orders`` once it lists every one of ``numbers`` (a loaded machine may need
    more polls to fetch them)."""
    with trio.fail_after(limit):
        while True:
            orders: dict[str, Any] = await get_json(rig, "/orders")
            listed = {order["number"] for order in orders["orders"]}
            if listed.issuperset(numbers):
                return orders
            await trio.sleep(0.5)


async def dashboard_events(rig: Rig) -> list[dict[str, Any]]:
    """The recent events the dashboard page starts from (its ``initial-state`` block)."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        page = (await client.get(f"{rig.web_url}/")).text
    pattern = r'<script id="initial-state" type="application/json">(.*?)</script>'
    block = re.search(pattern, page, re.DOTALL)
    assert block is not None
    events: list[dict[str, Any]] = json.loads(block.group(1))
    return events


def jobs_of(orders: Mapping[str, Any], number: str) -> list[dict[str, Any]]:
    """The tickets ``GET /orders`` lists for order ``number``."""
    for order in orders["orders"]:
        if order["number"] == number:
            tickets: list[dict[str, Any]] = order["tickets"]
            return tickets
    raise KeyError(number)


def child_status(recovery: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One actor's entry in the supervision tree of ``GET /recovery/status``."""
    stack = [recovery["tree"]]
    while stack:
        node = stack.pop()
        for child in node.get("children", []):
            if child.get("name") == name:
                found: dict[str, Any] = child
                return found
            if child.get("supervisor"):
                stack.append(child["supervisor"])
    raise KeyError(name)


class TcpTarget:
    """A TCP port on 127.0.0.1 the test switches on and off: the "internet" the connectivity
    actor probes. Down closes the listener (connection refused); up listens again on the
    same port."""

    def __init__(self) -> None:
        self.port = 0
        self._up = True
        self._changed = trio.Event()
        self._scope: trio.CancelScope | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_up(self, up: bool) -> None:
        self._up = up
        if not up and self._scope is not None:
            self._scope.cancel()
        self._changed.set()
        self._changed = trio.Event()

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listener: trio.SocketListener | None = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[
            0
        ]
        assert listener is not None
        self.port = listener.socket.getsockname()[1]
        task_status.started(self.port)
        try:
            while True:
                while not self._up:
                    await self._changed.wait()
                if listener is None:
                    listener = (await trio.open_tcp_listeners(self.port, host="127.0.0.1"))[0]
                with trio.CancelScope() as scope:
                    self._scope = scope
                    while True:
                        stream = await listener.accept()
                        await stream.aclose()
                self._scope = None
                listener.socket.close()
                listener = None
        finally:
            if listener is not None:
                listener.socket.close()


def sent_at(mail: ReceivedMail) -> float:
    """A received mail's Date header as wall-clock seconds."""
    return email.utils.parsedate_to_datetime(str(mail.message["Date"])).timestamp()
