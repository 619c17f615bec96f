"""Order to bytes on the polling path, at the default poll interval (no push at all).

The whole service runs in this process on the real clock, with the default configuration,
against the simulated shop and fake network printers on 127.0.0.1. Each order appears in the
shop at a random moment of the poll cycle (after a random pause, uniform over one interval);
the clock runs until its first ticket byte reaches the kitchen printer. Expect about half an
interval on average and at most one interval plus the print path; the target (issue 13) is a
median of at most 2 s.

    python bench/bench_poll.py [--orders 12]
"""

from __future__ import annotations

import random
import sys
import time

import trio
from _common import open_rig, orders_main, percentile, summary_ms, temp_dir

from wixprint.config import WixConfig

POLL_INTERVAL = WixConfig().poll_interval
"""The default ``wix.poll_interval``."""
TARGET_MEDIAN = 2.0


async def run(orders: int) -> dict[str, object]:
    latencies: list[float] = []
    with temp_dir("bench-poll-") as tmp:
        async with open_rig(tmp) as rig:
            await rig.start()
            kitchen = rig.printers["kitchen"]
            for _ in range(orders):
                await trio.sleep(random.uniform(0, POLL_INTERVAL))
                before = kitchen.job_bytes
                rig.new_order()
                started = time.perf_counter()
                with trio.fail_after(POLL_INTERVAL * 3):
                    await kitchen.wait_job_bytes(before + 1)
                latencies.append(time.perf_counter() - started)
    worst = max(latencies)
    return {
        "bench": "poll_latency",
        "what": "order appears in the shop -> first ticket byte at the kitchen printer (polling)",
        "poll_interval_s": POLL_INTERVAL,
        "orders": orders,
        "order_to_bytes_ms": summary_ms(latencies),
        "target": f"median at most {TARGET_MEDIAN:g} s, every order within one poll interval"
        f" ({POLL_INTERVAL:g} s) plus 1 s",
        "met": worst < POLL_INTERVAL + 1.0 and percentile(latencies, 0.5) <= TARGET_MEDIAN,
    }


def main(argv: list[str] | None = None) -> int:
    return orders_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
