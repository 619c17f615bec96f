"""Alerter actor: turns bus events into e-mails through a persistent outbox.

Rules live in ``wixprint.alerts.rules`` (pure). This shell feeds them events and a periodic
tick, writes every resulting mail to the spool's outbox *first*, and a sender drains the outbox
oldest first. SMTP or internet down: mails wait with their original time and go out, in order,
when the way is clear again. SMTP failures back off and never crash the actor.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import trio

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.alerts import AlertAction, AlertEngine
from wixprint.alerts.mailer import (
    MailRejected,
    SmtpSettings,
    build_message,
    retry_delay,
    send_mail,
)
from wixprint.errors import SmtpUnavailable
from wixprint.events import (
    ActorRestarted,
    AlertEvent,
    Event,
    InternetState,
    PrinterState,
    ResourceSample,
    TicketQuarantined,
    WixAuthFailed,
    WixReachable,
)
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool
from wixprint.supervisor import faults

_STATE: dict[str, Literal["raised", "resolved", "repeat"]] = {
    "raise": "raised",
    "repeat": "repeat",
    "resolve": "resolved",
}
TICK_EVERY = 15.0
IDLE_WAIT = 60.0


async def run_alerter(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    cfg = ctx.config
    engine = AlertEngine(
        cfg.alerts, restaurant=cfg.service.restaurant_name, language=cfg.alerts.language, tz=ctx.tz
    )
    spool = await ctx.spool.wait_open()
    outbox_bell = Doorbell()
    ctx.health.register("alerter")
    # Never loses an event it acts on, however far behind it falls (a bounded buffer dropped
    # them in a burst): the latest state per key, every one-off event.
    with ctx.bus.subscribe_coalescing(key=_coalesce_key) as events:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_send_loop, ctx, spool, outbox_bell)
            nursery.start_soon(_tick_loop, ctx, spool, engine, outbox_bell)
            ctx.health.set("alerter", Health.READY)
            task_status.started()
            async for event in events:
                if isinstance(event, AlertEvent):
                    continue
                await _store(ctx, spool, engine.observe(event, ctx.wall()), outbox_bell)
                if isinstance(event, InternetState) and event.online:
                    outbox_bell.ring()


def _coalesce_key(event: Event) -> Hashable | None:
    """Events that stand for a state keep only their latest per key; quarantines and restarts
    are kept one by one (None); what the rules ignore shares one slot, so it cannot pile up."""
    if isinstance(event, TicketQuarantined | ActorRestarted):
        return None
    if isinstance(event, PrinterState):
        return ("printer", event.printer)
    if isinstance(event, WixAuthFailed | WixReachable):
        return "wix"
    if isinstance(event, InternetState | ResourceSample):
        return event.kind
    return "ignored"


async def _store(
    ctx: ActorContext, spool: Spool, actions: Sequence[AlertAction], bell: Doorbell
) -> None:
    log = get_logger("alerter")
    for action in actions:
        await spool.add_alert(
            action.key, action.level, action.subject, action.body, action.raised_at
        )
        log.warning("alert", key=action.key, level=action.level, kind=action.kind)
        ctx.publish(
            AlertEvent(
                at=action.at,
                key=action.key,
                level=action.level,
                subject=action.subject,
                state=_STATE[action.kind],
            )
        )
    if actions:
        bell.ring()


async def _tick_loop(ctx: ActorContext, spool: Spool, engine: AlertEngine, bell: Doorbell) -> None:
    grace = ctx.config.alerts.unprinted_order_after
    while True:
        await trio.sleep(TICK_EVERY)
        unprinted = await spool.unprinted_orders(older_than=grace)
        held = {name: q.depth for name, q in ctx.queue_cache.items()}
        await _store(ctx, spool, engine.tick(ctx.wall(), unprinted=unprinted, held=held), bell)


async def _send_loop(ctx: ActorContext, spool: Spool, bell: Doorbell) -> None:
    log = get_logger("alerter")
    smtp = ctx.config.smtp
    settings = SmtpSettings.from_config(smtp) if smtp.host else None
    limiter = trio.CapacityLimiter(1)
    failures = 0
    while True:
        pending = await spool.pending_alerts()
        if not pending:
            with trio.move_on_after(IDLE_WAIT):
                await bell.wait()
            continue
        delay = 0.0
        for alert in pending:
            if settings is None:
                # No SMTP configured: the alert stays visible in logs, /health and events.
                await spool.mark_alert_sent(alert.id)
                continue
            faults.point("alerter.before_send")
            message = build_message(settings, alert.subject, alert.body, date=alert.raised_at)
            try:
                await send_mail(settings, message, limiter=limiter)
            except (SmtpUnavailable, MailRejected) as exc:
                failures += 1
                await spool.mark_alert_failed(alert.id, type(exc).__name__)
                delay = retry_delay(failures)
                ctx.health.set("alerter", Health.DEGRADED, f"cannot send e-mail: {exc}")
                log.warning("alert_send_failed", alert=alert.id, error=str(exc), retry_in=delay)
                break
            await spool.mark_alert_sent(alert.id)
            failures = 0
            ctx.health.set("alerter", Health.READY)
            ctx.publish(
                AlertEvent(
                    at=ctx.wall(),
                    key=alert.key,
                    level=_level(alert.level),
                    subject=alert.subject,
                    state="sent",
                )
            )
            log.info("alert_sent", alert=alert.id, key=alert.key)
        if delay:
            with trio.move_on_after(delay):
                await bell.wait()


def _level(level: str) -> Literal["critical", "warning", "info"]:
    if level in ("critical", "warning"):
        return "critical" if level == "critical" else "warning"
    return "info"
