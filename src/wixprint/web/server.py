"""Hypercorn's HTTP/1.1 protocol under our own accept loop: every connection accounted for.

``hypercorn.trio.serve`` accepts without limit, so a few hundred requests that never finish
used up the process's file descriptors and the printer actors died of EMFILE; its writes are
shielded from cancellation with no timeout, so a client that never reads holds its socket
forever; and it speaks HTTP/2 to whoever asks (h2c upgrade, prior knowledge). This module
keeps hypercorn's protocol classes (the pinned 0.18.0, wrapped in ``web/connection.py``;
``tests/integration/test_web_limits.py`` exercises every piece used) and owns the rest:

* **A cap per listener.** Past ``max_connections`` the *oldest* connection that is not a
  websocket is closed: a slow attacker's connections age out first, while a fresh request
  (a monitor's ``/health``, Wix's webhook) gets in at once. Counted in
  ``wixprint_http_connections_evicted_total``.
* **A cap on websocket clients**, across listeners; one more is refused with 503
  (``wixprint_http_refused_total{reason="websocket_limit"}``), live clients keep their stream.
* **A write timeout, HTTP/1.1 only, a keep-alive timer that works** (``web/connection.py``).
* **Accept failures** for want of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) pause the
  loop briefly instead of spinning or crashing; with the caps inside the descriptor budget
  (``limits.fit_descriptor_budget``) they should not happen.
* **A graceful stop**: no new connections, idle ones closed at once, the rest given
  ``graceful_timeout``, then closed.

The read timeout, the request head limit and the websocket message limit are hypercorn's own,
set from ``Limits``.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, cast

import trio
from hypercorn.config import Config
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, ASGIFramework, ConnectionState
from hypercorn.utils import parse_socket_addr, repr_socket_addr, wrap_app

from wixprint.web.connection import BoundedStream, Connection, Http11Server
from wixprint.web.guard import AsgiApp, Receive, Scope, Send, refuse
from wixprint.web.limits import Limits
from wixprint.web.metrics import Metrics

__all__ = ["Endpoint", "bind_socket", "serve_endpoints"]

log = logging.getLogger("wixprint.web.server")

_CAPACITY_ERRNOS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ACCEPT_PAUSE: Final = 0.1
_ACCEPT_LOG_EVERY: Final = 60.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One listener: its name for metrics and logs, its bound socket, and its request policy
    (applied in front of the websocket cap and the app)."""

    name: str
    sock: trio.socket.SocketType
    policy: Callable[[AsgiApp], AsgiApp] = lambda app: app

    @property
    def url(self) -> str:
        return "http://" + repr_socket_addr(self.sock.family, self.sock.getsockname())


class _Listener:
    """One endpoint's open connections, oldest first."""

    def __init__(self, name: str, cap: int, metrics: Metrics) -> None:
        self.name = name
        self.cap = cap
        self.metrics = metrics
        self.open: dict[tuple[str, int], Connection] = {}
        self.released = trio.Event()

    def admit(self, conn: Connection) -> None:
        self.open[conn.peer] = conn
        if len(self.open) > self.cap:
            oldest = next((c for c in self.open.values() if not c.websocket), None)
            if oldest is not None:
                self.release(oldest)
                oldest.close()
                self.metrics.count_http_evicted(self.name)
        self.metrics.set_http_connections(self.name, len(self.open))

    def release(self, conn: Connection) -> None:
        if self.open.get(conn.peer) is conn:
            del self.open[conn.peer]
            self.metrics.set_http_connections(self.name, len(self.open))
            self.released.set()
            self.released = trio.Event()


def _wrap(app: AsgiApp) -> AppWrapper:
    """Our loosely typed ASGI callables as hypercorn's app wrapper."""
    return wrap_app(cast(ASGIFramework, app), 0, "asgi")


def _hypercorn_config(limits: Limits) -> Config:
    config = Config()
    config.accesslog = None
    config.errorlog = log
    config.include_server_header = False
    config.graceful_timeout = limits.graceful_timeout
    # hypercorn annotates int but only passes it to trio.fail_after
    config.read_timeout = limits.read_timeout  # type: ignore[assignment]
    config.keep_alive_timeout = limits.keep_alive_timeout
    config.h11_max_incomplete_size = limits.max_head_bytes
    config.websocket_max_message_size = limits.websocket_max_message
    config.websocket_ping_interval = limits.websocket_ping_interval
    config.alpn_protocols = ["http/1.1"]
    config.backlog = limits.backlog
    return config


class _Server:
    def __init__(self, app: AsgiApp, limits: Limits, metrics: Metrics) -> None:
        self.app = app
        self.limits = limits
        self.metrics = metrics
        self.config = _hypercorn_config(limits)
        self.context = WorkerContext(None)
        self.lifespan_state: dict[str, Any] = {}
        self.listeners: list[_Listener] = []
        self.websockets = 0
        self._accept_logged = -_ACCEPT_LOG_EVERY

    def _count_websockets(self, listener: _Listener, app: AsgiApp) -> AsgiApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "websocket":
                await app(scope, receive, send)
                return
            if self.websockets >= self.limits.max_websockets:
                self.metrics.count_http_refused(listener.name, "websocket_limit")
                await refuse(scope, send, 503, "too many live clients")
                return
            conn = listener.open.get(tuple(scope.get("client") or ()))
            if conn is not None:
                conn.websocket = True
            self.websockets += 1
            self.metrics.set_websocket_clients(self.websockets)
            try:
                await app(scope, receive, send)
            finally:
                self.websockets -= 1
                self.metrics.set_websocket_clients(self.websockets)

        return counted

    async def serve(
        self,
        endpoints: Sequence[Endpoint],
        shutdown: trio.Event,
        task_status: trio.TaskStatus[dict[str, str]],
    ) -> None:
        lifespan = Lifespan(_wrap(self.app), self.config, self.lifespan_state)
        async with trio.open_nursery() as lifespan_nursery:
            await lifespan_nursery.start(lifespan.handle_lifespan)
            await lifespan.wait_for_startup()
            async with trio.open_nursery() as connections:
                async with trio.open_nursery() as accepting:
                    for endpoint in endpoints:
                        listener = _Listener(
                            endpoint.name, self.limits.max_connections, self.metrics
                        )
                        self.listeners.append(listener)
                        self.metrics.set_http_connections(listener.name, 0)
                        app = endpoint.policy(self._count_websockets(listener, self.app))
                        endpoint.sock.listen(self.limits.backlog)
                        accepting.start_soon(
                            self._accept, endpoint, listener, _wrap(app), connections
                        )
                    task_status.started({e.name: e.url for e in endpoints})
                    await shutdown.wait()
                    accepting.cancel_scope.cancel()
                for endpoint in endpoints:
                    endpoint.sock.close()
                # Idle keep-alive connections close now; the rest get the graceful timeout.
                await self.context.terminated.set()
                for listener in self.listeners:
                    for conn in listener.open.values():
                        if conn.server is not None:
                            conn.server.stop_when_idle()
                with trio.move_on_after(self.limits.graceful_timeout):
                    for listener in self.listeners:
                        while listener.open:
                            await listener.released.wait()
                for listener in self.listeners:
                    for conn in list(listener.open.values()):
                        conn.close()
            await lifespan.wait_for_shutdown()
            lifespan_nursery.cancel_scope.cancel()

    async def _accept(
        self, endpoint: Endpoint, listener: _Listener, app: AppWrapper, nursery: trio.Nursery
    ) -> None:
        trio_listener = trio.SocketListener(endpoint.sock)
        while True:
            try:
                stream = await trio_listener.accept()
            except OSError as exc:
                if exc.errno not in _CAPACITY_ERRNOS:
                    raise
                self._accept_failed(listener, exc)
                await trio.sleep(_ACCEPT_PAUSE)
                continue
            try:
                peer = parse_socket_addr(stream.socket.family, stream.socket.getpeername())
            except OSError:  # reset before we got to it
                peer = None
            if peer is None:
                stream.socket.close()
                continue
            conn = Connection(stream, peer)
            listener.admit(conn)
            nursery.start_soon(self._serve_connection, listener, conn, app)

    def _accept_failed(self, listener: _Listener, exc: OSError) -> None:
        self.metrics.count_http_accept_error(listener.name)
        now = trio.current_time()
        if now - self._accept_logged >= _ACCEPT_LOG_EVERY:
            self._accept_logged = now
            log.warning(
                "http_accept_failed",
                extra={"listener": listener.name, "error": errno.errorcode.get(exc.errno or 0)},
            )

    async def _serve_connection(
        self, listener: _Listener, conn: Connection, app: AppWrapper
    ) -> None:
        try:
            with conn.scope:
                stream = BoundedStream(conn.stream, self.limits.send_timeout, conn.close)
                state = ConnectionState(self.lifespan_state.copy())
                server = Http11Server(
                    app,
                    self.config,
                    self.context,
                    state,
                    cast(Any, stream),
                    on_closed=conn.close,
                    on_http2=partial(self.metrics.count_http_refused, listener.name, "http2"),
                )
                conn.server = server
                if self.context.terminated.is_set():
                    server.stop_when_idle()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(server.keep_alive)
                    await server.run()
                    nursery.cancel_scope.cancel()
        finally:
            listener.release(conn)
            conn.stream.socket.close()


async def serve_endpoints(
    app: AsgiApp,
    endpoints: Sequence[Endpoint],
    *,
    limits: Limits,
    metrics: Metrics,
    shutdown: trio.Event,
    task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on every endpoint until ``shutdown`` is set; ``task_status.started``
    gets each endpoint's URL by name. The sockets are closed when serving ends."""
    try:
        await _Server(app, limits, metrics).serve(endpoints, shutdown, task_status)
    finally:
        for endpoint in endpoints:
            endpoint.sock.close()


async def bind_socket(host: str, port: int) -> trio.socket.SocketType:
    """A TCP socket bound to ``host:port`` (not yet listening); a plain ``OSError`` naming
    the address when that fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    display = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {display}: {exc.strerror or exc}") from exc
    return sock
