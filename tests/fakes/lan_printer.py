"""A small network printer for discovery and setup tests: it says its name.

Listens on a given loopback address and port (9100 like a real one), answers DLE EOT 1-4 at
once in every state, ``GS I 67`` / ``GS I 66`` with ``5F text 00`` and ``GS ( H`` fn 48 with
``37 22 tag 00`` once the data before it is printed (escpos.md §5, §13) — those two are not
real-time, so a printer out of paper leaves them unanswered. It records decoded tickets.
"""

from __future__ import annotations

import contextlib

import pytest
import trio

from wixprint.printing.decode import Command, DecodedTicket, TicketDecoder, Tokenizer

__all__ = ["ON_FIXED_ADDRESSES", "LanPrinter"]

ON_FIXED_ADDRESSES = pytest.mark.usefixtures("fixed_addresses")
"""Tests whose printers listen on 127.0.0.2/.3 port 9100 or that scan 127.0.0.0/29 share these
addresses: under ``pytest -n`` (``make test``) they take turns (tests/conftest.py)."""

_STATUS_OK = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
_STATUS_PAPER_OUT = {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}


class LanPrinter:
    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        model: str = "TM-m30III",
        manufacturer: str = "EPSON",
        firmware: str = "1.00 ESC/POS",
    ) -> None:
        self.host = host
        self.port = port
        self.info = {65: firmware, 66: manufacturer, 67: model}
        self.paper_out = False
        self.tickets: list[DecodedTicket] = []
        self.connections = 0
        self._changed = trio.Event()

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(self.port, host=self.host)
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self.port)
        await trio.serve_listeners(self._session, listeners)

    async def wait_tickets(self, n: int) -> list[DecodedTicket]:
        while len(self.tickets) < n:
            await self._changed.wait()
        return self.tickets

    async def _session(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        tokenizer, decoder = Tokenizer(), TicketDecoder()
        async with stream:
            while data := await _receive(stream):
                for token in tokenizer.feed(data):
                    reply = self._answer(token) if isinstance(token, Command) else None
                    if reply:
                        await _send(stream, reply)
                    elif (ticket := decoder.feed(token)) is not None:
                        self.tickets.append(ticket)
                        self._changed.set()
                        self._changed = trio.Event()

    def _answer(self, cmd: Command) -> bytes | None:
        if cmd.name == "DLE EOT":
            table = _STATUS_PAPER_OUT if self.paper_out else _STATUS_OK
            return bytes((table.get(cmd.arg(0), 0x12),))
        if self.paper_out:
            return None
        if cmd.name == "GS I" and cmd.arg(0) in self.info:
            return b"\x5f" + self.info[cmd.arg(0)].encode("ascii") + b"\x00"
        if cmd.name == "GS ( H" and cmd.args[:4] == b"\x06\x00\x30\x30":
            return b"\x37\x22" + cmd.args[4:8] + b"\x00"
        return None


async def _receive(stream: trio.SocketStream) -> bytes:
    try:
        return await stream.receive_some(4096)
    except trio.BrokenResourceError:
        return b""


async def _send(stream: trio.SocketStream, data: bytes) -> None:
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        await stream.send_all(data)
