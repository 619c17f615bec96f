"""The running service's claim on its state folder: an exclusive ``flock`` on ``spool.lock``
held for the life of the spool actor. ``wixprint restore`` takes the same lock, so it refuses
while the service runs (which would go on writing into the file set aside) and the service
cannot open the spool in the middle of a restore. The kernel drops the lock when the process
dies, however it dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from wixprint.errors import SpoolError

__all__ = ["LOCK_FILE", "hold_state_lock"]

LOCK_FILE = "spool.lock"


@contextlib.contextmanager
def hold_state_lock(state_dir: Path, *, holder: str) -> Iterator[None]:
    """Hold the state folder's lock for the block.

    Raises:
        SpoolError: another process holds it (the service, or a restore).
    """
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise SpoolError(f"cannot open {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpoolError(f"another process holds {path} (the service running?)") from None
        with contextlib.suppress(OSError):  # who holds it: a courtesy, even on a full disk
            os.ftruncate(fd, 0)
            os.write(fd, f"{holder} {os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
