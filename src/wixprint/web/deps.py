"""Everything the web layer needs from the rest of the service, as plain callables.

The web layer never imports actors: ``app.py`` builds a ``WebDeps`` from the live handles
(health registry, spool handle, bus, ...). Tests build one from fakes, so every route can be
exercised without a spool, a bus or a printer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import trio

from wixprint.events import Event
from wixprint.health import HealthSnapshot
from wixprint.web.metrics import Metrics

__all__ = ["EventSubscription", "PrinterActions", "WebDeps"]


class EventSubscription(Protocol):
    """One subscriber's view of the event bus.

    The bus never waits for a subscriber: when this subscriber's buffer is full the bus drops
    the event for it and counts it in ``dropped``. A websocket whose subscription has dropped
    anything is too slow and gets closed.
    """

    @property
    def dropped(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WebDeps:
    health: Callable[[], HealthSnapshot]
    """The cached health aggregate: no I/O, so ``/health`` answers while the spool is busy."""
    recovery: Callable[[], Mapping[str, object]]
    """JSON-ready: supervision tree, queues, recent recovery events, persisted history."""
    connectivity: Callable[[], Mapping[str, object]]
    """JSON-ready: internet and each printer (online, since, paper, cover, last check)."""
    orders: Callable[[int], Awaitable[Sequence[Mapping[str, object]]]]
    """Recent orders, newest first, at most ``limit``; no names, phones or addresses."""
    reprint: Callable[[str, str | None, str | None], Awaitable[Sequence[int]]]
    """(order id or number, receipt kind or None for all, printer or None for all) -> new
    job ids. Raises KeyError for an unknown order, ValueError for a bad kind or printer."""
    subscribe: Callable[[], AbstractContextManager[EventSubscription]]
    """Opens one bus subscription; leaving the context unsubscribes."""
    metrics: Metrics
    admin_token: str
    """Empty disables admin actions (reprint answers 403)."""
    shutdown: trio.Event
    """The HTTP server's shutdown trigger; websockets close with 1001 when it is set."""
    webhook: Callable[[bytes], Awaitable[None]] | None = None
    """Verifies and spools a raw webhook body; raises ``WebhookRejected``. None: 404."""
    automation: Callable[[bytes], Awaitable[None]] | None = None
    """Takes the body of an owner's push (``POST /webhooks/automation/<token>``): it only
    makes the fetcher poll now, never prints what it says. None: that route answers 404."""
    automation_token: str = ""
    """The secret path segment of the automation push; empty: 404."""
    recent_events: Callable[[], Sequence[Mapping[str, object]]] = lambda: ()
    """Recent events as JSON dicts, oldest first: the dashboard's initial state."""
    actions: PrinterActions | None = None
    """The dashboard's other admin actions; None: those routes answer 404."""
    language: str = "en"
    """The dashboard's language (``[service] language``)."""


class PrinterActions(Protocol):
    """What an operator can do from the dashboard besides a reprint (admin token)."""

    async def test_print(self, printer: str) -> Mapping[str, object]:
        """Print the test ticket; what the printer said (model, profile, proof, warning).
        KeyError: unknown printer. ``PrinterOffline``/``PrinterNotReady``/
        ``PrintOutcomeUnknown`` like ``wixprint test-print``."""
        ...

    async def set_paused(self, printer: str, paused: bool) -> None:
        """Pause (jobs wait, no alerts) or resume; kept across restarts. KeyError: unknown."""
        ...

    async def retry(self, job_id: int) -> Sequence[int]:
        """Reprint a job set aside (needs attention) on its printer; the new job ids.
        KeyError: unknown job; ValueError: the job is not set aside."""
        ...

    async def preview(self, order: str, receipt: str | None) -> Mapping[str, object]:
        """The order's tickets as they print (text per ticket, one PNG as base64).
        KeyError: unknown order; ValueError: a bad receipt kind or nothing to show."""
        ...
