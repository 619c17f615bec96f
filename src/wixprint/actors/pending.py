"""Tickets that wait: held pre-orders and payment methods, run inside the fetcher.

Intake stores what waits in the spool (``hold_until``, ``payment_wait``) and rings
``ctx.pending``; this loop reads the spool's pending orders and

* **releases** a held pre-order when its time comes: the order is fetched again from Wix by
  id (a cancellation or change while it was held is seen then, not just by the poll), else
  the stored copy is used, and both go through intake's one rule (``release_orders``);
* **fetches the payment method** of an order whose driver slip or customer receipt waits
  for it: one Order Transactions call per order, bounded by ``PAYMENT_WAIT``; whatever
  happens (an answer, an outage, a 404) the order is settled, so those tickets print within
  seconds, with the method or saying it is unknown. The kitchen ticket never waits.

The spool is the schedule: a restart, a power cut or a clock correction loses nothing, and
a release is an accept like any other, so it prints each ticket once whoever comes first.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from datetime import datetime

import trio

from wixprint.actors.context import ActorContext
from wixprint.actors.intake import release_orders, settle_payment
from wixprint.errors import SpoolUnwritable
from wixprint.logs import get_logger
from wixprint.receipts.schedule import is_due
from wixprint.spool.types import PendingOrder
from wixprint.wix.client import WixClient
from wixprint.wix.jsontext import loads
from wixprint.wixtime import parse_wix_time

PAYMENT_WAIT = 5.0
"""Seconds a driver slip / customer receipt waits for Wix's Order Transactions answer."""
REFETCH_WAIT = 5.0
"""Seconds a release waits for the order's fresh copy before printing the stored one."""
RECHECK = 60.0
"""Longest sleep between looks at the schedule: the wall clock may be corrected meanwhile."""
PAYMENT_LOOKUPS = 4
"""Payment lookups at once: after an outage a page of 100 orders must not open 100 TLS
connections against Wix's rate limit (the poll's own pages need it too)."""

log = get_logger("fetcher")


async def run_pending(ctx: ActorContext, client: WixClient, not_before: str) -> None:
    """Release held orders and settle payments, for ever (the fetcher cancels it)."""
    spool = ctx.spool.get()
    lookups = trio.CapacityLimiter(PAYMENT_LOOKUPS)
    async with trio.open_nursery() as nursery:
        fetching: set[str] = set()
        while True:
            pending = await spool.pending_orders()
            ctx.scheduled = tuple(p for p in pending if p.hold_until)
            now = ctx.clock.now(ctx.wall())
            wait = RECHECK
            for item in pending:
                if item.payment_wait is not None and item.order_id not in fetching:
                    fetching.add(item.order_id)
                    nursery.start_soon(_settle, ctx, client, item, not_before, fetching, lookups)
                if not item.hold_until:
                    continue
                if is_due(item.hold_until, now):
                    await _release(ctx, client, item, not_before)
                else:
                    wait = min(wait, _seconds_until(item.hold_until, now))
            with trio.move_on_after(wait):
                await ctx.pending.wait()


def _seconds_until(when: str, now: datetime) -> float:
    at = parse_wix_time(when)
    if at is None:
        return 0.0
    return max(0.0, min(RECHECK, math.ceil((at - now).total_seconds() * 10) / 10))


async def _release(
    ctx: ActorContext, client: WixClient, item: PendingOrder, not_before: str
) -> None:
    raw = await _fresh_copy(client, item.order_id)
    if raw is None:
        text = await ctx.spool.get().order_source(item.order_id)
        stored = None if text is None else loads(text)
        if not isinstance(stored, dict):
            return
        raw = stored
    log.info("order_released", order=item.number)
    with _kept_pending_if_unwritable(item):
        await release_orders(ctx, [raw], not_before=not_before)


@contextlib.contextmanager
def _kept_pending_if_unwritable(item: PendingOrder) -> Iterator[None]:
    """A disk that refuses the write leaves the order pending for the next look, instead of
    crashing the fetcher (its restart would meet the same row, again and again)."""
    try:
        yield
    except SpoolUnwritable as exc:
        log.warning("pending_waits_for_spool", order=item.number, error=str(exc))


async def _fresh_copy(client: WixClient, order_id: str) -> Mapping[str, object] | None:
    """Wix's current copy of the order, or None (unreachable, slow, unknown id)."""
    with trio.move_on_after(REFETCH_WAIT):
        try:
            return await client.get_order(order_id)
        except Exception as exc:  # whatever fails, the stored copy prints
            log.warning("order_refetch_failed", error_type=type(exc).__name__)
    return None


async def _settle(
    ctx: ActorContext,
    client: WixClient,
    item: PendingOrder,
    not_before: str,
    fetching: set[str],
    lookups: trio.CapacityLimiter,
) -> None:
    try:
        async with lookups:
            answer = await _payment_answer(client, item)
        if answer is None:
            log.info("payment_unknown", order=item.number)
        with _kept_pending_if_unwritable(item):
            await settle_payment(ctx, item.order_id, answer, not_before=not_before)
    finally:
        fetching.discard(item.order_id)


async def _payment_answer(client: WixClient, item: PendingOrder) -> Mapping[str, object] | None:
    with trio.move_on_after(PAYMENT_WAIT):
        try:
            return await client.list_order_transactions(item.order_id)
        except Exception as exc:  # never let a lookup hold a ticket back
            log.warning("payment_fetch_failed", order=item.number, error_type=type(exc).__name__)
    return None
