"""Raw TCP 9100 printer transport: one connection per job, proof of printing, Trio deadlines.

Why the job protocol looks like this: "sent" is not "printed". A printer out of paper keeps
what it received and prints it when paper is back, so a timeout-and-resend prints twice.
So: read status before sending (nothing is sent to a printer that cannot print), start the
ticket clean (a job cut off earlier may have left the printer's parser inside a payload),
send, and wait for the ``GS ( H`` process-id reply, polling real-time status meanwhile. While
the printer reports a fault we keep waiting: it holds our ticket. The wait for proof scales
with the ticket's print time. A proof in hand always wins over a status read that failed.

Only a broken or silent connection (``answered=False``), or a healthy printer that never
confirms (``answered=True``), ends in :class:`PrintOutcomeUnknown`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import trio

from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.logs import get_logger
from wixprint.printing.base import (
    FIRST_TRY,
    Confirmation,
    JobOptions,
    ProofMode,
    StatusCallback,
)
from wixprint.printing.capabilities import (
    Capabilities,
    is_probe_tag,
    read_capabilities,
    weigh_probe,
)
from wixprint.printing.link import STATUS_ROUNDS, Lost, PrinterLink, Silent, open_printer_link
from wixprint.printing.proof import Unproven, wait_confirmed
from wixprint.printing.protocol import CLEAR_BUFFERS, frame_job
from wixprint.supervisor import faults
from wixprint.vocabulary import PrinterStatus

__all__ = ["NetworkTransport", "NetworkTransportStatistics", "Proof"]

Proof = Literal["auto", "process_id", "status", "none"]

_log = get_logger("printing")
_LATE_KEPT = 64
NO_PROCESS_ID = (
    "the printer does not answer GS ( H: tickets are confirmed by status only, so a ticket "
    "lost inside the printer (power cut) is not noticed"
)


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
    late_proofs: int = 0
    """Process ids that came back outside their job."""
    withdrawn: int = 0
    """Retries not sent because the earlier attempt's proof came back first."""
    identified: int = 0


class NetworkTransport:
    """A printer on raw TCP (port 9100).

    ``proof`` chooses how a job is confirmed: ``"process_id"`` waits for the GS ( H reply
    (the only proof of paper), ``"status"`` accepts a healthy DLE EOT status after sending,
    ``"none"`` returns once the bytes are sent, ``"auto"`` (the default) uses process ids
    where the printer answers them and status otherwise. With ``"none"`` a printer that never
    answers status requests is tolerated (its status reads as online, paper unknown).
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
        status_timeout: float = 1.0,
        proof: Proof = "auto",
        status_poll_interval: float = 2.0,
        identify_timeout: float = 2.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.reply_timeout = reply_timeout
        """Seconds to wait for proof beyond the ticket's print time."""
        self.status_timeout = status_timeout
        self.proof: Proof = proof
        self.status_poll_interval = status_poll_interval
        self.identify_timeout = identify_timeout
        self._lock = trio.Lock()
        self._caps: Capabilities | None = None
        self._answered: Capabilities | None = None
        """What the printer said when it last answered a ``GS ( H`` probe (kept across
        reconnects: a busy printer's silence does not undo it)."""
        self._late: deque[bytes] = deque(maxlen=_LATE_KEPT)
        self._jobs = self._printed = self._proofs = self._unknown = 0
        self._not_ready = self._offline = self._late_count = self._withdrawn = 0
        self._identified = 0
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
            late_proofs=self._late_count,
            withdrawn=self._withdrawn,
            identified=self._identified,
        )

    # --- what the printer is ------------------------------------------------------------

    @property
    def capabilities(self) -> Capabilities | None:
        return self._caps

    def _mode(self) -> Literal["process_id", "status", "none"] | None:
        if self.proof != "auto":
            return self.proof
        if self._caps is None or self._caps.process_id is None:
            return None
        return "process_id" if self._caps.process_id else "status"

    def proof_mode(self) -> ProofMode:
        mode = self._mode()
        unanswered = self._caps is not None and self._caps.process_id is False
        if mode is None:
            return ProofMode("unknown")
        if mode == "process_id" and unanswered:
            return ProofMode(
                mode,
                'proof = "process_id" but the printer does not answer GS ( H: every ticket '
                'will wait for proof in vain and be set aside; use proof = "auto"',
            )
        if mode == "status":
            return ProofMode(mode, NO_PROCESS_ID if unanswered else "confirmed by status only")
        if mode == "none":
            return ProofMode(mode, 'tickets are not confirmed at all (proof = "none")')
        return ProofMode(mode)

    def take_late_proofs(self) -> list[bytes]:
        late = list(self._late)
        self._late.clear()
        return late

    @property
    def has_late_proofs(self) -> bool:
        return bool(self._late)

    def _take_late(self, tags: Collection[bytes]) -> bool:
        """Take the late ids among ``tags``; whether there were any."""
        found = [tag for tag in self._late if tag in tags]
        for tag in found:
            self._late.remove(tag)
        return bool(found)

    def _lost_contact(self) -> None:
        """Forget the capabilities: after a reconnect the printer is asked again."""
        self._caps = None

    def _collect(self, link: PrinterLink, handled: Collection[bytes]) -> None:
        """Keep process ids that are not this job's for whoever they belong to."""
        for tag in dict.fromkeys(link.proofs):
            if tag in handled:
                continue
            if is_probe_tag(tag):
                if self._caps is not None and not self._caps.process_id:
                    caps = self._caps
                    self._learn(Capabilities(True, True, caps.model, caps.manufacturer))
                continue
            self._late_count += 1
            self._late.append(tag)
            _log.info("printer.late_proof", printer=self.name, tag=tag.decode("ascii", "replace"))

    # --- connections --------------------------------------------------------------------

    async def _status(self, link: PrinterLink) -> PrinterStatus:
        try:
            status = await link.read_status()
        except Lost as exc:
            if self.proof == "none" and isinstance(exc, Silent):
                return PrinterStatus(online=True, paper="unknown")
            self._lost_contact()
            raise PrinterOffline(f"printer {self.name!r}: no status reply ({exc})") from exc
        self._last_status = status
        return status

    @asynccontextmanager
    async def _link(self) -> AsyncIterator[PrinterLink]:
        """One connection; any PrinterOffline inside counts and forgets the capabilities."""
        try:
            async with open_printer_link(
                self.host,
                self.port,
                connect_timeout=self.connect_timeout,
                status_timeout=self.status_timeout,
            ) as link:
                yield link
        except PrinterOffline as exc:
            self._offline += 1
            self._lost_contact()
            if not str(exc).startswith("printer "):
                raise PrinterOffline(f"printer {self.name!r}: {exc}") from exc
            raise

    async def probe(self) -> PrinterStatus:
        """Connect, read DLE EOT 1/2/4, disconnect. Waits while a job holds the printer.

        Raises:
            PrinterOffline: cannot connect, or no status reply.
        """
        async with self._lock, self._link() as link:
            try:
                return await self._status(link)
            finally:
                self._collect(link, ())

    async def identify(self) -> Capabilities:
        """Status, then what the printer supports (kept until contact is lost).

        Raises:
            PrinterOffline: cannot connect or no status reply.
            PrinterNotReady: it cannot print now, so it would not answer the probe.
        """
        async with self._lock, self._link() as link:
            try:
                status = await self._status(link)
                if not status.can_print:
                    raise PrinterNotReady(f"printer {self.name!r} cannot print", status=status)
                return await self._identify(link)
            except Lost as exc:
                raise PrinterOffline(f"printer {self.name!r}: {exc}") from exc
            finally:
                self._collect(link, ())

    def _learn(self, caps: Capabilities) -> None:
        self._caps = caps
        if caps.process_id:
            self._answered = caps

    async def _identify(self, link: PrinterLink) -> Capabilities:
        answer = await read_capabilities(link, within=self.identify_timeout)
        caps = weigh_probe(answer, self._answered)
        self._learn(caps)
        self._identified += 1
        _log.info(
            "printer.identified",
            printer=self.name,
            model=caps.model,
            process_id=caps.process_id,
            proof=self._mode(),
        )
        return caps

    # --- one job ------------------------------------------------------------------------

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        """Send one ticket and return once it is confirmed (per ``proof``).

        Raises:
            PrinterOffline: cannot connect or no status reply; nothing was sent.
            PrinterNotReady: the status says it cannot print; nothing was sent.
            PrintOutcomeUnknown: bytes left but no proof came: the ticket may be on paper.
        """
        async with self._lock, self._link() as link:
            self._jobs += 1
            try:
                return await self._job(link, data, tag, on_status, options)
            finally:
                self._collect(link, {tag, *options.earlier})

    async def _job(
        self,
        link: PrinterLink,
        data: bytes,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions,
    ) -> Confirmation:
        status = await self._status(link)
        on_status(status)
        if link.proven(options.earlier) is not None or self._take_late(options.earlier):
            # A stored reply of an earlier attempt (on this connection, or on a probe's since
            # the actor last looked): that copy is on paper, send nothing.
            self._withdrawn += 1
            self._printed += 1
            return "earlier"
        if not status.can_print:
            self._not_ready += 1
            raise PrinterNotReady(f"printer {self.name!r} cannot print", status=status)
        try:
            cleared = False
            if self.proof != "none" and (self._caps is None or not self._caps.known):
                cleared = await self._identify_for_job(link, retry=options.retry)
            mode = self._mode() or "status"
            payload = frame_job(
                data,
                tag=tag,
                clear=options.retry and not cleared,
                process_id=mode == "process_id",
            )
            await self._send(link, payload, options.within(self.send_timeout))
            confirmation: Confirmation = "sent"
            if mode != "none":
                tags = {tag, *options.earlier} if mode == "process_id" else set()
                wait = options.within(self.reply_timeout)
                await wait_confirmed(
                    link,
                    tags,
                    wait,
                    poll=lambda rounds: self._poll(link, on_status, rounds),
                    poll_interval=self.status_poll_interval,
                )
                confirmation = "proof" if tags else "status"
                if tags:
                    self._proofs += 1
        except Lost as exc:
            self._unknown += 1
            answered = isinstance(exc, Unproven)
            if not answered or self.proof == "auto":
                self._lost_contact()  # ask again what it supports before the next job
            _log.warning(
                "printer.outcome_unknown", printer=self.name, reason=str(exc), answered=answered
            )
            raise PrintOutcomeUnknown(
                f"printer {self.name!r}: {exc}; the ticket may be on paper", answered=answered
            ) from exc
        self._printed += 1
        return confirmation

    async def _identify_for_job(self, link: PrinterLink, *, retry: bool) -> bool:
        """Ask what the printer supports (first contact, or back after losing it). On a
        retry, questions that got no answer at all most likely wait behind the earlier
        attempt's lines, which the retry discards anyway: clear, then ask again. True if
        the printer was cleared."""
        caps = await self._identify(link)
        silent = caps.process_id is None or (not caps.process_id and caps.model is None)
        if not (retry and silent):
            return False
        await link.send(CLEAR_BUFFERS)
        await self._identify(link)
        return True

    async def _send(self, link: PrinterLink, payload: bytes, seconds: float) -> None:
        with trio.move_on_after(seconds) as sending:
            # Two writes so the ``printer.mid_send`` fault point sits where a crash leaves
            # half a ticket at the printer (the chaos tests' hardest window).
            half = len(payload) // 2
            await link.send(payload[:half])
            faults.point("printer.mid_send")
            await link.send(payload[half:])
        if sending.cancelled_caught:
            raise Lost(f"send did not finish within {seconds:.0f} s")

    async def _poll(
        self, link: PrinterLink, on_status: StatusCallback, rounds: int = STATUS_ROUNDS
    ) -> PrinterStatus:
        status = await link.read_status(rounds)
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
