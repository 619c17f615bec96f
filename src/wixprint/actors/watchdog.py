"""Watchdog actor: tells systemd we are ready, what we are doing, and that we are alive.

It starts last, so ``READY=1`` means the whole tree started. ``WATCHDOG=1`` pings prove a
live event loop (the ping sits in the same loop as the work): a wedged loop sends none and
systemd restarts the process. They do not follow health: a full or read-only SD card makes
the service *down*, but a restart would change nothing, lose the reason shown on ``/health``
and, after five of them, leave the unit failed for good. The process stays up, says why,
and recovers by itself when the disk does (docs/architecture.md).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import trio

from wixprint.actors.context import ActorContext
from wixprint.sdnotify import notify, watchdog_interval

STATUS_EVERY = 10.0


def status_line(ctx: ActorContext) -> str:
    """A short human summary for ``systemctl status``."""
    queued = sum(q.depth for q in ctx.queue_cache.values())
    printers = []
    for printer in ctx.config.printers:
        check = ctx.health.get(f"printer:{printer.name}")
        state = "?" if check is None else (check.reason or check.state.value)
        printers.append(f"{printer.name} {state}")
    overall = ctx.health.snapshot().status
    return f"{overall}; queue {queued}; " + (", ".join(printers) or "no printers")


async def run_watchdog(
    ctx: ActorContext,
    environ: Mapping[str, str] | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``READY=1`` now, ``WATCHDOG=1`` every half of ``WATCHDOG_USEC``, and a ``STATUS=``
    line every ``STATUS_EVERY`` seconds."""
    env = os.environ if environ is None else environ
    interval = watchdog_interval(env)
    notify("READY=1", f"STATUS={status_line(ctx)}", environ=env)
    task_status.started()
    now = trio.current_time()
    next_ping = now + interval if interval else math.inf
    next_status = now + STATUS_EVERY
    while True:
        await trio.sleep_until(min(next_ping, next_status))
        now = trio.current_time()
        lines = []
        if now >= next_ping:
            assert interval is not None
            # After a stall, ping once and keep the rhythm; never a burst of catch-up pings.
            while next_ping <= now:
                next_ping += interval
            lines.append("WATCHDOG=1")
        if now >= next_status:
            while next_status <= now:
                next_status += STATUS_EVERY
            lines.append(f"STATUS={status_line(ctx)}")
        if lines:
            notify(*lines, environ=env)
