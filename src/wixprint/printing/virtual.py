"""A printer that writes tickets to a folder: for the demo, for tests, for a dry run.

Each ticket becomes ``<seq>-<tag>.bin`` (the exact bytes a real printer would get) and
``<seq>-<tag>.txt`` (a readable preview decoded from those bytes, so what you read is what
the bytes say, code page included). Fault states can be set to rehearse paper-out handling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from wixprint.errors import PrinterNotReady
from wixprint.printing.base import (
    FIRST_TRY,
    Confirmation,
    JobOptions,
    NoLateProofs,
    ProofMode,
    StatusCallback,
)
from wixprint.printing.capabilities import Capabilities
from wixprint.printing.decode import DecodedTicket, decode_tickets
from wixprint.vocabulary import PrinterStatus

__all__ = ["VirtualTransport", "VirtualTransportStatistics", "render_preview"]

_READY = PrinterStatus(online=True, paper="ok")
_CAPABILITIES = Capabilities(status=True, process_id=True, model="virtual")
_SAFE_TAG = re.compile(rb"[A-Za-z0-9_-]+")
_SEQ_NAME = re.compile(r"^(\d+)-")


@dataclass(frozen=True, slots=True)
class VirtualTransportStatistics:
    jobs: int
    printed: int
    not_ready: int
    last_file: Path | None


def _describe(ticket: DecodedTicket) -> list[str]:
    lines = [ticket.text.rstrip("\n")]
    lines.extend(f"[QR: {data.decode('utf-8', errors='replace')}]" for data in ticket.qr_data)
    if ticket.has_image:
        lines.append("[image]")
    if ticket.has_barcode:
        lines.append("[barcode]")
    if ticket.unknown_commands:
        lines.append(f"[unknown commands: {', '.join(ticket.unknown_commands)}]")
    if ticket.unsupported_codepages:
        pages = ", ".join(str(p) for p in ticket.unsupported_codepages)
        lines.append(f"[unsupported code pages: {pages}]")
    lines.append("-" * 16 + (" cut " if ticket.cut else " (no cut) ") + "-" * 16)
    return lines


def render_preview(data: bytes, *, title: str = "") -> str:
    """Readable text of a ticket's bytes, with marks for codes, images and cuts."""
    lines = [f"=== {title} ==="] if title else []
    for ticket in decode_tickets(data):
        lines.extend(_describe(ticket))
    return "\n".join(lines) + "\n"


def _tag_text(tag: bytes) -> str:
    return tag.decode("ascii") if _SAFE_TAG.fullmatch(tag) else tag.hex()


def _next_seq(directory: Path) -> int:
    highest = 0
    for path in directory.glob("*.bin"):
        match = _SEQ_NAME.match(path.name)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


class VirtualTransport(NoLateProofs):
    """Writes tickets to *directory*; ``echo`` receives each preview (e.g. the terminal)."""

    def __init__(
        self,
        name: str,
        directory: Path,
        *,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.directory = Path(directory)
        self.echo = echo
        self._status = _READY
        self._lock = trio.Lock()
        self._limiter = trio.CapacityLimiter(1)
        self._seq: int | None = None
        self._jobs = self._printed = self._not_ready = 0
        self._last_file: Path | None = None

    def set_status(self, status: PrinterStatus) -> None:
        """Pretend the printer is in *status* (paper out, cover open...) until changed."""
        self._status = status

    def statistics(self) -> VirtualTransportStatistics:
        return VirtualTransportStatistics(
            jobs=self._jobs,
            printed=self._printed,
            not_ready=self._not_ready,
            last_file=self._last_file,
        )

    @property
    def capabilities(self) -> Capabilities | None:
        return _CAPABILITIES

    def proof_mode(self) -> ProofMode:
        return ProofMode("file")

    async def probe(self) -> PrinterStatus:
        return self._status

    async def identify(self) -> Capabilities:
        return _CAPABILITIES

    async def print_job(
        self,
        data: bytes,
        *,
        tag: bytes,
        on_status: StatusCallback,
        options: JobOptions = FIRST_TRY,
    ) -> Confirmation:
        """Write the ticket files; "printed" as soon as they are on disk (the bytes exactly
        as the renderer made them: no padding, so the preview shows only the ticket).

        Raises:
            PrinterNotReady: a fault state was set with :meth:`set_status`.
        """
        async with self._lock:
            self._jobs += 1
            status = self._status
            on_status(status)
            if not status.can_print:
                self._not_ready += 1
                raise PrinterNotReady(f"printer {self.name!r} cannot print", status=status)
            preview, path = await trio.to_thread.run_sync(
                self._write, data, tag, limiter=self._limiter
            )
            self._printed += 1
            self._last_file = path
        if self.echo is not None:
            self.echo(preview)
        return "sent"

    def _write(self, data: bytes, tag: bytes) -> tuple[str, Path]:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._seq is None:
            self._seq = _next_seq(self.directory)
        seq = self._seq
        self._seq += 1
        stem = f"{seq:06d}-{_tag_text(tag)}"
        preview = render_preview(data, title=f"{self.name} #{seq}")
        bin_path = self.directory / f"{stem}.bin"
        bin_path.write_bytes(data)
        (self.directory / f"{stem}.txt").write_text(preview, encoding="utf-8")
        return preview, bin_path
