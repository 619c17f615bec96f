"""Ingest rate on the polling path: a backlog of orders waiting at Wix (after an outage, or at
the first start) committed to the spool.

The service is a real ``wixprint run`` process with the default configuration; this process
serves the simulated shop with ``--orders`` approved orders already in it and the two fake
printers, which print what arrives meanwhile at a thermal printer's pace (``--print-delay``,
1 s a ticket; ``--printers-off``: they refuse connections). The fetcher pages through the
backlog (100 orders a page), parses, routes and commits each order in its own transaction
(WAL, ``synchronous=FULL``). The clock runs from the shop's first search to the moment the
last order is in the spool, which this process reads through a read-only connection every
20 ms.

    python bench/bench_ingest.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import trio
from _common import emit, open_rig, temp_dir, wix_time
from _process import open_service_process

TARGET_PER_S = 300.0


def count_orders(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()
    return int(row[0])


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def run(orders: int, print_delay: float, printers_off: bool) -> dict[str, object]:
    with temp_dir("bench-ingest-") as tmp:
        async with open_rig(tmp, print_delay=print_delay) as rig:
            for printer in rig.printers.values():
                printer.unreachable = printers_off
            for _ in range(orders):
                rig.shop.new_demo_order(datetime.now(UTC))
            config = tmp / "config.toml"
            config.write_text(rig.config_text(not_before=wix_time(time.time() - 3600)))
            db = tmp / "state" / "spool.sqlite3"
            async with open_service_process(config, tmp) as svc:
                service = psutil.Process(svc.pid)
                with trio.fail_after(60):
                    while rig.shop.statistics().searches == 0:  # noqa: ASYNC110 - no event
                        await trio.sleep(0.001)
                started = time.perf_counter()
                cpu0 = cpu_seconds(service)
                with trio.fail_after(600):
                    while await trio.to_thread.run_sync(count_orders, db) < orders:  # noqa: ASYNC110
                        await trio.sleep(0.02)  # another process's database: no event
                elapsed = time.perf_counter() - started
                cpu = cpu_seconds(service) - cpu0
                pages = rig.shop.statistics().searches
    rate = orders / elapsed
    return {
        "bench": "ingest",
        "what": "backlog at Wix -> committed by the poller (pages of 100)",
        "printers": "off" if printers_off else f"printing, {print_delay:g} s a ticket",
        "orders": orders,
        "ingest_s": round(elapsed, 2),
        "ingest_orders_per_s": round(rate, 1),
        "service_cpu_ms_per_order": round(cpu / orders * 1000, 2),
        "searches": pages,
        "target": f"at least {TARGET_PER_S:g} orders/s committed durably",
        "met": rate >= TARGET_PER_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--print-delay", type=float, default=1.0, help="seconds per ticket")
    parser.add_argument("--printers-off", action="store_true", help="printers refuse connections")
    args = parser.parse_args(argv)
    emit(trio.run(run, args.orders, args.print_delay, args.printers_off))
    return 0


if __name__ == "__main__":
    sys.exit(main())
