"""A few megabytes of the state folder held back for a full disk.

SQLite needs free pages to record anything, even "this ticket is printed". When the SD card
fills up (a runaway log, a forgotten copy), the spool actor deletes this file: the space it
frees lets the printers go on claiming and finishing the tickets already spooled, and the
alert go into the outbox, while new orders wait in Wix (intake is paused, the poll mark does
not move). Once there is room again the file is written back and intake resumes.

Plain synchronous functions: the spool actor runs them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

__all__ = ["RESERVE_BYTES", "RESERVE_FILE", "free_bytes", "hold_reserve", "release_reserve"]

RESERVE_FILE = "disk-reserve"
RESERVE_BYTES = 4 * 1024 * 1024
"""Enough for a busy evening's bookkeeping: a job's claim and finish write a few pages."""
_CHUNK = 64 * 1024


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system holding ``folder``."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def hold_reserve(folder: Path, size: int = RESERVE_BYTES, *, room: int = 0) -> bool:
    """Make sure the reserve file exists with ``size`` real (not sparse) bytes.

    A missing reserve is written only if ``room`` bytes stay free beside it (so that
    intake does not resume the moment a few bytes were freed, only to stop again). Returns
    False, leaving no partial file behind, when the disk has no room for it.

    Raises:
        OSError: anything but a full disk (read-only, permissions, I/O error).
    """
    path = folder / RESERVE_FILE
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_blocks * 512 >= size:
            return True
    if free_bytes(folder) < size + room:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            block = bytes(_CHUNK)
            written = 0
            while written < size:
                written += os.write(fd, block[: min(_CHUNK, size - written)])
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return False
        raise
    return True


def release_reserve(folder: Path) -> int:
    """Delete the reserve file; the bytes freed (0 if there was none)."""
    path = folder / RESERVE_FILE
    try:
        size = path.stat().st_blocks * 512
        path.unlink()
    except FileNotFoundError:
        return 0
    return size
