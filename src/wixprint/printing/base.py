"""What a printer transport offers the printer and connectivity actors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from wixprint.vocabulary import PrinterStatus

StatusCallback = Callable[[PrinterStatus], None]


class Transport(Protocol):
    """One physical (or virtual) printer.

    Implementations serialise their own use: a probe never runs while a job is on the wire
    (receipt printers serve one connection at a time).
    """

    name: str

    async def probe(self) -> PrinterStatus:
        """Connect, read real-time status, disconnect.

        Raises:
            PrinterOffline: the printer cannot be reached.
        """
        ...

    async def print_job(self, data: bytes, *, tag: bytes, on_status: StatusCallback) -> None:
        """Print one ticket and return only once it is proven printed.

        ``tag`` is the 4-byte process id (bytes 0x20-0x7E) for GS ( H. ``on_status`` is called
        with every status read during the job (e.g. paper out while waiting for proof).

        Raises:
            PrinterOffline: cannot connect; nothing was sent (safe to retry as is).
            PrinterNotReady: status before sending said it cannot print; nothing was sent.
            PrintOutcomeUnknown: bytes left but no proof came: the ticket may be on paper.
        """
        ...
