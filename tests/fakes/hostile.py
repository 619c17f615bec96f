"""Hostile HTTP clients, bounded in count and loopback only: the hostile-client suite
(``tests/integration/test_web_hostile.py``) and its benchmark (``bench/bench_hostile.py``)
run the same ones, all at once (``tests/fakes/hostile_mix.py``).

Each opens only what it is told to, and closes every socket it opened when its context ends
(or at once, for the one-shot probes), whatever the server did to it meanwhile.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import psutil
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, wrap_client_stream

from tests.fakes.webhooks import hostile_bodies

__all__ = [
    "H2_PREFACE",
    "HalfOpen",
    "WebsocketSwarm",
    "client_sockets",
    "h2_prior_knowledge",
    "h2c_upgrade",
    "open_half_open",
    "open_slow_readers",
    "open_websocket_swarm",
    "post_hostile_tokens",
    "raw_request",
    "rebinding_probes",
    "server_sockets",
    "status_of",
]

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
"""The HTTP/2 connection preface and an empty SETTINGS frame (``curl --http2-prior-knowledge``)."""
_REBOUND = "rebind.attacker.test"


def _head(method: str, path: str, host: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def _connect(port: int, *, receive_buffer: int | None = None) -> trio.SocketStream:
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.connect(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


async def _read_all(stream: trio.SocketStream, limit: int = 1 << 20) -> bytes:
    """Everything until the server closes (or resets), at most ``limit`` bytes."""
    data = bytearray()
    try:
        while len(data) < limit:
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            data += chunk
    except trio.BrokenResourceError:
        pass
    return bytes(data)


async def raw_request(port: int, request: bytes, *, limit: int = 1 << 20) -> bytes:
    """Send ``request`` as is and return whatever comes back before the server closes
    (nothing, if it closed first: evicted under a flood, or refused mid-body)."""
    stream = await _connect(port)
    try:
        with suppress(trio.BrokenResourceError):
            await stream.send_all(request)
        return await _read_all(stream, limit)
    finally:
        stream.socket.close()


def status_of(response: bytes) -> int | None:
    """``HTTP/1.1 403 …`` → 403; None for no (or no HTTP/1.x) answer."""
    first = response.split(b"\r\n", 1)[0].split(b" ")
    if len(first) >= 2 and first[0].startswith(b"HTTP/1.") and first[1].isdigit():
        return int(first[1])
    return None


@dataclass
class HalfOpen:
    """Requests that promise a body and never send it, ``hold`` at a time."""

    opened: int = 0
    failed: int = 0
    streams: deque[trio.SocketStream] = field(default_factory=deque)

    def close(self) -> None:
        while self.streams:
            self.streams.popleft().socket.close()


@asynccontextmanager
async def open_half_open(
    port: int, count: int, *, hold: int, path: str = "/webhooks/wix"
) -> AsyncIterator[HalfOpen]:
    """Open ``count`` half-open requests, keeping at most ``hold`` sockets of our own (a real
    attacker is bounded by its descriptors too): the oldest is dropped for the next."""
    attack = HalfOpen()
    head = _head("POST", path, "127.0.0.1", "Content-Length: 4096", "Content-Type: text/plain")
    try:
        for _ in range(count):
            if len(attack.streams) >= hold:
                attack.streams.popleft().socket.close()
            try:
                stream = await _connect(port)
                await stream.send_all(head)
            except (OSError, trio.BrokenResourceError):
                attack.failed += 1
                continue
            attack.opened += 1
            attack.streams.append(stream)
        yield attack
    finally:
        attack.close()


@asynccontextmanager
async def open_slow_readers(
    port: int, count: int, *, pipelined: int = 200, path: str = "/"
) -> AsyncIterator[list[trio.SocketStream]]:
    """``count`` clients that each pipeline ``pipelined`` requests for ``path`` and never read
    a byte, with a 1 KiB receive buffer: the server's writes to them stall."""
    streams: list[trio.SocketStream] = []
    request = _head("GET", path, "127.0.0.1") * pipelined
    try:
        for _ in range(count):
            stream = await _connect(port, receive_buffer=1024)
            streams.append(stream)
            with suppress(trio.BrokenResourceError):
                await stream.send_all(request)
        yield streams
    finally:
        for stream in streams:
            stream.socket.close()


@dataclass
class WebsocketSwarm:
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    messages: int = 0


@asynccontextmanager
async def open_websocket_swarm(
    port: int,
    count: int,
    *,
    readers: int = 2,
    origin: str | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[WebsocketSwarm]:
    """``count`` clients of ``/ws/events``, opened one after the other; the first ``readers``
    accepted ones read every event, the rest never read (slow consumers). Refusals are
    counted by status."""
    swarm = WebsocketSwarm()
    headers = [(b"Origin", origin.encode())] if origin else None
    async with trio.open_nursery() as nursery:
        try:
            for _ in range(count):
                read = swarm.accepted < readers
                await nursery.start(_websocket_client, port, host, headers, swarm, read)
            yield swarm
        finally:
            nursery.cancel_scope.cancel()


async def _websocket_client(
    port: int,
    host: str,
    headers: list[tuple[bytes, bytes]] | None,
    swarm: WebsocketSwarm,
    read: bool,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """One client, its socket closed however it ends (trio-websocket leaves it open when the
    server refuses or closes first). A refusal surfaces from its reader task, in a group."""
    stream = await _connect(port)
    started = False
    try:
        async with trio.open_nursery() as own:
            ws = await wrap_client_stream(own, stream, host, "/ws/events", extra_headers=headers)
            swarm.accepted += 1
            started = True
            task_status.started()
            try:
                while True:
                    await ws.get_message()
                    if not read:
                        await trio.sleep_forever()
                    swarm.messages += 1
            except ConnectionClosed:
                pass
    except* ConnectionRejected as refused:
        for exc in refused.exceptions:
            assert isinstance(exc, ConnectionRejected)
            swarm.refused[exc.status_code] = swarm.refused.get(exc.status_code, 0) + 1
    finally:
        stream.socket.close()
        if not started:
            task_status.started()


async def post_hostile_tokens(port: int, *, path: str = "/webhooks/wix") -> dict[str, int | None]:
    """Each of ``hostile_bodies()`` POSTed on its own connection: name → status."""
    statuses: dict[str, int | None] = {}
    for name, body in hostile_bodies().items():
        head = _head("POST", path, "127.0.0.1", f"Content-Length: {len(body)}", "Connection: close")
        statuses[name] = status_of(await raw_request(port, head + body))
    return statuses


async def h2_prior_knowledge(port: int) -> bytes:
    return await raw_request(port, H2_PREFACE)


async def h2c_upgrade(port: int, path: str = "/health") -> bytes:
    head = _head(
        "GET",
        path,
        "127.0.0.1",
        "Connection: Upgrade, HTTP2-Settings, close",
        "Upgrade: h2c",
        "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
    )
    return await raw_request(port, head)


async def rebinding_probes(
    port: int, paths: Iterable[str] = ("/", "/health", "/orders", "/metrics", "/recovery/status")
) -> dict[str, int | None]:
    """A page on a name the attacker re-pointed at the Pi asks for everything: path → status."""
    statuses = {}
    for path in paths:
        head = _head("GET", path, f"{_REBOUND}:{port}", "Connection: close")
        statuses[path] = status_of(await raw_request(port, head))
    origin = f"http://{_REBOUND}:{port}"
    ws_head = _head(
        "GET",
        "/ws/events",
        f"{_REBOUND}:{port}",
        f"Origin: {origin}",
        "Connection: Upgrade, close",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    )
    statuses["/ws/events"] = status_of(await raw_request(port, ws_head))
    return statuses


def server_sockets(ports: Sequence[int], pid: int | None = None) -> int:
    """Connected TCP sockets the process ``pid`` (default: this one) holds on the server
    side of ``ports``."""
    process = psutil.Process(pid)
    return sum(
        1
        for conn in process.net_connections("tcp")
        if conn.laddr and conn.laddr.port in ports and conn.status != psutil.CONN_LISTEN
    )


def client_sockets(ports: Sequence[int]) -> int:
    """TCP sockets this process still holds towards ``ports``: what a client forgot to close."""
    return sum(
        1
        for conn in psutil.Process().net_connections("tcp")
        if conn.raddr and conn.raddr.port in ports
    )
