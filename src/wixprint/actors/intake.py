"""Order intake: the one path by which a Wix order reaches the spool.

The poller and the webhook route (and any later way in) hand raw Wix order objects to
:func:`accept_orders`. The contract (``docs/architecture.md``, "The intake contract"):

* **Cheap when known.** One spool read for the whole batch first: an order whose id and
  ``updatedDate`` the spool already holds (its row, its tombstone, or its quarantined copy)
  costs that lookup and nothing else: no parse, no write, no fault point. So a poll that
  reads its overlap window again, or a fetcher restarted mid-page, redoes at most the order
  it had in hand.
* **Isolated.** Whatever goes wrong with one order's data (cleaning, parsing, deciding,
  committing) sets that order aside: its text is kept in the spool's quarantine, one log line
  and one alert name it, and intake goes on with the next. Only a spool failure escapes,
  which is not about the order (the caller's mark then does not move).
* **One rule.** What is printable, where it goes and when is ``receipts.policy.decide``, for
  every way in alike; the same function takes a held pre-order whose time came
  (:func:`release_orders`) and an order whose payment method arrived (:func:`settle_payment`)
  back through the same steps, so nothing prints by a side door.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wixprint.actors.context import ActorContext
from wixprint.errors import ClockUntrusted, SpoolError
from wixprint.events import JobsQueued, OrderQuarantined, OrderReceived
from wixprint.logs import get_logger
from wixprint.receipts.policy import decide
from wixprint.spool import Spool
from wixprint.spool.revisions import is_newer
from wixprint.spool.types import AcceptOutcome, AcceptResult, IncomingOrder, QuarantinedOrder
from wixprint.supervisor import faults
from wixprint.wix.intake import order_key, revision_stamp
from wixprint.wix.jsontext import ascii_dump, loads, safe_json, safe_text
from wixprint.wix.parse import parse_order

log = get_logger("intake")


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


@dataclass(frozen=True, slots=True)
class _Arrival:
    """One raw order as it came in, with what the lookup needs of it."""

    raw: Mapping[str, object]
    key: str | None
    stamp: str
    source: str


async def accept_orders(
    ctx: ActorContext,
    raws: Sequence[Mapping[str, object]],
    *,
    source: str,
    not_before: str,
) -> None:
    """Take in a batch of raw Wix orders (a search page, one webhook's order).

    Never raises for order data; raises ``SpoolError`` when the spool cannot read or write.
    """
    spool = ctx.spool.get()
    batch = [_Arrival(raw, order_key(raw), revision_stamp(raw), source) for raw in raws]
    known = await spool.known_revisions([a.key for a in batch if a.key is not None])
    for arrival in batch:
        seen = known.get(arrival.key, ()) if arrival.key is not None else ()
        if arrival.key is not None and any(not is_newer(arrival.stamp, s) for s in seen):
            continue  # known: the lookup sufficed
        await _accept_one(ctx, spool, arrival, not_before)


async def release_orders(
    ctx: ActorContext, raws: Sequence[Mapping[str, object]], *, not_before: str
) -> None:
    """Decide again on orders whose tickets may have come due (held pre-orders at their
    release time): no lookup, since the same ``updatedDate`` is the point. The revision rules
    print each held ticket once, whoever releases it first."""
    spool = ctx.spool.get()
    for raw in raws:
        arrival = _Arrival(raw, order_key(raw), revision_stamp(raw), "release")
        await _accept_one(ctx, spool, arrival, not_before)


async def settle_payment(
    ctx: ActorContext,
    order_id: str,
    transactions: Mapping[str, object] | None,
    *,
    not_before: str,
) -> None:
    """The payment method arrived (``transactions``), or will not (None): the order's driver
    slips and customer receipts print now. Nothing happens if the spool does not hold the
    order."""
    spool = ctx.spool.get()
    text = await spool.order_source(order_id)
    if text is None:
        return
    raw = loads(text)
    if not isinstance(raw, dict):
        return
    arrival = _Arrival(raw, order_id, revision_stamp(raw), "payment")
    answer = "" if transactions is None else ascii_dump(transactions)
    await _accept_one(ctx, spool, arrival, not_before, settled=answer)


async def _accept_one(
    ctx: ActorContext,
    spool: Spool,
    arrival: _Arrival,
    not_before: str,
    *,
    settled: str | None = None,
) -> None:
    stage = "clean"
    try:
        data, text, repaired = safe_json(arrival.raw)
        if repaired:
            log.warning("order_text_repaired", order_id=arrival.key, problems=list(repaired))
        stage = "parse"
        parsed = parse_order(data, ctx.tz)
        order = parsed.order
        if parsed.warnings:
            log.info("order_fields_ignored", order=order.number, fields=list(parsed.warnings))
        stage = "route"
        now = ctx.clock.now(ctx.wall())
        decision = decide(order, ctx.config, not_before=not_before, now=now)
        location = order.location
        incoming = IncomingOrder(
            order_id=order.id,
            number=order.number,
            status=order.status,
            created=order.created_raw or "",
            updated=revision_stamp(data),
            fingerprints=decision.fingerprints,
            printable=decision.printable,
            raw_json=text,
            targets=decision.targets,
            source=arrival.source,
            changes_until=decision.changes_until,
            hold_until=decision.hold_until,
            notice_targets=decision.notice_targets,
            await_payment=True,
            settle_payment=settled is not None,
            payment=settled or "",
            skip_reason=decision.reason,
            due=decision.due,
            location_id=(location.id or "") if location else "",
            location_name=(location.name or "") if location else "",
        )
        stage = "commit"
        result = await spool.accept(incoming)
    except SpoolError:
        raise  # the spool, not the order: nothing to set aside
    except Exception as exc:  # any failure on one order's data: set it aside, go on
        await _quarantine(ctx, spool, arrival, stage, exc)
        return
    if result.outcome is AcceptOutcome.DUPLICATE:
        return
    faults.point("spool.after_commit")
    log.info(
        "order_accepted",
        order=order.number,
        outcome=result.outcome.value,
        revision=result.revision,
        jobs=len(result.job_ids),
        source=arrival.source,
    )
    _log_decision(order.number, result, decision.reason, decision.skipped_items)
    if result.hold_until or result.payment_wait:
        ctx.pending.ring()  # the fetcher's scheduler releases it, or fetches the payment
    ctx.publish(
        OrderReceived(
            at=ctx.wall(),
            order_id=order.id,
            number=order.number,
            revision=result.revision,
            jobs=len(result.job_ids),
            source=arrival.source,
            outcome=result.outcome.value,
            first_sight=result.first_sight,
        )
    )
    if result.job_ids:
        ctx.ring()
        ctx.publish(JobsQueued(at=ctx.wall(), printers=tuple(ctx.doorbells)))


def _log_decision(number: str, result: AcceptResult, reason: str, skipped: Sequence[str]) -> None:
    """Say what does not print, and what waits: never silently."""
    if result.outcome is AcceptOutcome.IGNORED and reason:
        log.info("order_skipped", order=number, reason=reason)
    elif skipped and result.outcome in (AcceptOutcome.NEW, AcceptOutcome.SCHEDULED):
        log.info("order_items_skipped", order=number, kinds=list(skipped))
    if result.outcome is AcceptOutcome.SCHEDULED:
        log.info("order_scheduled", order=number, until=result.hold_until)


def _number_of(raw: Mapping[str, object]) -> str:
    number = raw.get("number")
    if isinstance(number, bool) or not isinstance(number, (str, int)):
        return "?"
    text = safe_text(str(number)).strip()[:40]
    return text or "?"


async def _quarantine(
    ctx: ActorContext, spool: Spool, arrival: _Arrival, stage: str, exc: Exception
) -> None:
    """Keep the order's text aside, log it and alert once; never for a spool failure."""
    text = ascii_dump(arrival.raw)
    kept = QuarantinedOrder(
        key=arrival.key or "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest(),
        number=_number_of(arrival.raw),
        updated=arrival.stamp,
        source=arrival.source,
        stage=stage,
        # The message stays in the spool: it may quote order content, which logs never carry.
        error=safe_text(f"{type(exc).__name__}: {exc}"),
        raw=text,
    )
    error = type(exc).__name__
    log.error(
        "order_quarantined",
        order=kept.number,
        order_id=kept.key,
        source=kept.source,
        stage=stage,
        error=error,
    )
    if await spool.quarantine_order(kept):
        ctx.publish(
            OrderQuarantined(
                at=ctx.wall(),
                order_id=kept.key,
                number=kept.number,
                source=kept.source,
                stage=stage,
                error=error,
            )
        )
