"""What a printer supports, asked on an open link: process-id replies, status, its model.

Not every ESC/POS printer answers ``GS ( H`` (many compatibles and older Epsons ignore it),
and a printer that never answers it can only be confirmed by status. So before relying on
process ids we ask once with a tiny request that prints nothing (escpos.md §12), and read
the model name with ``GS I`` (§13). The transport does this at first contact and after every
reconnect; ``wixprint printers scan`` can call :func:`identify_printer` on any address.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from wixprint.errors import PrinterOffline
from wixprint.printing.link import Lost, PrinterLink, open_printer_link
from wixprint.printing.protocol import clean_start, printer_info_request, process_id_request
from wixprint.vocabulary import PrinterStatus

__all__ = [
    "PROBE_TAG_PREFIX",
    "Capabilities",
    "identify_printer",
    "is_probe_tag",
    "probe_tag",
    "read_capabilities",
    "weigh_probe",
]

PROBE_TAG_PREFIX = b"~"
"""Probe process ids start with ``~``, which job tags never contain."""
_counter = itertools.count()


@dataclass(frozen=True, slots=True)
class Capabilities:
    status: bool
    """Answers DLE EOT real-time status."""
    process_id: bool | None
    """Answers ``GS ( H`` fn 48; None: not asked (it could not print at the time)."""
    model: str | None = None
    """Model name from ``GS I 67``, e.g. ``"TM-m30III"``; None if it did not say."""
    manufacturer: str | None = None

    @property
    def known(self) -> bool:
        return self.process_id is not None


def probe_tag() -> bytes:
    return PROBE_TAG_PREFIX + b"%03d" % (next(_counter) % 1000)


def is_probe_tag(tag: bytes) -> bool:
    return tag.startswith(PROBE_TAG_PREFIX)


async def read_capabilities(link: PrinterLink, *, within: float) -> Capabilities:
    """Ask for the model, the manufacturer and a process id that prints nothing.

    Call it only on a printer whose status says it can print: it processes these requests
    in order from its buffer, and not at all while offline. A printer that answers the
    probe later (it was still busy) is noticed by the transport as a late probe reply.
    """
    tag = probe_tag()
    # Padding first: a job cut off earlier may have left the parser inside a payload, which
    # would swallow the questions (escpos.md §14).
    questions = printer_info_request(67) + printer_info_request(66) + process_id_request(tag)
    await link.send(clean_start(clear=False) + questions)
    answered = await link.wait_until(lambda: tag in link.proofs, within)
    infos = [text.strip() for text in link.infos]
    return Capabilities(
        status=True,
        process_id=answered,
        model=infos[0] if infos else None,
        manufacturer=infos[1] if len(infos) > 1 else None,
    )


def weigh_probe(answer: Capabilities, answered_before: Capabilities | None) -> Capabilities:
    """What a probe's answer says, given what the printer said when it answered ``GS ( H``.

    A probe with no reply at all (neither model nor process id) from a printer that answered
    before most likely waits behind lines it is still printing (an attempt cut off earlier;
    the questions sit in its buffer, escpos.md §12). That is no reason to confirm it by status
    from now on: its process-id support is unknown (asked again next time), its model kept.
    """
    if answer.process_id or answer.model is not None or answered_before is None:
        return answer
    return Capabilities(answer.status, None, answered_before.model, answered_before.manufacturer)


async def identify_printer(
    host: str,
    port: int = 9100,
    *,
    connect_timeout: float = 3.0,
    status_timeout: float = 1.0,
    probe_seconds: float = 2.0,
) -> tuple[PrinterStatus, Capabilities | None]:
    """Connect, read status and, if it can print, what it supports.

    Raises:
        PrinterOffline: no connection, or no status reply.
    """
    async with open_printer_link(
        host, port, connect_timeout=connect_timeout, status_timeout=status_timeout
    ) as link:
        try:
            status = await link.read_status()
            if not status.can_print:
                return status, None
            return status, await read_capabilities(link, within=probe_seconds)
        except Lost as exc:
            raise PrinterOffline(f"{host}:{port}: {exc}") from exc
