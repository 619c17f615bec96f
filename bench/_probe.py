"""Helper process: ``GET`` one URL over a keep-alive connection every few milliseconds until
stdin closes, then print the latencies (seconds) as one JSON object.

A process of its own, with a blocking client and nothing else to do, so that what it measures
is the server's answer time, not the benchmark's own event loop. With ``fresh`` each request
gets a new connection (connect included), as a monitor that checks now and then would.

    python bench/_probe.py URL EVERY_SECONDS [fresh]
"""

from __future__ import annotations

import http.client
import json
import select
import sys
import time
from urllib.parse import urlsplit


def main(argv: list[str]) -> int:
    url, every = urlsplit(argv[0]), float(argv[1])
    fresh = argv[2:] == ["fresh"]
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=30)
    latencies: list[float] = []
    started_at: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], every)
        if readable and not sys.stdin.readline():
            break
        started = time.perf_counter()
        try:
            conn.request("GET", url.path or "/")
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            continue
        latencies.append(time.perf_counter() - started)
        started_at.append(started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if fresh:
            conn.close()
    result = {"latencies": latencies, "started": started_at, "statuses": statuses, "errors": errors}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
