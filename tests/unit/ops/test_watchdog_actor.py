"""The watchdog actor against a datagram socket the test binds as ``NOTIFY_SOCKET``.

What systemd sees: ``READY=1`` with a ``STATUS=`` line once the tree is up, ``WATCHDOG=1``
every half of ``WATCHDOG_USEC`` while the event loop lives (even while the service is down for
a full disk: a restart would not help), and silence while the event loop is wedged (so
systemd kills and restarts a hung process).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from wixprint.actors.context import ActorContext
from wixprint.actors.watchdog import run_watchdog
from wixprint.config import load_config_text
from wixprint.events import Event
from wixprint.health import Health, HealthRegistry
from wixprint.supervisor import Bus
from wixprint.web.metrics import Metrics

Datagram = list[str]


def make_ctx(tmp: Path) -> ActorContext:
    config = load_config_text(
        f"""
[service]
state_dir = "{tmp / "state"}"

[wix]
site_id = "site"
api_key = "watchdog-test-key"

[[printers]]
name = "kitchen"
transport = "virtual"
directory = "{tmp / "tickets"}"
receipts = ["kitchen"]
"""
    )
    bus: Bus[Event] = Bus()
    ctx = ActorContext(
        config=config, bus=bus, health=HealthRegistry(), metrics=Metrics(), transports={}
    )
    ctx.health.register("spool", critical=True)
    ctx.health.set("spool", Health.READY)
    ctx.health.register("printer:kitchen")
    ctx.health.set("printer:kitchen", Health.READY)
    return ctx


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A bound datagram socket in the abstract namespace (no path length limit)."""
    name = f"wixprint-watchdog-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.setblocking(False)
    yield sock, {"NOTIFY_SOCKET": "@" + name}
    sock.close()


def drain(sock: socket.socket) -> list[Datagram]:
    """Every datagram waiting on the socket, each split into its lines."""
    received: list[Datagram] = []
    while True:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return received
        received.append(data.decode().split("\n"))


def pings(datagrams: list[Datagram]) -> int:
    return sum(d.count("WATCHDOG=1") for d in datagrams)


def statuses(datagrams: list[Datagram]) -> list[str]:
    return [line.removeprefix("STATUS=") for d in datagrams for line in d if "STATUS=" in line]


async def test_ready_with_status_then_a_ping_exactly_every_half_watchdog_usec(
    tmp_path: Path,
    notify_socket: tuple[socket.socket, dict[str, str]],
    autojump_clock: trio.testing.MockClock,
) -> None:
    sock, env = notify_socket
    env["WATCHDOG_USEC"] = "30000000"  # WatchdogSec=30: a ping every 15 s
    ctx = make_ctx(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, ctx, env)
        start = trio.current_time()
        assert drain(sock) == [["READY=1", "STATUS=ok; queue 0; kitchen ready"]]
        for n in range(1, 5):
            await trio.sleep_until(start + 15 * n - 0.01)
            assert pings(drain(sock)) == 0, f"ping {n} came early"
            await trio.sleep_until(start + 15 * n + 0.01)
            assert pings(drain(sock)) == 1, f"ping {n} missing at {15 * n} s"
        await trio.sleep_until(start + 61)
        assert pings(drain(sock)) == 0  # 61 s: exactly 4 pings, at 15, 30, 45 and 60 s
        nursery.cancel_scope.cancel()


async def test_status_line_every_ten_seconds_says_what_the_service_does(
    tmp_path: Path,
    notify_socket: tuple[socket.socket, dict[str, str]],
    autojump_clock: trio.testing.MockClock,
) -> None:
    sock, env = notify_socket
    env["WATCHDOG_USEC"] = "30000000"
    ctx = make_ctx(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, ctx, env)
        drain(sock)
        ctx.health.set("printer:kitchen", Health.DEGRADED, "paper out")
        await trio.sleep(30.5)
        seen = drain(sock)
        assert statuses(seen) == ["degraded; queue 0; kitchen paper out"] * 3
        # At 30 s the ping and the status share one datagram.
        assert ["WATCHDOG=1", "STATUS=degraded; queue 0; kitchen paper out"] in seen
        nursery.cancel_scope.cancel()


async def test_pings_go_on_while_a_full_disk_makes_the_service_down(
    tmp_path: Path,
    notify_socket: tuple[socket.socket, dict[str, str]],
    autojump_clock: trio.testing.MockClock,
) -> None:
    sock, env = notify_socket
    env["WATCHDOG_USEC"] = "30000000"
    ctx = make_ctx(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, ctx, env)
        start = trio.current_time()
        drain(sock)
        await trio.sleep_until(start + 31)
        assert pings(drain(sock)) == 2
        # A printer problem only degrades: systemd must not restart us for paper out.
        ctx.health.set("printer:kitchen", Health.DEGRADED, "paper out")
        await trio.sleep_until(start + 46)
        assert pings(drain(sock)) == 1
        # Down for a full disk: the status says so, but a restart would not free a byte.
        ctx.health.set("spool", Health.DOWN, "cannot write: the disk is full")
        await trio.sleep_until(start + 121)
        down = drain(sock)
        assert pings(down) == 5  # 60, 75, 90, 105 and 120 s: the event loop is alive
        assert statuses(down)
        assert all(s.startswith("down;") for s in statuses(down))
        ctx.health.set("spool", Health.READY)
        await trio.sleep_until(start + 151)
        assert pings(drain(sock)) == 2  # 135 and 150 s
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "watchdog_env",
    [{}, {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}],
    ids=["no-watchdog", "watchdog-for-another-pid"],
)
async def test_without_a_watchdog_for_us_only_ready_and_status(
    tmp_path: Path,
    notify_socket: tuple[socket.socket, dict[str, str]],
    autojump_clock: trio.testing.MockClock,
    watchdog_env: dict[str, str],
) -> None:
    sock, env = notify_socket
    env.update(watchdog_env)
    ctx = make_ctx(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, ctx, env)
        await trio.sleep(105)
        seen = drain(sock)
        assert seen[0][0] == "READY=1"
        assert pings(seen) == 0
        assert len(statuses(seen)) == 1 + 10
        nursery.cancel_scope.cancel()


def test_a_wedged_event_loop_sends_no_pings(
    tmp_path: Path, notify_socket: tuple[socket.socket, dict[str, str]]
) -> None:
    """The ping runs in the same event loop as the work: block the loop and systemd hears
    nothing. Real time on purpose: the watchdog runs in its own ``trio.run`` in a thread whose
    loop the test blocks with a synchronous sleep."""
    sock, env = notify_socket
    env["WATCHDOG_USEC"] = "100000"  # a ping every 50 ms
    wedge: dict[str, float] = {}
    errors: list[BaseException] = []

    async def service() -> None:
        ctx = make_ctx(tmp_path)
        async with trio.open_nursery() as nursery:
            await nursery.start(run_watchdog, ctx, env)
            await trio.sleep(0.3)
            wedge["start"] = time.monotonic()
            time.sleep(0.5)  # noqa: ASYNC251 - the wedge under test: a blocking call
            wedge["end"] = time.monotonic()
            await trio.sleep(0.3)
            nursery.cancel_scope.cancel()

    def in_thread() -> None:
        try:
            trio.run(service)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    worker = threading.Thread(target=in_thread)
    received: list[tuple[float, bytes]] = []
    sock.settimeout(0.02)
    worker.start()
    while worker.is_alive():
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        received.append((time.monotonic(), data))
    worker.join()
    assert not errors
    ping_times = [at for at, data in received if b"WATCHDOG=1" in data]
    before = [t for t in ping_times if t < wedge["start"]]
    during = [t for t in ping_times if wedge["start"] + 0.1 < t < wedge["end"]]
    after = [t for t in ping_times if t > wedge["end"]]
    assert len(before) >= 3
    assert during == []
    assert len(after) >= 2  # it pings again once the loop runs
