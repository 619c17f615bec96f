"""The HTTP server's bounds, one at a time, on real sockets (loopback, port 0) and the
virtual clock: read and keep-alive timeouts, the connection cap (the oldest goes), the
write timeout for clients that never read, the websocket cap, size and Origin checks,
HTTP/1.1 only, the public listener's route set, and every socket released at the end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import CloseReason, ConnectionClosed, WebSocketConnection, wrap_client_stream

from tests.fakes.hostile import (
    client_sockets,
    h2_prior_knowledge,
    h2c_upgrade,
    open_half_open,
    open_slow_readers,
    open_websocket_swarm,
    raw_request,
    rebinding_probes,
    server_sockets,
    status_of,
)
from tests.integration.harness import wait_for
from tests.unit.web.fakes_web import FakeWorld, order_event
from wixprint.web.app import create_app
from wixprint.web.guard import HostPolicy
from wixprint.web.limits import Limits
from wixprint.web.serve import Address, Serving, ServingUrls, serve_web

LIMITS = Limits(max_connections=8, max_websockets=2, read_timeout=10.0, send_timeout=5.0)


@dataclass
class Served:
    world: FakeWorld
    urls: ServingUrls

    @property
    def port(self) -> int:
        return int(self.urls.local.rsplit(":", 1)[1])

    @property
    def public_port(self) -> int:
        assert self.urls.public is not None
        return int(self.urls.public.rsplit(":", 1)[1])

    def gauge(self, listener: str = "local") -> float:
        value: float = self.world.metrics.http_connections.labels(listener=listener)._value.get()
        return value

    def counted(self, name: str, **labels: str) -> float:
        value: float = getattr(self.world.metrics, name).labels(**labels)._value.get()
        return value


@asynccontextmanager
async def serving(limits: Limits = LIMITS, *, public: bool = False) -> AsyncIterator[Served]:
    """The app on loopback; on the way out, every server socket must be gone."""
    world = FakeWorld()
    config = Serving(
        local=Address("127.0.0.1", 0),
        public=Address("127.0.0.1", 0) if public else None,
        limits=limits,
        policy=HostPolicy.build(machine="testpi"),
    )
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(
            partial(
                serve_web,
                create_app(world.deps()),
                config,
                shutdown=world.shutdown,
                metrics=world.metrics,
            )
        )
        served = Served(world, urls)
        ports = [served.port] + ([served.public_port] if public else [])
        try:
            yield served
        finally:
            world.shutdown.set()
    assert server_sockets(ports) == 0
    assert client_sockets(ports) == 0


@asynccontextmanager
async def open_client(port: int) -> AsyncIterator[WebSocketConnection]:
    """A ``/ws/events`` client on a stream we close ourselves (trio-websocket leaves its
    socket open when the server closes first)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream, trio.open_nursery() as client:
        yield await wrap_client_stream(client, stream, "127.0.0.1", "/ws/events")
        client.cancel_scope.cancel()


async def closing_reason(ws: WebSocketConnection) -> CloseReason | None:
    """Read until the server closes the websocket; its close reason."""
    try:
        while True:
            await ws.get_message()
    except ConnectionClosed as closed:
        return closed.reason


async def wait_until_closed(stream: trio.SocketStream) -> bytes:
    """What the server sent before closing this connection."""
    data = bytearray()
    try:
        while chunk := await stream.receive_some(65536):
            data += chunk
    except trio.BrokenResourceError:
        pass
    return bytes(data)


async def test_a_request_whose_body_never_comes_is_closed_after_the_read_timeout(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_half_open(served.port, 5, hold=5) as attack:
        started = trio.current_time()
        with trio.fail_after(60):
            for stream in attack.streams:
                await wait_until_closed(stream)
        # Before: a 408 after 10 s and the socket still open a minute later.
        assert trio.current_time() - started <= LIMITS.read_timeout + 1
        await trio.testing.wait_all_tasks_blocked()
        assert served.gauge() == 0


async def test_a_silent_connection_and_an_idle_keep_alive_are_closed(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served:
        silent = await trio.open_tcp_stream("127.0.0.1", served.port)
        async with httpx.AsyncClient(base_url=served.urls.local) as client:
            assert (await client.get("/health")).status_code == 200
            assert served.gauge() == 2
            started = trio.current_time()
            with trio.fail_after(60):
                assert await wait_until_closed(silent) == b""
            assert trio.current_time() - started <= LIMITS.keep_alive_timeout + 1
            await trio.sleep(1)
            assert served.gauge() == 0
            # The pool notices and opens a fresh connection.
            assert (await client.get("/health")).status_code == 200
        silent.socket.close()


async def test_at_the_cap_the_oldest_connection_makes_room(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_half_open(served.port, 20, hold=20) as attack:
        await trio.testing.wait_all_tasks_blocked()
        assert served.gauge() <= LIMITS.max_connections
        assert server_sockets([served.port]) <= LIMITS.max_connections
        # The first twelve were closed to make room, the last eight still wait.
        with trio.fail_after(5):
            for stream in list(attack.streams)[:12]:
                assert await wait_until_closed(stream) == b""
        assert served.counted("http_evicted", listener="local") == 12
        # A fresh request still gets in, at the cost of one more of the oldest.
        response = await raw_request(
            served.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert status_of(response) == 200
        assert served.counted("http_evicted", listener="local") == 13


async def test_a_client_that_never_reads_is_closed_after_the_send_timeout(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_slow_readers(served.port, 3, pipelined=400):
        assert served.gauge() == 3
        await wait_for(lambda: served.gauge() == 0)
        assert trio.current_time() < LIMITS.send_timeout + LIMITS.read_timeout + 5
        assert server_sockets([served.port]) == 0


async def test_http2_is_refused_and_an_h2c_upgrade_is_answered_in_http11(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served:
        refused = await h2_prior_knowledge(served.port)
        assert status_of(refused) == 505
        assert served.counted("http_refused", listener="local", reason="http2") == 1
        upgraded = await h2c_upgrade(served.port)
        assert status_of(upgraded) == 200
        assert upgraded.startswith(b"HTTP/1.1 200")
        assert b"upgrade" not in upgraded.split(b"\r\n\r\n")[0].lower()
        async with httpx.AsyncClient(base_url=served.urls.local, http1=False, http2=True) as h2:
            with pytest.raises(httpx.RemoteProtocolError):
                await h2.get("/health")


async def test_websocket_clients_past_the_cap_get_503_and_the_others_keep_streaming(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_websocket_swarm(served.port, 6, readers=2) as swarm:
        assert swarm.accepted == LIMITS.max_websockets
        assert swarm.refused == {503: 4}
        assert served.counted("http_refused", listener="local", reason="websocket_limit") == 4
        assert served.world.metrics.websocket_clients._value.get() == 2
        await served.world.bus.wait_subscribers(2)
        served.world.bus.publish(order_event(42))
        await wait_for(lambda: swarm.messages == 2, limit=10)


async def test_an_idle_websocket_outlives_the_read_timeout_thanks_to_pings(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_client(served.port) as ws:
        await trio.sleep(LIMITS.read_timeout * 4)
        served.world.bus.publish(order_event(7))
        assert json.loads(await ws.get_message())["number"] == "1007"


async def test_a_websocket_message_over_the_limit_closes_the_client(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served, open_client(served.port) as ws:
        await ws.send_message("x" * (LIMITS.websocket_max_message * 4))
        with trio.fail_after(10):
            reason = await closing_reason(ws)
        assert reason is not None
        assert reason.code == 1009


async def test_a_foreign_origin_or_a_rebound_host_gets_nothing(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving() as served:
        async with open_websocket_swarm(served.port, 2, origin="http://evil.example") as swarm:
            assert (swarm.accepted, swarm.refused) == (0, {403: 2})
        statuses = await rebinding_probes(served.port)
        assert set(statuses.values()) == {403}, statuses
        # The dashboard's own page, as a browser sends it: Host with the port, same Origin.
        own = f"127.0.0.1:{served.port}"
        async with open_websocket_swarm(served.port, 1, origin=f"http://{own}", host=own) as swarm:
            assert (swarm.accepted, swarm.refused) == (1, {})
        async with open_websocket_swarm(served.port, 1, host="testpi.evil.example") as swarm:
            assert (swarm.accepted, swarm.refused) == (0, {403: 1})


async def test_the_public_listener_serves_only_the_webhook_and_has_its_own_cap(
    thread_clock: trio.testing.MockClock,
) -> None:
    async with serving(public=True) as served:
        assert served.urls.public is not None
        async with httpx.AsyncClient(base_url=served.urls.public) as client:
            assert (await client.post("/webhooks/wix", content=b"jwt")).status_code == 200
            for path in ("/", "/health", "/metrics", "/orders", "/ws/events"):
                assert (await client.get(path)).status_code == 404, path
        async with open_half_open(served.public_port, 30, hold=30):
            await trio.testing.wait_all_tasks_blocked()
            assert served.gauge("public") <= LIMITS.max_connections
            assert served.counted("http_evicted", listener="public") >= 22
            # The local listener is untouched by the flood on the public one.
            async with httpx.AsyncClient(base_url=served.urls.local) as local:
                assert (await local.get("/health")).status_code == 200
            assert served.counted("http_evicted", listener="local") == 0


async def test_connection_close_and_refused_bodies_end_at_once_not_at_the_read_timeout(
    thread_clock: trio.testing.MockClock,
) -> None:
    """After the answer to ``Connection: close``, or a 413 for a body still being sent, the
    server sends its FIN at once: the connection does not sit until the read timeout."""
    async with serving() as served:
        started = trio.current_time()
        closing = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        assert status_of(await raw_request(served.port, closing)) == 200
        too_large = (
            b"POST /webhooks/wix HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 5000000\r\n\r\n" + b"x" * 65536
        )
        assert status_of(await raw_request(served.port, too_large)) == 413
        assert trio.current_time() - started < LIMITS.read_timeout / 2
        await wait_for(lambda: served.gauge() == 0, limit=LIMITS.read_timeout)
