"""Order intake: the one path by which a Wix order reaches the spool.

Both the poller and the webhook route hand raw Wix order objects here. This is where an order
becomes an ``IncomingOrder`` (status filter, ``not_before``, routing to printers, kitchen
fingerprint), is committed, and the printers' doorbells ring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from wixprint.actors.context import ActorContext
from wixprint.errors import ClockUntrusted
from wixprint.events import JobsQueued, OrderReceived
from wixprint.logs import get_logger
from wixprint.receipts.routing import plan_targets
from wixprint.spool.types import AcceptOutcome, AcceptResult, IncomingOrder
from wixprint.supervisor import faults
from wixprint.wix.intake import is_before
from wixprint.wix.parse import kitchen_fingerprint, parse_order

log = get_logger("intake")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    accepted: AcceptResult | None
    """None when the order was skipped (before ``not_before``) or malformed."""
    problem: str | None = None


def not_before_now(ctx: ActorContext) -> str:
    """``wix.not_before`` if configured, else the service's first start.

    Raises:
        ClockUntrusted: the first start is not known yet (no trustworthy time so far).
    """
    found = ctx.config.wix.not_before or ctx.clock.first_start
    if not found:
        raise ClockUntrusted("the first start is not recorded yet: waiting for a true clock")
    return found


async def wait_not_before(ctx: ActorContext) -> str:
    """:func:`not_before_now`, waiting until the clock actor could record the first start."""
    return ctx.config.wix.not_before or await ctx.clock.wait_first_start()


async def accept_raw(
    ctx: ActorContext, raw: Mapping[str, object], *, source: str, not_before: str
) -> IntakeResult:
    """Parse, route and spool one raw Wix order. Never raises for bad order data."""
    try:
        parsed = parse_order(raw, ctx.tz)
    except ValueError as exc:
        log.warning("order_malformed", source=source, problem=str(exc))
        return IntakeResult(None, str(exc))
    order = parsed.order
    if parsed.warnings:
        log.info("order_fields_ignored", order=order.number, fields=list(parsed.warnings))
    if not_before and is_before(order.created_raw, not_before):
        log.debug("order_before_not_before", order=order.number)
        return IntakeResult(None, "created before not_before")
    printable = order.status in ctx.config.wix.print_statuses
    incoming = IncomingOrder(
        order_id=order.id,
        number=order.number,
        status=order.status,
        created=order.created_raw or "",
        updated=order.updated_raw or order.created_raw or "",
        fingerprint=kitchen_fingerprint(order),
        printable=printable,
        raw_json=json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
        targets=plan_targets(order, ctx.config),
        source=source,
    )
    spool = ctx.spool.get()
    result = await spool.accept(incoming)
    faults.point("spool.after_commit")
    if result.outcome is not AcceptOutcome.DUPLICATE:
        log.info(
            "order_accepted",
            order=order.number,
            outcome=result.outcome.value,
            revision=result.revision,
            jobs=len(result.job_ids),
            source=source,
        )
        ctx.publish(
            OrderReceived(
                at=ctx.wall(),
                order_id=order.id,
                number=order.number,
                revision=result.revision,
                jobs=len(result.job_ids),
                source=source,
                outcome=result.outcome.value,
            )
        )
    if result.job_ids:
        ctx.ring()
        ctx.publish(JobsQueued(at=ctx.wall(), printers=tuple(ctx.doorbells)))
    return IntakeResult(result)
