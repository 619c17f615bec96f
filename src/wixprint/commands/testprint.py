"""``wixprint test-print``: a short ticket on each configured printer, through the same
transport, status check and proof of print as real orders.

It first asks the printer what it is (model, process-id replies) and says which profile and
which proof it will use, with a warning when tickets cannot be confirmed by process id.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wixprint.config import Config, PrinterConfig
from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.base import Transport
from wixprint.printing.factory import make_transport
from wixprint.receipts.testticket import print_test_ticket

__all__ = ["print_test_tickets"]


async def print_test_tickets(config: Config, only: str | None = None) -> int:
    printers = [p for p in config.printers if only is None or p.name == only]
    if not printers:
        print(f"no printer named {only!r}" if only else "no printers configured", file=sys.stderr)
        return 2
    now = datetime.now(ZoneInfo(config.service.timezone))
    failed = 0
    for printer in printers:
        transport = make_transport(printer, state_dir=Path(config.service.state_dir))
        try:
            await _print_one(config, printer, transport, now)
        except (PrinterOffline, PrinterNotReady, PrintOutcomeUnknown) as exc:
            print(f"{printer.name}: FAILED - {type(exc).__name__}: {exc}")
            failed += 1
    return 1 if failed else 0


async def _print_one(
    config: Config, printer: PrinterConfig, transport: Transport, now: datetime
) -> None:
    done = await print_test_ticket(config, printer, transport, now)
    said = f"reports {done.model!r}" if done.model else "does not name its model"
    print(f"{printer.name}: printed ({said}; profile {done.profile}, {done.columns} columns)")
    print(f"{printer.name}: proof of print: {done.proof}")
    if done.warning:
        print(f"{printer.name}: WARNING - {done.warning}")
    if done.model_hint:
        hint = f"set {done.model_hint}"
        print(f"{printer.name}: WARNING - the printer says it is a {done.model}: {hint}")
