"""One open connection to a raw-TCP printer: sending, reading replies, asking for status.

The transport, the capability probe and (later) the network scan all talk to a printer
through a :class:`PrinterLink`. It knows what a printer may send back (status bytes, ASB,
process ids, printer ids) and how to ask for status so that a lost reply costs seconds, not
a job: every request gets a short deadline, and a round that went unanswered is drained and
asked again with a longer one (a printer ignores DLE EOT while it sends block data, and some
answer late; escpos.md §12).
"""

from __future__ import annotations

import math
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager

import trio

from wixprint.errors import PrinterOffline
from wixprint.printing.protocol import (
    AsbReply,
    ClearReply,
    InfoReply,
    ProcessIdReply,
    ReplyParser,
    StatusByte,
    dle_eot,
    parse_status,
)
from wixprint.vocabulary import PrinterStatus

__all__ = ["LOST_AFTER", "STATUS_ROUNDS", "Lost", "PrinterLink", "Silent", "open_printer_link"]

_RECEIVE_SIZE = 4096
SEND_BUFFER = 4096
"""SO_SNDBUF of printer sockets (Linux doubles it). Kept small so "sent" stays close to "at
the printer", and a printer that stopped taking data blocks the send at once."""
STATUS_ROUNDS = 3
"""Tries at a status read; each waits twice as long as the one before."""
BLOCK_GAP = 0.1
"""Seconds after a block reply (process id, printer id) before the next status request: the
printer ignores DLE EOT while it still sends block data (escpos.md §12)."""
LOST_AFTER = 30.0
"""A status request unanswered this long is taken as lost (see :meth:`PrinterLink.waiting`)."""


class Lost(Exception):
    """The printer closed or reset the connection, or stopped answering."""


class Silent(Lost):
    """The connection is up but status requests got no reply, round after round."""


class PrinterLink:
    """An open printer socket and everything read from it so far."""

    def __init__(self, stream: trio.SocketStream, *, status_timeout: float) -> None:
        self.stream = stream
        self.status_timeout = status_timeout
        self._parser = ReplyParser()
        self._status_bytes: list[int] = []
        self.proofs: list[bytes] = []
        """Process ids received, in order (ours, stored ones from earlier attempts, probes)."""
        self.infos: list[str] = []
        """Printer id texts (``GS I``), in order."""
        self.asb: bytes | None = None
        """The latest Automatic Status Back, if the printer sends it."""
        self.cleared = False
        self._asked: deque[float] = deque()
        """When each status request not answered yet was sent, oldest first: over TCP they
        queue behind the data the printer has not read, so during a long ticket they wait."""
        self._block_at = -math.inf
        """When the latest block reply arrived."""

    def waiting(self) -> bool:
        """Whether a status request is still to be answered. One older than
        :data:`LOST_AFTER` is taken as lost: a printer ignores DLE EOT while it sends block
        data (a process id stored from an earlier connection, escpos.md §12), and such a
        request must not stop the polling for the rest of the job."""
        cutoff = trio.current_time() - LOST_AFTER
        while self._asked and self._asked[0] < cutoff:
            self._asked.popleft()
        return bool(self._asked)

    async def send(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise Lost("send failed") from exc

    async def receive(self) -> None:
        """Read once and sort what came."""
        try:
            data = await self.stream.receive_some(_RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise Lost("receive failed") from exc
        if not data:
            raise Lost("printer closed the connection")
        for reply in self._parser.feed(data):
            if isinstance(reply, StatusByte):
                self._status_bytes.append(reply.value)
                if self._asked:
                    self._asked.popleft()
            elif isinstance(reply, ProcessIdReply):
                self.proofs.append(reply.tag)
                self._block_received()
            elif isinstance(reply, InfoReply):
                self.infos.append(reply.text)
                self._block_received()
            elif isinstance(reply, AsbReply):
                self.asb = reply.data
            elif isinstance(reply, ClearReply):
                self.cleared = True
                self._block_received()

    def _block_received(self) -> None:
        """Status requests that reached the printer while it sent this were ignored; those
        sent before it arrived are taken as such (their answers, if any, came first)."""
        self._asked.clear()
        self._block_at = trio.current_time()

    async def _ask(self, n: int) -> None:
        await trio.sleep_until(self._block_at + BLOCK_GAP)
        self._asked.append(trio.current_time())
        await self.send(dle_eot(n))

    async def wait_until(self, done: Callable[[], bool], seconds: float) -> bool:
        """Read replies until ``done()`` or ``seconds`` passed; ``done()`` then."""
        with trio.move_on_after(seconds):
            while not done():
                await self.receive()
        return done()

    async def wait_proof(self, tags: Collection[bytes]) -> bytes:
        """Read until one of ``tags`` came back; returns it."""
        while True:
            found = self.proven(tags)
            if found is not None:
                return found
            await self.receive()

    def proven(self, tags: Collection[bytes]) -> bytes | None:
        return next((tag for tag in self.proofs if tag in tags), None)

    async def poke(self) -> None:
        """A status request without waiting for its answer: a printer that rebooted answers
        it with a reset, so a dead connection does not go unnoticed."""
        await self._ask(1)

    async def _query(self, n: int, seconds: float) -> int | None:
        """Ask DLE EOT ``n``; None if no answer within ``seconds``. Replies carry no tag, so
        while an earlier request's reply is still due it would pass for this one's: wait for
        it first (within the same ``seconds``), and fail the question if it does not come."""
        if not await self.wait_until(lambda: not self.waiting(), seconds):
            return None
        self._status_bytes.clear()
        await self._ask(n)
        await self.wait_until(lambda: bool(self._status_bytes), seconds)
        return self._status_bytes.pop(0) if self._status_bytes else None

    async def read_status(self, rounds: int = STATUS_ROUNDS) -> PrinterStatus:
        """DLE EOT 1, 2 and 4, one at a time.

        Raises:
            Silent: no complete answer in ``rounds`` rounds.
            Lost: the connection broke.
        """
        timeout = self.status_timeout
        for left in range(rounds, 0, -1):
            if left == 1 and rounds > 1:
                # Waited for through the earlier rounds: a request still unanswered was
                # ignored (the printer was sending block data), not merely late.
                self._asked.clear()
            replies: list[int] = []
            for n in (1, 2, 4):
                reply = await self._query(n, timeout)
                if reply is None:
                    break
                replies.append(reply)
            if len(replies) == 3:
                try:
                    status = parse_status(replies[0], replies[1], None, replies[2])
                except ValueError:
                    pass  # a byte out of place: ask again
                else:
                    # Replies come in order: an earlier request still unanswered was ignored.
                    self._asked.clear()
                    return status
            # A late reply must not be read as the next request's: let it arrive first.
            await self.wait_until(lambda: not self.waiting(), timeout)
            timeout *= 2
        raise Silent(f"no status reply in {rounds} tries")


@asynccontextmanager
async def open_printer_link(
    host: str, port: int, *, connect_timeout: float, status_timeout: float
) -> AsyncIterator[PrinterLink]:
    """Connect (with a deadline) and yield a link; closed on exit.

    Raises:
        PrinterOffline: the connection could not be made in time.
    """
    try:
        with trio.fail_after(connect_timeout):
            stream = await trio.open_tcp_stream(host, port)
    except (OSError, trio.TooSlowError) as exc:
        raise PrinterOffline(f"cannot connect to {host}:{port}") from exc
    async with stream:
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        yield PrinterLink(stream, status_timeout=status_timeout)
