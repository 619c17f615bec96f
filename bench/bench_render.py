"""Tickets rendered per second: what the printer actor does per job before it sends, in one
thread.

For every approved sample order (delivery, pickup, dine-in, many items with modifiers, cash)
and every ticket it needs with the default layout (kitchen ticket; driver slip and customer
receipt where the fulfilment asks for them), the benchmark parses the stored order JSON and
renders the ESC/POS bytes, as the printer actor does for each job, for ``--seconds``.

    python bench/bench_render.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import emit, service_config

from wixprint.config import RECEIPT_KINDS, load_config_text
from wixprint.receipts import TicketRequest, plan_targets, render_ticket
from wixprint.sim.samples import fixture_orders
from wixprint.vocabulary import Variant
from wixprint.wix.parse import parse_order


def run(seconds: float) -> dict[str, object]:
    text = service_config(Path("state"), "http://127.0.0.1:9", {"kitchen": 9100, "counter": 9101})
    config = load_config_text(text)
    printers = {p.name: p for p in config.printers}
    tz = ZoneInfo(config.service.timezone)
    work: list[tuple[str, str, str]] = []  # (raw JSON, kind, printer)
    for raw in fixture_orders():
        if raw.get("status") != "APPROVED":
            continue
        order = parse_order(raw, tz).order
        stored = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        work.extend((stored, t.kind, t.printer) for t in plan_targets(order, config))
    request: dict[str, TicketRequest] = {
        k: TicketRequest(k, Variant.NEW, False, 1, 1) for k in RECEIPT_KINDS
    }
    stored, kind, name = work[0]  # the first render imports escpos: not timed
    order = parse_order(json.loads(stored), tz).order
    render_ticket(order, request[kind], config=config, printer=printers[name])
    per_kind: dict[str, list[float]] = {}
    rendered = 0
    size = 0
    started = time.perf_counter()
    cpu0 = time.process_time()
    while time.perf_counter() - started < seconds:
        for stored, kind, printer in work:
            t0 = time.perf_counter()
            order = parse_order(json.loads(stored), tz).order
            ticket = render_ticket(order, request[kind], config=config, printer=printers[printer])
            per_kind.setdefault(kind, []).append(time.perf_counter() - t0)
            rendered += 1
            size += len(ticket.data)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    return {
        "bench": "render",
        "what": "parse the stored order + render one ticket's ESC/POS bytes, one thread",
        "ticket_mix": dict(Counter(kind for _, kind, _ in work)),
        "tickets": rendered,
        "tickets_per_s": round(rendered / wall, 1),
        "ms_per_ticket": {
            kind: round(sum(v) / len(v) * 1000, 2) for kind, v in sorted(per_kind.items())
        },
        "cpu_ms_per_ticket": round(cpu / rendered * 1000, 2),
        "mean_ticket_bytes": round(size / rendered),
        "target": "none set",
        "met": True,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    emit(run(args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
