"""``wixprint printers scan [CIDR …]``: find the receipt printers on this machine's networks.

Without ranges it probes this machine's own IPv4 subnets; USB printers (``/dev/usb/lp*``)
are listed too. Exit 0 (printers found or not), 2 for a range it refuses.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

import trio

from wixprint.printing.probe import list_usb_printers, local_networks, scan_printers
from wixprint.printing.scan import (
    PRINTER_PORT,
    FoundPrinter,
    format_found,
    scan_targets,
    status_text,
)

__all__ = ["find_printers", "run_scan"]


async def find_printers(
    ranges: Sequence[str], port: int = PRINTER_PORT, *, usb: bool = True
) -> list[FoundPrinter]:
    """Network printers in ``ranges`` (default: the local subnets), then USB printers.

    Raises ``ValueError`` (with a message for the operator) for a range it refuses.
    """
    hosts = scan_targets(list(ranges) or local_networks())
    found = await scan_printers(hosts, port)
    return found + (list_usb_printers() if usb else [])


def _as_json(printer: FoundPrinter) -> dict[str, object]:
    return {
        "where": printer.where,
        "host": printer.host,
        "port": printer.port if printer.host else None,
        "device": printer.device,
        "model": printer.model,
        "manufacturer": printer.manufacturer,
        "status": status_text(printer.status),
        "status_detail": asdict(printer.status) if printer.status else None,
        "profile": printer.profile.name,
        "columns": printer.profile.columns,
    }


def run_scan(
    ranges: Sequence[str],
    *,
    port: int = PRINTER_PORT,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    what = ", ".join(ranges) if ranges else "this machine's networks"
    if not as_json:
        print(f"scanning {what} on port {port} ...", file=err)
    try:
        found = trio.run(find_printers, ranges, port)
    except ValueError as exc:
        print(f"printers scan: {exc}", file=err)
        return 2
    if as_json:
        print(json.dumps([_as_json(p) for p in found], indent=2), file=out)
    elif not found:
        print("no printers found (is the printer on and on this network?)", file=out)
    else:
        print("\n".join(format_found(found)), file=out)
    return 0
