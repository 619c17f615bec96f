"""Listening sockets of the fake printer: a normal listener, and a black hole.

A printer that is off or still booting does not refuse connections, it does not answer at
all: the client's connect times out. On loopback we get that with a listening socket whose
accept queue is full (backlog 0 plus two connections nobody accepts): Linux then drops new
SYNs and the client keeps retrying until its own deadline.
"""

from __future__ import annotations

import socket

import trio

RECEIVE_WINDOW = 2048
"""SO_RCVBUF of accepted sockets (Linux doubles it): a small TCP window, like a printer's."""


async def open_listener(host: str, port: int, receive_window: int) -> trio.SocketListener:
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Set before listen(): accepted sockets inherit it and the window scale is chosen small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_window)
    await sock.bind((host, port))
    sock.listen(16)
    return trio.SocketListener(sock)


class BlackHole:
    """Bound to the printer's port, listening, never accepting: connects time out."""

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(0)
        self._fillers: list[socket.socket] = []
        for _ in range(2):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex((host, port))
            self._fillers.append(filler)

    def close(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._sock.close()
