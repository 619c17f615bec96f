"""``wixprint watch``: follows ``/ws/events``, one readable line per event, and reconnects
when the service restarts.

The connection is opened here rather than with ``open_websocket_url``: a service that is
stopping (or just starting) may accept the TCP connection and close it without answering the
handshake, and trio-websocket 0.12 then waits its whole connect timeout and leaks the socket.
Owning the stream, every attempt is bounded by ``CONNECT_TIMEOUT`` and always closed.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import trio
from trio_websocket import ConnectionClosed, HandshakeError, wrap_client_stream

RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0
CONNECT_TIMEOUT = 10.0
"""Seconds for TCP connect plus handshake before an attempt is abandoned and retried."""
CLOSE_TIMEOUT = 2.0


def format_event(event: Mapping[str, Any]) -> str:
    """One line: local time, event name and its interesting fields (no customer data)."""
    at = event.get("at")
    stamp = (
        time.strftime("%H:%M:%S", time.localtime(at))
        if isinstance(at, (int, float))
        else "--:--:--"
    )
    name = str(event.get("event", "?"))
    fields = " ".join(
        f"{key}={value}" for key, value in event.items() if key not in ("event", "at")
    )
    return f"{stamp} {name:20} {fields}".rstrip()


def events_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws/events"


_Stream = trio.SocketStream | trio.SSLStream[trio.SocketStream]


async def _open_stream(url: str) -> tuple[_Stream, str, str]:
    """(stream, Host header, resource) for a ``ws://`` or ``wss://`` URL."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if secure else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    name = f"[{host}]" if ":" in host else host
    header = name if port == (443 if secure else 80) else f"{name}:{port}"
    stream: _Stream
    if secure:
        stream = await trio.open_ssl_over_tcp_stream(
            host, port, ssl_context=ssl.create_default_context(), https_compatible=True
        )
    else:
        stream = await trio.open_tcp_stream(host, port)
    return stream, header, resource


async def _follow_once(
    url: str, out: Callable[[str], None], budget: int | None
) -> tuple[bool, int, str | None]:
    """One connection: (handshake done, events printed, why it ended; None when ``budget``
    was reached)."""
    connected = False
    seen = 0
    reason: str | None = None
    async with trio.open_nursery() as nursery:
        stream: _Stream | None = None
        try:
            with trio.fail_after(CONNECT_TIMEOUT):
                stream, header, resource = await _open_stream(url)
                ws = await wrap_client_stream(nursery, stream, header, resource)
            connected = True
            out(f"connected to {url}")
            while budget is None or seen < budget:
                message = await ws.get_message()
                out(format_event(json.loads(message)))
                seen += 1
            with trio.move_on_after(CLOSE_TIMEOUT):
                await ws.aclose()
        except (OSError, HandshakeError, ConnectionClosed, trio.TooSlowError) as exc:
            reason = type(exc).__name__
        finally:
            nursery.cancel_scope.cancel()  # the connection's reader task
            if stream is not None:
                await trio.aclose_forcefully(stream)
    return connected, seen, reason


async def follow_events(
    base_url: str,
    *,
    out: Callable[[str], None] = print,
    max_events: int | None = None,
) -> int:
    """Print events until ``max_events`` (tests) or forever; reconnect with backoff."""
    url = events_url(base_url)
    delay = RECONNECT_MIN
    seen = 0
    while True:
        budget = None if max_events is None else max_events - seen
        connected, count, reason = await _follow_once(url, out, budget)
        seen += count
        if reason is None:
            return seen
        if connected:
            delay = RECONNECT_MIN
        print(f"disconnected ({reason}); retrying in {delay:.1f} s", file=sys.stderr)
        await trio.sleep(delay)
        delay = min(RECONNECT_MAX, delay * 2)
