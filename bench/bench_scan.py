"""Seconds ``wixprint printers scan 127.0.0.0/29`` takes to find two fake printers.

Fake printers that say their model (``GS I``) listen on 127.0.0.2 and 127.0.0.3 port 9100
(a free port on both when 9100 is taken); the command runs as a real process, start-up
included, as an owner runs it. The target is under 3 s.

    python bench/bench_scan.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import trio
from _common import emit
from tests.fakes.lan_printer import LanPrinter

TARGET_SECONDS = 3.0


async def _scan(runs: int) -> dict[str, object]:
    printers = [
        LanPrinter("127.0.0.2", model="TM-m30III"),
        LanPrinter("127.0.0.3", model="TM-T88VI"),
    ]
    async with trio.open_nursery() as nursery:
        for printer in printers:
            await nursery.start(printer.serve)
        seconds: list[float] = []
        found: list[object] = []
        for _ in range(runs):
            start = time.perf_counter()
            result = await trio.run_process(
                [
                    sys.executable,
                    "-m",
                    "wixprint.cli",
                    "printers",
                    "scan",
                    "--json",
                    "127.0.0.0/29",
                ],
                capture_stdout=True,
            )
            seconds.append(time.perf_counter() - start)
            found = [(p["host"], p["model"]) for p in json.loads(result.stdout) if p["host"]]
        nursery.cancel_scope.cancel()
    worst = max(seconds)
    return {
        "benchmark": "printers_scan",
        "range": "127.0.0.0/29",
        "found": found,
        "seconds": [round(s, 3) for s in seconds],
        "worst_seconds": round(worst, 3),
        "target_seconds": TARGET_SECONDS,
        "met": worst < TARGET_SECONDS and len(found) == 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    emit(trio.run(_scan, parser.parse_args().runs))


if __name__ == "__main__":
    main()
