"""Printer state as ESC/POS real-time status reports it (DLE EOT 1-4), sans-IO."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
