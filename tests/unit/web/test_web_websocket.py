"""``/ws/events``: live events as JSON; slow clients are cut loose, shutdown says 1001."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import trio
import trio.testing
from quart.testing.connections import WebsocketDisconnectError

from wixprint.events import Event, JobsQueued, PrinterState
from wixprint.supervisor.bus import Bus
from wixprint.web.app import create_app
from wixprint.web.deps import EventSubscription
from wixprint.web.routes_ws import GOING_AWAY, POLICY_VIOLATION, SEND_TIMEOUT

from .fakes_web import FakeBus, FakeWorld, order_event

order = order_event


async def test_published_events_arrive_as_json(autojump_clock: trio.testing.MockClock) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await world.bus.wait_subscribers(1)
            printer = PrinterState(
                at=5.0,
                printer="kitchen",
                online=False,
                paper="unknown",
                cover_open=False,
                since=4.0,
            )
            world.bus.publish(order(1))
            world.bus.publish(printer)
            world.bus.publish(JobsQueued(at=6.0, printers=("kitchen", "counter")))
            first = json.loads(await ws.receive())
            second = json.loads(await ws.receive())
            third = json.loads(await ws.receive())
    assert first == order(1).to_json()
    assert second["event"] == "printer_state"
    assert second["printer"] == "kitchen"
    assert second["online"] is False
    assert third == {"event": "jobs_queued", "at": 6.0, "printers": ["kitchen", "counter"]}
    assert world.bus.subscriptions == []


async def test_subscriber_that_dropped_events_is_closed_1008(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld(bus=FakeBus(buffer=2))
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await world.bus.wait_subscribers(1)
            for n in range(5):  # no checkpoint: the subscription overflows, as behind a slow socket
                world.bus.publish(order(n))
            with pytest.raises(WebsocketDisconnectError) as closed:
                await ws.receive()
    assert closed.value.args[0] == POLICY_VIOLATION
    assert world.bus.subscriptions == []


async def test_stuck_client_is_unsubscribed_within_the_send_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld(bus=FakeBus(buffer=1000))
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await world.bus.wait_subscribers(1)
            start = trio.current_time()
            for n in range(30):  # the test client buffers 10 frames, then sends block
                world.bus.publish(order(n))
            await world.bus.wait_subscribers(0)
            assert trio.current_time() - start <= SEND_TIMEOUT + 1.0
            received = 0
            while True:
                try:
                    await ws.receive()
                except WebsocketDisconnectError:
                    break
                received += 1
    assert 0 < received < 30


async def test_shutdown_closes_with_1001(autojump_clock: trio.testing.MockClock) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await world.bus.wait_subscribers(1)
            world.shutdown.set()
            with pytest.raises(WebsocketDisconnectError) as closed:
                await ws.receive()
    assert closed.value.args[0] == GOING_AWAY
    assert world.bus.subscriptions == []


async def test_client_messages_are_ignored_and_stream_continues(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await world.bus.wait_subscribers(1)
            for _ in range(25):  # more than quart's receive queue holds
                await ws.send("hello?")
            world.bus.publish(order(7))
            assert json.loads(await ws.receive())["number"] == "1007"


async def test_client_leaving_releases_the_subscription(
    autojump_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld()
    client = create_app(world.deps()).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events"):
            await world.bus.wait_subscribers(1)
    assert world.bus.subscriptions == []
    world.bus.publish(order(1))  # nobody left to receive: must not raise


async def test_works_with_the_real_bus(autojump_clock: trio.testing.MockClock) -> None:
    bus: Bus[Event] = Bus()
    subscribed = trio.Event()

    @contextmanager
    def subscribe() -> Iterator[EventSubscription]:
        with bus.subscribe(buffer=2) as sub:
            subscribed.set()
            yield sub

    world = FakeWorld()
    deps = dataclasses.replace(world.deps(), subscribe=subscribe)
    client = create_app(deps).test_client()
    with trio.fail_after(60):
        async with client.websocket("/ws/events") as ws:
            await subscribed.wait()
            bus.publish(order(1))
            assert json.loads(await ws.receive())["number"] == "1001"
            for n in range(5):  # overflow the 2-slot subscription
                bus.publish(order(n))
            with pytest.raises(WebsocketDisconnectError) as closed:
                await ws.receive()
    assert closed.value.args[0] == POLICY_VIOLATION
    assert bus.statistics().subscribers == 0
