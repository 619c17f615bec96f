"""What a printer transport offers the printer and connectivity actors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from wixprint.printing.capabilities import Capabilities
from wixprint.vocabulary import PrinterStatus

__all__ = ["FIRST_TRY", "Confirmation", "JobOptions", "ProofMode", "StatusCallback", "Transport"]

StatusCallback = Callable[[PrinterStatus], None]

Confirmation = Literal["proof", "earlier", "status", "sent"]
"""How a printed job was confirmed: ``proof`` its process id came back; ``earlier`` an
earlier attempt's process id came back before this attempt sent anything (nothing was sent);
``status`` the printer took the data and reports no fault; ``sent`` the bytes left, nothing
more is known (``proof = "none"``, device files, virtual printers)."""


SAFETY = 2.0
"""Sending and proof waits assume the printer may be this much slower than its data sheet."""


@dataclass(frozen=True, slots=True)
class JobOptions:
    """What a transport needs to know about one attempt besides its bytes."""

    print_seconds: float = 0.0
    """The ticket's print time at data-sheet speed: the waits for sending and for proof
    scale with it."""
    retry: bool = False
    """An earlier attempt may have left data in the printer: discard it first."""
    earlier: frozenset[bytes] = frozenset()
    """Process ids of earlier attempts; one coming back means the job is already on paper."""

    def within(self, margin: float) -> float:
        """Seconds for sending the ticket, or for its proof while the printer reports no
        fault: ``margin`` plus its print time, ``SAFETY`` times over."""
        return margin + SAFETY * self.print_seconds


FIRST_TRY = JobOptions()
"""A first attempt of a ticket whose print time is not known."""


@dataclass(frozen=True, slots=True)
class ProofMode:
    """The proof a transport uses now, for the status pages and ``wixprint test-print``."""

    mode: Literal["process_id", "status", "none", "file", "unknown"]
    """``unknown``: ``proof = "auto"`` and the printer was not reached yet."""
    warning: str = ""
    """Why a printed ticket may not be what this proof says (empty: nothing to worry about)."""


class Transport(Protocol):
    """One physical (or virtual) printer.

    Implementations serialise their own use: a probe never runs while a job is on the wire
    (receipt printers serve one connection at a time).
    """

    name: str

    @property
    def capabilities(self) -> Capabilities | None:
        """What the printer answered at first contact (None: not known since it was last
        reached; :meth:`identify` asks again)."""
        ...

    def proof_mode(self) -> ProofMode: ...

    async def probe(self) -> PrinterStatus:
        """Connect, read real-time status, disconnect.

        Raises:
            PrinterOffline: the printer cannot be reached.
        """
        ...

    async def identify(self) -> Capabilities:
        """Connect and ask what the printer supports (:mod:`capabilities`).

        Raises:
            PrinterOffline: the printer cannot be reached.
            PrinterNotReady: it answers but cannot print, so it cannot answer the probe.
        """
        ...

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        """Print one ticket and return only once it is confirmed (see :data:`Confirmation`).

        ``tag`` is this attempt's process id (4 bytes 0x20-0x7E); ``on_status`` sees every
        status read during the job.

        Raises:
            PrinterOffline: cannot connect; nothing was sent (safe to retry as is).
            PrinterNotReady: status before sending said it cannot print; nothing was sent.
            PrintOutcomeUnknown: bytes left but no proof came: the ticket may be on paper.
        """
        ...

    def take_late_proofs(self) -> list[bytes]:
        """Process ids that came back outside the job that sent them (a printer stores the
        latest it could not send and sends it on a later connection), oldest first."""
        ...

    @property
    def has_late_proofs(self) -> bool:
        """Whether :meth:`take_late_proofs` has any: a probe that brought one back wakes the
        printer's actor, which settles the job (it may wait idle for minutes)."""
        ...


class NoLateProofs:
    """For transports that cannot hear a process id at all (a file, a USB device): none
    ever comes back late."""

    def take_late_proofs(self) -> list[bytes]:
        return []

    @property
    def has_late_proofs(self) -> bool:
        return False
