"""Owner's push to bytes at the printer: a Wix Automation (or Velo ``events.js``) calls
``POST /webhooks/automation/<token>`` and the service polls Wix at once.

The whole service runs in this process on the real clock, with the default configuration,
against the simulated shop and a fake network printer on 127.0.0.1. Each order appears in the
shop and the push follows at once, at a random moment of the poll cycle; the clock runs from
the POST until the first ticket byte reaches the kitchen printer. The body is never trusted:
the time is one search round trip to (simulated) Wix plus the print path.

    python bench/bench_automation.py [--orders 40]
"""

from __future__ import annotations

import random
import sys
import time

import httpx
import trio
from _common import open_rig, orders_main, percentile, summary_ms, temp_dir

from wixprint.config import WixConfig

TOKEN = "bench-automation-token-0123456789"
POLL_INTERVAL = WixConfig().poll_interval


async def run(orders: int) -> dict[str, object]:
    latencies: list[float] = []
    with temp_dir("bench-automation-") as tmp:
        async with open_rig(tmp, ("kitchen",)) as rig:
            await rig.start(automation_token=TOKEN)
            kitchen = rig.printers["kitchen"]
            url = f"{rig.web_url}/webhooks/automation/{TOKEN}"
            async with httpx.AsyncClient(timeout=10.0) as client:
                for _ in range(orders):
                    await trio.sleep(random.uniform(0, POLL_INTERVAL))
                    before = kitchen.job_bytes
                    order = rig.new_order()
                    started = time.perf_counter()
                    body = {"orderNumber": order["number"], "_id": order["id"]}
                    response = await client.post(url, json=body)
                    response.raise_for_status()
                    with trio.fail_after(POLL_INTERVAL * 3):
                        await kitchen.wait_job_bytes(before + 1)
                    latencies.append(time.perf_counter() - started)
    return {
        "bench": "automation_push",
        "what": "POST /webhooks/automation/<token> -> first ticket byte at the kitchen printer",
        "poll_interval_s": POLL_INTERVAL,
        "orders": orders,
        "push_to_bytes_ms": summary_ms(latencies),
        "target": "well under half the poll interval (one API round trip)",
        "met": percentile(latencies, 0.5) < POLL_INTERVAL / 2,
    }


def main(argv: list[str] | None = None) -> int:
    return orders_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
