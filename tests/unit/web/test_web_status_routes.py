"""Status routes through Quart's test client, against fake dependencies."""

from __future__ import annotations

import logging

import pytest

from wixprint.errors import SpoolError
from wixprint.health import Health
from wixprint.web.app import create_app

from .fakes_web import FakeWorld, snapshot


async def test_health_ok_is_200_and_not_cached() -> None:
    world = FakeWorld()
    response = await create_app(world.deps()).test_client().get("/health")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["spool"]["status"] == "ready"


async def test_health_degraded_is_still_200() -> None:
    world = FakeWorld(
        health=snapshot(("spool", Health.READY, True), ("printer:kitchen", Health.DEGRADED, False))
    )
    response = await create_app(world.deps()).test_client().get("/health")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "degraded"
    kitchen = body["checks"]["printer:kitchen"]
    assert (kitchen["status"], kitchen["reason"]) == ("degraded", "testing")


async def test_health_down_is_503_with_body() -> None:
    world = FakeWorld(health=snapshot(("spool", Health.DOWN, True)))
    response = await create_app(world.deps()).test_client().get("/health")
    assert response.status_code == 503
    assert (await response.get_json())["status"] == "down"


async def test_recovery_and_connectivity_pass_through_json() -> None:
    client = create_app(FakeWorld().deps()).test_client()
    recovery = await client.get("/recovery/status")
    connectivity = await client.get("/connectivity/status")
    assert recovery.status_code == connectivity.status_code == 200
    assert recovery.content_type == "application/json"
    assert (await recovery.get_json())["tree"]["state"] == "running"
    assert (await connectivity.get_json())["internet"] == {"online": True}


async def test_orders_default_limit_and_rows() -> None:
    world = FakeWorld(orders=[{"number": str(1000 + i)} for i in range(80)])
    response = await create_app(world.deps()).test_client().get("/orders")
    assert response.status_code == 200
    body = await response.get_json()
    assert len(body["orders"]) == 50
    assert body["orders"][0] == {"number": "1000"}
    assert world.order_limits == [50]


@pytest.mark.parametrize("limit", ["1", "500", "07"])
async def test_orders_accepts_limits_in_range(limit: str) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    response = await client.get("/orders", query_string={"limit": limit})
    assert response.status_code == 200
    assert world.order_limits == [int(limit)]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", "99999999999", "٣"])
async def test_orders_rejects_bad_limits(limit: str) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    response = await client.get("/orders", query_string={"limit": limit})
    assert response.status_code == 400
    assert "limit" in (await response.get_json())["error"]
    assert world.order_limits == []


async def test_unknown_route_answers_json_404() -> None:
    response = await create_app(FakeWorld().deps()).test_client().get("/nope")
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert (await response.get_json()) == {"error": "not found"}


async def test_handler_error_is_json_500_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = FakeWorld(orders_error=RuntimeError("database password hunter2 leaked"))
    with caplog.at_level(logging.INFO, logger="wixprint.web"):
        response = await create_app(world.deps()).test_client().get("/orders")
    assert response.status_code == 500
    text = await response.get_data(as_text=True)
    assert text == '{"error":"internal error"}'
    access = [r for r in caplog.records if r.getMessage() == "http_request"]
    assert [(r.method, r.path, r.status) for r in access] == [("GET", "/orders", 500)]  # type: ignore[attr-defined]


async def test_spool_outage_is_503() -> None:
    world = FakeWorld(orders_error=SpoolError("disk full"))
    response = await create_app(world.deps()).test_client().get("/orders")
    assert response.status_code == 503
    assert (await response.get_json()) == {"error": "spool unavailable"}


async def test_access_log_has_method_path_status_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = create_app(FakeWorld().deps()).test_client()
    with caplog.at_level(logging.DEBUG, logger="wixprint.web"):
        await client.get("/recovery/status", query_string={"x": "private"})
        await client.get("/health")
    records = [r for r in caplog.records if r.getMessage() == "http_request"]
    assert [(r.levelno, r.path, r.status) for r in records] == [  # type: ignore[attr-defined]
        (logging.INFO, "/recovery/status", 200),
        (logging.DEBUG, "/health", 200),
    ]
    assert all(r.duration_ms >= 0 for r in records)  # type: ignore[attr-defined]
    assert "private" not in caplog.text


async def test_public_routes_are_logged_by_their_template_and_long_paths_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A public route's path may carry a secret (the automation URL's token): the access log
    shows the route template instead. Any other path is cut at 200 characters."""
    client = create_app(FakeWorld().deps()).test_client()
    with caplog.at_level(logging.DEBUG, logger="wixprint.web"):
        await client.post("/webhooks/wix", data=b"jwt")
        await client.post("/webhooks/some-secret-token-123", data=b"x")
        await client.get("/" + "a" * 5000)
    paths = [r.path for r in caplog.records if r.getMessage() == "http_request"]  # type: ignore[attr-defined]
    assert paths == ["/webhooks/wix", "/webhooks/...", "/" + "a" * 199]
    assert "some-secret-token-123" not in caplog.text
