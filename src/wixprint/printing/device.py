"""Character-device printer transport (e.g. ``/dev/usb/lp0``): write-only, no status.

The kernel's usblp device offers no reply channel we can rely on, so a job counts as done
once every byte was written. The device is opened non-blocking and written in bounded chunks
from the event loop, waiting for it to become writable in between: a printer that stops
taking data (paper out, jammed) blocks nothing, the job ends at its deadline, and a shutdown
cancels it at once. Probes only check that the device is there; they never wait for a job.

usblp takes a non-blocking write as done while its USB transfer is still in flight, and
closing the file kills that transfer ("leave URB dangling, to be cleaned on close"): the end
of a ticket would be lost, yet counted as sent. So a job on a character device ends with one
NUL (ignored by ESC/POS) written blocking on a worker thread: usblp's blocking write first
waits until the transfer before it completed (through a paper-out too), then for its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import trio

from wixprint.errors import PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.base import (
    FIRST_TRY,
    Confirmation,
    JobOptions,
    NoLateProofs,
    ProofMode,
    StatusCallback,
)
from wixprint.printing.capabilities import Capabilities
from wixprint.printing.protocol import clean_start
from wixprint.vocabulary import PrinterStatus

__all__ = ["DeviceTransport", "DeviceTransportStatistics"]

CHUNK = 4096
PROBE_SECONDS = 5.0
"""A probe that takes longer (a hung filesystem) reports the printer offline."""
_READY = PrinterStatus(online=True, paper="unknown")
_CAPABILITIES = Capabilities(status=False, process_id=False)


@dataclass(frozen=True, slots=True)
class DeviceTransportStatistics:
    jobs: int
    written: int
    """Jobs whose every byte reached the device."""
    unknown_outcomes: int
    offline: int


def _open(path: str) -> int:
    # No O_CREAT: an unplugged printer must not turn into a regular file under /dev.
    flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags)


def _writable(path: str) -> bool:
    return os.path.exists(path) and os.access(path, os.W_OK)


class DeviceTransport(NoLateProofs):
    """A printer behind a character device; one open/write/close per job."""

    def __init__(self, name: str, path: str | Path, *, send_timeout: float = 20.0) -> None:
        self.name = name
        self.path = str(path)
        self.send_timeout = send_timeout
        self._lock = trio.Lock()
        self._probe_limiter = trio.CapacityLimiter(1)
        self._open_limiter = trio.CapacityLimiter(1)
        self._drain_limiter = trio.CapacityLimiter(1)
        self._jobs = self._written = self._unknown = self._offline = 0

    def statistics(self) -> DeviceTransportStatistics:
        return DeviceTransportStatistics(
            jobs=self._jobs,
            written=self._written,
            unknown_outcomes=self._unknown,
            offline=self._offline,
        )

    @property
    def capabilities(self) -> Capabilities | None:
        return _CAPABILITIES

    def proof_mode(self) -> ProofMode:
        return ProofMode("none", "a printer on a device file gives no proof of print")

    async def probe(self) -> PrinterStatus:
        """The device exists and is writable; paper and cover cannot be read.

        Runs beside a job (it opens nothing), on its own worker thread and deadline.

        Raises:
            PrinterOffline: the device is missing or not writable.
        """
        ok = False
        with trio.move_on_after(PROBE_SECONDS):
            ok = await trio.to_thread.run_sync(
                _writable, self.path, limiter=self._probe_limiter, abandon_on_cancel=True
            )
        if not ok:
            raise PrinterOffline(f"printer {self.name!r}: device missing or not writable")
        return _READY

    async def identify(self) -> Capabilities:
        await self.probe()
        return _CAPABILITIES

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        """Write the ticket to the device, padded to start clean. ``tag``, ``on_status`` and
        the earlier attempts go unused: there is no reply channel.

        Raises:
            PrinterOffline: the device cannot be opened; nothing was written.
            PrintOutcomeUnknown: a write failed or the deadline passed after the device was
                opened (the ticket may be partly on paper).
        """
        async with self._lock:
            self._jobs += 1
            try:
                # A worker thread: opening a usblp device talks to the printer over USB.
                fd = await trio.to_thread.run_sync(_open, self.path, limiter=self._open_limiter)
            except OSError as exc:
                self._offline += 1
                raise PrinterOffline(f"printer {self.name!r}: cannot open device") from exc
            try:
                seconds = options.within(self.send_timeout)
                await _write_within(fd, clean_start(clear=False) + data, seconds)
                with trio.fail_after(seconds):
                    await self._drain(fd)
            except trio.TooSlowError:
                self._unknown += 1
                raise PrintOutcomeUnknown(
                    f"printer {self.name!r}: the device did not take the ticket's end; "
                    "the ticket may be on paper"
                ) from None
            except OSError as exc:
                self._unknown += 1
                raise PrintOutcomeUnknown(
                    f"printer {self.name!r}: write failed ({exc.strerror}); "
                    "the ticket may be on paper"
                ) from exc
            finally:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._written += 1
            return "sent"

    async def _drain(self, fd: int) -> None:
        """Wait until a character device finished the transfers of the ticket (module
        docstring); a regular file or FIFO (the tests' stand-ins) has nothing in flight."""
        if not stat.S_ISCHR(os.fstat(fd).st_mode):
            return
        # Its own descriptor: a thread abandoned at the deadline must never touch a number
        # the next job's open may reuse (it keeps the device busy until the write returns).
        own = os.dup(fd)
        await trio.to_thread.run_sync(
            _write_nul_blocking, own, limiter=self._drain_limiter, abandon_on_cancel=True
        )


def _write_nul_blocking(fd: int) -> None:
    try:
        os.set_blocking(fd, True)
        os.write(fd, b"\0")
    finally:
        os.close(fd)


async def _write_within(fd: int, data: bytes, seconds: float) -> None:
    with trio.move_on_after(seconds) as deadline:
        await _write_all(fd, data)
    if deadline.cancelled_caught:
        raise OSError(errno.ETIMEDOUT, f"not written within {seconds:.0f} s")


async def _write_all(fd: int, data: bytes) -> None:
    """Write in chunks of at most :data:`CHUNK`, waiting (cancellably) while the device is
    full. A regular file or FIFO works the same way, which is what the tests use."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view[:CHUNK])
        except BlockingIOError:
            await trio.lowlevel.wait_writable(fd)
            continue
        view = view[written:]
        await trio.lowlevel.checkpoint()
