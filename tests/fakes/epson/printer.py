"""A fake ESC/POS network printer that behaves like an Epson TM where our tests need it to.

What it reproduces (escpos.md §4–§6, §8, §12–§14):

* **Connections**: up to three TCP sessions (``connections="epson"``); only the first is
  read, the others wait their turn; a fourth is reset. A session idle for ``idle_timeout``
  is closed by the printer. ``"hold"`` leaves a second client in the backlog, ``"refuse"``
  resets it.
* **One command parser for the printer's life**, not per connection: a job cut off inside a
  QR payload makes the next job's first bytes part of that payload (§14). A small receive
  buffer and TCP window: a printer that cannot print stops reading, the client's send blocks.
* **Real-time commands on receipt**: DLE EOT is answered as the bytes arrive, even inside
  another command's data and in every state, except while the printer transmits block data
  (a process id, a printer id), when it is ignored (§12). ``DLE DC4`` fn 8 discards the
  receive and print buffers and the stored process id.
* **GS ( H fn 48** answered once the data before it is on paper; when the session that asked
  is gone the printer keeps the latest id and sends it to the next session.
* **Printing takes time per line** (``print_delay`` per line height); a fault stops it
  between lines, paper can run out in the middle of a ticket and the rest prints on the new
  roll. Errors: cutter jam, recoverable and unrecoverable error, near-end stop.
* **Power loss is silence**: no FIN, no RST; while off and booting, connects time out. A
  rebooted printer resets an old connection only when a packet of the client reaches it: new
  data while nothing is unacknowledged, else a retransmission of data it never acknowledged;
  a dead printer takes no data, so the client's send blocks; the client gives up after
  924.6 s of retransmissions (:mod:`tests.fakes.epson.zombie`).
* **Profiles**: ``process_id=False`` ignores GS ( H, ``reply_delay`` answers everything late,
  ``status_delay`` answers DLE EOT late (``status_jitter`` adds up to that much more, drawn
  from ``seed``; replies still leave in order), ``collide=True`` sends each process id that follows
  printed data exactly when the next status request arrives (which is then lost),
  ``asb_at_power_on`` pushes ASB, ``buzzer=False`` has no buzzer (``ESC ( A`` fn 48 is then
  silent; heard beeps are in ``head.beeps``).

Start it with ``port = await nursery.start(printer.serve)``.
"""

from __future__ import annotations

import math
import random
import socket
from collections import deque
from collections.abc import Callable
from typing import Literal

import trio

from tests.fakes.epson.commands import CommandReader, Piece
from tests.fakes.epson.network import RECEIVE_WINDOW, BlackHole, open_listener
from tests.fakes.epson.paper import PrintHead, Step, Strip
from tests.fakes.epson.session import Session
from tests.fakes.epson.status import Faults
from tests.fakes.epson.zombie import GIVE_UP, drain, retransmitted_at

Connections = Literal["epson", "hold", "refuse"]
CLEAR_BUFFERS = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
_REALTIME = ("DLE EOT", "DLE ENQ", "DLE DC4")
_ANSWERED = ("GS ( H", "GS I", "GS a", "GS r")
_BATCH = 2000
"""Steps printed under one timer at most."""


class _Fault:
    """A fault flag of :class:`Faults`, settable on the printer (wakes whoever waits)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, printer: FakePrinter | None, owner: type | None = None) -> bool:
        assert printer is not None
        return bool(getattr(printer.faults, self.name))

    def __set__(self, printer: FakePrinter, value: bool) -> None:
        if self.name == "paper_out" and printer.faults.paper_out and not value:
            printer.head.roll += 1  # a new roll went in
        setattr(printer.faults, self.name, value)
        printer.notify()


class FakePrinter:
    paper_near_end = _Fault()
    paper_out = _Fault()
    cover_open = _Fault()
    offline = _Fault()
    cutter_jam = _Fault()
    recoverable_error = _Fault()
    unrecoverable_error = _Fault()

    def __init__(
        self,
        *,
        model: str | None = "TM-m30III",
        dots: int = 576,
        print_delay: float = 0.017,
        buffer_size: int = 4096,
        receive_window: int = RECEIVE_WINDOW,
        connections: Connections = "epson",
        max_connections: int = 3,
        idle_timeout: float = 300.0,
        pin3_high: bool = True,
        near_end_stop: bool = False,
        asb_at_power_on: bool = False,
        process_id: bool = True,
        reply_delay: float = 0.0,
        status_delay: float = 0.0,
        status_jitter: float = 0.0,
        seed: int = 0,
        block_seconds: float = 0.005,
        collide: bool = False,
        host: str = "127.0.0.1",
        buzzer: bool = True,
    ) -> None:
        self.model = model
        self.print_delay = print_delay
        """Seconds per printed line height (about 17 ms at 250 mm/s)."""
        self.buffer_size = buffer_size
        self.receive_window = receive_window
        self.connections_mode: Connections = connections
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.asb_at_power_on = asb_at_power_on
        self.process_id = process_id
        self.reply_delay = reply_delay
        self.status_delay = status_delay
        self.status_jitter = status_jitter
        self._rng = random.Random(seed)
        self.block_seconds = block_seconds
        self.collide = collide
        self.host = host
        self.port = 0
        self.faults = Faults(pin3_high=pin3_high, near_end_stop=near_end_stop)
        self.head = PrintHead(dots=dots)
        self.head.buzzer = buzzer
        self.reader = CommandReader()
        # records
        self.raw: list[bytearray] = []
        """Every byte received, one entry per accepted connection."""
        self.connections = 0
        self.refused = 0
        self.received = 0
        """Every byte read from any connection."""
        self.job_bytes = 0
        """Bytes that went into the receive buffer as commands or text (not real-time)."""
        self.unheard = bytearray()
        """Bytes the clients' TCP accepted on connections from before a power loss: the
        printer never read them. Not all went on the wire: data sent behind an
        unacknowledged segment waits in the client's send queue (see ``zombie``)."""
        self.process_ids: list[bytes] = []
        """Process ids answered, in order (sent, or stored for a later session)."""
        self.status_requests = self.status_ignored = self.clears = self.power_cycles = 0
        # state
        self._changed = trio.Event()
        self._queue: deque[tuple[Piece, Session]] = deque()
        self._queued_bytes = 0
        self._epoch = 0
        """Bumped when buffers are discarded: the engine drops the command in progress."""
        self._sessions: list[Session] = []
        self._zombies: list[Session] = []
        self._powered = True
        self._boot_until = -math.inf
        self._unreachable = False
        self._stored_id: bytes | None = None
        self._tail = bytearray()
        self._reset_arm: tuple[int, bool] | None = None
        self._reset_every = False
        self.resets = 0
        """Connections reset by an armed :meth:`reset_mid_job`."""
        self._cut_arm: tuple[str, int] | None = None
        self._roll_lines: int | None = None
        self._printed_since_id = False
        self._listen_scope: trio.CancelScope | None = None
        self._engine_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None

    # ---- what came out ------------------------------------------------------------------

    @property
    def tickets(self) -> list[Strip]:
        """Strips that were cut, in order."""
        return list(self.head.strips)

    def paper(self) -> list[Strip]:
        """Everything printed: the cut strips and the strip still in the printer."""
        return self.head.paper()

    @property
    def stored_process_id(self) -> bytes | None:
        return self._stored_id

    # ---- faults -------------------------------------------------------------------------

    @property
    def unreachable(self) -> bool:
        return self._unreachable

    @unreachable.setter
    def unreachable(self, value: bool) -> None:
        """True refuses connections and resets the open ones (e.g. the address changed)."""
        self._unreachable = value
        if value:
            for session in list(self._sessions):
                session.abort()
            if self._listen_scope is not None:
                self._listen_scope.cancel()
        self.notify()

    @property
    def can_print(self) -> bool:
        return self._powered and self.faults.can_print

    @property
    def powered(self) -> bool:
        return self._powered

    @property
    def booting(self) -> bool:
        return self._powered and trio.current_time() < self._boot_until

    def status_byte(self, n: int) -> int:
        return self.faults.status_byte(n)

    def paper_out_after(self, lines: int) -> None:
        """The roll ends after ``lines`` more printed lines (mid-ticket if you like)."""
        self._roll_lines = lines

    def reset_mid_job(
        self, after_bytes: int, *, print_received: bool = False, every: bool = False
    ) -> None:
        """Reset the active connection once it sent ``after_bytes`` job bytes (real-time
        requests not counted). ``print_received`` keeps what came, else it is lost.
        ``every``: each connection that gets that far, until :meth:`disarm`."""
        if after_bytes < 1:
            raise ValueError("after_bytes must be at least 1")
        self._reset_arm = (after_bytes, print_received)
        self._reset_every = every

    def cut_inside(self, command: str, *, after: int = 8) -> None:
        """Reset the active connection once ``after`` bytes of a ``command`` (e.g.
        ``"GS ( k"``) have arrived and more are due; what came stays in the printer."""
        self._cut_arm = (command, after)

    def disarm(self) -> None:
        """Forget armed resets and the roll countdown (the chaos schedule heals)."""
        self._reset_arm = self._cut_arm = self._roll_lines = None

    def power_off(self) -> None:
        """Power loss: every session goes silent, buffers and the parser are lost."""
        self.power_cycles += 1
        self._powered = False
        self._discard_buffers()
        self._stored_id = None
        self.reader.reset()
        self._tail.clear()
        for session in self._sessions:
            session.go_silent()
            drain(session)  # received and acknowledged, not read: gone
            self._zombies.append(session)
            if self._nursery is not None:
                self._nursery.start_soon(self._haunt, session)
        self._sessions.clear()
        for scope in (self._listen_scope, self._engine_scope):
            if scope is not None:
                scope.cancel()
        self.notify()

    def power_on(self, *, boot_seconds: float = 15.0) -> None:
        """Connects time out for ``boot_seconds`` more; old connections stay dead."""
        self._powered = True
        self._boot_until = trio.current_time() + boot_seconds
        self.faults.unrecoverable_error = False
        self.head.power_on()
        self.notify()

    def power_cycle(self, *, boot_seconds: float = 15.0) -> None:
        self.power_off()
        self.power_on(boot_seconds=boot_seconds)

    # ---- waiting ------------------------------------------------------------------------

    def notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _wait_change(self) -> None:
        await self._changed.wait()

    async def wait_tickets(self, n: int) -> list[Strip]:
        """Wait until ``n`` strips were cut; returns the first ``n``."""
        while len(self.head.strips) < n:
            await self._wait_change()
        return self.head.strips[:n]

    async def wait_received(self, n: int) -> None:
        """Wait until ``n`` bytes were read, whole commands or not."""
        while self.received < n:
            await self._wait_change()

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` (checked on every change of the printer's state)."""
        while not done():
            await self._wait_change()

    async def wait_job_bytes(self, n: int) -> None:
        while self.job_bytes < n:
            await self._wait_change()

    # ---- network ------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listener: trio.SocketListener | None = await open_listener(
            self.host, 0, self.receive_window
        )
        assert listener is not None
        self.port = listener.socket.getsockname()[1]
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._run_engine)
                task_status.started(self.port)
                while True:
                    if not self._powered or self.booting:
                        if listener is not None:
                            listener.socket.close()
                            listener = None
                        await self._black_hole()
                    elif self._unreachable:
                        if listener is not None:
                            listener.socket.close()
                            listener = None
                        await self._wait_change()
                    else:
                        if listener is None:
                            listener = await open_listener(
                                self.host, self.port, self.receive_window
                            )
                        with trio.CancelScope() as scope:
                            self._listen_scope = scope
                            await self._accept_loop(listener, nursery)
                        self._listen_scope = None
        finally:
            if listener is not None:
                listener.socket.close()
            for zombie in self._zombies:
                zombie.reset_now()

    async def _black_hole(self) -> None:
        hole = BlackHole(self.host, self.port)
        try:
            while not self._powered or self.booting:
                if self._powered:
                    with trio.move_on_at(self._boot_until):
                        await self._wait_change()
                else:
                    await self._wait_change()
        finally:
            hole.close()

    @property
    def _up(self) -> bool:
        return self._powered and not self.booting

    async def _haunt(self, zombie: Session) -> None:
        """A connection from before a power loss: reset once a packet of the client reaches
        the booted printer (new data while nothing is unacknowledged, else the next
        retransmission), or when the client's TCP gives up retransmitting."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._hear, zombie)
            while zombie.open:
                due = math.inf
                if zombie.unacked_since is not None:
                    due = zombie.unacked_since + GIVE_UP
                    if self._powered:
                        due = min(due, retransmitted_at(zombie.unacked_since, self._boot_until))
                with trio.move_on_at(due):
                    await self._wait_change()
                    continue
                self._reset_zombie(zombie)
            nursery.cancel_scope.cancel()

    def _reset_zombie(self, zombie: Session) -> None:
        self.unheard += drain(zombie)
        zombie.reset_now()
        self.notify()

    async def _hear(self, zombie: Session) -> None:
        """Note when the client sends after the power loss, reading nothing: a dead
        printer takes no data. Only a booted printer with nothing unacknowledged is
        reached at once; after the first unacknowledged data :meth:`_haunt` decides."""
        await zombie.ended.wait()  # its reader is cancelled: the socket is ours
        sock = zombie.stream.socket
        while zombie.open and zombie.unacked_since is None:
            try:
                await trio.lowlevel.wait_readable(sock)
                data = await sock.recv(1, socket.MSG_PEEK)
            except (OSError, trio.ClosedResourceError):
                data = b""
            if not data:  # the client closed it (its FIN would meet a RST: nobody hears)
                zombie.open = False
                sock.close()
            elif self._up:
                self._reset_zombie(zombie)
            else:
                zombie.unacked_since = trio.current_time()
            self.notify()

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        while not self._unreachable:
            if self.connections_mode == "hold":
                while self._sessions:
                    await self._wait_change()
            stream = await listener.accept()
            full = len(self._sessions) >= (
                self.max_connections if self.connections_mode == "epson" else 1
            )
            session = Session(-1 if full else len(self.raw), stream)
            if full:
                self.refused += 1
                session.abort()
                await stream.aclose()
                continue
            self.raw.append(bytearray())
            self.connections += 1
            self._sessions.append(session)
            self._activate()
            nursery.start_soon(self._serve_session, session)

    def _activate(self) -> None:
        if self._sessions and not self._sessions[0].active:
            first = self._sessions[0]
            first.active = True
            if self.asb_at_power_on:
                first.asb_mask = 0x0F
            self._push_asb(first, force=True)
        self.notify()

    async def _serve_session(self, session: Session) -> None:
        try:
            with session.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(session.run_sender, self.block_seconds)
                    await self._read(session)
                    nursery.cancel_scope.cancel()
        finally:
            if not session.silent:  # power loss: the socket stays, the client hears nothing
                session.open = False
                if session in self._sessions:
                    self._sessions.remove(session)
                block = session.pending_block
                if block is not None and block[:2] == b"\x37\x22":
                    self._stored_id = block[2:6]
                with trio.CancelScope(shield=True):
                    await session.stream.aclose()
                self._activate()
            session.ended.set()

    async def _read(self, session: Session) -> None:
        while session.open:
            while not session.active or self._queued_bytes >= self.buffer_size:
                await self._wait_change()
            room = max(1, self.buffer_size - self._queued_bytes)
            with trio.move_on_after(self.idle_timeout) as idle:
                try:
                    data = await session.stream.receive_some(room)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return
            if idle.cancelled_caught or not data:
                return  # idle: the printer closes the connection (FIN)
            if session.silent:
                # Power was lost while these bytes were on their way in: they are gone. (A
                # read that completed just before the power cut resumes after it, possibly
                # after power came back: its tail must not print as a headless ticket.)
                return
            self.raw[session.index] += data
            if self._stored_id is not None and session.received == 0:
                self._send_block(session, b"\x37\x22" + self._stored_id + b"\x00")
                self._stored_id = None
            session.received += len(data)
            self.received += len(data)
            armed = self._reset_arm is not None or self._cut_arm is not None
            step = 1 if armed else len(data)
            for k in range(0, len(data), step):
                self._ingest(session, data[k : k + step])
                if self._tripped(session):
                    return
            self.notify()

    def _tripped(self, session: Session) -> bool:
        """Reset the session when an armed fault is due."""
        if self._reset_arm is not None and session.job_bytes >= self._reset_arm[0]:
            keep = self._reset_arm[1]
            if not self._reset_every:
                self._reset_arm = None
            self.resets += 1
            if not keep:
                kept = deque(q for q in self._queue if q[1] is not session)
                self._queued_bytes = sum(p.size for p, _ in kept)
                self._queue = kept
                self._epoch += 1
                self.reader.reset()
            session.abort()
            return True
        inside = self.reader.inside
        if self._cut_arm is not None and inside is not None:
            name, after = self._cut_arm
            if inside[0] == name and inside[1] >= after:
                self._cut_arm = None
                session.abort()
                return True
        return False

    def _ingest(self, session: Session, data: bytes) -> None:
        """Real-time commands act on receipt; everything goes through the command reader."""
        start = 0
        for i, byte in enumerate(data):
            self._tail.append(byte)
            del self._tail[:-10]
            tail = bytes(self._tail)
            if len(tail) >= 3 and tail[-3:-1] == b"\x10\x04" and 1 <= tail[-1] <= 4:
                self._queue_pieces(session, data[start : i + 1])
                start = i + 1
                self._status_request(session, tail[-1])
            elif tail == CLEAR_BUFFERS:
                self._queue_pieces(session, data[start : i + 1])
                start = i + 1
                self._clear_buffers(session)
        self._queue_pieces(session, data[start:])

    def _queue_pieces(self, session: Session, data: bytes) -> None:
        for piece in self.reader.feed(data):
            if piece.name in _REALTIME:
                continue
            session.job_bytes += piece.size
            self.job_bytes += piece.size
            self._queue.append((piece, session))
            self._queued_bytes += piece.size

    def _status_request(self, session: Session, n: int) -> None:
        self.status_requests += 1
        if session.pending_block is not None:  # the collision profile: block data wins
            block, session.pending_block = session.pending_block, None
            self._send_block(session, block, hold=False)
            self.status_ignored += 1
            return
        if session.block_until > trio.current_time():
            self.status_ignored += 1
            return
        jitter = self._rng.uniform(0.0, self.status_jitter)
        session.reply(
            bytes((self.faults.status_byte(n),)),
            delay=self.reply_delay + self.status_delay + jitter,
        )

    def _clear_buffers(self, session: Session) -> None:
        """``DLE DC4`` fn 8: receive and print buffers and stored process ids are discarded
        (the command parser is not reset: a payload cut off earlier still waits)."""
        self.clears += 1
        self._discard_buffers()
        self._stored_id = None
        for other in self._sessions:
            other.pending_block = None
        self._send_block(session, b"\x37\x25\x00", hold=False)

    def _discard_buffers(self) -> None:
        self._queue.clear()
        self._queued_bytes = 0
        self._epoch += 1
        self.head.clear_buffer()
        self.notify()

    def _send_block(self, session: Session, data: bytes, *, hold: bool = True) -> None:
        if not session.open or session.silent:
            if data[:2] == b"\x37\x22":
                self._stored_id = data[2:6]  # sent later, to the next session
            return
        if hold and self.collide and self._printed_since_id and data[:2] == b"\x37\x22":
            session.pending_block = data  # sent when the next status request comes
            return
        due = trio.current_time() + self.reply_delay
        session.block_until = due + self.block_seconds
        session.reply(data, delay=self.reply_delay, block=True)

    def _push_asb(self, session: Session, *, force: bool = False) -> None:
        if not session.asb_mask or not session.active:
            return
        current = self.faults.asb()
        if force or current != session.last_asb:
            session.last_asb = current
            session.reply(current, delay=self.reply_delay)

    # ---- print engine -------------------------------------------------------------------

    async def _run_engine(self) -> None:
        last_asb = self.faults.asb()
        while True:
            with trio.CancelScope() as scope:
                self._engine_scope = scope
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._engine)
                    while True:  # ASB pushes on every status change
                        await self._wait_change()
                        if self.faults.asb() != last_asb:
                            last_asb = self.faults.asb()
                            for session in self._sessions:
                                self._push_asb(session)
            while not self._powered:
                await self._wait_change()

    async def _engine(self) -> None:
        while True:
            while not (self._queue and self.can_print):
                await self._wait_change()
            epoch = self._epoch
            batch: list[tuple[Step, int]] = []
            while self._queue and len(batch) < _BATCH:
                piece, session = self._queue[0]
                if piece.name in _ANSWERED:
                    if batch:
                        break  # answered once everything before it is on paper
                    self._queue.popleft()
                    self._queued_bytes -= piece.size
                    self._answer(piece, session)
                    continue
                self._queue.popleft()
                self._queued_bytes -= piece.size
                batch.extend((step, session.index) for step in self.head.apply(piece))
            self.notify()
            await self._print(batch, epoch)

    async def _print(self, batch: list[tuple[Step, int]], epoch: int) -> None:
        """Put steps on paper in print time; a fault stops between lines, a discard drops
        the rest. One timer per run of lines, so a long ticket costs one clock jump."""
        i = 0
        while i < len(batch) and epoch == self._epoch:
            step = batch[i][0]
            if step.kind == "line" and self._roll_lines == 0:
                self._roll_lines = None
                self.paper_out = True  # the roll ends here
            if not self.can_print:
                await self._wait_change()
                continue
            run, seconds, lines = [], 0.0, 0
            for step, connection in batch[i:]:
                if (
                    step.kind == "line"
                    and self._roll_lines is not None
                    and lines >= self._roll_lines
                ):
                    break
                lines += step.kind == "line"
                seconds += self.print_delay * step.units
                run.append((seconds, step, connection))
            start = trio.current_time()
            deadline = start + seconds
            while trio.current_time() < deadline and self.can_print and epoch == self._epoch:
                with trio.move_on_at(deadline):
                    await self._wait_change()
            elapsed = trio.current_time() - start
            if epoch != self._epoch:
                return
            for done_at, step, connection in run:
                if done_at > elapsed + 1e-9:
                    break
                if step.kind == "line" and self._roll_lines is not None:
                    self._roll_lines -= 1
                self.head.commit(step, connection)
                self._printed_since_id = True
                i += 1
            self.notify()

    def _answer(self, piece: Piece, session: Session) -> None:
        if piece.name == "GS ( H":
            if piece.param(0) == 0x30 and piece.param(1) == 0x30 and len(piece.params) >= 6:
                if not self.process_id:
                    return
                tag = piece.params[2:6]
                last = self.head.strips[-1] if self.head.strips else None
                if last is not None and last.tag is None and not self.head.current.has_content:
                    last.tag = tag
                self.process_ids.append(tag)
                self._send_block(session, b"\x37\x22" + tag + b"\x00")
                self._printed_since_id = False
                self.notify()
        elif piece.name == "GS I":
            text = {67: self.model, 66: "EPSON", 65: "1.00"}.get(piece.param(0))
            if self.model is not None and text is not None:
                self._send_block(session, b"\x5f" + text.encode("ascii") + b"\x00", hold=False)
        elif piece.name == "GS a":
            session.asb_mask = piece.param(0)
            self._push_asb(session, force=True)
        elif piece.name == "GS r":
            n = piece.param(0)
            session.reply(bytes((self.faults.paper_sensor() if n in (1, 49) else 0,)))
