"""An in-process publish/subscribe bus whose publisher never waits.

Actors publish state changes (a printer went offline, a ticket printed); the alerter, the
status page and websocket clients subscribe. A slow subscriber must not stall a printer actor,
so a subscriber either gets a bounded buffer and, when it is full, misses the event (its
``dropped`` counter says so: a bounded mailbox with a drop-newest policy), or — when it must
never miss what it acts on — a *coalescing* queue: unbounded, but an event with a key replaces
the queued event of the same key, so what waits is bounded by the keys in use plus the
unkeyed events (keep those few: quarantines, restarts).

Synopsis::

    bus: Bus[Event] = Bus()
    with bus.subscribe(buffer=64) as events:
        async for event in events:
            ...

    with bus.subscribe_coalescing(key=lambda e: None if keep_all(e) else type(e)) as events:
        ...

    bus.publish(PrinterState(...))  # synchronous, from any task of the same Trio run
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, final

import trio

__all__ = ["Bus", "BusStatistics", "CoalescingSubscription", "Subscription"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


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


class _Sink(Protocol[T_contra]):
    def _offer(self, event: T_contra) -> bool: ...

    def _close(self) -> None: ...


@final
class Subscription(Generic[T]):
    """One subscriber's bounded queue of events. Iterate it, or call :meth:`receive`."""

    def __init__(
        self, send: trio.MemorySendChannel[T], receive: trio.MemoryReceiveChannel[T]
    ) -> None:
        self._send = send
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

    def _offer(self, event: T) -> bool:
        try:
            self._send.send_nowait(event)
        except (trio.WouldBlock, trio.ClosedResourceError):
            self._dropped += 1
            return False
        return True

    def _close(self) -> None:
        self._send.close()


@final
class CoalescingSubscription(Generic[T]):
    """A subscriber that never drops: the latest event per key, every unkeyed event.

    ``key(event)`` returns None to keep every such event, or a key: a queued event with the
    same key is replaced in its place (the subscriber sees the latest state, not every step).
    """

    def __init__(self, key: Callable[[T], Hashable | None]) -> None:
        self._key = key
        self._queue: dict[Hashable, T] = {}
        self._unique = itertools.count()
        self._lot = trio.lowlevel.ParkingLot()
        self._ended = False
        self._unsubscribed = False
        self._coalesced = 0

    @property
    def dropped(self) -> int:
        """Always 0: nothing is ever dropped (kept for symmetry with :class:`Subscription`)."""
        return 0

    @property
    def coalesced(self) -> int:
        """Events replaced by a later one with the same key before they were received."""
        return self._coalesced

    @property
    def pending(self) -> int:
        """Events waiting to be received."""
        return len(self._queue)

    async def receive(self) -> T:
        """The next event; ``trio.EndOfChannel`` once the bus is closed and drained.

        Always a checkpoint, like a memory channel's ``receive``."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                event = self.receive_nowait()
            except trio.WouldBlock:
                await self._lot.park()
                continue
            await trio.lowlevel.cancel_shielded_checkpoint()
            return event

    def receive_nowait(self) -> T:
        """The oldest waiting event, else ``trio.WouldBlock`` (``trio.EndOfChannel`` once
        the bus is closed and drained)."""
        if self._unsubscribed:
            raise trio.ClosedResourceError("unsubscribed")
        if self._queue:
            key = next(iter(self._queue))
            return self._queue.pop(key)
        if self._ended:
            raise trio.EndOfChannel
        raise trio.WouldBlock

    def __aiter__(self) -> CoalescingSubscription[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def _offer(self, event: T) -> bool:
        key = self._key(event)
        if key is None:
            key = ("unkeyed", next(self._unique))
        elif key in self._queue:
            self._coalesced += 1
        self._queue[key] = event
        self._lot.unpark_all()
        return True

    def _close(self) -> None:
        self._ended = True
        self._lot.unpark_all()


@final
class Bus(Generic[T]):
    """Fan-out of events to every current subscriber."""

    def __init__(self) -> None:
        self._subscribers: list[_Sink[T]] = []
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
        for sink in self._subscribers:
            if not sink._offer(event):
                self._dropped += 1

    @contextmanager
    def subscribe(self, buffer: int = 256) -> Iterator[Subscription[T]]:
        """Receive events published while the ``with`` block is open (at most ``buffer``
        waiting)."""
        if buffer < 1:
            raise ValueError("buffer must be >= 1")
        send, receive = trio.open_memory_channel[T](buffer)
        subscription = Subscription(send, receive)
        try:
            with self._subscribed(subscription):
                yield subscription
        finally:
            receive.close()

    @contextmanager
    def subscribe_coalescing(
        self, key: Callable[[T], Hashable | None]
    ) -> Iterator[CoalescingSubscription[T]]:
        """Receive every event published while the ``with`` block is open, never dropping
        one: see :class:`CoalescingSubscription` for ``key``."""
        subscription = CoalescingSubscription(key)
        try:
            with self._subscribed(subscription):
                yield subscription
        finally:
            subscription._unsubscribed = True

    @contextmanager
    def _subscribed(self, sink: _Sink[T]) -> Iterator[None]:
        if self._closed:
            sink._close()
        else:
            self._subscribers.append(sink)
        try:
            yield
        finally:
            if sink in self._subscribers:
                self._subscribers.remove(sink)
            sink._close()

    def close(self) -> None:
        """End every subscription (their iteration stops after the buffered events)."""
        self._closed = True
        for sink in self._subscribers:
            sink._close()
        self._subscribers.clear()

    def statistics(self) -> BusStatistics:
        return BusStatistics(
            subscribers=len(self._subscribers), published=self._published, dropped=self._dropped
        )
