"""Real HTTP servers on 127.0.0.1 for the push channels: a fake ntfy server and a fake
webhook receiver (quart-trio on hypercorn, like the simulated shop).

The ntfy fake follows ntfy's publish API where our client touches it: JSON is taken only at
the server's root (``POST /`` with ``topic``, ``message``, ``title``, ``priority`` 1-5,
``tags``); a POST to a topic URL publishes its raw body as the message text (JSON sent
there shows up verbatim, as on a phone); a protected topic answers 403 without a token and
401 for a wrong one, with ntfy's ``{"code", "http", "error"}`` body; a message over 4096
bytes becomes an attachment. Both fakes can be taken down (connection refused on their
port) and brought back on the same port, or made to answer an error status.

    ntfy = FakeNtfy(token="tk_test")
    await nursery.start(ntfy.serve)
    ... ntfy.topic_url("alerts") ...
    assert ntfy.messages[0].title == "..."
"""

from __future__ import annotations

import json
import re
import secrets
import socket
from dataclasses import dataclass
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart import Response, request
from quart_trio import QuartTrio

__all__ = ["FakeNtfy", "FakeWebhookReceiver", "NtfyMessage", "WebhookCall"]

NTFY_MESSAGE_LIMIT = 4096
_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server:
    """A quart-trio app on a fixed loopback port that the test switches off and on."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.status_override: int | None = None
        """Answer every request with this status (a broken bridge, a 502 proxy)."""
        self._up = True
        self._changed = trio.Event()
        self._shutdown = trio.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_up(self, up: bool) -> None:
        """Down: the listener closes (connection refused); up: it listens again."""
        self._up = up
        if not up:
            self._shutdown.set()
        self._changed.set()
        self._changed = trio.Event()

    def app(self) -> QuartTrio:
        raise NotImplementedError

    async def serve(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        app = self.app()
        started = False
        while True:
            while not self._up:
                await self._changed.wait()
            self._shutdown = trio.Event()
            config = Config()
            config.bind = [f"127.0.0.1:{self.port}"]
            config.accesslog = None
            config.errorlog = None
            config.graceful_timeout = 0.5
            config.keep_alive_timeout = 3600.0
            async with trio.open_nursery() as nursery:
                await nursery.start(
                    partial(serve, app, config, shutdown_trigger=self._shutdown.wait)
                )
                if not started:
                    started = True
                    task_status.started(self.base_url)


def _ntfy_error(status: int, code: int, error: str) -> Response:
    body = json.dumps({"code": code, "http": status, "error": error})
    return Response(body, status=status, content_type="application/json")


@dataclass(frozen=True)
class NtfyMessage:
    topic: str
    title: str
    message: str
    priority: int
    tags: tuple[str, ...]
    attachment: bool
    received_at: float
    """Trio time when it arrived."""


class FakeNtfy(_Server):
    def __init__(self, *, token: str = "") -> None:
        super().__init__()
        self.token = token
        self.messages: list[NtfyMessage] = []
        self.refused = 0
        """Requests answered with an error (auth, bad request, override)."""

    def topic_url(self, topic: str) -> str:
        return f"{self.base_url}/{topic}"

    def app(self) -> QuartTrio:
        app = QuartTrio("fake-ntfy")

        @app.post("/")
        async def publish_json() -> Response:
            body = await request.get_data(as_text=True)
            try:
                data = json.loads(body)
            except ValueError:
                return self._refuse(_ntfy_error(400, 40017, "invalid request: body must be JSON"))
            if not isinstance(data, dict) or not _TOPIC.fullmatch(str(data.get("topic", ""))):
                return self._refuse(_ntfy_error(400, 40009, "invalid request: topic invalid"))
            priority = data.get("priority", 3)
            if priority not in (1, 2, 3, 4, 5):
                return self._refuse(_ntfy_error(400, 40007, "invalid priority"))
            tags = data.get("tags", [])
            return self._publish(
                str(data["topic"]),
                title=str(data.get("title", "")),
                message=str(data.get("message", "") or "triggered"),
                priority=int(priority),
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            )

        @app.route("/<topic>", methods=["POST", "PUT"])
        async def publish_raw(topic: str) -> Response:
            # The documented plain form: the body is the message, headers the rest.
            text = str(await request.get_data(as_text=True))
            headers = request.headers
            tags = headers.get("Tags") or headers.get("X-Tags") or ""
            return self._publish(
                topic,
                title=headers.get("Title") or headers.get("X-Title") or "",
                message=text or "triggered",
                priority=3,
                tags=tuple(t for t in tags.split(",") if t),
            )

        return app

    def _refuse(self, response: Response) -> Response:
        self.refused += 1
        return response

    def _publish(
        self, topic: str, *, title: str, message: str, priority: int, tags: tuple[str, ...]
    ) -> Response:
        if self.status_override is not None:
            return self._refuse(_ntfy_error(self.status_override, 50001, "server error"))
        auth = request.headers.get("Authorization", "")
        if self.token and not auth:
            return self._refuse(_ntfy_error(403, 40301, "forbidden"))
        if self.token and auth != f"Bearer {self.token}":
            return self._refuse(_ntfy_error(401, 40101, "unauthorized"))
        attachment = len(message.encode("utf-8")) > NTFY_MESSAGE_LIMIT
        if attachment:
            message = "You received a file: attachment.txt"
        now = trio.current_time()
        self.messages.append(
            NtfyMessage(topic, title, message, priority, tags, attachment, received_at=now)
        )
        envelope = {
            "id": secrets.token_urlsafe(9),
            "time": int(now),
            "event": "message",
            "topic": topic,
            "title": title,
            "message": message,
            "priority": priority,
            "tags": list(tags),
        }
        return Response(json.dumps(envelope), status=200, content_type="application/json")


@dataclass(frozen=True)
class WebhookCall:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float


class FakeWebhookReceiver(_Server):
    """Takes JSON POSTs on any path (a chat bridge); optional Bearer token."""

    def __init__(self, *, token: str = "") -> None:
        super().__init__()
        self.token = token
        self.calls: list[WebhookCall] = []

    def url(self, path: str = "hooks/wixprint") -> str:
        return f"{self.base_url}/{path}"

    def app(self) -> QuartTrio:
        app = QuartTrio("fake-webhook")

        @app.post("/<path:path>")
        async def receive(path: str) -> Response:
            if self.status_override is not None:
                return Response("bridge broken", status=self.status_override)
            if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
                return Response("unauthorized", status=401)
            try:
                body = json.loads(await request.get_data(as_text=True))
            except ValueError:
                return Response("not JSON", status=400)
            if not isinstance(body, dict):
                return Response("expected an object", status=400)
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.calls.append(WebhookCall("/" + path, headers, body, trio.current_time()))
            return Response("", status=204)

        return app
