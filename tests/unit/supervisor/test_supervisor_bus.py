"""The in-process bus: fan-out, bounded buffers, drops counted, publisher never waits.

Charter: see ``test_supervisor_core.py`` (virtual clock, absolute deadlines).
"""

from __future__ import annotations

import dataclasses

import pytest
import trio
import trio.testing

from wixprint.supervisor import Bus, BusStatistics


async def test_a_slow_subscriber_loses_events_but_never_holds_up_the_publisher(
    autojump_clock: trio.abc.Clock,
) -> None:
    bus: Bus[int] = Bus()
    fast_got: list[int] = []
    with bus.subscribe(buffer=2) as slow, bus.subscribe(buffer=1) as fast:

        async def fast_reader() -> None:
            async for event in fast:
                fast_got.append(event)

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(fast_reader)
                await trio.testing.wait_all_tasks_blocked()
                for i in range(5):
                    bus.publish(i)  # synchronous: nobody can make it wait
                    await trio.testing.wait_all_tasks_blocked()
                assert trio.current_time() == 0.0
                nursery.cancel_scope.cancel()
        assert fast_got == [0, 1, 2, 3, 4]
        assert fast.dropped == 0
        assert [slow.receive_nowait(), slow.receive_nowait()] == [0, 1]
        with pytest.raises(trio.WouldBlock):
            slow.receive_nowait()
        assert slow.dropped == 3
        assert bus.statistics() == BusStatistics(subscribers=2, published=5, dropped=3)
    assert bus.statistics().subscribers == 0


async def test_a_thousand_events_into_a_stalled_buffer_are_counted() -> None:
    bus: Bus[str] = Bus()
    with bus.subscribe(buffer=8) as stalled:
        for i in range(1000):
            bus.publish(f"e{i}")
        assert stalled.dropped == 992
        assert await stalled.receive() == "e0"
    assert bus.statistics() == BusStatistics(subscribers=0, published=1000, dropped=992)


async def test_events_after_unsubscribing_are_not_delivered() -> None:
    bus: Bus[int] = Bus()
    with bus.subscribe() as sub:
        bus.publish(1)
    bus.publish(2)
    with pytest.raises(trio.ClosedResourceError):
        sub.receive_nowait()
    assert bus.statistics() == BusStatistics(subscribers=0, published=2, dropped=0)


async def test_closing_the_bus_ends_iteration_after_buffered_events(
    autojump_clock: trio.abc.Clock,
) -> None:
    bus: Bus[int] = Bus()
    got: list[int] = []
    with bus.subscribe() as sub:
        bus.publish(1)
        bus.publish(2)
        bus.close()
        bus.publish(3)  # ignored after close, never raises
        with trio.fail_after(10):
            async for event in sub:
                got.append(event)
    assert got == [1, 2]
    with trio.fail_after(10), bus.subscribe() as late, pytest.raises(trio.EndOfChannel):
        await late.receive()


def test_a_buffer_needs_room_for_one_event() -> None:
    bus: Bus[int] = Bus()
    with pytest.raises(ValueError, match=r"^buffer must be >= 1$"), bus.subscribe(buffer=0):
        pass


# -- a subscriber that must never lose what it acts on: coalescing, unbounded by key -------


async def test_a_coalescing_subscriber_keeps_every_unkeyed_event_and_the_latest_per_key() -> None:
    """A burst far beyond any buffer: events keyed ``None`` are all kept, in order; events
    with a key keep only the latest of that key, in the place of the first. Nothing is
    dropped, and what waits is bounded by the keys plus the unkeyed events."""
    bus: Bus[tuple[str, int]] = Bus()

    def key(event: tuple[str, int]) -> object:
        kind, _ = event
        return None if kind == "must" else kind

    with bus.subscribe_coalescing(key) as sub, bus.subscribe(buffer=4) as bounded:
        for i in range(5000):
            bus.publish(("noise", i))
            if i % 1000 == 0:
                bus.publish(("must", i))
            if i == 10:
                bus.publish(("state", i))
        bus.publish(("state", 99999))
        assert sub.pending == 2 + 5
        got = [sub.receive_nowait() for _ in range(sub.pending)]
        with pytest.raises(trio.WouldBlock):
            sub.receive_nowait()
        assert sub.dropped == 0
        assert sub.coalesced == 4999 + 1  # noise, then state
        assert bounded.dropped > 0
    assert got == [
        ("noise", 4999),
        ("must", 0),
        ("state", 99999),
        ("must", 1000),
        ("must", 2000),
        ("must", 3000),
        ("must", 4000),
    ]


async def test_a_coalescing_subscriber_wakes_its_reader_and_ends_when_the_bus_closes(
    autojump_clock: trio.abc.Clock,
) -> None:
    bus: Bus[int] = Bus()
    got: list[int] = []
    with bus.subscribe_coalescing(lambda event: None) as sub:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:

                async def reader() -> None:
                    async for event in sub:
                        got.append(event)

                nursery.start_soon(reader)
                await trio.testing.wait_all_tasks_blocked()
                bus.publish(1)
                await trio.testing.wait_all_tasks_blocked()
                bus.publish(2)
                bus.publish(3)
                bus.close()
    assert got == [1, 2, 3]
    assert bus.statistics() == BusStatistics(subscribers=0, published=3, dropped=0)
    with pytest.raises(trio.ClosedResourceError):
        sub.receive_nowait()


def test_bus_statistics_are_a_snapshot() -> None:
    bus: Bus[int] = Bus()
    stats = bus.statistics()
    bus.publish(1)
    assert stats.published == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.published = 5  # type: ignore[misc]


def test_receiving_after_leaving_the_block_says_why() -> None:
    bus: Bus[int] = Bus()
    with bus.subscribe_coalescing(lambda event: None) as sub:
        pass
    with pytest.raises(trio.ClosedResourceError, match=r"^unsubscribed$"):
        sub.receive_nowait()


def test_a_subscriber_holds_256_waiting_events_by_default() -> None:
    bus: Bus[int] = Bus()
    with bus.subscribe() as sub:
        for n in range(300):
            bus.publish(n)
        assert (sub.dropped, bus.statistics().dropped) == (44, 44)
        assert [sub.receive_nowait() for _ in range(256)] == list(range(256))


def test_after_close_an_event_goes_nowhere_and_is_not_counted() -> None:
    """Publishers need no shutdown order: a late event is neither delivered nor counted."""
    bus: Bus[int] = Bus()
    bus.close()
    bus.publish(1)
    assert bus.statistics() == BusStatistics(subscribers=0, published=0, dropped=0)
