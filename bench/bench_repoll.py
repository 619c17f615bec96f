"""Intake cost of a search page, new orders against orders already spooled: one JSON object.

Every poll reads its overlap window again, so most orders a fetcher sees are already in the
spool. Intake (``actors/intake.accept_orders``, as the fetcher drives it) takes a page of
new orders (clean, parse, decide, one commit each), then the same page again (one lookup
for the page, nothing else), on a spool file in WAL with ``synchronous=FULL``.

    python bench/bench_repoll.py [--pages 10] [--page 100] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trio
from _common import quiet_logging, service_config

from wixprint.actors.intake import accept_orders
from wixprint.app import ServiceOptions, build_context
from wixprint.config import load_config_text
from wixprint.sim.state import FakeWixShop
from wixprint.spool import open_spool


async def run(pages: int, page: int, folder: Path) -> dict[str, object]:
    shop = FakeWixShop()
    start = datetime(2025, 6, 15, 12, tzinfo=UTC)
    orders = [shop.new_demo_order(start + timedelta(seconds=n)) for n in range(pages * page)]
    config = load_config_text(service_config(folder, "http://127.0.0.1:9", {"kitchen": 9}))
    ctx = build_context(config, ServiceOptions(with_monitor=False, with_watchdog=False))
    new_s = known_s = 0.0
    async with open_spool(folder / "bench-repoll.db") as spool:
        ctx.spool.set(spool)
        for n in range(pages):
            batch = orders[n * page : (n + 1) * page]
            t0 = time.perf_counter()
            await accept_orders(ctx, batch, source="poll", not_before="")
            stored = await spool.known_revisions([str(o["id"]) for o in batch])
            assert len(stored) == len(batch)  # so the second pass is lookups only
            t1 = time.perf_counter()
            await accept_orders(ctx, batch, source="poll", not_before="")
            t2 = time.perf_counter()
            new_s, known_s = new_s + t1 - t0, known_s + t2 - t1
    count = pages * page
    return {
        "bench": "repoll",
        "orders": count,
        "page": page,
        "new_ms_per_order": round(new_s / count * 1000, 3),
        "known_ms_per_order": round(known_s / count * 1000, 4),
        "known_ms_per_page": round(known_s / pages * 1000, 3),
        "ratio": round(new_s / known_s, 1) if known_s else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the test file")
    args = parser.parse_args(argv)
    quiet_logging()
    with tempfile.TemporaryDirectory(prefix="bench-repoll-", dir=args.dir) as tmp:
        result = trio.run(run, args.pages, args.page, Path(tmp))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
