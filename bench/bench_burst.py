"""A 1000-order burst: webhook-to-committed latency, ingest rate, time to drain, peak RSS, and
``/health`` latency while it lasts.

The service is a real ``wixprint run`` process with the default configuration. This process
plays the outside world on 127.0.0.1: the simulated Wix shop, two fake network printers
(kitchen; counter for driver slips and receipts) and Wix's webhook sender. A third process
asks ``GET /health`` every ``--health-every`` seconds from start to drain. Keeping the fakes
out of the service's process means their CPU is not charged to it (the machine has to have
a core for them, as Wix and the printers are other machines in a restaurant).

The orders are put in the shop when the burst starts (as they are at Wix) and their
RS256-signed ``order_created`` webhooks (signed beforehand) are POSTed over
``--concurrency`` connections as fast as the service answers; the default 10 s poll runs too
and may find some first. A webhook is answered only after the spool committed its order (WAL,
``synchronous=FULL``), so the answer time is webhook-to-committed and the answer rate is orders
committed durably per second. While the webhooks arrive the printers print at a thermal
printer's pace (``--print-delay``, 1 s a ticket); once every order is in they print instantly
(``--drain-delay``), so the drain time is the service's own ceiling, and ``/health`` is
asked throughout. Drained: every planned ticket has reached its printer. RSS and CPU are the
service process's, sampled with psutil.

    python bench/bench_burst.py [--orders 1000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import psutil
import trio
from _common import (
    API_KEY,
    SITE_ID,
    RssSampler,
    emit,
    line_delay,
    open_rig,
    percentile,
    summary_ms,
    temp_dir,
    wix_time,
)
from _process import free_port, open_probe, open_service_process

from wixprint.config import load_config_text
from wixprint.receipts.routing import plan_targets
from wixprint.sim.shop import FakeWixShop
from wixprint.wix.parse import parse_order

TARGET_INGEST_PER_S = 300.0
TARGET_HEALTH_P99_S = 0.020
MB = 1024 * 1024


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def run(
    orders: int, concurrency: int, health_every: float, print_delay: float, drain_delay: float
) -> dict[str, object]:
    committed: list[float] = []
    statuses: dict[int, int] = {}
    with temp_dir("bench-burst-") as tmp:
        async with open_rig(tmp, print_delay=print_delay) as rig:
            port = free_port()
            text = rig.config_text(not_before=wix_time(time.time() - 3600), http_port=port)
            config_path = tmp / "config.toml"
            config_path.write_text(text)
            config = load_config_text(text)
            tz = ZoneInfo(config.service.timezone)
            # Made outside the served shop, so no poll sees them before the burst.
            maker = FakeWixShop(api_key=API_KEY, site_id=SITE_ID, seed=7)
            made = [maker.new_demo_order(datetime.now(UTC)) for _ in range(orders)]
            planned = sum(len(plan_targets(parse_order(o, tz).order, config)) for o in made)
            async with open_service_process(config_path, tmp) as svc:
                bodies = [rig.webhook_body(order) for order in made]
                base = f"http://127.0.0.1:{port}"
                service = psutil.Process(svc.pid)
                world = psutil.Process()
                rss = RssSampler(svc.pid)
                clients = [httpx.AsyncClient(timeout=60) for _ in range(concurrency)]
                await trio.sleep(2)  # the first poll and probes are done
                rss.sample()
                before_mb = rss.last / MB

                def printed_since(before: int) -> int:
                    return sum(len(p.tickets) for p in rig.printers.values()) - before

                tickets_before = printed_since(0)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(rss.run)
                    async with open_probe(f"{base}/health", health_every) as probe:
                        cpu0 = cpu_seconds(service)
                        world0 = cpu_seconds(world)
                        started = time.perf_counter()
                        for order in made:
                            rig.shop.add_order(order)
                        pending = iter(bodies)

                        async def sender(client: httpx.AsyncClient) -> None:
                            for body in pending:
                                t0 = time.perf_counter()
                                response = await client.post(f"{base}/webhooks/wix", content=body)
                                committed.append(time.perf_counter() - t0)
                                code = response.status_code
                                statuses[code] = statuses.get(code, 0) + 1

                        async with trio.open_nursery() as senders:
                            for client in clients:
                                senders.start_soon(sender, client)
                        ingest_s = time.perf_counter() - started
                        cpu_ingest = cpu_seconds(service) - cpu0
                        world_ingest = cpu_seconds(world) - world0
                        for printer in rig.printers.values():
                            printer.print_delay = line_delay(drain_delay)
                        with trio.fail_after(900):
                            while printed_since(tickets_before) < planned:  # noqa: ASYNC110
                                await trio.sleep(0.02)  # tickets on two printers: no one event
                        drain_s = time.perf_counter() - started
                        cpu_drain = cpu_seconds(service) - cpu0
                        health = await probe.finish()
                    nursery.cancel_scope.cancel()
                for client in clients:
                    await client.aclose()
            printed = printed_since(tickets_before)
    ingest_rate = orders / ingest_s
    health_p99 = percentile(health.latencies, 0.99)
    return {
        "bench": "burst",
        "what": (
            f"{orders} signed webhooks over {concurrency} connections to a real `wixprint run`; "
            "two fake printers drain it"
        ),
        "orders": orders,
        "webhook_answers": statuses,
        "ingest_s": round(ingest_s, 2),
        "ingest_orders_per_s": round(ingest_rate, 1),
        "webhook_to_committed_ms": summary_ms(committed),
        "tickets_planned": planned,
        "tickets_printed": printed,
        "drain_s": round(drain_s, 2),
        "tickets_per_s": round(planned / drain_s, 1),
        "print_s_per_ticket": {"ingest": print_delay, "drain": drain_delay},
        "service_cpu_percent": {
            "ingest": round(cpu_ingest / ingest_s * 100, 1),
            "whole_burst": round(cpu_drain / drain_s * 100, 1),
        },
        "service_cpu_ms": {
            "per_order_during_ingest": round(cpu_ingest / orders * 1000, 2),
            "per_ticket_whole_burst": round(cpu_drain / planned * 1000, 2),
        },
        "world_cpu_percent_ingest": round(world_ingest / ingest_s * 100, 1),
        "service_rss_mb": {"before": round(before_mb, 1), "peak": round(rss.peak / MB, 1)},
        "health_ms": summary_ms(health.latencies),
        "health_answers": health.statuses,
        "health_errors": health.errors,
        "target": (
            f"ingest at least {TARGET_INGEST_PER_S:g} orders/s committed durably; "
            f"/health p99 under {TARGET_HEALTH_P99_S * 1000:g} ms during the burst"
        ),
        "met": ingest_rate >= TARGET_INGEST_PER_S and health_p99 < TARGET_HEALTH_P99_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20, help="parallel webhook senders")
    parser.add_argument("--health-every", type=float, default=0.02, help="seconds")
    parser.add_argument(
        "--print-delay", type=float, default=1.0, help="seconds per ticket while webhooks arrive"
    )
    parser.add_argument(
        "--drain-delay", type=float, default=0.0, help="seconds per ticket once all are in"
    )
    args = parser.parse_args(argv)
    emit(
        trio.run(
            run,
            args.orders,
            args.concurrency,
            args.health_every,
            args.print_delay,
            args.drain_delay,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
