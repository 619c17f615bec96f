"""Spool throughput: one JSON object on stdout.

Each order is its own transaction (WAL + synchronous=FULL, three tickets each), exactly as
the fetcher drives it; then every job is claimed and marked printed, two transactions per
ticket, as the printer actors drive it. Run it on the target card with ``--dir`` pointing
into the real state directory: fsync cost is what this measures.

    python bench/bench_spool.py [--orders 2000] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trio

from wixprint.spool import IncomingOrder, JobTarget, Spool, open_spool

TARGETS = (
    JobTarget("kitchen", "kitchen"),
    JobTarget("driver", "counter"),
    JobTarget("customer", "counter"),
)
PRINTERS = ("kitchen", "counter")


def make_order(n: int) -> IncomingOrder:
    raw = json.dumps({"id": f"order-{n}", "number": str(10000 + n), "lineItems": ["x" * 40] * 8})
    return IncomingOrder(
        order_id=f"order-{n}",
        number=str(10000 + n),
        status="APPROVED",
        created="2025-06-13T16:47:21.482Z",
        updated="2025-06-13T16:47:23.905Z",
        fingerprints={"kitchen": f"fp-{n}"},
        printable=True,
        raw_json=raw,
        targets=TARGETS,
        source="test",
    )


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def bench_accept(spool: Spool, orders: int) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for n in range(orders):
        t0 = time.perf_counter()
        await spool.accept(make_order(n))
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


async def bench_print(spool: Spool) -> tuple[float, int]:
    printed = 0
    started = time.perf_counter()
    for printer in PRINTERS:
        while (job := await spool.claim_next(printer)) is not None:
            await spool.mark_printed(job.id)
            printed += 1
    return time.perf_counter() - started, printed


async def run(orders: int, directory: Path) -> dict[str, object]:
    path = directory / "bench-spool.db"
    async with open_spool(path) as spool:
        accept_s, latencies = await bench_accept(spool, orders)
        print_s, printed = await bench_print(spool)
        stats = await spool.statistics()
    latencies.sort()
    return {
        "bench": "spool",
        "sqlite_version": sqlite3.sqlite_version,
        "journal": "wal",
        "synchronous": "full",
        "orders": orders,
        "jobs_per_order": len(TARGETS),
        "accept_per_s": round(orders / accept_s, 1),
        "accept_latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 3),
            "p99": round(percentile(latencies, 0.99) * 1000, 3),
            "mean": round(statistics.fmean(latencies) * 1000, 3),
        },
        "claim_and_mark_per_s": round(printed / print_s, 1),
        "jobs_printed": printed,
        "db_bytes": stats.db_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the test file")
    args = parser.parse_args(argv)
    if args.dir is not None:
        try:
            result = trio.run(run, args.orders, args.dir)
        finally:
            for suffix in ("", "-wal", "-shm"):
                (args.dir / f"bench-spool.db{suffix}").unlink(missing_ok=True)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-spool-") as tmp:
            result = trio.run(run, args.orders, Path(tmp))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
