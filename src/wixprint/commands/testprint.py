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
from wixprint.printing.base import JobOptions, Transport
from wixprint.printing.factory import make_transport
from wixprint.printing.profiles import resolve_profile
from wixprint.receipts.testticket import render_test_ticket
from wixprint.vocabulary import PrinterStatus

TEST_TAG = b"~TST"
"""Not a job tag (job tags never contain ``~``): a late reply can never confirm a job."""


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
    caps = await transport.identify()
    profile = resolve_profile(printer.model, caps.model)
    ticket = render_test_ticket(config=config, printer=printer, now=now, profile=profile)
    statuses: list[PrinterStatus] = []
    options = JobOptions(print_seconds=profile.print_seconds(ticket.length))
    await transport.print_job(ticket.data, tag=TEST_TAG, on_status=statuses.append, options=options)
    proof = transport.proof_mode()
    columns = printer.columns or profile.columns
    said = f"reports {caps.model!r}" if caps.model else "does not name its model"
    print(f"{printer.name}: printed ({said}; profile {profile.name}, {columns} columns)")
    print(f"{printer.name}: proof of print: {proof.mode}")
    if proof.warning:
        print(f"{printer.name}: WARNING - {proof.warning}")
    detected = resolve_profile("auto", caps.model)
    if printer.model not in ("auto", detected.name) and detected.epson:
        hint = f'set model = "{detected.name}"'
        print(f"{printer.name}: WARNING - the printer says it is a {caps.model}: {hint}")
