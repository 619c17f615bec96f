"""Push channels over HTTPS: ntfy (phone push) and a generic JSON webhook (chat bridges).

ntfy takes the JSON form of its publish API at the server's root (``POST /`` with
``topic``, ``title``, ``message``, ``priority``, ``tags``): JSON carries umlauts in titles
that plain HTTP headers may not. The webhook gets one JSON object per message with an
``Idempotency-Key``. Neither service can backdate a message, so the text itself carries
the original time (the mail body's "since" and "raised" lines).

Failures are sorted like mail: unreachable, timed out, 408/429/5xx → ``AlertChannelUnavailable``
(retry with backoff); 401/403, another 4xx or a redirect → ``AlertChannelRejected`` (the
settings are wrong). The URL's path (a topic is a password) and the token never appear in
an error; a fresh connection per message, so nothing stale survives an outage.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

import httpx
import trio

from wixprint.alerts.channels import AlertMessage, ChannelCheck
from wixprint.config import AlertWebhookConfig, NtfyConfig
from wixprint.config.load import url_origin
from wixprint.config.rules_alerts import ntfy_topic_url
from wixprint.errors import AlertChannelRejected, AlertChannelUnavailable

__all__ = ["NTFY_MAX_MESSAGE", "NtfyChannel", "WebhookChannel", "push_payload"]

NTFY_MAX_MESSAGE = 3800
"""Bytes of message text: ntfy turns a message over 4096 bytes into an attachment."""
_NTFY_PRIORITY = {"critical": 5, "warning": 4, "info": 3}
_NTFY_TAGS = {"critical": "rotating_light", "warning": "warning", "info": "information_source"}
_USER_AGENT = "wix-printer-service"


class _HttpChannel:
    """What ntfy and the webhook share: the POST, its deadline and the failure sorting."""

    name = ""

    def __init__(
        self, config: NtfyConfig | AlertWebhookConfig, *, ssl_context: ssl.SSLContext | None
    ) -> None:
        self._url = config.url
        self._token = config.token
        self._levels = frozenset(config.levels)
        self._timeout = config.timeout
        self._verify: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    @property
    def levels(self) -> frozenset[str]:
        return self._levels

    def describe(self) -> str:
        return url_origin(self._url)

    async def deliver(self, message: AlertMessage) -> None:
        await self._post(self._target(), self.payload(message), message.id)

    async def check(self, message: AlertMessage) -> list[ChannelCheck]:
        try:
            await self.deliver(message)
        except (AlertChannelUnavailable, AlertChannelRejected) as exc:
            return [ChannelCheck(self.name, self.describe(), False, exc.stage, str(exc))]
        return [ChannelCheck(self.name, self.describe(), True, "ok", "test message accepted")]

    def payload(self, message: AlertMessage) -> dict[str, Any]:
        raise NotImplementedError

    def _target(self) -> str:
        return self._url

    async def _post(self, url: str, payload: Mapping[str, Any], idempotency: str) -> None:
        headers = {"User-Agent": _USER_AGENT, "Idempotency-Key": idempotency}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        where = self.describe()
        try:
            with trio.fail_after(self._timeout):
                async with httpx.AsyncClient(
                    timeout=self._timeout, verify=self._verify, follow_redirects=False
                ) as client:
                    response = await client.post(url, json=payload, headers=headers)
        except trio.TooSlowError:
            text = f"{where} did not answer within {self._timeout:g} s"
            raise AlertChannelUnavailable(text, stage="send") from None
        except httpx.HTTPError as exc:
            raise _transport_error(exc, where) from None
        _check_status(response, where)


class NtfyChannel(_HttpChannel):
    name = "ntfy"

    def __init__(self, config: NtfyConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(config, ssl_context=ssl_context)

    def _target(self) -> str:
        return self._split()[0]

    def payload(self, message: AlertMessage) -> dict[str, Any]:
        tag = "white_check_mark" if message.kind == "resolve" else _NTFY_TAGS[message.level]
        return {
            "topic": self._split()[1],
            "title": message.subject,
            "message": _clip_utf8(message.body.rstrip(), NTFY_MAX_MESSAGE),
            "priority": _NTFY_PRIORITY[message.level],
            "tags": [tag],
        }

    def _split(self) -> tuple[str, str]:
        parts = ntfy_topic_url(self._url)
        if parts is None:  # config validation refuses such a URL
            raise AlertChannelRejected(
                f"not an ntfy topic URL: {self.describe()}/…", stage="config"
            )
        return parts


class WebhookChannel(_HttpChannel):
    name = "webhook"

    def __init__(
        self,
        config: AlertWebhookConfig,
        *,
        restaurant: str,
        tz: tzinfo,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(config, ssl_context=ssl_context)
        self._restaurant = restaurant
        self._tz = tz

    def payload(self, message: AlertMessage) -> dict[str, Any]:
        return push_payload(message, restaurant=self._restaurant, tz=self._tz)


def push_payload(message: AlertMessage, *, restaurant: str, tz: tzinfo) -> dict[str, Any]:
    """The webhook's JSON: plain fields for a bridge, ``text`` for chats that show only it."""

    def iso(ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat()

    return {
        "source": "wix-printer-service",
        "restaurant": restaurant,
        "id": message.id,
        "key": message.key,
        "kind": "test" if message.test else message.kind,
        "level": message.level,
        "problem_level": message.problem_level,
        "title": message.subject,
        "message": message.body,
        "text": f"{message.subject}\n\n{message.body}",
        "raised_at": iso(message.raised_at),
        "raised_at_unix": message.raised_at,
        "since": iso(message.since),
    }


def _clip_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore") + "…"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in seen:
        seen.append(node)
        node = node.__cause__ or node.__context__
    return seen


def _transport_error(exc: httpx.HTTPError, where: str) -> Exception:
    causes = _chain(exc)
    if any(isinstance(c, socket.gaierror) for c in causes):
        return AlertChannelUnavailable(f"cannot resolve the host of {where}", stage="dns")
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            text = f"certificate of {where} not trusted: {cause.verify_message}"
            return AlertChannelRejected(text, stage="tls")
        if isinstance(cause, ssl.SSLError):
            return AlertChannelUnavailable(f"TLS with {where} failed ({cause.reason})", stage="tls")
    if isinstance(exc, httpx.ConnectTimeout):
        return AlertChannelUnavailable(f"connecting to {where} timed out", stage="connect")
    if isinstance(exc, httpx.ConnectError):
        return AlertChannelUnavailable(f"cannot connect to {where}", stage="connect")
    if isinstance(exc, httpx.TimeoutException):
        return AlertChannelUnavailable(f"{where} did not answer in time", stage="send")
    return AlertChannelUnavailable(
        f"network error with {where}: {type(exc).__name__}", stage="send"
    )


def _check_status(response: httpx.Response, where: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    said = _said(response)
    text = f"{where} answered {code}{said}"
    if code in (401, 403):
        raise AlertChannelRejected(f"{text} (check the token)", stage="auth", code=code)
    if code in (408, 425, 429) or code >= 500:
        raise AlertChannelUnavailable(text, stage="send")
    if 300 <= code < 400:
        raise AlertChannelRejected(
            f"{text}: redirected, use the final URL", stage="send", code=code
        )
    raise AlertChannelRejected(text, stage="send", code=code)


def _said(response: httpx.Response) -> str:
    """A short reason from the body (ntfy: ``{"error": "..."}``), never echoing a URL."""
    try:
        data = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return f": {' '.join(str(error).split())[:120]}" if error else ""
