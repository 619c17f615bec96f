"""Fakes for the web layer: an in-memory bus and a ``WebDeps`` built from plain state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import trio

from wixprint.events import Event, OrderReceived
from wixprint.health import Check, Health, HealthSnapshot, aggregate
from wixprint.web.deps import WebDeps
from wixprint.web.metrics import Metrics

ADMIN_TOKEN = "s3cret-admin-token"


def order_event(n: int) -> OrderReceived:
    """Order ``1000 + n`` seen for the first time: what the live-event clients get most."""
    return OrderReceived(
        at=1_700_000_000.0 + n,
        order_id=f"id-{n}",
        number=str(1000 + n),
        revision=1,
        jobs=2,
        source="poll",
        outcome="new",
        first_sight=True,
    )


class FakeSubscription:
    def __init__(self, buffer: int) -> None:
        self.send, self.receive = trio.open_memory_channel[Event](buffer)
        self.dropped = 0

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.receive.__aiter__()


class FakeBus:
    """Like the real bus: publishing never waits; a full subscriber loses the event."""

    def __init__(self, buffer: int = 16) -> None:
        self.buffer = buffer
        self.subscriptions: list[FakeSubscription] = []
        self._changed = trio.Event()

    @contextmanager
    def subscribe(self) -> Iterator[FakeSubscription]:
        sub = FakeSubscription(self.buffer)
        self.subscriptions.append(sub)
        self._notify()
        try:
            yield sub
        finally:
            self.subscriptions.remove(sub)
            sub.send.close()
            self._notify()

    def publish(self, event: Event) -> None:
        for sub in self.subscriptions:
            try:
                sub.send.send_nowait(event)
            except trio.WouldBlock:
                sub.dropped += 1

    def close(self) -> None:
        for sub in self.subscriptions:
            sub.send.close()

    async def wait_subscribers(self, count: int) -> None:
        while len(self.subscriptions) != count:
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()


def snapshot(*states: tuple[str, Health, bool]) -> HealthSnapshot:
    checks = tuple(
        Check(name, state, "" if state is Health.READY else "testing", time.time(), critical)
        for name, state, critical in states
    )
    return HealthSnapshot(aggregate(checks), checks)


@dataclass
class FakeWorld:
    """Mutable state behind the fake dependencies; tests poke it and read what was called."""

    health: HealthSnapshot = field(default_factory=lambda: snapshot(("spool", Health.READY, True)))
    orders: list[dict[str, object]] = field(default_factory=list)
    known_orders: set[str] = field(default_factory=lambda: {"1001", "order-uuid-1"})
    receipt_kinds: set[str] = field(default_factory=lambda: {"kitchen", "driver", "customer"})
    reprints: list[tuple[str, str | None] | tuple[str, str | None, str]] = field(
        default_factory=list
    )
    printers: set[str] = field(default_factory=lambda: {"kitchen", "bar"})
    actions: FakeActions = field(default_factory=lambda: FakeActions())
    order_limits: list[int] = field(default_factory=list)
    webhook_bodies: list[bytes] = field(default_factory=list)
    webhook_error: Exception | None = None
    pushes: list[bytes] = field(default_factory=list)
    orders_error: Exception | None = None
    recent: list[dict[str, object]] = field(default_factory=list)
    bus: FakeBus = field(default_factory=FakeBus)
    metrics: Metrics = field(default_factory=lambda: Metrics(version="9.9.9-test"))
    shutdown: trio.Event = field(default_factory=trio.Event)

    async def _orders(self, limit: int) -> Sequence[Mapping[str, object]]:
        self.order_limits.append(limit)
        if self.orders_error is not None:
            raise self.orders_error
        return self.orders[:limit]

    async def _reprint(self, order: str, kind: str | None, printer: str | None) -> Sequence[int]:
        if order not in self.known_orders:
            raise KeyError(order)
        if kind is not None and kind not in self.receipt_kinds:
            raise ValueError("unknown receipt kind")
        if printer is not None and printer not in self.printers:
            raise ValueError("unknown printer")
        self.reprints.append((order, kind) if printer is None else (order, kind, printer))
        return [100 + len(self.reprints), 200 + len(self.reprints)]

    async def _webhook(self, body: bytes) -> None:
        if self.webhook_error is not None:
            raise self.webhook_error
        self.webhook_bodies.append(body)

    async def _push(self, body: bytes) -> None:
        self.pushes.append(body)

    def deps(
        self, *, admin_token: str = ADMIN_TOKEN, webhooks: bool = True, automation_token: str = ""
    ) -> WebDeps:
        return WebDeps(
            health=lambda: self.health,
            recovery=lambda: {"tree": {"name": "root", "state": "running"}, "queues": {}},
            connectivity=lambda: {"internet": {"online": True}, "printers": {}},
            orders=self._orders,
            reprint=self._reprint,
            webhook=self._webhook if webhooks else None,
            automation=self._push if automation_token else None,
            automation_token=automation_token,
            subscribe=self.bus.subscribe,
            metrics=self.metrics,
            admin_token=admin_token,
            shutdown=self.shutdown,
            recent_events=lambda: self.recent,
            actions=self.actions,
        )


@dataclass
class FakeActions:
    """The dashboard's admin actions, recording what they were asked."""

    printers: set[str] = field(default_factory=lambda: {"kitchen", "bar"})
    set_aside: dict[int, str] = field(default_factory=lambda: {7: "kitchen"})
    calls: list[tuple[object, ...]] = field(default_factory=list)
    failure: Exception | None = None

    def _known(self, printer: str) -> None:
        if printer not in self.printers:
            raise KeyError(printer)

    async def test_print(self, printer: str) -> Mapping[str, object]:
        self._known(printer)
        if self.failure is not None:
            raise self.failure
        self.calls.append(("test_print", printer))
        return {"model": "TM-m30III", "proof": "process_id"}

    async def set_paused(self, printer: str, paused: bool) -> None:
        self._known(printer)
        self.calls.append(("pause" if paused else "resume", printer))

    async def retry(self, job_id: int) -> Sequence[int]:
        if job_id not in self.set_aside and job_id != 8:
            raise KeyError(job_id)
        if job_id not in self.set_aside:
            raise ValueError("job is not set aside")
        self.calls.append(("retry", job_id))
        return [job_id + 100]

    async def preview(self, order: str, receipt: str | None) -> Mapping[str, object]:
        if order != "1001":
            raise KeyError(order)
        if receipt not in (None, "kitchen", "driver", "customer"):
            raise ValueError("unknown receipt kind")
        self.calls.append(("preview", order, receipt))
        return {"order": order, "tickets": [{"receipt": "kitchen", "text": "Max Muster"}]}
