"""Reprint (admin token) and the Wix webhook route."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from tests.fakes.webhooks import generate_signing_key, hostile_bodies
from wixprint.errors import WebhookRejected
from wixprint.supervisor import faults
from wixprint.web.app import create_app
from wixprint.web.routes_actions import MAX_WEBHOOK_BODY
from wixprint.wix.webhook import load_public_key, verify_webhook

from .fakes_web import ADMIN_TOKEN, FakeWorld

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_reprint_disabled_without_configured_token() -> None:
    world = FakeWorld()
    client = create_app(world.deps(admin_token="")).test_client()
    response = await client.post("/orders/1001/reprint", headers={"X-Admin-Token": ""})
    assert response.status_code == 403
    assert (await response.get_json()) == {"error": "admin actions disabled"}
    assert world.reprints == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"X-Admin-Token": "wrong"},
        {"X-Admin-Token": ADMIN_TOKEN[:-1]},
        {"X-Admin-Token": "ä"},
    ],
)
async def test_reprint_without_the_right_token_is_401(headers: dict[str, str]) -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps()).test_client().post("/orders/1001/reprint", headers=headers)
    )
    assert response.status_code == 401
    assert ADMIN_TOKEN not in await response.get_data(as_text=True)
    assert world.reprints == []


@pytest.mark.parametrize("headers", [BEARER, {"X-Admin-Token": ADMIN_TOKEN}])
async def test_reprint_with_token_returns_new_job_ids(headers: dict[str, str]) -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps()).test_client().post("/orders/1001/reprint", headers=headers)
    )
    assert response.status_code == 200
    assert (await response.get_json()) == {"order": "1001", "receipt": None, "jobs": [101, 201]}
    assert world.reprints == [("1001", None)]


async def test_reprint_receipt_kind_from_json_or_query() -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    by_json = await client.post("/orders/1001/reprint", headers=BEARER, json={"receipt": "driver"})
    by_query = await client.post(
        "/orders/order-uuid-1/reprint", headers=BEARER, query_string={"receipt": "kitchen"}
    )
    assert by_json.status_code == by_query.status_code == 200
    assert world.reprints == [("1001", "driver"), ("order-uuid-1", "kitchen")]


async def test_reprint_unknown_order_is_404() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps()).test_client().post("/orders/4242/reprint", headers=BEARER)
    )
    assert response.status_code == 404
    assert (await response.get_json()) == {"error": "unknown order"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"json": {"receipt": "menu"}}, "unknown receipt kind"),
        ({"json": {"receipt": 3}}, "receipt must be a string"),
        ({"json": ["kitchen"]}, "body must be a JSON object"),
        ({"data": b"{not json"}, "body must be JSON"),
    ],
)
async def test_reprint_bad_requests_are_400(kwargs: dict[str, object], error: str) -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps())
        .test_client()
        .post("/orders/1001/reprint", headers=BEARER, **kwargs)
    )
    assert response.status_code == 400
    assert (await response.get_json()) == {"error": error}
    assert world.reprints == []


async def test_reprint_never_logs_the_token(caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(FakeWorld().deps()).test_client()
    with caplog.at_level(logging.DEBUG):
        await client.post("/orders/1001/reprint", headers=BEARER)
        await client.post("/orders/1001/reprint", headers={"X-Admin-Token": ADMIN_TOKEN + "x"})
    assert "reprint_requested" in caplog.text
    for record in caplog.records:
        assert ADMIN_TOKEN not in repr(record.__dict__)


async def test_webhook_disabled_is_404() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps(webhooks=False))
        .test_client()
        .post("/webhooks/wix", data=b"jwt")
    )
    assert response.status_code == 404


async def test_webhook_accepted_is_200_and_hands_over_raw_body() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps())
        .test_client()
        .post(
            "/webhooks/wix", data=b"eyJhbGciOi.payload.sig", headers={"Content-Type": "text/plain"}
        )
    )
    assert response.status_code == 200
    assert world.webhook_bodies == [b"eyJhbGciOi.payload.sig"]
    assert world.metrics.webhooks.labels(result="accepted")._value.get() == 1


@pytest.mark.parametrize(
    ("status", "reason"), [(401, "webhook verification failed"), (400, "malformed webhook")]
)
async def test_webhook_rejected_answers_its_status_without_echo(
    status: int, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    world = FakeWorld(webhook_error=WebhookRejected("bad signature", status_code=status))
    with caplog.at_level(logging.INFO, logger="wixprint.web"):
        response = (
            await create_app(world.deps())
            .test_client()
            .post("/webhooks/wix", data=b"SECRET-BODY-eyJ")
        )
    assert response.status_code == status
    text = await response.get_data(as_text=True)
    assert (await response.get_json()) == {"error": reason}
    assert "SECRET-BODY" not in text
    assert "SECRET-BODY" not in caplog.text
    assert any(r.getMessage() == "webhook_rejected" for r in caplog.records)
    assert world.metrics.webhooks.labels(result="rejected")._value.get() == 1


async def test_webhook_over_declared_limit_is_413_without_calling_handler() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps())
        .test_client()
        .post("/webhooks/wix", data=b"x" * (MAX_WEBHOOK_BODY + 1))
    )
    assert response.status_code == 413
    assert world.webhook_bodies == []
    assert world.metrics.webhooks.labels(result="too_large")._value.get() == 1


async def test_webhook_at_limit_is_accepted() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps())
        .test_client()
        .post("/webhooks/wix", data=b"x" * MAX_WEBHOOK_BODY)
    )
    assert response.status_code == 200
    assert len(world.webhook_bodies[0]) == MAX_WEBHOOK_BODY


async def test_webhook_streamed_without_length_is_capped() -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    chunk = b"y" * (256 * 1024)
    async with client.request("/webhooks/wix", method="POST") as connection:
        for _ in range(5):
            await connection.send(chunk)
        await connection.send_complete()
    response = await connection.as_response()
    assert response.status_code == 413
    assert world.webhook_bodies == []


async def test_webhook_fault_point_fires_before_handover() -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    with faults.armed("web.webhook", times=1):
        response = await client.post("/webhooks/wix", data=b"jwt")
    assert response.status_code == 500
    assert (await response.get_json()) == {"error": "internal error"}
    assert world.webhook_bodies == []
    assert world.metrics.webhooks.labels(result="error")._value.get() == 1


async def test_hostile_tokens_are_401_counted_as_rejected_never_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The route with the real verifier: a token shaped to crash the parser (``[[[[…``) is a
    plain 401 counted as ``rejected``, so the probing alert sees it; no ERROR, no 500."""
    _private, public = generate_signing_key()
    world = FakeWorld()
    key = load_public_key(public)

    async def verify(body: bytes) -> None:
        verify_webhook(body, key)

    deps = dataclasses.replace(world.deps(), webhook=verify)
    client = create_app(deps).test_client()
    bodies = {k: v for k, v in hostile_bodies().items() if len(v) <= MAX_WEBHOOK_BODY}
    with caplog.at_level(logging.INFO):
        for name, body in bodies.items():
            response = await client.post("/webhooks/wix", data=body)
            assert response.status_code == 401, name
    assert world.metrics.webhooks.labels(result="rejected")._value.get() == len(bodies)
    assert world.metrics.webhooks.labels(result="error")._value.get() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
