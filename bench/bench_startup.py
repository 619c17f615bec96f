"""Start-up time: spawn ``wixprint run`` as systemd does and time it until ``READY=1``.

The benchmark binds the ``NOTIFY_SOCKET`` itself, serves the simulated shop and a fake network
printer on 127.0.0.1, and starts the real console script with a default configuration pointed
at them. ``READY=1`` is sent by the watchdog actor, which starts last: the whole tree is up.
The clock runs from just before the spawn (interpreter start and imports included) to the
datagram's arrival. Each start is then stopped with SIGTERM, timed too.

One discarded warm-up start compiles bytecode and fills the page cache (an installed package
ships bytecode); then one start from an empty state directory (the database is created) and
``--runs`` starts that reopen it, as every start after the first does.

    python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import trio
from _common import emit, open_rig, summary_ms, temp_dir
from _process import open_service_process

TARGET_S = 1.5
READY_LIMIT = 60.0


async def one_start(config: Path, tmp: Path) -> tuple[float, float, int]:
    """Spawn, wait for READY=1, SIGTERM, wait for the exit: (ready s, stop s, exit code)."""
    async with open_service_process(config, tmp, ready_limit=READY_LIMIT) as svc:
        pass
    assert svc.stop_s is not None
    assert svc.exit_code is not None
    return svc.ready_s, svc.stop_s, svc.exit_code


async def run(runs: int) -> dict[str, object]:
    with temp_dir("bench-startup-") as tmp:
        async with open_rig(tmp, ("kitchen",)) as rig:
            config = tmp / "config.toml"
            config.write_text(rig.config_text())
            state = tmp / "state"
            await one_start(config, tmp)  # warm-up, discarded
            for path in sorted(state.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            first_ready, _, _ = await one_start(config, tmp)
            ready: list[float] = []
            stops: list[float] = []
            codes: list[int] = []
            for _ in range(runs):
                r, s, c = await one_start(config, tmp)
                ready.append(r)
                stops.append(s)
                codes.append(c)
    worst = max(ready)
    return {
        "bench": "startup",
        "what": "spawn of `wixprint run` until READY=1 on NOTIFY_SOCKET (whole tree up)",
        "runs": runs,
        "ready_ms": summary_ms(ready),
        "first_start_ready_ms": round(first_ready * 1000, 1),
        "stop_on_sigterm_ms": summary_ms(stops),
        "exit_codes": sorted(set(codes)),
        "target": f"start-up to READY under {TARGET_S} s (every run)",
        "met": worst < TARGET_S and first_ready < TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed starts (after a warm-up)")
    args = parser.parse_args(argv)
    emit(trio.run(run, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
