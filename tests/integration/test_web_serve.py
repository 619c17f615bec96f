"""The web app on real hypercorn, on a loopback port: serve, answer, shut down cleanly."""

from __future__ import annotations

import errno
import json
import socket
from functools import partial

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, wrap_client_stream

from tests.unit.web.fakes_web import FakeWorld, order_event
from wixprint.web.app import create_app
from wixprint.web.serve import Address, Serving, ServingUrls, serve_web

LOOPBACK = Serving(local=Address("127.0.0.1", 0))


async def test_serves_health_and_stops_when_shutdown_is_set(
    thread_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld()
    app = create_app(world.deps())
    stopped = trio.Event()

    async def run(task_status: trio.TaskStatus[ServingUrls]) -> None:
        await serve_web(
            app, LOOPBACK, shutdown=world.shutdown, metrics=world.metrics, task_status=task_status
        )
        stopped.set()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            urls: ServingUrls = await nursery.start(run)
            url = urls.local
            assert urls.public is None
            assert url.startswith("http://127.0.0.1:")
            assert not url.endswith(":0")
            async with httpx.AsyncClient(base_url=url) as client:
                response = await client.get("/health")
                assert response.status_code == 200
                assert response.json()["status"] == "ok"
                assert response.headers["cache-control"] == "no-store"
                assert "server" not in response.headers
            world.shutdown.set()
            await stopped.wait()
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=url) as client:
                await client.get("/health")


async def test_websocket_streams_then_closes_1001_on_shutdown(
    thread_clock: trio.testing.MockClock,
) -> None:
    world = FakeWorld()
    app = create_app(world.deps())
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            urls: ServingUrls = await nursery.start(
                partial(serve_web, app, LOOPBACK, shutdown=world.shutdown, metrics=world.metrics)
            )
            port = int(urls.local.rsplit(":", 1)[1])
            # Our own stream, closed by us: trio-websocket leaves its socket open when the
            # server closes first.
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream, trio.open_nursery() as client_nursery:
                ws = await wrap_client_stream(client_nursery, stream, "127.0.0.1", "/ws/events")
                await world.bus.wait_subscribers(1)
                world.bus.publish(order_event(42))
                message = json.loads(await ws.get_message())
                assert message["event"] == "order_received"
                assert message["number"] == "1042"
                world.shutdown.set()
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.get_message()
                client_nursery.cancel_scope.cancel()
            reason = closed.value.reason
            assert reason is not None
            assert reason.code == 1001


async def test_port_in_use_is_a_clear_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        world = FakeWorld()
        app = create_app(world.deps())
        serving = Serving(local=Address("127.0.0.1", port))
        with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{port}") as info:
            await serve_web(app, serving, shutdown=trio.Event(), metrics=world.metrics)
        assert type(info.value) is OSError
        assert info.value.errno == errno.EADDRINUSE
