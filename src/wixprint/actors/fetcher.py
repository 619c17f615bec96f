"""Fetcher actor: polls Wix, the source of truth, from a persisted high-water mark.

Per ferd's rule the actor starts "disconnected": it is ready at once and a Wix outage is a
state (backoff, degraded health), never a crash loop. The mark advances only after the spool
committed every order of a page, so a crash between fetch and commit refetches, never skips.
"""

from __future__ import annotations

import random
from contextlib import aclosing

import trio

from wixprint.actors.context import ActorContext
from wixprint.actors.intake import accept_orders, wait_not_before
from wixprint.actors.pending import run_pending
from wixprint.errors import SpoolUnwritable, WixAuthError, WixRequestError, WixUnavailable
from wixprint.events import WixAuthFailed, WixReachable
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool.horizons import POLL_MARK
from wixprint.spool.storage import pause_reason, write_check_of
from wixprint.supervisor import current_child, faults
from wixprint.wix.client import WixClient, next_poll_delay, open_wix_client
from wixprint.wix.diagnosis import diagnose_auth
from wixprint.wix.intake import POLL_SORT, advance_mark, build_search_filter, initial_mark

POLL_RESUME = "poll_resume"
"""Cursor: how far a poll got before it was interrupted ("" once a poll completed)."""
AUTH_RETRY = 300.0
"""Seconds between polls while Wix rejects our key: a human must fix the configuration."""


async def run_fetcher(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    log = get_logger("fetcher")
    cfg = ctx.config.wix
    await ctx.spool.wait_open()
    ctx.health.register("fetcher")
    rng = random.Random()
    failures = 0
    auth_failed = False
    spool_refused = False
    # One line, not a parenthesized group: mutmut's parser (parso) cannot read that form.
    wix = open_wix_client(
        cfg.base_url, cfg.api_key, cfg.site_id, request_timeout=cfg.request_timeout
    )
    async with wix as client, trio.open_nursery() as nursery:
        task_status.started()
        if ctx.clock.first_start is None and not cfg.not_before:
            ctx.health.set("fetcher", Health.DEGRADED, "waiting for a true clock (first start)")
        not_before = await wait_not_before(ctx)
        # Held pre-orders and payment methods: the spool's schedule, on the same client.
        nursery.start_soon(run_pending, ctx, client, not_before)
        me = current_child()
        while not me.stop_requested.is_set():
            delay = cfg.poll_interval
            try:
                await poll_once(ctx, client, not_before)
            except WixUnavailable as exc:
                failures += 1
                delay = next_poll_delay(
                    failures, base=cfg.poll_interval, retry_after=exc.retry_after, rng=rng
                )
                ctx.health.set("fetcher", Health.DEGRADED, f"Wix unreachable: {exc}")
                ctx.metrics.count_wix_request("unavailable")
                log.warning("wix_unavailable", failures=failures, retry_in=round(delay, 1))
            except WixAuthError as exc:
                delay = AUTH_RETRY
                found = diagnose_auth(
                    exc.status_code,
                    message=exc.wix_message,
                    code=exc.wix_code,
                    site_id=cfg.site_id,
                )
                ctx.health.set("fetcher", Health.DEGRADED, found.reason)
                ctx.metrics.count_wix_request("auth")
                if not auth_failed:
                    ctx.publish(
                        WixAuthFailed(
                            at=ctx.wall(),
                            status_code=exc.status_code,
                            causes=found.cause_names,
                            wix_said=found.wix_said,
                        )
                    )
                    log.error("wix_auth_rejected", status=exc.status_code, causes=found.cause_names)
                auth_failed = True
            except SpoolUnwritable as exc:
                # Disk full or read-only: the orders wait in Wix (the mark did not move) and
                # come with the first poll after the spool takes writes again. The same words
                # whether this poll or the spool actor's check met it first.
                reason = f"new orders wait: {pause_reason(write_check_of(exc))}"
                ctx.health.set("fetcher", Health.DEGRADED, reason)
                if not spool_refused:
                    log.warning("intake_waits_for_spool", error=str(exc))
                spool_refused = True
            except WixRequestError as exc:
                # Our request was refused: a bug, but polling again later is still right.
                delay = AUTH_RETRY
                ctx.health.set("fetcher", Health.DEGRADED, f"Wix refused the request: {exc}")
                ctx.metrics.count_wix_request("rejected")
                log.error("wix_request_rejected", status=exc.status_code, error=str(exc))
            else:
                if failures or auth_failed or ctx.health.get("fetcher") is None:
                    ctx.publish(WixReachable(at=ctx.wall()))
                failures = 0
                auth_failed = False
                spool_refused = False
                me.mark_healthy()  # a whole poll went through: a later crash restarts at once
                ctx.health.set("fetcher", Health.READY)
                ctx.metrics.count_wix_request("ok")
            await _wait_next(ctx, delay)
        nursery.cancel_scope.cancel()


async def poll_once(ctx: ActorContext, client: WixClient, not_before: str) -> None:
    """One poll, from what the spool holds: the mark and, after a crash mid-poll, how far the
    interrupted poll got (``POLL_RESUME``).

    Every order of a page is taken in (or set aside) before the mark moves; orders already
    spooled cost a lookup. When more pages follow, the page's newest ``updatedDate`` is kept
    as the resume point, so a crash costs at most the page in hand, however many pages the
    overlap window spans: under any crash rate that lets one page through, polls progress.
    The next complete poll reads the whole overlap again (late-indexed orders).
    """
    cfg = ctx.config.wix
    spool = ctx.spool.get()
    # Wix's time where the Pi's clock is known off: a mark capped by a clock days behind
    # would never move, and every poll would read back to it.
    now = ctx.clock.now(ctx.wall())
    mark = await spool.get_cursor(POLL_MARK) or initial_mark(not_before, now)
    resume = await spool.get_cursor(POLL_RESUME) or None
    search_filter = build_search_filter(
        mark,
        overlap=cfg.overlap,
        statuses=cfg.print_statuses,
        restaurants_app_only=cfg.restaurants_app_only,
        resume=resume,
    )
    log = get_logger("fetcher")
    # aclosing: a crash mid-page (spool, fault) closes the page generator here and now,
    # not whenever the garbage collector finds it.
    pages = client.search_orders(filter=search_filter, sort=POLL_SORT, limit=cfg.page_limit)
    async with aclosing(pages):
        async for page in pages:
            faults.point("fetcher.after_fetch")
            for problem in page.malformed:
                log.warning("order_malformed", source="poll", problem=problem)
            # Orders already spooled cost one lookup for the page; a bad one is set aside.
            await accept_orders(ctx, page.orders, source="poll", not_before=not_before)
            # ``now`` caps the mark: one garbled far-future date must not hide later orders.
            now = ctx.clock.now(ctx.wall())
            new_mark = advance_mark(mark, page.orders, now=now)
            if new_mark is not None and new_mark != mark:
                await spool.set_cursor(POLL_MARK, new_mark)
                mark = new_mark
            reached = advance_mark(None, page.orders, now=now)
            if page.next_cursor is not None and reached is not None and reached != resume:
                await spool.set_cursor(POLL_RESUME, reached)
                resume = reached
    if resume is not None:
        await spool.set_cursor(POLL_RESUME, "")


async def _wait_next(ctx: ActorContext, delay: float) -> None:
    """Sleep until the next poll, or until someone asks for one now (internet back)."""
    stop = current_child().stop_requested
    with trio.move_on_after(delay):
        async with trio.open_nursery() as nursery:

            async def on(event: trio.Event) -> None:
                await event.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(on, ctx.poll_now)
            nursery.start_soon(on, stop)
    if ctx.poll_now.is_set():
        ctx.poll_now = trio.Event()
