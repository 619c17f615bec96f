"""One client connection: hypercorn's HTTP/1.1 protocol with our bounds around it.

``Http11Server`` is hypercorn's ``TCPServer`` (the pinned 0.18.0) without TLS, with three
changes: HTTP/1.1 only (``Http11Only``: the HTTP/2 preface gets 505, an ``Upgrade: h2c``
header is ignored, as RFC 9110 §7.8 allows); our own keep-alive timer (hypercorn's starts
inside the request's task, where quart-trio cancels it as soon as the response is sent, so
idle connections were never closed); and an end to the whole connection whenever its reader
ends or a write fails (``on_closed``), since hypercorn otherwise goes on to the next
pipelined request or waits for a response that can no longer be sent. ``BoundedStream`` puts
a deadline on every write.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import h11
import trio
from hypercorn.events import Closed, Event, Updated
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.task_group import TaskGroup
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.typing import ConnectionState
from hypercorn.utils import parse_socket_addr

__all__ = ["BoundedStream", "Connection", "Http11Server"]


class NotHttp11(Exception):
    """The client opened with the HTTP/2 preface; it was answered 505."""


class Http11Only(H11Protocol):
    on_http2: Callable[[], None] = staticmethod(lambda: None)

    async def _check_protocol(self, event: h11.Request) -> None:
        if event.method == b"PRI" and event.target == b"*":
            self.on_http2()
            await self._send_error_response(505)
            raise NotHttp11
        # Anything else, ``Upgrade: h2c`` included, stays HTTP/1.1.


class BoundedStream(trio.abc.HalfCloseableStream):
    """The client's socket stream with a deadline on every write. A write that times out or
    fails ends the whole connection (``on_broken``): hypercorn would otherwise go on to the
    next pipelined request, and can wait forever for a response that can no longer be sent."""

    def __init__(
        self, stream: trio.SocketStream, send_timeout: float, on_broken: Callable[[], None]
    ) -> None:
        self._stream = stream
        self._send_timeout = send_timeout
        self._on_broken = on_broken
        self.socket = stream.socket

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            with trio.move_on_after(self._send_timeout) as scope:
                await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._on_broken()
            raise
        if scope.cancelled_caught:
            self._on_broken()
            raise trio.BrokenResourceError("client does not read")

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        return await self._stream.receive_some(max_bytes)

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        await self._stream.aclose()


class Http11Server(TCPServer):
    """``TCPServer`` without TLS, with ``Http11Only`` as the protocol, and our own keep-alive
    timer: hypercorn's starts from inside the request's task, where quart-trio's nursery
    cancels it the moment the response is sent, so an idle connection was never closed."""

    def __init__(
        self, *args: Any, on_closed: Callable[[], None], on_http2: Callable[[], None]
    ) -> None:
        super().__init__(*args)
        self._on_closed = on_closed
        self._on_http2 = on_http2
        self._idle_since: float | None = trio.current_time()
        self._idle_changed = trio.Event()
        self._stopping = False

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, Updated):
            self._idle_since = trio.current_time() if event.idle else None
            self._wake()
        elif isinstance(event, Closed):
            # The answer is out; the connection must not be reused (``Connection: close``,
            # an error). Send our FIN now rather than await hypercorn's close, which runs in
            # the request's task and dies with it: the socket then stayed open until the
            # read timeout. The client's FIN (or the read timeout) ends the connection; a
            # full close here, with the client's unread bytes pending, would reset the
            # connection and could destroy the answer in flight.
            with suppress(OSError):
                self.stream.socket.shutdown(socket.SHUT_WR)
        else:
            await super().protocol_send(event)

    async def _read_data(self) -> None:
        """Hypercorn's reader; once the client is gone or silent past the read timeout, the
        whole connection ends, requests still in flight included (their answer could not
        be delivered; hypercorn already dropped it, but not always its tasks)."""
        try:
            await super()._read_data()
        finally:
            self._on_closed()

    def stop_when_idle(self) -> None:
        """The server is stopping: close as soon as no request is in flight."""
        self._stopping = True
        self._wake()

    def _wake(self) -> None:
        self._idle_changed.set()
        self._idle_changed = trio.Event()

    async def keep_alive(self) -> None:
        """Close the connection once it has been idle (no request in flight) for the
        keep-alive timeout, or at once when stopping — unless a request is arriving."""
        while True:
            changed = self._idle_changed
            if self._idle_since is None:
                await changed.wait()
                continue
            grace = 0.0 if self._stopping else self.config.keep_alive_timeout
            with trio.move_on_at(self._idle_since + grace) as timer:
                await changed.wait()
            if timer.cancelled_caught and not input_pending(self.stream.socket):
                break
            if timer.cancelled_caught:  # bytes (or the client's EOF) wait: the reader is due
                await trio.sleep(self.config.keep_alive_timeout / 10)
        with trio.CancelScope(shield=True):
            await self._initiate_server_close()

    async def run(self) -> None:
        sock = self.stream.socket
        try:
            client = parse_socket_addr(sock.family, sock.getpeername())
            server = parse_socket_addr(sock.family, sock.getsockname())
            try:
                async with TaskGroup() as task_group:
                    self._task_group = task_group
                    protocol = Http11Only(
                        self.app,
                        self.config,
                        self.context,
                        task_group,
                        ConnectionState(self.state),
                        False,
                        client,
                        server,
                        self.protocol_send,
                    )
                    protocol.on_http2 = self._on_http2
                    # Used only through initiate() and handle(), which both classes have.
                    self.protocol = protocol  # type: ignore[assignment]
                    await self.protocol.initiate()
                    await self._read_data()
            except* NotHttp11:
                pass
        except OSError:
            pass
        finally:
            await self._close()


def input_pending(sock: trio.socket.SocketType) -> bool:
    """Bytes or an EOF from the client are waiting to be read."""
    if sock.fileno() < 0:
        return False
    readable, _, _ = select.select([sock.fileno()], [], [], 0)
    return bool(readable)


@dataclass(eq=False)
class Connection:
    stream: trio.SocketStream
    peer: tuple[str, int]
    websocket: bool = False
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    server: Http11Server | None = None

    def close(self) -> None:
        """Free the descriptor now (waking a shielded write), then stop its tasks."""
        self.stream.socket.close()
        self.scope.cancel()
