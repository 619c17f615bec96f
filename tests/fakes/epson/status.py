"""The fake printer's fault state and the status bytes it answers (escpos.md §5.1, §5.2).

Faults are plain flags the tests set; :class:`Faults` says whether the printer processes its
receive buffer and builds the DLE EOT and ASB replies from the Epson tables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    paper_near_end: bool = False
    paper_out: bool = False
    cover_open: bool = False
    offline: bool = False
    """Offline for another reason (e.g. the feed button held)."""
    cutter_jam: bool = False
    """Autocutter error (recoverable: clear the jam and close the cover)."""
    recoverable_error: bool = False
    unrecoverable_error: bool = False
    """Only a power cycle clears it."""
    near_end_stop: bool = False
    """Memory switch: stop printing at paper near end (many kitchens turn it on)."""
    pin3_high: bool = True
    """A real Epson reports drawer pin 3 high with no drawer fitted."""

    @property
    def error(self) -> bool:
        return self.cutter_jam or self.recoverable_error or self.unrecoverable_error

    @property
    def stopped_at_paper_end(self) -> bool:
        return self.paper_out or (self.near_end_stop and self.paper_near_end)

    @property
    def can_print(self) -> bool:
        """True when the printer processes its receive buffer."""
        return not (self.stopped_at_paper_end or self.cover_open or self.offline or self.error)

    def status_byte(self, n: int) -> int:
        """The DLE EOT ``n`` reply: pattern ``0xx1xx10b``."""
        byte = 0x12
        if n == 1:
            byte |= 0x04 if self.pin3_high else 0
            byte |= 0 if self.can_print else 0x08
            byte |= 0x20 if self.error else 0
        elif n == 2:
            byte |= 0x04 if self.cover_open else 0
            byte |= 0x20 if self.stopped_at_paper_end else 0
            byte |= 0x40 if self.error else 0
        elif n == 3:
            byte |= 0x04 if self.recoverable_error else 0
            byte |= 0x08 if self.cutter_jam else 0
            byte |= 0x20 if self.unrecoverable_error else 0
        elif n == 4:
            byte |= 0x0C if self.paper_near_end or self.paper_out else 0
            byte |= 0x60 if self.paper_out else 0
        return byte

    def asb(self) -> bytes:
        """Four Automatic Status Back bytes: pattern ``0xx1xx00b`` first."""
        first = 0x10 | (0x04 if self.pin3_high else 0) | (0 if self.can_print else 0x08)
        first |= 0x20 if self.cover_open else 0
        second = (0x04 if self.recoverable_error else 0) | (0x08 if self.cutter_jam else 0)
        second |= 0x20 if self.unrecoverable_error else 0
        third = (0x03 if self.paper_near_end or self.paper_out else 0) | (
            0x0C if self.paper_out else 0
        )
        return bytes((first, second, third, 0))

    def paper_sensor(self) -> int:
        """The ``GS r 1`` reply."""
        return (0x03 if self.paper_near_end else 0) | (0x0C if self.paper_out else 0)
