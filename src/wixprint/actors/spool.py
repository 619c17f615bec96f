"""Spool actor: owns the SQLite database for the life of the tree.

It opens (and migrates) the spool before anything else starts, hands the handle to the other
actors through ``ctx.spool``, keeps the per-printer queue statistics cached for the status
surface (so no request ever waits on the database), and prunes old orders once a day (by
Wix's clock: ``spool.db_memory``). The
root supervisor is rest_for_one with this actor first: if it restarts, everything after it
restarts with the new handle.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import trio

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.errors import ConfigError, SpoolError, SpoolUnwritable
from wixprint.events import StorageState
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool, open_spool
from wixprint.spool.horizons import POLL_MARK
from wixprint.spool.lock import hold_state_lock
from wixprint.spool.reserve import RESERVE_BYTES, hold_reserve, release_reserve
from wixprint.spool.storage import (
    StorageVerdict,
    WriteCheck,
    pause_reason,
    storage_verdict,
    write_check_of,
)
from wixprint.supervisor import current_child

CACHE_EVERY = 2.0
WRITE_CHECK_EVERY = 300.0
WRITE_RETRY_EVERY = 5.0
"""While the spool cannot write: how often to try again (health goes back to ready at once)."""
PRUNE_EVERY = 24 * 3600.0


def spool_path(ctx: ActorContext) -> Path:
    return Path(ctx.config.service.state_dir) / "spool.sqlite3"


async def run_spool(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    ctx.health.register("spool", critical=True)
    path = spool_path(ctx)
    problem = state_dir_problem(path)  # a few quick calls, once at start
    if problem:
        ctx.health.set("spool", Health.DOWN, problem)
        raise ConfigError([f"service.state_dir: {problem}"])
    try:
        # The state folder's lock: a restore refuses while we hold it, and we never open a
        # spool that a restore is replacing.
        with hold_state_lock(path.parent, holder="service"):
            async with open_spool(path, clock=ctx.wall) as spool:
                if spool.restore_horizon is not None:
                    get_logger("spool").warning(
                        "spool_restored_from_backup", reprint_before=spool.restore_horizon
                    )
                # The first start (the not_before gate) is the clock actor's: it records it
                # only from a time someone vouches for.
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


def state_dir_problem(spool_file: Path) -> str:
    """Why the service could never write its spool there (a configuration matter: a restart
    changes nothing), or "". A full disk is not one: it passes, and is reported as down."""
    folder = spool_file.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {folder}: {exc.strerror}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in {folder} (read-only, or not the service user's)"
    if spool_file.exists() and not os.access(spool_file, os.R_OK | os.W_OK):
        return f"cannot write {spool_file} (read-only, or not the service user's)"
    return ""


def prune_after(ctx: ActorContext) -> float:
    """Seconds of Wix time an order row outlives its last update: the retention, and never
    less than the poll overlap plus a day."""
    return max(ctx.config.service.retention_days * 86400.0, ctx.config.wix.overlap + 86400.0)


async def _maintain(ctx: ActorContext, spool: Spool) -> None:
    """Refresh the queue cache, prove now and then that the spool can write, prune daily.

    A spool that cannot write (disk full, read-only card) makes the service *down* with the
    reason, and this actor keeps running: crashing it would restart the whole tree, web
    server included, and hide the reason from ``/health`` while nothing gets better.
    """
    storage = _Storage(ctx, spool)
    spool.on_unwritable = lambda _exc: ctx.spool_check.ring()
    await storage.check()
    last_write = last_prune = trio.current_time()
    keep_for = prune_after(ctx)
    stop = current_child().stop_requested
    while True:
        rung = await _wait(stop, ctx.spool_check, CACHE_EVERY)
        if stop.is_set():
            return  # closing the connection is the async-with's job, uncancelled
        await _refresh(ctx, spool)
        now = trio.current_time()
        due = WRITE_CHECK_EVERY if storage.verdict.intake else WRITE_RETRY_EVERY
        if rung or now - last_write >= due:
            await storage.check()
            last_write = now
        if storage.verdict.intake and now - last_prune >= PRUNE_EVERY:
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


class _Storage:
    """The spool's disk as this actor sees it: write checks, the reserve, intake, health."""

    def __init__(self, ctx: ActorContext, spool: Spool) -> None:
        self._ctx = ctx
        self._spool = spool
        self._folder = spool.path.parent
        self._since = ctx.wall()
        self.verdict = storage_verdict(WriteCheck.OK, "", intake_paused=False)

    async def check(self) -> None:
        """One small committed write; on a full disk the reserve goes, and intake waits
        until it is back. Health and a ``StorageState`` event follow the outcome."""
        log = get_logger("spool")
        check, detail = await self._try_write()
        if check is WriteCheck.FULL:
            freed = await trio.to_thread.run_sync(release_reserve, self._folder)
            if freed:
                log.error("disk_full_reserve_released", freed_bytes=freed)
                self._spool.intake_paused = pause_reason(WriteCheck.FULL)
                check, detail = await self._try_write()
        if check is not WriteCheck.OK:
            self._spool.intake_paused = pause_reason(check)
        elif await self._hold_reserve():
            self._spool.intake_paused = ""
        elif not self._spool.intake_paused:  # no room for the reserve: as full as can be
            self._spool.intake_paused = pause_reason(WriteCheck.FULL)
        self._report(storage_verdict(check, detail, intake_paused=bool(self._spool.intake_paused)))

    async def _try_write(self) -> tuple[WriteCheck, str]:
        # Our own failed write must not ring for another check: the actor would check
        # again at once, forever (a busy loop that also froze the virtual clock in tests).
        ring, self._spool.on_unwritable = self._spool.on_unwritable, None
        try:
            await self._spool.set_meta("alive", str(self._ctx.wall()))
        except SpoolUnwritable as exc:
            return write_check_of(exc), str(exc)
        finally:
            self._spool.on_unwritable = ring
        return WriteCheck.OK, ""

    async def _hold_reserve(self) -> bool:
        try:
            return await trio.to_thread.run_sync(
                partial(hold_reserve, self._folder, room=RESERVE_BYTES)
            )
        except OSError as exc:  # read-only again, or the card fails: the next check says
            get_logger("spool").warning("disk_reserve_failed", error=exc.strerror or str(exc))
            return False

    def _report(self, verdict: StorageVerdict) -> None:
        log = get_logger("spool")
        ctx, old = self._ctx, self.verdict
        ctx.health.set("spool", verdict.health, verdict.reason)
        if (verdict.writable, verdict.intake) == (old.writable, old.intake):
            self.verdict = verdict
            return
        self._since = ctx.wall()
        self.verdict = verdict
        if verdict.intake:
            log.info("spool_writable_again")
        elif verdict.writable:
            log.error("spool_intake_paused", reason=verdict.reason)
        else:
            log.error("spool_not_writable", reason=verdict.reason)
        ctx.publish(
            StorageState(
                at=ctx.wall(),
                writable=verdict.writable,
                intake=verdict.intake,
                since=self._since,
                reason=verdict.reason,
            )
        )


async def _refresh(ctx: ActorContext, spool: Spool) -> None:
    stats = await spool.queue_stats()
    ctx.queue_cache.clear()
    ctx.queue_cache.update(stats)
    aside = sum(q.attention for q in stats.values())
    ctx.attention_cache[:] = await spool.attention_jobs() if aside else []
    for printer in ctx.config.printers:
        q = stats.get(printer.name)
        ctx.metrics.set_queue(printer.name, q.depth if q else 0, q.oldest_age if q else None)
