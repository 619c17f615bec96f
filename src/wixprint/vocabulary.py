"""Value types several layers share: what a printer reports, what a ticket announces and
where it goes.

They sit at the bottom with ``errors`` and import nothing from the service, so the errors, the
events, the spool and the pure receipts can all speak them without pointing upward.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = ["UNKNOWN", "JobTarget", "Paper", "PrinterStatus", "Variant"]

Paper = Literal["ok", "near_end", "out", "unknown"]


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    online: bool
    paper: Paper = "unknown"
    cover_open: bool = False
    error: bool = False
    """An error bit is set (autocutter, unrecoverable, head temperature)."""

    @property
    def can_print(self) -> bool:
        """True when a job sent now would print at once."""
        return self.online and not self.cover_open and not self.error and self.paper != "out"


UNKNOWN = PrinterStatus(online=False, paper="unknown")


class Variant(enum.Enum):
    """What a ticket announces."""

    NEW = "new"
    CHANGED = "changed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class JobTarget:
    """Where a ticket goes: one receipt kind on one printer."""

    kind: str
    """Receipt kind: kitchen, driver or customer."""
    printer: str
