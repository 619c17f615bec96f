"""Health aggregation as a table: one component in one state, everything else ready, and what
each consumer then does — ``GET /health`` (body and HTTP code), ``wixprint check`` (exit
code, over real HTTP) and the watchdog (ping or not).

The expectations are written out by hand, never computed with ``health.aggregate``: a
non-critical actor that is down or still starting makes the service *degraded* (200, exit 1,
pings go on), only the spool (critical) takes it down. Reporting a minor actor's start as
*down* would turn every start-up into a 503, a failed ``check`` and a systemd restart.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.ops.test_watchdog_actor import drain, make_ctx, notify_socket, pings
from tests.unit.web.fakes_web import FakeWorld
from wixprint.actors.context import ActorContext
from wixprint.actors.watchdog import run_watchdog
from wixprint.commands.service import cmd_check
from wixprint.health import Health
from wixprint.web.app import create_app

__all__ = ["notify_socket"]  # the fixture, shared with the watchdog tests

CRITICAL = ("spool",)
MINOR = ("fetcher", "internet", "alerter", "monitor", "printer:kitchen")
STARTING = "starting"
"""Registered but never reported: what every actor is while the tree starts."""

# state → (overall, HTTP code, check exit, watchdog pings). The watchdog follows the event
# loop, not health: a spool down for a full SD card is not cured by a restart (issue 15).
FOR_CRITICAL = {
    "ready": ("ok", 200, 0, True),
    "degraded": ("degraded", 200, 1, True),
    "down": ("down", 503, 2, True),
    STARTING: ("down", 503, 2, True),
}
FOR_MINOR = {
    "ready": ("ok", 200, 0, True),
    "degraded": ("degraded", 200, 1, True),
    "down": ("degraded", 200, 1, True),
    STARTING: ("degraded", 200, 1, True),
}
TABLE = [(c, s, *FOR_CRITICAL[s]) for c in CRITICAL for s in FOR_CRITICAL] + [
    (c, s, *FOR_MINOR[s]) for c in MINOR for s in FOR_MINOR
]


def service_ctx(tmp: Path, component: str, state: str) -> ActorContext:
    """Every component registered as the actors register it (only the spool critical), all
    ready but ``component``, which is in ``state``."""
    ctx = make_ctx(tmp)
    for name in MINOR:
        ctx.health.register(name)
    for name in (*CRITICAL, *MINOR):
        if name == component:
            if state != STARTING:
                ctx.health.set(name, Health(state), "testing")
        else:
            ctx.health.set(name, Health.READY)
    if state == STARTING:
        ctx.health.remove(component)
        ctx.health.register(component, critical=component in CRITICAL)
    return ctx


class _Reply:
    """What the HTTP stand-in answers: the real route's status code and body."""

    code = 500
    body = b"{}"


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Reply]]]:
    """A loopback HTTP server answering ``/health`` with whatever the test put in ``_Reply``,
    so ``wixprint check`` runs unchanged, over real HTTP."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(_Reply.code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(_Reply.body)))
            self.end_headers()
            self.wfile.write(_Reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Reply
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("component", "state", "overall", "code", "exit_code", "ping"), TABLE)
async def test_one_component_state_decides_health_http_check_and_watchdog(
    tmp_path: Path,
    notify_socket: tuple[socket.socket, dict[str, str]],
    health_server: tuple[str, type[_Reply]],
    autojump_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
    component: str,
    state: str,
    overall: str,
    code: int,
    exit_code: int,
    ping: bool,
) -> None:
    ctx = service_ctx(tmp_path, component, state)
    check = ctx.health.get(component)
    assert check is not None
    assert (check.state.value, check.reason) == (
        ("down", "starting") if state == STARTING else (state, "testing")
    )

    deps = replace(FakeWorld().deps(), health=ctx.health.snapshot)
    response = await create_app(deps).test_client().get("/health")
    body = await response.get_json()
    assert (body["status"], response.status_code) == (overall, code)

    url, reply = health_server
    reply.code, reply.body = response.status_code, json.dumps(body).encode()
    args = argparse.Namespace(url=url, json=False)
    assert await trio.to_thread.run_sync(cmd_check, args) == exit_code
    assert capsys.readouterr().out.startswith(f"status: {overall}\n")

    sock, env = notify_socket
    env["WATCHDOG_USEC"] = "2000000"  # a ping due every second
    async with trio.open_nursery() as nursery:
        await nursery.start(run_watchdog, ctx, env)
        await trio.sleep(3.5)
        nursery.cancel_scope.cancel()
    assert (pings(drain(sock)) == 3) is ping
    if not ping:
        assert pings(drain(sock)) == 0
