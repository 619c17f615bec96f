"""Run the web app on hypercorn inside the caller's nursery.

``hypercorn.trio.serve`` directly, not ``QuartTrio.run_task`` (which writes plain-text access
lines to stdout): access logging happens in the app's after_request hook, server errors go
to a stdlib logger and so come out as the service's JSON. Stop it by setting ``shutdown``,
never by cancelling: only then do in-flight requests finish and websockets get 1001.
"""

from __future__ import annotations

import logging
import socket
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart_trio import QuartTrio

__all__ = ["serve_web"]

log = logging.getLogger("wixprint.web.server")


def _display(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _listen_socket(host: str, port: int) -> int:
    """Bind the listening socket ourselves and hand hypercorn its descriptor (``fd://``).

    Hypercorn leaks its socket and buries the error three exception groups deep when the
    bind fails; binding here gives one plain ``OSError`` naming the address.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno, f"cannot listen on {_display(host, port)}: {exc.strerror or exc}"
        ) from exc
    # From here hypercorn owns the descriptor: its listener closes it when serving ends.
    return sock.detach()


def _config(fd: int, graceful_timeout: float) -> Config:
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.errorlog = log
    config.graceful_timeout = graceful_timeout
    config.include_server_header = False
    return config


async def serve_web(
    app: QuartTrio,
    *,
    host: str,
    port: int,
    shutdown: trio.Event,
    graceful_timeout: float = 2.0,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until ``shutdown`` is set; ``task_status.started`` gets the base URL
    (``http://127.0.0.1:43123``), with the real port when ``port`` is 0.

    Raises a plain ``OSError`` naming the address when it cannot listen (port in use,
    address not available), before anything is started.
    """
    config = _config(await _listen_socket(host, port), graceful_timeout)
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(
            partial(serve, app, config, shutdown_trigger=shutdown.wait)
        )
        url = binds[0]
        log.info("http_listening", extra={"url": url})
        task_status.started(url)
    log.info("http_stopped")
