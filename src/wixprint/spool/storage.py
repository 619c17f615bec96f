"""What a write check means for the service: sans-IO, so every case is a plain test.

The spool actor proves now and then (and at once after any write failed) that a small write
commits. A full disk first costs the reserve (``spool/reserve.py``): with it gone, the
printers can still record what they print and alerts still reach the outbox, but intake is
paused so that new orders cannot eat the room (they wait in Wix; the poll mark does not
move). A read-only or failing card refuses everything. Either way the service is *down*
with the reason, and it becomes ready by itself once a write commits and the reserve is
back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wixprint.errors import SpoolUnwritable
from wixprint.health import Health

__all__ = ["StorageVerdict", "WriteCheck", "pause_reason", "storage_verdict", "write_check_of"]


class WriteCheck(enum.Enum):
    OK = "ok"
    FULL = "full"
    """No room: SQLITE_FULL."""
    REFUSED = "refused"
    """Read-only, or an I/O error: the card itself is the problem."""


def pause_reason(check: WriteCheck) -> str:
    """Why intake is paused (``Spool.intake_paused``), as a refused caller reports it."""
    if check is WriteCheck.REFUSED:
        return "the SD card refuses writes (read-only or failing); they wait in Wix"
    return "the disk is full; they are fetched once space is freed"


def write_check_of(exc: SpoolUnwritable | None) -> WriteCheck:
    if exc is None:
        return WriteCheck.OK
    return WriteCheck.FULL if exc.full else WriteCheck.REFUSED


@dataclass(frozen=True, slots=True)
class StorageVerdict:
    health: Health
    reason: str
    """For ``/health`` and the alert; "" when all is well."""
    writable: bool
    """Small writes commit (perhaps only thanks to the reserve)."""
    intake: bool
    """New orders are taken."""


def storage_verdict(check: WriteCheck, detail: str, *, intake_paused: bool) -> StorageVerdict:
    """Health and reason after one write check; ``detail`` is the failure's message."""
    if check is WriteCheck.FULL:
        return StorageVerdict(
            Health.DOWN,
            f"cannot write: the disk is full ({detail}); new orders wait in Wix",
            writable=False,
            intake=False,
        )
    if check is WriteCheck.REFUSED:
        return StorageVerdict(
            Health.DOWN,
            f"cannot write: {detail} (read-only or failing SD card); new orders wait in Wix",
            writable=False,
            intake=False,
        )
    if intake_paused:
        return StorageVerdict(
            Health.DOWN,
            "the disk is full: new orders wait in Wix until space is freed; "
            "tickets already received still print",
            writable=True,
            intake=False,
        )
    return StorageVerdict(Health.READY, "", writable=True, intake=True)
