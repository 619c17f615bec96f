"""Watchdog actor: tells systemd we are ready, what we are doing, and that we are alive.

It starts last, so ``READY=1`` means the whole tree started. ``WATCHDOG=1`` pings are gated on
health: a wedged event loop sends none (the ping sits in the same loop as the work), and
neither does a tree whose critical parts are down — systemd then restarts the process.
"""

from __future__ import annotations

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
    env = os.environ if environ is None else environ
    interval = watchdog_interval(env)
    notify("READY=1", f"STATUS={status_line(ctx)}", environ=env)
    task_status.started()
    step = min(interval, STATUS_EVERY) if interval else STATUS_EVERY
    last_status = trio.current_time()
    while True:
        await trio.sleep(step)
        lines = []
        if interval and ctx.health.snapshot().status != "down":
            lines.append("WATCHDOG=1")
        if trio.current_time() - last_status >= STATUS_EVERY:
            lines.append(f"STATUS={status_line(ctx)}")
            last_status = trio.current_time()
        if lines:
            notify(*lines, environ=env)
