"""The dashboard's admin actions: test-print, pause/resume, retry, preview (admin token)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.vocabulary import PrinterStatus
from wixprint.web.app import create_app

from .fakes_web import ADMIN_TOKEN, FakeWorld

if TYPE_CHECKING:
    from quart.typing import TestClientProtocol
    from quart.wrappers import Response

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ACTIONS = [
    ("POST", "/printers/kitchen/test-print"),
    ("POST", "/printers/kitchen/pause"),
    ("POST", "/printers/kitchen/resume"),
    ("POST", "/jobs/7/retry"),
    ("GET", "/orders/1001/preview"),
]


async def call(client: TestClientProtocol, method: str, path: str, **kwargs: Any) -> Response:
    send = client.get if method == "GET" else client.post
    return await send(path, **kwargs)


@pytest.mark.parametrize(("method", "path"), ACTIONS)
@pytest.mark.parametrize(
    "headers", [{}, {"X-Admin-Token": "wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}]
)
async def test_every_action_needs_the_token_in_a_header(
    method: str, path: str, headers: dict[str, str]
) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    response = await call(client, method, path, headers=headers)
    assert response.status_code == 401
    # Not in the query string either: a token in a URL ends up in logs and history.
    in_url = await call(client, method, path, query_string={"token": ADMIN_TOKEN})
    assert in_url.status_code == 401
    assert world.actions.calls == []


@pytest.mark.parametrize(("method", "path"), ACTIONS)
async def test_every_action_is_off_without_a_configured_token(method: str, path: str) -> None:
    world = FakeWorld()
    client = create_app(world.deps(admin_token="")).test_client()
    response = await call(client, method, path, headers={"X-Admin-Token": ""})
    assert response.status_code == 403
    assert world.actions.calls == []


async def test_actions_with_the_token() -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    printed = await client.post("/printers/kitchen/test-print", headers=BEARER)
    assert printed.status_code == 200
    assert (await printed.get_json())["model"] == "TM-m30III"
    paused = await client.post("/printers/kitchen/pause", headers=BEARER)
    assert (await paused.get_json()) == {"printer": "kitchen", "paused": True}
    resumed = await client.post("/printers/kitchen/resume", headers={"X-Admin-Token": ADMIN_TOKEN})
    assert (await resumed.get_json()) == {"printer": "kitchen", "paused": False}
    retried = await client.post("/jobs/7/retry", headers=BEARER)
    assert (await retried.get_json()) == {"job": 7, "jobs": [107]}
    shown = await client.get("/orders/1001/preview?receipt=kitchen", headers=BEARER)
    assert (await shown.get_json())["tickets"][0]["text"] == "Max Muster"
    assert world.actions.calls == [
        ("test_print", "kitchen"),
        ("pause", "kitchen"),
        ("resume", "kitchen"),
        ("retry", 7),
        ("preview", "1001", "kitchen"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("POST", "/printers/nope/test-print", 404, "unknown printer"),
        ("POST", "/printers/nope/pause", 404, "unknown printer"),
        ("POST", "/jobs/9/retry", 404, "unknown job"),
        ("POST", "/jobs/8/retry", 409, "job is not set aside"),
        ("POST", "/jobs/x/retry", 404, "not found"),
        ("GET", "/orders/2002/preview", 404, "unknown order"),
        ("GET", "/orders/1001/preview?receipt=menu", 400, "unknown receipt kind"),
    ],
)
async def test_bad_targets_get_a_clear_answer(
    method: str, path: str, status: int, error: str
) -> None:
    client = create_app(FakeWorld().deps()).test_client()
    response = await call(client, method, path, headers=BEARER)
    assert response.status_code == status
    assert (await response.get_json())["error"] == error


@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        (PrinterOffline("x"), 503, "printer offline"),
        (
            PrinterNotReady("x", status=PrinterStatus(online=False, paper="out")),
            503,
            "printer paper out",
        ),
        (
            PrinterNotReady("x", status=PrinterStatus(online=False, cover_open=True)),
            503,
            "printer cover open",
        ),
        (PrintOutcomeUnknown("x", answered=True), 504, "sent, but the printer did not confirm"),
    ],
)
async def test_a_test_print_that_fails_says_why(
    failure: Exception, status: int, error: str
) -> None:
    world = FakeWorld()
    world.actions.failure = failure
    response = (
        await create_app(world.deps())
        .test_client()
        .post("/printers/bar/test-print", headers=BEARER)
    )
    assert response.status_code == status
    assert (await response.get_json()) == {"error": error, "printer": "bar"}


async def test_reprint_of_one_printer() -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    response = await client.post(
        "/orders/1001/reprint", headers=BEARER, json={"receipt": "kitchen", "printer": "bar"}
    )
    assert (await response.get_json()) == {
        "order": "1001",
        "receipt": "kitchen",
        "printer": "bar",
        "jobs": [101, 201],
    }
    bad = await client.post("/orders/1001/reprint", headers=BEARER, json={"printer": "nope"})
    assert bad.status_code == 400
    assert (await bad.get_json()) == {"error": "unknown printer"}
    assert world.reprints == [("1001", "kitchen", "bar")]
