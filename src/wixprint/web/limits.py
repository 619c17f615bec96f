"""What a client may hold of the HTTP server, and the file-descriptor budget behind it.

Every resource a stranger can make the server hold is bounded: connections per listener (at
the cap the oldest is closed), websocket clients, the time a client may stay silent while a
byte is due, the time one write may wait for a client that does not read, the request head,
and websocket messages (clients send nothing but pongs). The connection caps are also what
keeps the rest of the process alive: the web server never holds more descriptors than
``descriptors()``, and ``fit_descriptor_budget`` shrinks the caps when the process limit
(systemd's ``LimitNOFILE=``) would leave the spool, the printers and the Wix client less than
``ACTOR_DESCRIPTOR_RESERVE``.
"""

from __future__ import annotations

import dataclasses
import resource
from dataclasses import dataclass
from typing import Final

from wixprint.config import HttpConfig

__all__ = [
    "ACTOR_DESCRIPTOR_RESERVE",
    "MIN_CONNECTIONS",
    "Limits",
    "descriptor_limit",
    "fit_descriptor_budget",
]

ACTOR_DESCRIPTOR_RESERVE: Final = 128
"""Descriptors kept for everything but the web server: the SQLite database and its WAL and
shared-memory files, one connection per printer, the Wix client's pool, SMTP, /proc reads of
the monitor, the journal, Trio's own. Measured at rest with two printers: about 30."""
MIN_CONNECTIONS: Final = 4
"""Below this per listener the service would rather run on than refuse to start."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_connections: int = 64
    """Open connections per listener, websockets included."""
    max_websockets: int = 8
    """Websocket clients across the service."""
    read_timeout: float = 10.0
    """Seconds a client may send nothing while the server waits for it (a request head or
    body, a pong); then its connection is closed. Also the slowest a handler may answer."""
    send_timeout: float = 10.0
    """Seconds one write may wait for a client that does not read; then it is closed."""
    keep_alive_timeout: float = 5.0
    """Seconds an idle keep-alive connection stays open."""
    max_head_bytes: int = 8 * 1024
    """Request line and headers; more is a 400 (h11)."""
    websocket_max_message: int = 4 * 1024
    """Largest message a websocket client may send; more closes it with 1009."""
    backlog: int = 128
    graceful_timeout: float = 2.0
    """On shutdown, in-flight requests get this long."""

    @property
    def websocket_ping_interval(self) -> float:
        """Pings keep a healthy websocket inside the read timeout: the pong is its byte."""
        return self.read_timeout / 2

    def descriptors(self, listeners: int) -> int:
        """The most descriptors the web server holds: its connections and listening sockets."""
        return listeners * (self.max_connections + 1)

    @classmethod
    def from_config(cls, http: HttpConfig) -> Limits:
        return cls(
            max_connections=http.max_connections,
            max_websockets=http.max_websockets,
            read_timeout=http.read_timeout,
        )


def descriptor_limit() -> int | None:
    """The process's soft ``RLIMIT_NOFILE``; None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def fit_descriptor_budget(limits: Limits, listeners: int, soft_limit: int | None) -> Limits:
    """``limits`` with the connection caps lowered so that the web server leaves at least
    ``ACTOR_DESCRIPTOR_RESERVE`` descriptors to the rest of the process (never below
    ``MIN_CONNECTIONS`` per listener). Unchanged when they already fit."""
    if soft_limit is None:
        return limits
    per_listener = (soft_limit - ACTOR_DESCRIPTOR_RESERVE) // listeners - 1
    cap = max(MIN_CONNECTIONS, min(limits.max_connections, per_listener))
    if cap == limits.max_connections:
        return limits
    return dataclasses.replace(
        limits, max_connections=cap, max_websockets=min(limits.max_websockets, cap // 2)
    )
