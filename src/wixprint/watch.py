"""``wixprint watch``: follows ``/ws/events``, one readable line per event, and reconnects
when the service restarts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0


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


async def follow_events(
    base_url: str,
    *,
    out: Callable[[str], None] = print,
    max_events: int | None = None,
) -> int:
    """Print events until ``max_events`` (tests) or forever; reconnect with backoff."""
    ws_url = base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws/events"
    delay = RECONNECT_MIN
    seen = 0
    while True:
        try:
            async with open_websocket_url(ws_url) as ws:
                delay = RECONNECT_MIN
                out(f"connected to {ws_url}")
                while True:
                    message = await ws.get_message()
                    out(format_event(json.loads(message)))
                    seen += 1
                    if max_events is not None and seen >= max_events:
                        return seen
        except (OSError, HandshakeError, ConnectionClosed) as exc:
            print(
                f"disconnected ({type(exc).__name__}); retrying in {delay:.1f} s", file=sys.stderr
            )
        await trio.sleep(delay)
        delay = min(RECONNECT_MAX, delay * 2)
