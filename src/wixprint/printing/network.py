"""Raw TCP 9100 printer transport: one connection per job, proof of printing, Trio deadlines.

Why the job protocol looks like this: "sent" is not "printed". A printer out of paper keeps
what it received and prints it when paper is back, so a timeout-and-resend prints twice.
We therefore read status before sending (nothing is sent to a printer that cannot print),
then wait for the GS ( H process-id reply, polling real-time status on the same socket
meanwhile. While the printer reports a fault we keep waiting: it holds our ticket. Only a
broken connection, or a healthy printer that never confirms, ends in PrintOutcomeUnknown.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import trio

from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.logs import get_logger
from wixprint.printing.base import StatusCallback
from wixprint.printing.protocol import (
    ProcessIdReply,
    ReplyParser,
    StatusByte,
    dle_eot,
    parse_status,
    process_id_request,
)
from wixprint.supervisor import faults
from wixprint.vocabulary import PrinterStatus

__all__ = ["NetworkTransport", "NetworkTransportStatistics", "Proof"]

Proof = Literal["process_id", "status", "none"]

_log = get_logger("printing")
_RECEIVE_SIZE = 4096


class _Lost(Exception):
    """The printer closed or reset the connection, or stopped answering."""


class _Silent(_Lost):
    """The connection is up but a status request got no reply in time."""


@dataclass(frozen=True, slots=True)
class NetworkTransportStatistics:
    jobs: int
    """print_job calls that got as far as connecting."""
    printed: int
    proofs: int
    """Jobs confirmed by a process-id reply."""
    unknown_outcomes: int
    not_ready: int
    offline: int
    last_status: PrinterStatus | None


class _Connection:
    """One open printer socket and the replies read from it."""

    def __init__(self, stream: trio.SocketStream, reply_seconds: float) -> None:
        self.stream = stream
        self.reply_seconds = reply_seconds
        self._parser = ReplyParser()
        self._status_bytes: deque[int] = deque()
        self.proofs: set[bytes] = set()

    async def send(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise _Lost("send failed") from exc

    async def _receive(self) -> None:
        try:
            data = await self.stream.receive_some(_RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise _Lost("receive failed") from exc
        if not data:
            raise _Lost("printer closed the connection")
        for reply in self._parser.feed(data):
            if isinstance(reply, StatusByte):
                self._status_bytes.append(reply.value)
            elif isinstance(reply, ProcessIdReply):
                self.proofs.add(reply.tag)

    async def query(self, n: int) -> int:
        """Send DLE EOT n and wait for its reply byte (at most ``reply_seconds``)."""
        self._status_bytes.clear()
        with trio.move_on_after(self.reply_seconds):
            await self.send(dle_eot(n))
            while not self._status_bytes:
                await self._receive()
            return self._status_bytes.popleft()
        raise _Silent(f"no reply to DLE EOT {n}")

    async def read_status(self) -> PrinterStatus:
        eot1 = await self.query(1)
        eot2 = await self.query(2)
        eot4 = await self.query(4)
        return parse_status(eot1, eot2, None, eot4)

    async def wait_proof(self, tag: bytes) -> None:
        while tag not in self.proofs:
            await self._receive()


class NetworkTransport:
    """A printer on raw TCP (port 9100).

    ``proof`` chooses how a job is confirmed: ``"process_id"`` waits for the GS ( H reply
    (the only proof of paper), ``"status"`` accepts a healthy DLE EOT status after sending,
    ``"none"`` returns once the bytes are sent. With ``"none"`` a printer that never answers
    status requests is tolerated (its status reads as online, paper unknown).
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 5.0,
        send_timeout: float = 20.0,
        reply_timeout: float = 20.0,
        proof: Proof = "process_id",
        status_poll_interval: float = 2.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.reply_timeout = reply_timeout
        self.proof: Proof = proof
        self.status_poll_interval = status_poll_interval
        self._lock = trio.Lock()
        self._jobs = self._printed = self._proofs = self._unknown = 0
        self._not_ready = self._offline = 0
        self._last_status: PrinterStatus | None = None

    def statistics(self) -> NetworkTransportStatistics:
        return NetworkTransportStatistics(
            jobs=self._jobs,
            printed=self._printed,
            proofs=self._proofs,
            unknown_outcomes=self._unknown,
            not_ready=self._not_ready,
            offline=self._offline,
            last_status=self._last_status,
        )

    async def _connect(self) -> trio.SocketStream:
        try:
            with trio.fail_after(self.connect_timeout):
                return await trio.open_tcp_stream(self.host, self.port)
        except (OSError, trio.TooSlowError) as exc:
            self._offline += 1
            raise PrinterOffline(f"printer {self.name!r}: cannot connect") from exc

    async def _status_before_send(self, conn: _Connection) -> PrinterStatus:
        try:
            status = await conn.read_status()
        except _Lost as exc:
            if self.proof == "none" and isinstance(exc, _Silent):
                return PrinterStatus(online=True, paper="unknown")
            self._offline += 1
            raise PrinterOffline(f"printer {self.name!r}: no status reply ({exc})") from exc
        self._last_status = status
        return status

    async def probe(self) -> PrinterStatus:
        """Connect, read DLE EOT 1/2/4, disconnect. Waits while a job holds the printer.

        Raises:
            PrinterOffline: cannot connect, or no status reply.
        """
        async with self._lock:
            stream = await self._connect()
            async with stream:
                return await self._status_before_send(_Connection(stream, self.reply_timeout))

    async def print_job(self, data: bytes, *, tag: bytes, on_status: StatusCallback) -> None:
        """Send one ticket and return once it is proven printed (per ``proof``).

        Raises:
            PrinterOffline: cannot connect or no status reply; nothing was sent.
            PrinterNotReady: the status says it cannot print; nothing was sent.
            PrintOutcomeUnknown: bytes left but no proof came: the ticket may be on paper.
        """
        trailer = process_id_request(tag) if self.proof == "process_id" else b""
        async with self._lock:
            stream = await self._connect()
            self._jobs += 1
            async with stream:
                conn = _Connection(stream, self.reply_timeout)
                status = await self._status_before_send(conn)
                on_status(status)
                if not status.can_print:
                    self._not_ready += 1
                    raise PrinterNotReady(f"printer {self.name!r} cannot print", status=status)
                try:
                    await self._send_and_confirm(conn, data + trailer, tag, on_status)
                except _Lost as exc:
                    self._unknown += 1
                    _log.warning("printer.outcome_unknown", printer=self.name, reason=str(exc))
                    raise PrintOutcomeUnknown(
                        f"printer {self.name!r}: {exc}; the ticket may be on paper"
                    ) from exc
        self._printed += 1

    async def _send_and_confirm(
        self, conn: _Connection, payload: bytes, tag: bytes, on_status: StatusCallback
    ) -> None:
        with trio.move_on_after(self.send_timeout) as sending:
            # Two writes so the ``printer.mid_send`` fault point sits where a crash leaves
            # half a ticket at the printer (the chaos tests' hardest window).
            half = len(payload) // 2
            await conn.send(payload[:half])
            faults.point("printer.mid_send")
            await conn.send(payload[half:])
        if sending.cancelled_caught:
            raise _Lost("send timed out")
        if self.proof == "process_id":
            await self._wait_process_id(conn, tag, on_status)
            self._proofs += 1
        elif self.proof == "status":
            await self._wait_healthy(conn, on_status)

    async def _poll(self, conn: _Connection, on_status: StatusCallback) -> PrinterStatus:
        status = await conn.read_status()
        if status != self._last_status:
            _log.info(
                "printer.status_while_waiting",
                printer=self.name,
                online=status.online,
                paper=status.paper,
                cover_open=status.cover_open,
            )
        self._last_status = status
        on_status(status)
        return status

    async def _wait_process_id(
        self, conn: _Connection, tag: bytes, on_status: StatusCallback
    ) -> None:
        """Wait for ``37 22 tag 00``; indefinitely while the printer reports a fault."""
        healthy_since: float | None = trio.current_time()
        while True:
            now = trio.current_time()
            budget = math.inf if healthy_since is None else healthy_since + self.reply_timeout
            with trio.move_on_at(min(now + self.status_poll_interval, budget)):
                await conn.wait_proof(tag)
                return
            status = await self._poll(conn, on_status)
            if tag in conn.proofs:
                return
            now = trio.current_time()
            if not status.can_print:
                healthy_since = None
            elif healthy_since is None:
                healthy_since = now
            elif now - healthy_since >= self.reply_timeout:
                raise _Lost(f"no process-id reply within {self.reply_timeout:g} s")

    async def _wait_healthy(self, conn: _Connection, on_status: StatusCallback) -> None:
        """Status proof: the printer took the data and reports no fault (it holds the data
        while it does, so keep polling)."""
        while True:
            if (await self._poll(conn, on_status)).can_print:
                return
            await trio.sleep(self.status_poll_interval)
