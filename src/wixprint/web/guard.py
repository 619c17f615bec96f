"""Who may reach which route, checked in front of the app (ASGI), before any handler runs.

Two listeners, two roles. The **public** listener — what a tunnel or a TLS reverse proxy
forwards from the internet — serves only the public routes: every ``POST`` under
``/webhooks/``. Each of those authenticates its own request (Wix's signature, a secret token
in the path), so it needs no trust in the network; a new webhook route added under that
prefix is public with no change here. Everything else there is a 404.

The **local** listener serves everything. Its status, dashboard and live events rely on the
network for privacy (the LAN, or only the Pi itself), so it refuses requests whose ``Host``
names a stranger's domain: a guest's browser that visits a page whose name an attacker
re-points at the Pi (DNS rebinding) sends that name as ``Host``. IP addresses, ``localhost``,
this machine's own name and the configured ``allowed_hosts`` are accepted: a page served
under any of them has an origin no attacker controls. A websocket must also come from the
dashboard's own origin, a configured one, or from no browser at all (no ``Origin``), since
browsers let any page open a websocket anywhere.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from wixprint.web.metrics import Metrics

__all__ = [
    "PUBLIC_PREFIX",
    "AsgiApp",
    "Guard",
    "HostPolicy",
    "is_public_route",
    "refuse",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PREFIX: Final = "/webhooks/"
_DEFAULT_PORTS: Final = {"http": ":80", "https": ":443"}


def is_public_route(method: str, path: str) -> bool:
    """A route anyone on the internet may reach: ``POST /webhooks/…``."""
    return method == "POST" and path.startswith(PUBLIC_PREFIX)


def _host_name(authority: str) -> str:
    """``Pi.Local:8000`` → ``pi.local``; ``[::1]:80`` → ``::1``."""
    value = authority.strip().lower()
    if value.startswith("["):
        inside, bracket, _port = value[1:].partition("]")
        return inside if bracket else ""
    name, colon, port = value.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        value = name
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _strip_default_port(authority: str, scheme: str) -> str:
    return authority.lower().removesuffix(_DEFAULT_PORTS.get(scheme, "\0"))


@dataclass(frozen=True, slots=True)
class HostPolicy:
    names: frozenset[str]
    """Host names (lower case) accepted besides IP addresses."""
    origins: frozenset[str]
    """Extra websocket origins (lower case, ``scheme://host[:port]``)."""

    @classmethod
    def build(
        cls,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        *,
        machine: str | None = None,
    ) -> HostPolicy:
        own = (socket.gethostname() if machine is None else machine).lower()
        names = {"localhost", own, f"{own}.local", *(h.lower().rstrip(".") for h in allowed_hosts)}
        return cls(frozenset(names), frozenset(o.lower().rstrip("/") for o in allowed_origins))

    def host_allowed(self, host: str | None) -> bool:
        """No ``Host`` (HTTP/1.0, not a browser) passes; a name must be known."""
        if host is None:
            return True
        name = _host_name(host)
        return name in self.names or _is_ip(name)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """No ``Origin`` (not a browser) passes; else the page's own origin or a known one."""
        if origin is None:
            return True
        value = origin.strip().lower()
        if value in self.origins:
            return True
        parts = urlsplit(value)
        if parts.scheme not in _DEFAULT_PORTS or not parts.netloc or host is None:
            return False
        own = _strip_default_port(host.strip(), parts.scheme)
        return _strip_default_port(parts.netloc, parts.scheme) == own


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def refuse(scope: Scope, send: Send, status: int, error: str) -> None:
    """Answer ``{"error": …}`` with ``status`` before the app sees the request; a websocket
    gets it as the handshake's HTTP answer."""
    body = json.dumps({"error": error}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    prefix = "websocket.http" if scope["type"] == "websocket" else "http"
    await send({"type": f"{prefix}.response.start", "status": status, "headers": headers})
    await send({"type": f"{prefix}.response.body", "body": body, "more_body": False})


class Guard:
    """The checks above, for one listener. Each refusal is counted by ``reason`` (``not_public``,
    ``host``, ``origin``) in ``wixprint_http_refused_total``."""

    def __init__(
        self,
        app: AsgiApp,
        *,
        listener: str,
        public_only: bool,
        policy: HostPolicy,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.listener = listener
        self.public_only = public_only
        self.policy = policy
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        public = kind == "http" and is_public_route(scope["method"], scope["path"])
        host = _header(scope, b"host")
        if self.public_only and not public:
            reason, status, error = "not_public", 404, "not found"
        elif not public and not self.policy.host_allowed(host):
            reason, status, error = "host", 403, "host not allowed"
        elif kind == "websocket" and not self.policy.origin_allowed(
            _header(scope, b"origin"), host
        ):
            reason, status, error = "origin", 403, "origin not allowed"
        else:
            await self.app(scope, receive, send)
            return
        self.metrics.count_http_refused(self.listener, reason)
        await refuse(scope, send, status, error)
