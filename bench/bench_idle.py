"""Idle cost: CPU (% of one core) and RSS of a real ``wixprint run`` with nothing to print.

The benchmark serves the simulated shop (no new orders) and a fake network printer on
127.0.0.1 and starts the console script with the default configuration pointed at them, under
a ``NOTIFY_SOCKET`` with the unit's 30 s watchdog: every timer runs at its default interval
(Wix polled every 2.5 s, the printer probed, the internet probed, monitor samples, watchdog
pings, the spool's queue cache). After ``READY=1`` one order is polled and printed (idle
means between orders, with the ticket renderer loaded), then after ``--warmup`` seconds the
process is sampled with psutil for ``--seconds``: CPU is its user+system time over the wall
time, RSS is sampled every second.

    python bench/bench_idle.py [--seconds 60] [--warmup 15]
"""

from __future__ import annotations

import argparse
import sys
import time

import psutil
import trio
from _common import emit, open_rig, temp_dir
from _process import open_service_process

TARGET_CPU_PERCENT = 0.5
TARGET_RSS_MB = 80.0
MB = 1024 * 1024


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def run(seconds: float, warmup: float) -> dict[str, object]:
    with temp_dir("bench-idle-") as tmp:
        async with open_rig(tmp, ("kitchen",)) as rig:
            config = tmp / "config.toml"
            config.write_text(rig.config_text())
            async with open_service_process(config, tmp) as svc:
                process = psutil.Process(svc.pid)
                # Idle between orders, as in a restaurant: one order printed first.
                rig.new_order()
                with trio.fail_after(60):
                    await rig.printers["kitchen"].wait_tickets(1)
                await trio.sleep(warmup)
                rss: list[int] = []
                ctx0 = process.num_ctx_switches()
                requests0 = rig.shop.statistics().requests
                cpu0, wall0 = cpu_seconds(process), time.perf_counter()
                deadline = wall0 + seconds
                while time.perf_counter() < deadline:
                    rss.append(int(process.memory_info().rss))
                    await trio.sleep(min(1.0, max(0.0, deadline - time.perf_counter())))
                cpu1, wall1 = cpu_seconds(process), time.perf_counter()
                requests1 = rig.shop.statistics().requests
                ctx1 = process.num_ctx_switches()
                threads = process.num_threads()
                uss = int(process.memory_full_info().uss)
                pings = sum("WATCHDOG=1" in m for m in await svc.notify.drain())
            searches = rig.shop.statistics().searches
            probes = rig.printers["kitchen"].connections
    window = wall1 - wall0
    cpu_percent = (cpu1 - cpu0) / window * 100
    peak_mb = max(rss) / MB
    wakeups = (ctx1.voluntary - ctx0.voluntary) / window
    return {
        "bench": "idle",
        "what": "real `wixprint run`, default config, shop and network printer idle on 127.0.0.1",
        "seconds": round(window, 1),
        "warmup_s": warmup,
        "cpu_percent_of_one_core": round(cpu_percent, 3),
        "rss_mb": {"max": round(peak_mb, 1), "last": round(rss[-1] / MB, 1)},
        "uss_mb": round(uss / MB, 1),
        "threads": threads,
        "voluntary_context_switches_per_s": round(wakeups, 2),
        "wix_searches_total": searches,
        # Wix allows 200 requests per minute per site; idle, each poll is one search request.
        "wix_requests_per_minute": round((requests1 - requests0) / window * 60, 1),
        "printer_connections_total": probes,
        "watchdog_pings": pings,
        "exit_code": svc.exit_code,
        "target": f"idle under {TARGET_CPU_PERCENT} % of one core and under {TARGET_RSS_MB:g} MB",
        "met": cpu_percent < TARGET_CPU_PERCENT and peak_mb < TARGET_RSS_MB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sample")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after READY first")
    args = parser.parse_args(argv)
    emit(trio.run(run, args.seconds, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
