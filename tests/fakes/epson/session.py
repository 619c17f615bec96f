"""One TCP session of the fake printer: ordered replies with delays, block data, RST, silence."""

from __future__ import annotations

import math
import socket
import struct
from collections import deque

import trio


class Session:
    """A client connection. Replies go out in order, each not before its due time."""

    def __init__(self, index: int, stream: trio.SocketStream) -> None:
        self.index = index
        self.stream = stream
        self.open = True
        self.active = False
        """Only the active (first) session is read; the others wait their turn."""
        self.silent = False
        """The printer lost power: nothing is read or sent, yet no FIN or RST either."""
        self.unacked_since: float | None = None
        """A dead session (:mod:`tests.fakes.epson.zombie`): when the client sent the first
        data the printer never acknowledged."""
        self.asb_mask = 0
        self.last_asb = b""
        self.received = 0
        self.job_bytes = 0
        self.pending_block: bytes | None = None
        """A block reply held back until the next DLE EOT (the collision profile)."""
        self.block_until = -math.inf
        """DLE EOT is ignored until then: the printer is transmitting block data."""
        self._out: deque[tuple[float, bytes, bool]] = deque()
        self._wake = trio.Event()
        self.scope = trio.CancelScope()
        self.ended = trio.Event()
        """Set when the task serving the session is done with its socket."""

    def reply(self, data: bytes, *, delay: float = 0.0, block: bool = False) -> None:
        """Queue ``data``; it leaves ``delay`` seconds from now, after what is queued."""
        if self.open and not self.silent:
            self._out.append((trio.current_time() + delay, data, block))
            self._wake.set()

    async def run_sender(self, block_seconds: float) -> None:
        while True:
            while not self._out:
                self._wake = trio.Event()
                await self._wake.wait()
            due, data, block = self._out[0]
            await trio.sleep_until(due)
            self._out.popleft()
            if block:
                self.block_until = trio.current_time() + block_seconds
            try:
                await self.stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.open = False
                return

    def drop_replies(self) -> None:
        self._out.clear()

    def abort(self) -> None:
        """Reset the connection: its task closes the socket with RST (SO_LINGER 0)."""
        self.open = False
        self.scope.cancel()
        sock = self.stream.socket
        if sock.fileno() >= 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def reset_now(self) -> None:
        """RST at once, for a session whose task is gone (a connection from before a power
        loss: the rebooted printer does not know it)."""
        self.abort()
        if self.stream.socket.fileno() >= 0:
            self.stream.socket.close()

    def go_silent(self) -> None:
        """Power loss: stop reading and answering, keep the socket (no FIN, no RST)."""
        self.silent = True
        self._out.clear()
        self.scope.cancel()
