"""The request policy in front of the app: public routes, Host (DNS rebinding), Origin."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tests.unit.web.fakes_web import FakeWorld
from wixprint.web.app import create_app
from wixprint.web.dashboard import load_dashboard
from wixprint.web.guard import Guard, HostPolicy, is_public_route
from wixprint.web.limits import (
    ACTOR_DESCRIPTOR_RESERVE,
    MIN_CONNECTIONS,
    Limits,
    fit_descriptor_budget,
)

POLICY = HostPolicy.build(["gasthaus-pi.lan"], ["https://pi.example.com"], machine="Raspberrypi")


@pytest.mark.parametrize(
    "host",
    [
        None,
        "127.0.0.1",
        "127.0.0.1:8000",
        "192.168.1.20:8000",
        "[::1]:8000",
        "[fe80::1]",
        "localhost:8000",
        "LOCALHOST",
        "raspberrypi:8000",
        "raspberrypi.local",
        "raspberrypi.local.",
        "gasthaus-pi.lan:8000",
    ],
)
def test_hosts_no_stranger_controls_are_accepted(host: str | None) -> None:
    assert POLICY.host_allowed(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8000",
        "rebind.attacker.test",
        "127.0.0.1.nip.io:8000",
        "raspberrypi.evil.example",
        "localhost.evil.example",
        "gasthaus-pi.lan.evil.example",
        "",
        "[::1",
    ],
)
def test_other_host_names_are_refused(host: str) -> None:
    assert not POLICY.host_allowed(host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "127.0.0.1:8000"),
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://raspberrypi.local:8000", "raspberrypi.local:8000"),
        ("http://RaspberryPi.local", "raspberrypi.local:80"),
        ("https://pi.example.com", "127.0.0.1:8000"),
        ("https://pi.example.com", "pi.example.com"),
    ],
)
def test_websocket_origins_of_the_dashboard_itself_or_configured(
    origin: str | None, host: str
) -> None:
    assert POLICY.origin_allowed(origin, host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://evil.example", "127.0.0.1:8000"),
        ("http://127.0.0.1:9999", "127.0.0.1:8000"),
        ("https://127.0.0.1:8000", "127.0.0.1:8001"),
        ("null", "127.0.0.1:8000"),
        ("file://", "127.0.0.1:8000"),
        ("http://127.0.0.1:8000", None),
    ],
)
def test_other_websocket_origins_are_refused(origin: str, host: str | None) -> None:
    assert not POLICY.origin_allowed(origin, host)


def test_the_public_routes_are_the_webhook_posts() -> None:
    assert is_public_route("POST", "/webhooks/wix")
    assert is_public_route("POST", "/webhooks/automation/abc")  # issue 13's, when it lands
    assert not is_public_route("GET", "/webhooks/wix")
    for path in ("/", "/health", "/metrics", "/orders", "/orders/1/reprint", "/ws/events"):
        assert not is_public_route("POST", path)
        assert not is_public_route("GET", path)


def _guarded(world: FakeWorld, *, public_only: bool) -> Any:
    app = create_app(world.deps())
    guard = Guard(
        cast(Any, app.asgi_app),
        listener="test",
        public_only=public_only,
        policy=POLICY,
        metrics=world.metrics,
    )
    app.asgi_app = cast(Any, guard)  # type: ignore[method-assign]
    return app


def _refused(world: FakeWorld, reason: str) -> float:
    value: float = world.metrics.http_refused.labels(listener="test", reason=reason)._value.get()
    return value


async def test_the_public_listener_serves_only_the_webhook() -> None:
    world = FakeWorld()
    client = _guarded(world, public_only=True).test_client()
    assert (await client.post("/webhooks/wix", data=b"jwt")).status_code == 200
    for path in ("/", "/health", "/metrics", "/orders", "/recovery/status"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert (await response.get_json()) == {"error": "not found"}
    reprint = await client.post("/orders/1001/reprint", headers={"X-Admin-Token": "x"})
    assert reprint.status_code == 404
    assert world.reprints == []
    assert _refused(world, "not_public") == 6


async def test_a_rebound_host_gets_nothing_but_the_webhook_still_works() -> None:
    world = FakeWorld()
    client = _guarded(world, public_only=False).test_client()
    evil = {"Host": "rebind.attacker.test:8000"}
    for path in ("/", "/health", "/orders", "/metrics"):
        response = await client.get(path, headers=evil)
        assert response.status_code == 403, path
        assert (await response.get_json()) == {"error": "host not allowed"}
    # Wix behind a reverse proxy sends the proxy's name; the signature is the check there.
    assert (await client.post("/webhooks/wix", data=b"jwt", headers=evil)).status_code == 200
    assert (await client.get("/health", headers={"Host": "127.0.0.1:8000"})).status_code == 200
    assert _refused(world, "host") == 4


def test_the_dashboard_may_connect_only_to_its_own_origin() -> None:
    directives = dict(d.split(" ", 1) for d in load_dashboard().csp.split("; "))
    assert directives["connect-src"] == "'self'"


def test_descriptor_budget_leaves_the_reserve_to_the_actors() -> None:
    limits = Limits(max_connections=64, max_websockets=8)
    assert fit_descriptor_budget(limits, 2, None) is limits
    assert fit_descriptor_budget(limits, 2, 1024) is limits
    fitted = fit_descriptor_budget(limits, 2, 200)
    assert fitted.max_connections == (200 - ACTOR_DESCRIPTOR_RESERVE) // 2 - 1
    assert fitted.descriptors(2) + ACTOR_DESCRIPTOR_RESERVE <= 200
    assert fitted.max_websockets <= fitted.max_connections // 2
    assert fit_descriptor_budget(limits, 2, 100).max_connections == MIN_CONNECTIONS


def test_websocket_pings_keep_a_live_client_inside_the_read_timeout() -> None:
    limits = Limits(read_timeout=10.0)
    assert limits.websocket_ping_interval < limits.read_timeout
