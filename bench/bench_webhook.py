"""Webhook to bytes at the printer: how long from Wix's push until the kitchen printer
receives the ticket.

The whole service runs in this process on the real clock, with the default configuration,
against the simulated shop and two fake network printers (kitchen; counter for driver slips and
receipts) on 127.0.0.1. Orders arrive one at a time, ``--gap`` apart: each is a new order in
the shop, announced by an RS256-signed ``order_created`` webhook (signed before the clock
starts, as Wix signs). The clock runs from the POST until the first ticket byte (not a status
request) reaches the kitchen printer; the POST's answer, which comes after the spool
committed the order, is timed too. The fake printer prints instantly; the default 10 s poll
also runs and finds every order again (a no-op).

    python bench/bench_webhook.py [--orders 200] [--gap 0.1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import httpx
import trio
from _common import emit, open_rig, percentile, quiet_logging, summary_ms, temp_dir

TARGET_P99_S = 0.050


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    started: float,
    answers: list[float],
    timed: bool,
) -> None:
    response = await client.post(url, content=body)
    response.raise_for_status()
    if timed:
        answers.append(time.perf_counter() - started)


async def run(orders: int, gap: float, warmup: int) -> dict[str, object]:
    to_bytes: list[float] = []
    to_answer: list[float] = []
    with temp_dir("bench-webhook-") as tmp:
        async with open_rig(tmp) as rig, httpx.AsyncClient(timeout=10) as client:
            await rig.start()
            kitchen = rig.printers["kitchen"]
            url = f"{rig.web_url}/webhooks/wix"
            for n in range(warmup + orders):
                body = rig.webhook_body(rig.new_order())
                before = kitchen.job_bytes
                printed = len(kitchen.tickets)
                started = time.perf_counter()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(post, client, url, body, started, to_answer, n >= warmup)
                    with trio.fail_after(30):
                        await kitchen.wait_job_bytes(before + 1)
                    if n >= warmup:
                        to_bytes.append(time.perf_counter() - started)
                with trio.fail_after(30):
                    await kitchen.wait_tickets(printed + 1)
                await trio.sleep(gap * (0.5 + random.random()))
    p99 = percentile(to_bytes, 0.99)
    return {
        "bench": "webhook_latency",
        "what": "POST /webhooks/wix -> first ticket byte at the kitchen printer, one at a time",
        "orders": orders,
        "webhook_to_bytes_ms": summary_ms(to_bytes),
        "webhook_to_committed_ms": summary_ms(to_answer),
        "target": f"webhook to bytes at the printer p99 under {TARGET_P99_S * 1000:g} ms",
        "met": p99 < TARGET_P99_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="timed orders")
    parser.add_argument("--gap", type=float, default=0.1, help="mean seconds between orders")
    parser.add_argument("--warmup", type=int, default=5, help="untimed orders first")
    args = parser.parse_args(argv)
    quiet_logging()
    emit(trio.run(run, args.orders, args.gap, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
