"""The alerter's senders: one per channel, each draining that channel's deliveries from the
outbox, oldest first. Not an actor: the alerter runs them in its own nursery.

A channel that fails backs off on its own (30 s doubling to 30 min) and keeps its place in
the queue; the others go on. A delivery is marked done only after the channel took it, so a
crash before that sends it again (a mail then keeps its Message-ID, a webhook its
Idempotency-Key). The internet coming back rings every sender at once.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence

import trio

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.alerts.channels import AlertChannel, AlertMessage
from wixprint.alerts.mailer import retry_delay
from wixprint.alerts.messages import Level, MailKind
from wixprint.alerts.slips import decode_facts
from wixprint.errors import AlertChannelRejected, AlertChannelUnavailable, SpoolUnwritable
from wixprint.events import AlertEvent
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import NewAlert, OutboxAlert, Spool
from wixprint.supervisor import faults

__all__ = ["ChannelSender", "DiskFallback", "SenderHealth", "message_of"]

IDLE_WAIT = 60.0
MEMORY_LIMIT = 100
"""Alerts kept in memory per channel while the outbox cannot be written (oldest dropped)."""
_TROUBLE = {
    "mail": "cannot send e-mail",
    "ntfy": "cannot push to ntfy",
    "webhook": "cannot reach the alert webhook",
    "printers": "cannot queue alert slips",
}


class SenderHealth:
    """The alerter's one health check, from every channel: degraded while any fails."""

    def __init__(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        self._failing: dict[str, str] = {}

    def set(self, channel: str, error: str | None) -> None:
        if error is None:
            if self._failing.pop(channel, None) is None:
                return
        else:
            trouble = _TROUBLE.get(channel, f"cannot deliver alerts via {channel}")
            self._failing[channel] = f"{trouble}: {error}"
        if self._failing:
            self._ctx.health.set("alerter", Health.DEGRADED, "; ".join(self._failing.values()))
        else:
            self._ctx.health.set("alerter", Health.READY)


class DiskFallback:
    """The outbox's stand-in while the disk refuses writes (full, read-only SD card).

    An alert the outbox cannot take is kept here per channel (negative ids) and delivered with
    the stored ones, oldest first; a stored delivery that went out but cannot be marked done
    is remembered, so it is not sent again, and marked once the disk takes writes again.
    """

    def __init__(self) -> None:
        self._memory: dict[str, deque[OutboxAlert]] = {}
        self._unmarked: set[tuple[int, str]] = set()
        self._next_id = -1

    def keep(self, alerts: Sequence[NewAlert]) -> None:
        for alert in alerts:
            kept = OutboxAlert(
                id=self._next_id,
                key=alert.key,
                level=alert.level,
                subject=alert.subject,
                body=alert.body,
                raised_at=alert.raised_at,
                attempts=0,
                kind=alert.kind,
                problem_level=alert.problem_level,
                since=alert.since,
                facts=alert.facts,
            )
            self._next_id -= 1
            for channel in dict.fromkeys(alert.channels):
                self._memory.setdefault(channel, deque(maxlen=MEMORY_LIMIT)).append(kept)

    async def pending(self, spool: Spool, channel: str) -> list[OutboxAlert]:
        for alert_id, name in sorted(self._unmarked):
            if name != channel:
                continue
            try:
                await spool.mark_delivered(alert_id, channel)
            except SpoolUnwritable:
                break
            self._unmarked.discard((alert_id, name))
        stored = [
            a
            for a in await spool.pending_deliveries(channel)
            if (a.id, channel) not in self._unmarked
        ]
        kept = list(self._memory.get(channel, ()))
        return sorted([*kept, *stored], key=lambda a: a.raised_at)

    async def delivered(self, spool: Spool, alert: OutboxAlert, channel: str) -> None:
        if alert.id < 0:
            self._memory[channel].remove(alert)
            return
        try:
            await spool.mark_delivered(alert.id, channel)
        except SpoolUnwritable:
            self._unmarked.add((alert.id, channel))

    async def failed(self, spool: Spool, alert: OutboxAlert, channel: str, error: str) -> None:
        if alert.id >= 0:
            # The attempt count is a statistic; the delivery is retried either way.
            with contextlib.suppress(SpoolUnwritable):
                await spool.mark_delivery_failed(alert.id, channel, error)


class ChannelSender:
    def __init__(
        self,
        ctx: ActorContext,
        spool: Spool,
        channel: AlertChannel,
        health: SenderHealth,
        fallback: DiskFallback | None = None,
    ) -> None:
        self.channel = channel
        self.bell = Doorbell()
        self._ctx = ctx
        self._spool = spool
        self._health = health
        self._fallback = fallback or DiskFallback()
        self._failures = 0

    async def run(self) -> None:
        name = self.channel.name
        log = get_logger("alerter")
        while True:
            pending = await self._fallback.pending(self._spool, name)
            if not pending:
                with trio.move_on_after(IDLE_WAIT):
                    await self.bell.wait()
                continue
            delay = 0.0
            for alert in pending:
                faults.point("alerter.before_send")
                try:
                    await self.channel.deliver(message_of(alert))
                except (AlertChannelUnavailable, AlertChannelRejected) as exc:
                    self._failures += 1
                    await self._fallback.failed(self._spool, alert, name, type(exc).__name__)
                    delay = retry_delay(self._failures)
                    self._health.set(name, str(exc))
                    log.warning(
                        "alert_send_failed",
                        alert=alert.id,
                        channel=name,
                        stage=exc.stage,
                        error=str(exc),
                        retry_in=delay,
                    )
                    break
                await self._fallback.delivered(self._spool, alert, name)
                self._failures = 0
                self._health.set(name, None)
                self._ctx.publish(
                    AlertEvent(
                        at=self._ctx.wall(),
                        key=alert.key,
                        level=_LEVELS.get(alert.level, "info"),
                        subject=alert.subject,
                        state="sent",
                        channel=name,
                    )
                )
                log.info("alert_sent", alert=alert.id, key=alert.key, channel=name)
            if delay:
                with trio.move_on_after(delay):
                    await self.bell.wait()


def message_of(alert: OutboxAlert) -> AlertMessage:
    level = _LEVELS.get(alert.level, "info")
    return AlertMessage(
        id=f"alert-{alert.id}",
        key=alert.key,
        kind=_KINDS.get(alert.kind, "raise"),
        level=level,
        problem_level=_LEVELS.get(alert.problem_level, level),
        subject=alert.subject,
        body=alert.body,
        raised_at=alert.raised_at,
        since=alert.since,
        facts=decode_facts(alert.facts),
    )


# Outbox rows are plain text: back to the typed values (unknown: the mildest).
_LEVELS: dict[str, Level] = {"critical": "critical", "warning": "warning", "info": "info"}
_KINDS: dict[str, MailKind] = {"raise": "raise", "repeat": "repeat", "resolve": "resolve"}
