"""Alerter actor: turns bus events into e-mails through a persistent outbox.

Rules live in ``wixprint.alerts.rules`` (pure). This shell feeds them events and a periodic
tick, writes every resulting mail to the spool's outbox *first*, and a sender drains the outbox
oldest first. SMTP or internet down: mails wait with their original time and go out, in order,
when the way is clear again. SMTP failures back off and never crash the actor.

A disk that refuses the outbox (full, read-only) must not silence the very alert about it:
such a mail is kept in memory and sent directly (``_Outbox``).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence
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
from wixprint.errors import SmtpUnavailable, SpoolUnwritable
from wixprint.events import AlertEvent, InternetState
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool
from wixprint.spool.types import OutboxAlert
from wixprint.supervisor import faults

_STATE: dict[str, Literal["raised", "resolved", "repeat"]] = {
    "raise": "raised",
    "repeat": "repeat",
    "resolve": "resolved",
}
TICK_EVERY = 15.0
IDLE_WAIT = 60.0
MEMORY_LIMIT = 100
"""Alerts kept in memory while the outbox cannot be written (oldest dropped first)."""


class _Outbox:
    """The spool's alert outbox, and a small memory for when the disk refuses it.

    An alert the outbox cannot take is kept here (negative ids) and mailed with the rest,
    oldest first; a stored alert that was mailed but cannot be marked sent is remembered,
    so it is not mailed again, and marked once the disk takes writes again.
    """

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._memory: deque[OutboxAlert] = deque(maxlen=MEMORY_LIMIT)
        self._unmarked: set[int] = set()
        self._next_id = -1

    async def add(self, key: str, level: str, subject: str, body: str, raised_at: float) -> None:
        try:
            await self._spool.add_alert(key, level, subject, body, raised_at)
        except SpoolUnwritable as exc:
            get_logger("alerter").warning("alert_kept_in_memory", key=key, error=str(exc))
            self._memory.append(
                OutboxAlert(self._next_id, key, level, subject, body, raised_at, attempts=0)
            )
            self._next_id -= 1

    async def pending(self) -> list[OutboxAlert]:
        for alert_id in sorted(self._unmarked):
            try:
                await self._spool.mark_alert_sent(alert_id)
            except SpoolUnwritable:
                break
            self._unmarked.discard(alert_id)
        stored = [a for a in await self._spool.pending_alerts() if a.id not in self._unmarked]
        return sorted([*self._memory, *stored], key=lambda a: a.raised_at)

    async def sent(self, alert: OutboxAlert) -> None:
        if alert.id < 0:
            self._memory.remove(alert)
            return
        try:
            await self._spool.mark_alert_sent(alert.id)
        except SpoolUnwritable:
            self._unmarked.add(alert.id)

    async def failed(self, alert: OutboxAlert, error: str) -> None:
        if alert.id >= 0:
            # The attempt count is a statistic; the mail is retried either way.
            with contextlib.suppress(SpoolUnwritable):
                await self._spool.mark_alert_failed(alert.id, error)


async def run_alerter(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    cfg = ctx.config
    engine = AlertEngine(
        cfg.alerts, restaurant=cfg.service.restaurant_name, language=cfg.alerts.language, tz=ctx.tz
    )
    spool = await ctx.spool.wait_open()
    outbox = _Outbox(spool)
    outbox_bell = Doorbell()
    ctx.health.register("alerter")
    with ctx.bus.subscribe(buffer=1024) as events:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_send_loop, ctx, outbox, outbox_bell)
            nursery.start_soon(_tick_loop, ctx, spool, outbox, engine, outbox_bell)
            ctx.health.set("alerter", Health.READY)
            task_status.started()
            async for event in events:
                if isinstance(event, AlertEvent):
                    continue
                await _store(ctx, outbox, engine.observe(event, ctx.wall()), outbox_bell)
                if isinstance(event, InternetState) and event.online:
                    outbox_bell.ring()


async def _store(
    ctx: ActorContext, outbox: _Outbox, actions: Sequence[AlertAction], bell: Doorbell
) -> None:
    log = get_logger("alerter")
    for action in actions:
        await outbox.add(action.key, action.level, action.subject, action.body, action.raised_at)
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


async def _tick_loop(
    ctx: ActorContext, spool: Spool, outbox: _Outbox, engine: AlertEngine, bell: Doorbell
) -> None:
    grace = ctx.config.alerts.unprinted_order_after
    while True:
        await trio.sleep(TICK_EVERY)
        unprinted = await spool.unprinted_orders(older_than=grace)
        held = {name: q.depth for name, q in ctx.queue_cache.items()}
        await _store(ctx, outbox, engine.tick(ctx.wall(), unprinted=unprinted, held=held), bell)


async def _send_loop(ctx: ActorContext, outbox: _Outbox, bell: Doorbell) -> None:
    log = get_logger("alerter")
    smtp = ctx.config.smtp
    settings = SmtpSettings.from_config(smtp) if smtp.host else None
    limiter = trio.CapacityLimiter(1)
    failures = 0
    while True:
        pending = await outbox.pending()
        if not pending:
            with trio.move_on_after(IDLE_WAIT):
                await bell.wait()
            continue
        delay = 0.0
        for alert in pending:
            if settings is None:
                # No SMTP configured: the alert stays visible in logs, /health and events.
                await outbox.sent(alert)
                continue
            faults.point("alerter.before_send")
            message = build_message(settings, alert.subject, alert.body, date=alert.raised_at)
            try:
                await send_mail(settings, message, limiter=limiter)
            except (SmtpUnavailable, MailRejected) as exc:
                failures += 1
                await outbox.failed(alert, type(exc).__name__)
                delay = retry_delay(failures)
                ctx.health.set("alerter", Health.DEGRADED, f"cannot send e-mail: {exc}")
                log.warning("alert_send_failed", alert=alert.id, error=str(exc), retry_in=delay)
                break
            await outbox.sent(alert)
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
