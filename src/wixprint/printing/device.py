"""Character-device printer transport (e.g. ``/dev/usb/lp0``): write-only, no status.

The kernel's usblp device offers no reply channel we can rely on, so a job counts as done
once every byte was written. Writes run on a worker thread (a blocked device must never stall
the event loop), in chunks, so a cancelled job stops between chunks instead of hanging.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import trio

from wixprint.errors import PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.base import StatusCallback
from wixprint.vocabulary import PrinterStatus

__all__ = ["DeviceTransport", "DeviceTransportStatistics"]

_CHUNK = 4096
_READY = PrinterStatus(online=True, paper="unknown")


@dataclass(frozen=True, slots=True)
class DeviceTransportStatistics:
    jobs: int
    written: int
    """Jobs whose every byte reached the device."""
    unknown_outcomes: int
    offline: int


def _open(path: str) -> int:
    # No O_CREAT: an unplugged printer must not turn into a regular file under /dev.
    return os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _writable(path: str) -> bool:
    return os.path.exists(path) and os.access(path, os.W_OK)


class DeviceTransport:
    """A printer behind a character device; one open/write/close per job."""

    def __init__(self, name: str, path: str | Path) -> None:
        self.name = name
        self.path = str(path)
        self._limiter = trio.CapacityLimiter(1)
        self._lock = trio.Lock()
        self._jobs = self._written = self._unknown = self._offline = 0

    def statistics(self) -> DeviceTransportStatistics:
        return DeviceTransportStatistics(
            jobs=self._jobs,
            written=self._written,
            unknown_outcomes=self._unknown,
            offline=self._offline,
        )

    async def probe(self) -> PrinterStatus:
        """The device exists and is writable; paper and cover cannot be read.

        Raises:
            PrinterOffline: the device is missing or not writable.
        """
        async with self._lock:
            ok = await trio.to_thread.run_sync(_writable, self.path, limiter=self._limiter)
        if not ok:
            raise PrinterOffline(f"printer {self.name!r}: device missing or not writable")
        return _READY

    async def print_job(self, data: bytes, *, tag: bytes, on_status: StatusCallback) -> None:
        """Write the ticket to the device. ``tag`` and ``on_status`` go unused: there is no
        reply channel, so no status is ever read during a job.

        Raises:
            PrinterOffline: the device cannot be opened; nothing was written.
            PrintOutcomeUnknown: a write failed after the device was opened.
        """
        async with self._lock:
            self._jobs += 1
            try:
                fd = await trio.to_thread.run_sync(_open, self.path, limiter=self._limiter)
            except OSError as exc:
                self._offline += 1
                raise PrinterOffline(f"printer {self.name!r}: cannot open device") from exc
            try:
                for start in range(0, len(data), _CHUNK):
                    chunk = data[start : start + _CHUNK]
                    try:
                        await trio.to_thread.run_sync(_write_all, fd, chunk, limiter=self._limiter)
                    except OSError as exc:
                        self._unknown += 1
                        raise PrintOutcomeUnknown(
                            f"printer {self.name!r}: write failed; the ticket may be on paper"
                        ) from exc
            finally:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_close_quietly, fd, limiter=self._limiter)
            self._written += 1


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
