"""The alerter's senders: one per channel, each draining that channel's deliveries from the
outbox, oldest first. Not an actor: the alerter runs them in its own nursery.

A channel that fails backs off on its own (30 s doubling to 30 min) and keeps its place in
the queue; the others go on. A delivery is marked done only after the channel took it, so a
crash before that sends it again (a mail then keeps its Message-ID, a webhook its
Idempotency-Key). The internet coming back rings every sender at once.
"""

from __future__ import annotations

import trio

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.alerts.channels import AlertChannel, AlertMessage
from wixprint.alerts.mailer import retry_delay
from wixprint.alerts.messages import Level, MailKind
from wixprint.errors import AlertChannelRejected, AlertChannelUnavailable
from wixprint.events import AlertEvent
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import OutboxAlert, Spool
from wixprint.supervisor import faults

__all__ = ["ChannelSender", "SenderHealth", "message_of"]

IDLE_WAIT = 60.0
_TROUBLE = {
    "mail": "cannot send e-mail",
    "ntfy": "cannot push to ntfy",
    "webhook": "cannot reach the alert webhook",
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


class ChannelSender:
    def __init__(
        self, ctx: ActorContext, spool: Spool, channel: AlertChannel, health: SenderHealth
    ) -> None:
        self.channel = channel
        self.bell = Doorbell()
        self._ctx = ctx
        self._spool = spool
        self._health = health
        self._failures = 0

    async def run(self) -> None:
        name = self.channel.name
        log = get_logger("alerter")
        while True:
            pending = await self._spool.pending_deliveries(name)
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
                    await self._spool.mark_delivery_failed(alert.id, name, type(exc).__name__)
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
                await self._spool.mark_delivered(alert.id, name)
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
    )


# Outbox rows are plain text: back to the typed values (unknown: the mildest).
_LEVELS: dict[str, Level] = {"critical": "critical", "warning": "warning", "info": "info"}
_KINDS: dict[str, MailKind] = {"raise": "raise", "repeat": "repeat", "resolve": "resolve"}
