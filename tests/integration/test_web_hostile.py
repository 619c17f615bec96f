"""The hostile-client suite: the whole service under the issue's attack mix, while orders
stream in and print.

2 000 half-open requests (split between the public and the local listener), 200 websocket
clients, 50 clients that never read, a malformed token of every shape, HTTP/2 both ways, and
requests under a rebound ``Host`` — all at once, loopback only, bounded in count. Meanwhile
orders arrive at the shop (every second one also pushed as a signed webhook through the
public listener) and ``/health`` is asked every half second on a fresh connection, as a
monitor would. What must hold: every order printed once, ``/health`` always answered, no
actor restarted, the caps kept (connections per listener, websocket clients), every probe
refused the way it should be, and every socket released once the attackers leave.

The timing figures of the same suite (``/health`` p99, the service's RSS) are measured by
``bench/bench_hostile.py`` on the real clock; here the clock is virtual and only behaviour
is asserted.

A second test runs ``wixprint run`` as a process with its descriptor limit lowered to 200,
as the issue's report did: then 190 half-open connections made ``accept`` fail with EMFILE
and the printer actors die of "Too many open files". Now the web server's caps shrink to fit
the limit and the printer keeps printing.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import trio
import trio.testing

from tests.fakes.hostile import client_sockets, open_half_open, server_sockets
from tests.fakes.hostile_mix import Mix, open_hostile_mix
from tests.fakes.webhooks import hostile_bodies
from tests.integration.harness import (
    config_text,
    new_order,
    open_rig,
    ticket_numbers,
    tune,
    virtual_now,
    wait_for,
)
from tests.integration.test_process_root import child_env, new_shop, open_shop, service_config
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop
from wixprint.web.limits import ACTOR_DESCRIPTOR_RESERVE
from wixprint.wix.webhook import MAX_WEBHOOK_BODY

ORDERS = 12
CAP = 64
"""``[http] max_connections``, the default."""
WEBSOCKETS = 8
"""``[http] max_websockets``, the default."""


def attacker_hold() -> int:
    """Sockets the attacker keeps per listener: 500, or what this process's limit allows."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(50, min(500, (soft - 400) // 2))


def restarts(recovery: dict[str, Any]) -> dict[str, int]:
    """Every actor's restart count in ``/recovery/status``'s tree."""
    found: dict[str, int] = {}
    stack = [recovery["tree"]]
    while stack:
        node = stack.pop()
        for child in node.get("children", []):
            found[child["name"]] = child.get("restarts", 0)
            if child.get("supervisor"):
                stack.append(child["supervisor"])
    return found


def port_of(url: str | None) -> int:
    assert url is not None
    return int(url.rsplit(":", 1)[1])


async def poll_health(url: str, statuses: list[int | None]) -> None:
    """``GET /health`` every half second on a fresh connection; None when it went unanswered."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as client:
        while True:
            try:
                statuses.append((await client.get(f"{url}/health", timeout=30.0)).status_code)
            except httpx.HTTPError:
                statuses.append(None)
            await trio.sleep(0.5)


async def test_orders_print_and_health_answers_under_the_hostile_mix(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    private, public_pem = generate_key_pair()
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        ports = {name: p.port for name, p in rig.printers.items()}
        text = config_text(tmp_path, rig.shop_url, ports, public_pem=public_pem)
        service = await rig.start(tune(text, "http", public_host="127.0.0.1", public_port=0))
        assert service.ctx.public_url is not None
        local, public = port_of(service.ctx.web_url), port_of(service.ctx.public_url)
        metrics = service.ctx.metrics
        health: list[int | None] = []
        numbers: list[str] = []
        mix = Mix(half_open=2000, hold=attacker_hold(), websockets=200, slow_readers=50)
        async with trio.open_nursery() as monitor:
            monitor.start_soon(poll_health, rig.web_url, health)
            async with (
                open_hostile_mix(local, public, mix) as report,
                httpx.AsyncClient(base_url=service.ctx.public_url) as wix,
            ):
                for i in range(ORDERS):
                    order = new_order(rig)
                    numbers.append(str(order["number"]))
                    if i % 2:
                        now = virtual_now().timestamp()
                        body = sign_webhook_for_shop(order, "created", private, now=now)
                        assert (await wix.post("/webhooks/wix", content=body)).status_code == 200
                    await trio.sleep(1)
                await wait_for(lambda: set(numbers) <= set(ticket_numbers(rig, "kitchen")))
                recovery = (await wix.get(f"{rig.web_url}/recovery/status")).json()
            monitor.cancel_scope.cancel()

        # Every order printed, once; nothing restarted; /health answered every time.
        kitchen = ticket_numbers(rig, "kitchen")
        assert all(kitchen.count(n) == 1 for n in numbers), kitchen
        assert set(restarts(recovery).values()) == {0}, restarts(recovery)
        assert len(health) >= ORDERS
        assert set(health) == {200}, health

        # The caps held, and the floods really did reach them.
        assert report.peak_server_sockets["local"] <= CAP + 1
        assert report.peak_server_sockets["public"] <= CAP + 1
        for listener in ("local", "public"):
            assert report.half_open[listener].opened == 1000
            assert metrics.http_evicted.labels(listener=listener)._value.get() > 0
        assert report.swarm.accepted == WEBSOCKETS
        assert report.swarm.refused == {503: 200 - WEBSOCKETS}
        assert report.swarm.messages > 0  # the two reading clients got the order events
        assert report.slow_readers == 50

        # Every probe refused the way it should be.
        too_large = {n for n, b in hostile_bodies().items() if len(b) > MAX_WEBHOOK_BODY}
        assert {n: s for n, s in report.tokens.items() if n not in too_large} == {
            n: 401 for n in hostile_bodies() if n not in too_large
        }
        assert {report.tokens[n] for n in too_large} == {413}
        assert metrics.webhooks.labels(result="rejected")._value.get() == len(
            hostile_bodies()
        ) - len(too_large)
        assert metrics.webhooks.labels(result="error")._value.get() == 0
        assert report.h2_prior_knowledge == {"local": 505, "public": 505}
        assert report.h2c_upgrade == {"local": 200, "public": 404}  # /health is not public
        assert set(report.rebinding.values()) == {403}, report.rebinding

        # The attackers gone, every socket they made the server hold is released.
        def released() -> bool:
            open_connections = sum(
                metrics.http_connections.labels(listener=name)._value.get()
                for name in ("local", "public")
            )
            clients = metrics.websocket_clients._value.get()
            return server_sockets([local, public]) == 0 and open_connections == clients == 0

        await wait_for(released)
        # And this test closed every socket it opened towards the service.
        assert client_sockets([local, public]) == 0


async def test_a_flood_under_a_low_descriptor_limit_never_reaches_the_printer(
    tmp_path: Path,
) -> None:
    """The issue's report, as a real process with ``RLIMIT_NOFILE`` at 200 (real clock)."""
    limit = 200
    shop = new_shop(orders=False)
    async with open_shop(shop) as shop_url:
        text = service_config(tmp_path, shop_url).replace(
            "[http]\n", '[http]\npublic_host = "127.0.0.1"\npublic_port = 0\n', 1
        )
        config = tmp_path / "config.toml"
        config.write_text(text)
        async with open_limited_service(config, limit) as service:
            local, public = service.urls()
            tickets = tmp_path / "tickets"
            async with (
                open_half_open(port_of(local), 400, hold=300),
                open_half_open(port_of(public), 400, hold=300),
            ):
                for _ in range(3):
                    shop.new_demo_order(datetime.now(UTC))
                await wait_for(lambda: len(list(tickets.glob("*.bin"))) >= 3)
                async with httpx.AsyncClient(base_url=local, timeout=30.0) as client:
                    assert (await client.get("/health")).status_code == 200
                    recovery = (await client.get("/recovery/status")).json()
            assert await service.stop() == 0
    assert set(restarts(recovery).values()) == {0}, restarts(recovery)
    output = "\n".join(service.lines)
    assert "Too many open files" not in output
    assert "EMFILE" not in output
    reduced = service.event("http_connection_cap_reduced")
    assert reduced["limit"] <= (limit - ACTOR_DESCRIPTOR_RESERVE) // 2
    assert not [e for e in service.events() if e.get("event") == "child_exited"]


class LimitedService:
    """``wixprint run`` with a lowered descriptor limit; its JSON lines as they come."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.lines:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def event(self, name: str) -> dict[str, Any]:
        return next(e for e in self.events() if e.get("event") == name)

    def urls(self) -> tuple[str, str]:
        listening = [e for e in self.events() if e.get("event") == "http_listening"]
        local = next(e["url"] for e in listening if "listener" not in e)
        public = next(e["url"] for e in listening if e.get("listener") == "public")
        return local, public

    async def pump(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        async for chunk in self.process.stdout:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            self.lines.extend(line.decode("utf-8", "replace") for line in lines)

    async def stop(self) -> int:
        self.process.terminate()
        with trio.fail_after(30):
            return await self.process.wait()


@asynccontextmanager
async def open_limited_service(config: Path, limit: int) -> AsyncIterator[LimitedService]:
    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "wixprint.cli", "run", "--config", str(config)],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lower_limit,
    )
    service = LimitedService(process)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(service.pump)
            await wait_for(lambda: any(e.get("event") == "service_ready" for e in service.events()))
            yield service
            if process.returncode is None:
                await service.stop()
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
