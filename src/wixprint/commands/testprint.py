"""``wixprint test-print``: a short ticket on each configured printer, through the same
transport, status check and proof of print as real orders."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wixprint.config import Config
from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.factory import make_transport
from wixprint.receipts.testticket import render_test_ticket
from wixprint.vocabulary import PrinterStatus


async def print_test_tickets(config: Config, only: str | None = None) -> int:
    printers = [p for p in config.printers if only is None or p.name == only]
    if not printers:
        print(f"no printer named {only!r}" if only else "no printers configured", file=sys.stderr)
        return 2
    now = datetime.now(ZoneInfo(config.service.timezone))
    failed = 0
    for printer in printers:
        transport = make_transport(printer, state_dir=Path(config.service.state_dir))
        data = render_test_ticket(config=config, printer=printer, now=now)
        statuses: list[PrinterStatus] = []
        try:
            await transport.print_job(data, tag=b"TEST", on_status=statuses.append)
        except (PrinterOffline, PrinterNotReady, PrintOutcomeUnknown) as exc:
            print(f"{printer.name}: FAILED - {type(exc).__name__}: {exc}")
            failed += 1
            continue
        print(f"{printer.name}: printed")
    return 1 if failed else 0
