"""``GET /ws/events``: every bus event, as JSON, to a dashboard or ``wixprint watch``.

A websocket client must never slow the service. The bus drops events for a subscriber whose
buffer is full (``dropped``); on top of that this handler keeps the subscription apart from
the socket: a pump moves events from the subscription into a small outbox, a sender writes
the outbox to the socket. When the client lags (events dropped, outbox full, or one send
stuck for ``SEND_TIMEOUT``) the subscription is released at once, even while the send is
still stuck (hypercorn shields socket writes from cancellation), and the socket is closed
with 1008. On shutdown it is closed with 1001 before hypercorn's graceful timeout cuts it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import trio
from quart import websocket
from quart_trio import QuartTrio

from wixprint.events import Event
from wixprint.web.deps import EventSubscription, WebDeps

__all__ = [
    "CLOSE_TIMEOUT",
    "GOING_AWAY",
    "OUTBOX_SIZE",
    "POLICY_VIOLATION",
    "SEND_TIMEOUT",
    "register_ws_routes",
]

SEND_TIMEOUT = 2.0
"""A single send slower than this marks the client as too slow."""
CLOSE_TIMEOUT = 1.0
"""How long the close frame may take; a wedged client gets no more."""
CHECK_INTERVAL = 0.5
OUTBOX_SIZE = 64

NORMAL = 1000
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011

log = logging.getLogger("wixprint.web")


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


_SLOW = _Close(POLICY_VIOLATION, "client too slow")
_SHUTDOWN = _Close(GOING_AWAY, "server shutting down")
_BUS_CLOSED = _Close(GOING_AWAY, "event stream ended")
_CLIENT_LEFT = _Close(NORMAL, "client disconnected")


def encode_event(event: Event) -> str | None:
    """The event as one JSON text frame; None (logged) if it cannot be encoded."""
    try:
        return json.dumps(event.to_json(), default=str, separators=(",", ":"))
    except (TypeError, ValueError):
        log.exception("websocket_event_unencodable", extra={"kind": event.kind})
        return None


class _Stream:
    """One websocket connection's pump, sender and watchdog."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.sent = 0
        self.sending_since: float | None = None
        self.outcome = _CLIENT_LEFT
        self.outbox_send, self.outbox_receive = trio.open_memory_channel[str](OUTBOX_SIZE)

    async def run(self) -> None:
        await websocket.accept()
        async with trio.open_nursery() as outer:
            outer.start_soon(self._drain_incoming)
            outer.start_soon(self._send_outbox)
            with self.deps.subscribe() as sub:
                async with trio.open_nursery() as inner:
                    inner.start_soon(self._finish_with, inner, partial(self._pump, sub))
                    inner.start_soon(self._finish_with, inner, partial(self._watch, sub))
                    inner.start_soon(self._finish_with, inner, self._wait_shutdown)
            # Unsubscribed. Stop the sender (a stuck send ends only when hypercorn lets go).
            outer.cancel_scope.cancel()
        if self.deps.shutdown.is_set():
            self.outcome = _SHUTDOWN
        with trio.move_on_after(CLOSE_TIMEOUT):
            await websocket.close(self.outcome.code, self.outcome.reason)

    async def _finish_with(
        self, nursery: trio.Nursery, part: Callable[[], Awaitable[_Close]]
    ) -> None:
        self.outcome = await part()
        nursery.cancel_scope.cancel()

    async def _pump(self, sub: EventSubscription) -> _Close:
        async for event in sub:
            if sub.dropped:
                return _SLOW
            text = encode_event(event)
            if text is None:
                continue
            try:
                self.outbox_send.send_nowait(text)
            except trio.WouldBlock:
                return _SLOW
        return _BUS_CLOSED

    async def _watch(self, sub: EventSubscription) -> _Close:
        while True:
            await trio.sleep(CHECK_INTERVAL)
            if sub.dropped:
                return _SLOW
            started = self.sending_since
            if started is not None and trio.current_time() - started > SEND_TIMEOUT:
                return _SLOW

    async def _wait_shutdown(self) -> _Close:
        await self.deps.shutdown.wait()
        return _SHUTDOWN

    async def _send_outbox(self) -> None:
        async for text in self.outbox_receive:
            self.sending_since = trio.current_time()
            await websocket.send(text)
            self.sending_since = None
            self.sent += 1

    async def _drain_incoming(self) -> None:
        """Clients have nothing to say; reading keeps quart's receive queue from filling up,
        which would hide the client's disconnect."""
        while True:
            await websocket.receive()


def register_ws_routes(app: QuartTrio, deps: WebDeps) -> None:
    @app.websocket("/ws/events")
    async def ws_events() -> None:
        started = time.perf_counter()
        stream = _Stream(deps)
        try:
            await stream.run()
        finally:
            log.info(
                "websocket_closed",
                extra={
                    "path": "/ws/events",
                    "code": stream.outcome.code,
                    "reason": stream.outcome.reason,
                    "sent": stream.sent,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
