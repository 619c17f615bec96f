"""Spool actor: owns the SQLite database for the life of the tree.

It opens (and migrates) the spool before anything else starts, hands the handle to the other
actors through ``ctx.spool``, keeps the per-printer queue statistics cached for the status
surface (so no request ever waits on the database), and prunes old history once a day. The
root supervisor is rest_for_one with this actor first: if it restarts, everything after it
restarts with the new handle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import trio

from wixprint.actors.context import ActorContext
from wixprint.errors import SpoolError
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool, open_spool
from wixprint.supervisor import current_child

CACHE_EVERY = 2.0
WRITE_CHECK_EVERY = 300.0
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


async def _maintain(ctx: ActorContext, spool: Spool) -> None:
    log = get_logger("spool")
    last_write = last_prune = trio.current_time()
    retention = ctx.config.service.retention_days * 86400.0
    stop = current_child().stop_requested
    while True:
        with trio.move_on_after(CACHE_EVERY):
            await stop.wait()
        if stop.is_set():
            return  # closing the connection is the async-with's job, uncancelled
        await _refresh(ctx, spool)
        now = trio.current_time()
        if now - last_write >= WRITE_CHECK_EVERY:
            await spool.set_meta("alive", str(ctx.wall()))
            last_write = now
        if now - last_prune >= PRUNE_EVERY:
            pruned = await spool.prune(printed_older_than=retention)
            log.info("spool_pruned", rows=pruned)
            last_prune = now


async def _refresh(ctx: ActorContext, spool: Spool) -> None:
    stats = await spool.queue_stats()
    ctx.queue_cache.clear()
    ctx.queue_cache.update(stats)
    for printer in ctx.config.printers:
        q = stats.get(printer.name)
        ctx.metrics.set_queue(printer.name, q.depth if q else 0, q.oldest_age if q else None)
