"""Spool actor: owns the SQLite database for the life of the tree.

It opens (and migrates) the spool before anything else starts, hands the handle to the other
actors through ``ctx.spool``, keeps the per-printer queue statistics cached for the status
surface (so no request ever waits on the database), and prunes old orders once a day (by
Wix's clock: ``spool.db_memory``). The
root supervisor is rest_for_one with this actor first: if it restarts, everything after it
restarts with the new handle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import trio

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.errors import SpoolError
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool, open_spool
from wixprint.spool.horizons import POLL_MARK
from wixprint.supervisor import current_child

CACHE_EVERY = 2.0
WRITE_CHECK_EVERY = 300.0
WRITE_RETRY_EVERY = 5.0
"""While the spool cannot write: how often to try again (health goes back to ready at once)."""
PRUNE_EVERY = 24 * 3600.0
FIRST_START = "first_start"


def spool_path(ctx: ActorContext) -> Path:
    return Path(ctx.config.service.state_dir) / "spool.sqlite3"


async def run_spool(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    log = get_logger("spool")
    ctx.health.register("spool", critical=True)
    path = spool_path(ctx)
    await trio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    try:
        async with open_spool(path, clock=ctx.wall) as spool:
            if spool.restore_horizon is not None:
                log.warning("spool_restored_from_backup", reprint_before=spool.restore_horizon)
            if await spool.get_meta(FIRST_START) is None:
                first = datetime.fromtimestamp(ctx.wall(), UTC).isoformat().replace("+00:00", "Z")
                await spool.set_meta(FIRST_START, first)
                log.info("first_start_recorded", first_start=first)
            await _refresh(ctx, spool)
            ctx.spool.set(spool)
            ctx.health.set("spool", Health.READY)
            task_status.started()
            try:
                await _maintain(ctx, spool)
            finally:
                ctx.spool.set(None)
    except SpoolError as exc:
        ctx.health.set("spool", Health.DOWN, str(exc))
        raise


def prune_after(ctx: ActorContext) -> float:
    """Seconds of Wix time an order row outlives its last update: the retention, and never
    less than the poll overlap plus a day."""
    return max(ctx.config.service.retention_days * 86400.0, ctx.config.wix.overlap + 86400.0)


async def _maintain(ctx: ActorContext, spool: Spool) -> None:
    """Refresh the queue cache, prove now and then that the spool can write, prune daily.

    A spool that cannot write (disk full, read-only file) makes the service *down* with the
    reason, and this actor keeps running: crashing it would restart the whole tree, web
    server included, and hide the reason from ``/health`` while nothing gets better.
    """
    last_write = last_prune = trio.current_time()
    keep_for = prune_after(ctx)
    stop = current_child().stop_requested
    writable = True
    while True:
        rung = await _wait(stop, ctx.spool_check, CACHE_EVERY)
        if stop.is_set():
            return  # closing the connection is the async-with's job, uncancelled
        await _refresh(ctx, spool)
        now = trio.current_time()
        due = WRITE_CHECK_EVERY if writable else WRITE_RETRY_EVERY
        if rung or now - last_write >= due:
            writable = await _check_write(ctx, spool, was_writable=writable)
            last_write = now
        if writable and now - last_prune >= PRUNE_EVERY:
            # By Wix's clock (the poll mark), never closer than the next poll could reach.
            mark = await spool.get_cursor(POLL_MARK)
            pruned = await spool.prune(keep_for=keep_for, reference=mark)
            get_logger("spool").info("spool_pruned", rows=pruned)
            last_prune = now


async def _wait(stop: trio.Event, bell: Doorbell, seconds: float) -> bool:
    """Sleep until stopped, rung or ``seconds`` passed; True if rung."""
    rung = False
    with trio.move_on_after(seconds):
        async with trio.open_nursery() as nursery:

            async def ring_waiter() -> None:
                nonlocal rung
                await bell.wait()
                rung = True
                nursery.cancel_scope.cancel()

            async def stop_waiter() -> None:
                await stop.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(ring_waiter)
            nursery.start_soon(stop_waiter)
    return rung


async def _check_write(ctx: ActorContext, spool: Spool, *, was_writable: bool) -> bool:
    """One small committed write; health follows the outcome. True if it was written."""
    log = get_logger("spool")
    try:
        await spool.set_meta("alive", str(ctx.wall()))
    except SpoolError as exc:
        ctx.health.set("spool", Health.DOWN, f"cannot write: {exc}")
        if was_writable:
            log.error("spool_not_writable", error=str(exc))
        return False
    if not was_writable:
        ctx.health.set("spool", Health.READY)
        log.info("spool_writable_again")
    return True


async def _refresh(ctx: ActorContext, spool: Spool) -> None:
    stats = await spool.queue_stats()
    ctx.queue_cache.clear()
    ctx.queue_cache.update(stats)
    aside = sum(q.attention for q in stats.values())
    ctx.attention_cache[:] = await spool.attention_jobs() if aside else []
    for printer in ctx.config.printers:
        q = stats.get(printer.name)
        ctx.metrics.set_queue(printer.name, q.depth if q else 0, q.oldest_age if q else None)
