"""A fake ESC/POS network printer that behaves like an Epson TM-m30III where it matters.

What it reproduces (escpos.md §5, §6, §8):

* one TCP session at a time; a second connection is held in the backlog until the first
  closes (``second_connection="hold"``) or reset at once (``"refuse"``);
* DLE EOT 1-4 answered on receipt in every state, with the reference tables;
* everything else goes through a bounded receive buffer into a print engine that stops while
  the printer cannot print (paper out, cover open, offline) and resumes when the fault clears,
  so held tickets print late and a blind resend prints twice;
* GS ( H fn 48 answered only once the data before it is printed; GS r held while offline;
  GS a (ASB) answered at once and pushed on every change;
* faults settable while running: ``paper_near_end``, ``paper_out``, ``cover_open``,
  ``offline``, ``unreachable``, :meth:`reset_mid_job`, :meth:`power_cycle`.

Start it with ``port = await nursery.start(printer.serve)``.
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from dataclasses import dataclass
from typing import Literal

import trio

from wixprint.printing.decode import Command, DecodedTicket, TicketDecoder, Token, Tokenizer
from wixprint.printing.decode import process_id_of as _process_id_of

SecondConnection = Literal["hold", "refuse"]


@dataclass
class FakeTicket:
    decoded: DecodedTicket
    connection: int
    """Index into :attr:`FakePrinter.raw` of the connection that sent the ticket's last byte."""
    tag: bytes | None = None
    """The process id of the GS ( H that followed the ticket, if any."""

    @property
    def text(self) -> str:
        return self.decoded.text


class _Session:
    def __init__(self, index: int, stream: trio.SocketStream) -> None:
        self.index = index
        self.stream = stream
        self.tokenizer = Tokenizer()
        self.open = True
        self.job_bytes = 0
        self.asb_mask = 0
        self.last_asb = b""
        self._send_lock = trio.Lock()

    async def send(self, data: bytes) -> bool:
        if not self.open:
            return False
        async with self._send_lock:
            try:
                await self.stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.open = False
                return False
        return True

    def abort(self) -> None:
        """Close with RST (SO_LINGER 0), like a printer that lost power."""
        self.open = False
        sock = self.stream.socket
        if sock.fileno() >= 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@dataclass
class _Queued:
    token: Token | None
    """``None`` marks the end of a session."""
    session: _Session
    size: int


class FakePrinter:
    def __init__(
        self,
        *,
        second_connection: SecondConnection = "hold",
        print_delay: float = 0.2,
        buffer_size: int = 4096,
        pin3_high: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.second_connection: SecondConnection = second_connection
        self.print_delay = print_delay
        self.buffer_size = buffer_size
        self.pin3_high = pin3_high
        self.host = host
        self.port = 0
        # records
        self.tickets: list[FakeTicket] = []
        self.raw: list[bytearray] = []
        """Every byte received, one entry per accepted connection."""
        self.connections = 0
        self.refused = 0
        self.job_bytes = 0
        """Bytes received that are not real-time requests (ticket data, GS ( H, ...)."""
        self.process_ids: list[bytes] = []
        """Tags answered with 37 22 .. 00, in order (sent or not)."""
        self.power_cycles = 0
        # state
        self._near_end = self._paper_out = self._cover_open = self._offline = False
        self._unreachable = False
        self._changed = trio.Event()
        self._queue: deque[_Queued] = deque()
        self._queued_bytes = 0
        self._decoder = TicketDecoder()
        self._decoder_session: _Session | None = None
        self._sessions: set[_Session] = set()
        self._reset_arm: tuple[int, bool] | None = None
        self._boot_delay: float | None = None
        self._listen_scope: trio.CancelScope | None = None
        self._engine_scope: trio.CancelScope | None = None

    # ---- faults -------------------------------------------------------------------------

    @property
    def paper_near_end(self) -> bool:
        return self._near_end

    @paper_near_end.setter
    def paper_near_end(self, value: bool) -> None:
        self._near_end = value
        self._notify()

    @property
    def paper_out(self) -> bool:
        return self._paper_out

    @paper_out.setter
    def paper_out(self, value: bool) -> None:
        self._paper_out = value
        self._notify()

    @property
    def cover_open(self) -> bool:
        return self._cover_open

    @cover_open.setter
    def cover_open(self, value: bool) -> None:
        self._cover_open = value
        self._notify()

    @property
    def offline(self) -> bool:
        return self._offline

    @offline.setter
    def offline(self, value: bool) -> None:
        self._offline = value
        self._notify()

    @property
    def unreachable(self) -> bool:
        return self._unreachable

    @unreachable.setter
    def unreachable(self, value: bool) -> None:
        """True closes the listener (connections are refused) and drops open sessions."""
        self._unreachable = value
        if value and self._listen_scope is not None:
            self._listen_scope.cancel()
        self._notify()

    def reset_mid_job(self, after_bytes: int, *, print_received: bool = False) -> None:
        """Reset the next connection once *after_bytes* job bytes (whole commands, real-time
        requests not counted) have arrived. ``print_received`` prints what came, else it is
        lost."""
        if after_bytes < 1:
            raise ValueError("after_bytes must be at least 1")
        self._reset_arm = (after_bytes, print_received)

    def power_cycle(self, *, boot_seconds: float = 0.0) -> None:
        """Lose power: connections reset, unprinted data lost; refuse connections while
        booting for *boot_seconds* (trio clock)."""
        self.power_cycles += 1
        self._queue.clear()
        self._queued_bytes = 0
        self._decoder.reset()
        self._boot_delay = boot_seconds
        for session in self._sessions:
            session.abort()
        for scope in (self._listen_scope, self._engine_scope):
            if scope is not None:
                scope.cancel()
        self._notify()

    @property
    def can_print(self) -> bool:
        return not (self._paper_out or self._cover_open or self._offline)

    def status_byte(self, n: int) -> int:
        """The DLE EOT *n* reply for the current state (reference tables, §5.1)."""
        if n == 1:
            return 0x12 | (0x04 if self.pin3_high else 0) | (0 if self.can_print else 0x08)
        if n == 2:
            return 0x12 | (0x04 if self._cover_open else 0) | (0x20 if self._paper_out else 0)
        if n == 4:
            near = self._near_end or self._paper_out
            return 0x12 | (0x0C if near else 0) | (0x60 if self._paper_out else 0)
        return 0x12

    def asb_bytes(self) -> bytes:
        first = 0x10 | (0x04 if self.pin3_high else 0) | (0 if self.can_print else 0x08)
        first |= 0x20 if self._cover_open else 0
        paper = (0x03 if self._near_end or self._paper_out else 0) | (
            0x0C if self._paper_out else 0
        )
        return bytes((first, 0, paper, 0))

    # ---- waiting ------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _wait_change(self) -> None:
        await self._changed.wait()

    async def wait_tickets(self, n: int) -> list[FakeTicket]:
        """Wait until *n* tickets have been printed; returns the first *n*."""
        while len(self.tickets) < n:
            await self._wait_change()
        return self.tickets[:n]

    async def wait_job_bytes(self, n: int) -> None:
        """Wait until *n* job bytes have arrived (see :attr:`job_bytes`)."""
        while self.job_bytes < n:
            await self._wait_change()

    # ---- network ------------------------------------------------------------------------

    async def _listen(self, port: int) -> trio.SocketListener:
        listeners = await trio.open_tcp_listeners(port, host=self.host)
        return listeners[0]

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        first = await self._listen(0)
        self.port = first.socket.getsockname()[1]
        listener: trio.SocketListener | None = first
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._run_engine)
                task_status.started(self.port)
                while True:
                    while self._unreachable:
                        await self._wait_change()
                    if listener is None:
                        listener = await self._listen(self.port)
                    current = listener
                    with trio.CancelScope() as scope:
                        self._listen_scope = scope
                        await self._accept_loop(current)
                    self._listen_scope = None
                    current.socket.close()
                    listener = None
                    if self._boot_delay is not None:
                        delay, self._boot_delay = self._boot_delay, None
                        await trio.sleep(delay)
        finally:
            if listener is not None:
                listener.socket.close()

    async def _accept_loop(self, listener: trio.SocketListener) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                if self.second_connection == "hold":
                    while self._sessions:
                        await self._wait_change()
                stream = await listener.accept()
                if self._sessions:
                    self.refused += 1
                    _Session(-1, stream).abort()
                    await stream.aclose()
                    continue
                session = _Session(len(self.raw), stream)
                self.raw.append(bytearray())
                self.connections += 1
                self._sessions.add(session)
                nursery.start_soon(self._serve_session, session)

    async def _serve_session(self, session: _Session) -> None:
        try:
            async with session.stream, trio.open_nursery() as nursery:
                nursery.start_soon(self._push_asb, session)
                await self._read(session)
                nursery.cancel_scope.cancel()
        finally:
            session.open = False
            self._sessions.discard(session)
            self._enqueue(_Queued(None, session, 0))

    async def _read(self, session: _Session) -> None:
        while session.open:
            while self._queued_bytes >= self.buffer_size:
                await self._wait_change()
            room = max(1, self.buffer_size - self._queued_bytes)
            try:
                data = await session.stream.receive_some(room)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
            if not data or not session.open:
                return  # a power cycle during the wait: what arrives now is lost
            if self._reset_arm is None:
                await self._ingest(session, data)
                continue
            after, print_received = self._reset_arm
            for k in range(len(data)):
                await self._ingest(session, data[k : k + 1])
                if session.job_bytes >= after:
                    self._reset_arm = None
                    self._reset(session, print_received=print_received)
                    return

    def _reset(self, session: _Session, *, print_received: bool) -> None:
        if not print_received:
            kept = deque(q for q in self._queue if q.session is not session)
            self._queued_bytes = sum(q.size for q in kept)
            self._queue = kept
            if self._decoder_session is session:
                self._decoder.discard()
        session.abort()
        self._notify()

    async def _ingest(self, session: _Session, data: bytes) -> None:
        self.raw[session.index] += data
        for token in session.tokenizer.feed(data):
            if isinstance(token, Command) and token.realtime:
                if token.name == "DLE EOT" and 1 <= token.arg(0) <= 4:
                    await session.send(bytes((self.status_byte(token.arg(0)),)))
                continue
            if not session.open:
                return  # lost power while answering: the rest never reaches the buffer
            session.job_bytes += token.size
            self.job_bytes += token.size
            self._enqueue(_Queued(token, session, token.size))

    def _enqueue(self, item: _Queued) -> None:
        self._queue.append(item)
        self._queued_bytes += item.size
        self._notify()

    async def _push_asb(self, session: _Session) -> None:
        while True:
            current = self.asb_bytes()
            if session.asb_mask and current != session.last_asb:
                session.last_asb = current
                await session.send(current)
            else:
                await self._wait_change()

    # ---- print engine -------------------------------------------------------------------

    async def _run_engine(self) -> None:
        while True:
            with trio.CancelScope() as scope:
                self._engine_scope = scope
                await self._engine()

    async def _engine(self) -> None:
        while True:
            while not (self._queue and self.can_print):
                await self._wait_change()
            item = self._queue.popleft()
            self._queued_bytes -= item.size
            self._notify()
            await self._execute(item)

    async def _printing(self) -> None:
        """Take print_delay to print; a fault during printing holds it until cleared."""
        while True:
            while not self.can_print:
                await self._wait_change()
            await trio.sleep(self.print_delay)
            if self.can_print:
                return

    def _record(self, ticket: DecodedTicket, session: _Session) -> None:
        self.tickets.append(FakeTicket(ticket, session.index))
        self._notify()

    async def _execute(self, item: _Queued) -> None:
        token, session = item.token, item.session
        if token is None:
            if self._decoder.has_content:
                await self._printing()
            last = self._decoder.finish()
            if last is not None:
                self._record(last, session)
            return
        self._decoder_session = session
        if isinstance(token, Command):
            is_cut = token.name in ("GS V", "ESC i", "ESC m")
            needs_paper = token.name in ("GS ( H", "GS r") and self._decoder.has_content
            if is_cut or needs_paper:
                await self._printing()
        ticket = self._decoder.feed(token)
        if ticket is not None:
            self._record(ticket, session)
        if isinstance(token, Command):
            await self._answer(token, session)

    async def _answer(self, cmd: Command, session: _Session) -> None:
        tag = _process_id_of(cmd)
        if tag is not None:
            if self.tickets and self.tickets[-1].tag is None:
                self.tickets[-1].tag = tag
            self.process_ids.append(tag)
            self._notify()
            await session.send(b"\x37\x22" + tag + b"\x00")
        elif cmd.name == "GS r":
            n = cmd.arg(0)
            paper = (0x03 if self._near_end else 0) | (0x0C if self._paper_out else 0)
            await session.send(bytes((paper if n in (1, 49) else 0,)))
        elif cmd.name == "GS a":
            session.asb_mask = cmd.arg(0)
            if session.asb_mask:
                session.last_asb = self.asb_bytes()
                await session.send(session.last_asb)


def sample_ticket(text: str = "Tisch 4: 2x Käsespätzle, 1x Apfelstrudel 5,00 €") -> bytes:
    """A small real ticket made by python-escpos: init, CP858, text, native QR, cut."""
    from escpos.printer import Dummy

    p = Dummy(profile="TM-T20II")
    p.hw("INIT")
    p.charcode("CP858")
    p.textln(text)
    p.qr("order", native=True)
    p.cut()
    return bytes(p.output)
