"""Connectivity actor: probes the internet (the Wix API host) and every printer.

It probes faster while something is down and slower while all is well, publishes only
confirmed *changes* (hysteresis in ``wixprint.links``), and drives recovery: internet back →
the fetcher polls at once and the alert outbox is flushed; printer back → its doorbell rings.
Each recovery is recorded with how long it lasted and what was held.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import trio

from wixprint.actors.context import ActorContext
from wixprint.errors import PrinterOffline, SpoolError
from wixprint.events import InternetState, RecoveryRecorded
from wixprint.health import Health
from wixprint.links import Hysteresis
from wixprint.logs import get_logger
from wixprint.vocabulary import PrinterStatus

PROBE_TIMEOUT = 5.0
PRINTER_PROBE_TIMEOUT = 30.0
"""A printer probe that takes longer (it waits while a long job holds the printer) is left
for the next round; one printer never holds up the others or the internet probe."""


def internet_target(ctx: ActorContext) -> tuple[str, int]:
    """``connectivity.internet_target`` as host:port, else the Wix API host."""
    target = ctx.config.connectivity.internet_target
    if target:
        host, _, port = target.rpartition(":")
        return (host or target, int(port) if port.isdigit() else 443)
    url = urlsplit(ctx.config.wix.base_url)
    default = 443 if url.scheme == "https" else 80
    return (url.hostname or "www.wixapis.com", url.port or default)


async def probe_internet(host: str, port: int) -> bool:
    """A TCP connect to the Wix API host: cheap, and exactly the path the fetcher needs."""
    with trio.move_on_after(PROBE_TIMEOUT):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


async def run_connectivity(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    log = get_logger("connectivity")
    cfg = ctx.config.connectivity
    host, port = internet_target(ctx)
    internet: Hysteresis[bool] = Hysteresis(cfg.confirm)
    ctx.health.register("internet")
    down_since: dict[str, float] = {}
    task_status.started()
    while True:
        online = await probe_internet(host, port)
        change = internet.observe(online, ctx.wall())
        if change is not None:
            # Counted before the news goes out: the alerter flushes the outbox on it.
            held = await _pending_alerts(ctx) if online else 0
            ctx.publish(
                InternetState(at=ctx.wall(), online=online, since=change.since, target=host)
            )
            log.info("internet_state", online=online)
            if online:
                ctx.health.set("internet", Health.READY)
                ctx.poll_now.set()
                _recovered(ctx, "internet", down_since.pop("internet", None), held=held)
            else:
                ctx.health.set("internet", Health.DEGRADED, f"cannot reach {host}")
                down_since["internet"] = change.since
        any_down = not online
        async with trio.open_nursery() as nursery:
            for printer in ctx.config.printers:
                nursery.start_soon(_probe_printer, ctx, printer.name)
        for printer in ctx.config.printers:
            link = ctx.printer_links.get(printer.name)
            if link is not None and link.state is not None and not link.state.can_print:
                any_down = True
        await trio.sleep(cfg.interval_down if any_down else cfg.interval)


async def _probe_printer(ctx: ActorContext, name: str) -> None:
    """Probe one printer; ``report_printer`` publishes changes and records recoveries.

    A probe waits while a job holds the printer (one connection at a time); if that takes
    longer than ``PRINTER_PROBE_TIMEOUT`` nothing is reported: the job reports what it sees.
    """
    transport = ctx.transports[name]
    with trio.move_on_after(PRINTER_PROBE_TIMEOUT):
        try:
            status = await transport.probe()
            reason = ""
        except PrinterOffline as exc:
            status = PrinterStatus(online=False)
            reason = str(exc)
        ctx.report_printer(name, status, reason=reason)
        # Reached (again): its actor asks what it supports. An earlier ticket's id came
        # back: its actor settles the job.
        if (status.can_print and transport.capabilities is None) or transport.has_late_proofs:
            ctx.ring((name,))


async def _pending_alerts(ctx: ActorContext) -> int:
    """Alert mails waiting in the outbox: what an internet outage held back (orders wait in
    Wix, where we cannot count them)."""
    try:
        return len(await ctx.spool.get().pending_alerts(limit=1000))
    except (RuntimeError, SpoolError):  # spool not open or failing: report none held
        return 0


def _recovered(ctx: ActorContext, what: str, since: float | None, *, held: int) -> None:
    if since is None:
        return
    now = ctx.wall()
    ctx.publish(
        RecoveryRecorded(at=now, what=what, down_since=since, duration=now - since, held=held)
    )
