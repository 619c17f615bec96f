"""An in-process publish/subscribe bus whose publisher never waits.

Actors publish state changes (a printer went offline, a ticket printed); the alerter, the
status page and websocket clients subscribe. A slow subscriber must not stall a printer actor,
so every subscriber gets a bounded buffer and, when it is full, that subscriber misses the
event and its ``dropped`` counter says so (a bounded mailbox with a drop-newest policy).

Synopsis::

    bus: Bus[Event] = Bus()
    with bus.subscribe(buffer=64) as events:
        async for event in events:
            ...

    bus.publish(PrinterState(...))  # synchronous, from any task of the same Trio run
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar, final

import trio

__all__ = ["Bus", "BusStatistics", "Subscription"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BusStatistics:
    """Attributes:
    subscribers: subscriptions open now.
    published: events published since the bus was made.
    dropped: deliveries skipped because a subscriber's buffer was full (all subscribers).
    """

    subscribers: int
    published: int
    dropped: int


@final
class Subscription(Generic[T]):
    """One subscriber's bounded queue of events. Iterate it, or call :meth:`receive`."""

    def __init__(self, receive: trio.MemoryReceiveChannel[T]) -> None:
        self._receive = receive
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Events this subscriber missed because its buffer was full."""
        return self._dropped

    async def receive(self) -> T:
        """The next event; ``trio.EndOfChannel`` once the bus is closed and drained."""
        return await self._receive.receive()

    def receive_nowait(self) -> T:
        """The next event if one is buffered, else ``trio.WouldBlock``."""
        return self._receive.receive_nowait()

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None


@final
class Bus(Generic[T]):
    """Fan-out of events to every current subscriber."""

    def __init__(self) -> None:
        self._subscribers: dict[Subscription[T], trio.MemorySendChannel[T]] = {}
        self._published = 0
        self._dropped = 0
        self._closed = False

    def publish(self, event: T) -> None:
        """Deliver ``event`` to every subscriber that has room; never blocks.

        After :meth:`close` this does nothing, so publishers need no shutdown ordering.
        """
        if self._closed:
            return
        self._published += 1
        for subscription, send in self._subscribers.items():
            try:
                send.send_nowait(event)
            except trio.WouldBlock:
                subscription._dropped += 1
                self._dropped += 1

    @contextmanager
    def subscribe(self, buffer: int = 256) -> Iterator[Subscription[T]]:
        """Receive events published while the ``with`` block is open (at most ``buffer``
        waiting)."""
        if buffer < 1:
            raise ValueError("buffer must be >= 1")
        send, receive = trio.open_memory_channel[T](buffer)
        subscription = Subscription(receive)
        if self._closed:
            send.close()
        else:
            self._subscribers[subscription] = send
        try:
            yield subscription
        finally:
            self._subscribers.pop(subscription, None)
            send.close()
            receive.close()

    def close(self) -> None:
        """End every subscription (their iteration stops after the buffered events)."""
        self._closed = True
        for send in self._subscribers.values():
            send.close()
        self._subscribers.clear()

    def statistics(self) -> BusStatistics:
        return BusStatistics(
            subscribers=len(self._subscribers), published=self._published, dropped=self._dropped
        )
