"""Printer discovery, sans-IO: which addresses to probe, what to ask, how to read the answers.

``wixprint printers scan`` and ``wixprint setup`` probe raw TCP 9100 on the local subnets.
A scan that is too wide (a /16 is 65 536 connects) would take minutes and look like an
attack to the router, so ranges wider than a /22 are refused. Each answer is asked for its
status (``DLE EOT 1-4``, real-time, answered even when offline) and its model (``GS I 67``,
``GS I 66``: block replies ``5F text 00``, escpos.md §13; not real-time, so an offline
printer may not say its name). The Trio shell is :mod:`wixprint.printing.probe`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wixprint.printing.profiles import GENERIC_80, PrinterProfile, profile_for_name
from wixprint.vocabulary import PrinterStatus

__all__ = [
    "GS_I_MANUFACTURER",
    "GS_I_MODEL",
    "MAX_SCAN_ADDRESSES",
    "PRINTER_PORT",
    "FoundPrinter",
    "format_found",
    "parse_device_id",
    "parse_info_reply",
    "scan_targets",
    "status_text",
]

PRINTER_PORT = 9100
MAX_SCAN_ADDRESSES = 1024
"""A /22: a home or restaurant LAN is a /24; wider means a typo or the wrong interface."""
GS_I_MODEL = 67
GS_I_MANUFACTURER = 66
_INFO_HEADER = 0x5F
_INFO_MAX = 80
"""Longer than any model name: a reply without its NUL by then is not a GS I reply."""


def parse_info_reply(buf: bytes) -> tuple[str | None, int] | None:
    """``(text, bytes used)`` once a whole ``5F text 00`` reply is in ``buf``, else ``None``.

    Bytes before the ``5F`` header (a stray status byte) are skipped; a reply that is not
    one (no header, or no NUL within 80 bytes) gives ``(None, len(buf))``.
    """
    start = buf.find(bytes((_INFO_HEADER,)))
    if start < 0:
        return (None, len(buf)) if len(buf) >= _INFO_MAX else None
    end = buf.find(b"\x00", start)
    if end < 0:
        return (None, len(buf)) if len(buf) - start >= _INFO_MAX else None
    text = buf[start + 1 : end].decode("ascii", errors="replace").strip()
    return (text or None), end + 1


def parse_device_id(text: str) -> tuple[str | None, str | None]:
    """``(manufacturer, model)`` from an IEEE 1284 device id (``MFG:EPSON;MDL:TM-m30III;``).

    The Linux ``usblp`` driver shows it in ``/sys/class/usbmisc/lpN/device/ieee1284_id``.
    """
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition(":")
        if sep:
            fields[key.strip().upper()] = value.strip()
    maker = fields.get("MFG") or fields.get("MANUFACTURER")
    model = fields.get("MDL") or fields.get("MODEL")
    return maker or None, model or None


def scan_targets(ranges: Sequence[str]) -> list[str]:
    """The IPv4 addresses to probe in ``ranges`` (CIDR or single addresses), in order.

    Raises ``ValueError`` with a message for the operator on a malformed range, an IPv6
    range, or one wider than a /22.
    """
    seen: dict[str, None] = {}
    for text in ranges:
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{text!r} is not an address range like 192.168.1.0/24") from None
        if network.version != 4:
            raise ValueError(f"{text}: only IPv4 ranges can be scanned")
        if network.num_addresses > MAX_SCAN_ADDRESSES:
            raise ValueError(
                f"{text}: {network.num_addresses} addresses is more than a /22"
                f" ({MAX_SCAN_ADDRESSES}); scan the printers' own subnet, e.g. a /24"
            )
        hosts: Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address] = (
            network.hosts() if network.prefixlen < 31 else iter(network)
        )
        for address in hosts:
            seen.setdefault(str(address))
    return list(seen)


@dataclass(frozen=True, slots=True)
class FoundPrinter:
    """A printer that answered: on the network (``host:port``) or a USB device (``device``)."""

    host: str = ""
    port: int = PRINTER_PORT
    device: str = ""
    model: str | None = None
    manufacturer: str | None = None
    status: PrinterStatus | None = None
    """``None``: it accepted the connection but gave no status reply."""

    @property
    def where(self) -> str:
        if self.device:
            return self.device
        return self.host if self.port == PRINTER_PORT else f"{self.host}:{self.port}"

    @property
    def profile(self) -> PrinterProfile:
        """The suggested profile: the model's own, else the generic 80 mm one."""
        return profile_for_name(self.model) or GENERIC_80


def status_text(status: PrinterStatus | None) -> str:
    """Short words an owner understands, the worst problem first."""
    if status is None:
        return "no status reply"
    if status.cover_open:
        return "cover open"
    if status.paper == "out":
        return "paper out"
    if status.error:
        return "error"
    if not status.online:
        return "offline"
    if status.paper == "near_end":
        return "ready, paper near end"
    return "ready"


def format_found(found: Sequence[FoundPrinter]) -> list[str]:
    """A table: address, model, status, suggested profile (and its columns)."""
    rows = [("ADDRESS", "MODEL", "STATUS", "PROFILE")]
    for printer in found:
        model = " ".join(p for p in (printer.manufacturer, printer.model) if p) or "?"
        profile = printer.profile
        rows.append(
            (
                printer.where,
                model,
                status_text(printer.status),
                f"{profile.name} ({profile.columns} columns)",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join((*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3]))
        for row in rows
    ]
