"""Printer transports that misbehave on purpose, for the service's shutdown tests.

They stand in for ``ServiceOptions.transports`` entries: a printer that takes a job and
never proves it printed (the printer actor then needs its whole stop grace), one whose
job raises something the printer actor does not handle, and one whose proofs all come late.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import trio

from wixprint.errors import PrintOutcomeUnknown
from wixprint.printing.base import (
    FIRST_TRY,
    Confirmation,
    JobOptions,
    NoLateProofs,
    ProofMode,
    StatusCallback,
)
from wixprint.printing.capabilities import Capabilities
from wixprint.vocabulary import PrinterStatus

READY = PrinterStatus(online=True, paper="ok")
ANSWERS = Capabilities(status=True, process_id=True)


class _ReadyPrinter(NoLateProofs):
    """Answers probes and identification like a printer that proves by process id."""

    name: str

    @property
    def capabilities(self) -> Capabilities | None:
        return ANSWERS

    def proof_mode(self) -> ProofMode:
        return ProofMode("process_id")

    async def probe(self) -> PrinterStatus:
        return READY

    async def identify(self) -> Capabilities:
        return ANSWERS


class HangingTransport(_ReadyPrinter):
    """Answers probes, accepts a job, and never says it printed (until cancelled)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.jobs = 0
        self.job_started = trio.Event()

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        self.jobs += 1
        self.job_started.set()
        await trio.sleep_forever()


class RaisingTransport(_ReadyPrinter):
    """Answers probes; every job raises ``exc`` (any ``BaseException``)."""

    def __init__(self, name: str, exc: BaseException) -> None:
        self.name = name
        self.exc = exc

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        raise self.exc


class StuckTransport(_ReadyPrinter):
    """A job blocks a worker thread that Trio cannot abandon (as an uncancellable driver call
    would), until ``release`` is set."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.job_started = trio.Event()
        self.release = threading.Event()

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        self.job_started.set()
        await trio.to_thread.run_sync(self.release.wait)
        return "sent"


class LateProofTransport(_ReadyPrinter):
    """Every ticket goes unproven; its id comes back with the next connection, after the ids
    in ``before`` (a test print's, another job's): several late ids taken at once, as when a
    probe and a job connection each brought one before the actor looked."""

    def __init__(self, name: str, before: Sequence[bytes]) -> None:
        self.name = name
        self.before = list(before)
        self.tags: list[bytes] = []
        """The tag of every ticket sent, in order."""
        self._late: list[bytes] = []

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        self.tags.append(tag)
        self._late = [*self.before, tag]
        raise PrintOutcomeUnknown("no proof within the wait", answered=True)

    def take_late_proofs(self) -> list[bytes]:
        late, self._late = self._late, []
        return late

    @property
    def has_late_proofs(self) -> bool:
        return bool(self._late)
