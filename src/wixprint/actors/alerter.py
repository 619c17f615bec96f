"""Alerter actor: turns bus events into alerts for every channel, through a persistent outbox.

Rules live in ``wixprint.alerts.rules`` (pure). This shell feeds them events and a periodic
tick and writes every resulting message to the spool's outbox *first*, with one delivery per
channel that takes the problem's severity and, in the same transaction, the engine's state.
One sender per channel (``alert_outbox.py``) drains its deliveries oldest first. A channel or
the internet down: messages wait with their original time and go out, in order, when the way
is clear again; failures back off and never crash the actor.

Restarts lose nothing: the engine starts from its saved state (an announced problem is not
announced again, and gets its resolved message when it ends), then from the last known
printer, internet and Wix states (events a crashed alerter had taken but not recorded).

A disk that refuses the outbox (full, read-only) must not silence the very alert about it:
such an alert is kept in memory and delivered directly (``alert_outbox.DiskFallback``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

import trio

from wixprint.actors.alert_outbox import ChannelSender, DiskFallback, SenderHealth
from wixprint.actors.context import ActorContext, Doorbell
from wixprint.alerts import AlertAction, AlertEngine
from wixprint.alerts.channel_set import build_channels
from wixprint.alerts.channels import AlertChannel, routes_for
from wixprint.alerts.slips import AlertSlip, encode_facts, encode_slip, slip_prefix
from wixprint.alerts.state import decode_state, encode_state
from wixprint.errors import SpoolUnwritable
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
from wixprint.spool import NewAlert, Spool

_STATE: dict[str, Literal["raised", "resolved", "repeat"]] = {
    "raise": "raised",
    "repeat": "repeat",
    "resolve": "resolved",
}
TICK_EVERY = 15.0
MIN_TICK = 0.5
"""The shortest wait between ticks (a due time in the past must not spin)."""


async def run_alerter(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    cfg = ctx.config
    spool = await ctx.spool.wait_open()
    channels = build_channels(cfg, tz=ctx.tz, slips=SpoolSlips(ctx, spool))
    fallback = DiskFallback()
    ctx.health.register("alerter")
    health = SenderHealth(ctx)
    senders = [ChannelSender(ctx, spool, channel, health, fallback) for channel in channels]
    recorder = AlertRecorder(ctx, spool, channels, senders, fallback)
    await recorder.restore()
    dropped = await spool.retire_alert_channels([c.name for c in channels])
    if dropped:
        get_logger("alerter").warning("alert_deliveries_dropped", count=dropped)
    # Never loses an event it acts on, however far behind it falls (a bounded buffer dropped
    # them in a burst): the latest state per key, every one-off event.
    ctx.health.set("alerter", Health.READY)  # before any sender can report a failure
    with ctx.bus.subscribe_coalescing(key=_coalesce_key) as events:
        async with trio.open_nursery() as nursery:
            for sender in senders:
                nursery.start_soon(sender.run)
            nursery.start_soon(_tick_loop, ctx, spool, recorder)
            for event in last_known(ctx):
                await recorder.observe(event)
            task_status.started()
            async for event in events:
                if isinstance(event, AlertEvent):
                    continue
                await recorder.observe(event)
                if isinstance(event, InternetState) and event.online:
                    for sender in senders:
                        sender.bell.ring()


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


def last_known(ctx: ActorContext) -> list[Event]:
    """The latest state events published before this alerter subscribed: what a restarted
    alerter may have missed. Feeding them again is harmless (the rules are idempotent)."""
    found: list[Event] = [ctx.last_printer_state[name] for name in sorted(ctx.last_printer_state)]
    if ctx.last_internet is not None:
        found.append(ctx.last_internet)
    if ctx.last_wix is not None:
        found.append(ctx.last_wix)
    return found


class SpoolSlips:
    """The ``printers`` channel's way to the printers: slips become spool jobs, and the
    printers' confirmed states say which can print now."""

    def __init__(self, ctx: ActorContext, spool: Spool) -> None:
        self._ctx = ctx
        self._spool = spool

    def working(self) -> Mapping[str, bool]:
        # A paused printer prints nothing until resumed: a slip there would come too late.
        known = {
            name: link.state.can_print
            for name, link in self._ctx.printer_links.items()
            if link.state is not None
        }
        return known | dict.fromkeys(self._ctx.paused, False)

    async def enqueue(self, slip: AlertSlip, printers: Sequence[str]) -> Sequence[str]:
        jobs = await self._spool.enqueue_slip(slip.slip_id, encode_slip(slip), printers)
        if not jobs:
            return ()
        self._ctx.ring(tuple(printers))
        get_logger("alerter").info("alert_slip_queued", key=slip.key, printers=list(printers))
        return tuple(printers)

    async def announced(self, key: str) -> Sequence[str]:
        return await self._spool.slip_printers(slip_prefix("raise", key))


class AlertRecorder:
    """The engine and the one place its decisions are written (``store``): outbox rows, a
    delivery per routed channel and the engine's state, in one spool transaction."""

    def __init__(
        self,
        ctx: ActorContext,
        spool: Spool,
        channels: Sequence[AlertChannel],
        senders: Sequence[ChannelSender],
        fallback: DiskFallback | None = None,
    ) -> None:
        cfg = ctx.config
        self.engine = AlertEngine(
            cfg.alerts,
            restaurant=cfg.service.restaurant_name,
            language=cfg.alerts.language,
            tz=ctx.tz,
        )
        self._ctx = ctx
        self._spool = spool
        self._channels = list(channels)
        self._bells = {s.channel.name: s.bell for s in senders}
        self._saved: str | None = None
        self._fallback = fallback or DiskFallback()
        self.changed = Doorbell()
        """Rung when the engine's state changed (the tick loop looks again when to tick)."""

    async def restore(self) -> None:
        """Start from the state the last run recorded (unreadable: start empty, say so)."""
        text = await self._spool.load_alert_state()
        if text is not None:
            try:
                state = decode_state(text)
            except ValueError as exc:
                get_logger("alerter").warning("alert_state_unreadable", error=str(exc))
            else:
                printers = [p.name for p in self._ctx.config.printers]
                self.engine.restore(state, printers=printers)
                self._saved = text
        self._publish_active()

    async def observe(self, event: Event) -> None:
        await self.store(self.engine.observe(event, self._ctx.wall()))

    async def tick(self, unprinted: list[tuple[str, float]], held: dict[str, int]) -> None:
        await self.store(self.engine.tick(self._ctx.wall(), unprinted=unprinted, held=held))

    async def store(self, actions: Sequence[AlertAction]) -> None:
        state = encode_state(self.engine.export_state())
        changed = state != self._saved
        if not actions and not changed:
            return
        alerts = [
            NewAlert(
                key=a.key,
                level=a.level,
                kind=a.kind,
                subject=a.subject,
                body=a.body,
                raised_at=a.raised_at,
                since=a.since,
                problem_level=a.problem_level,
                channels=routes_for(self._channels, a.problem_level),
                facts=encode_facts(a.facts),
            )
            for a in actions
        ]
        log = get_logger("alerter")
        try:
            await self._spool.record_alerts(alerts, state if changed else None)
        except SpoolUnwritable as exc:
            # The disk refuses the outbox: deliver from memory (the state is saved later).
            for alert in alerts:
                log.warning("alert_kept_in_memory", key=alert.key, error=str(exc))
            self._fallback.keep(alerts)
        else:
            self._saved = state
        for action, alert in zip(actions, alerts, strict=True):
            log.warning(
                "alert",
                key=action.key,
                severity=action.level,  # "level" is the log line's own
                kind=action.kind,
                channels=list(alert.channels),
            )
            self._ctx.publish(
                AlertEvent(
                    at=action.at,
                    key=action.key,
                    level=action.level,
                    subject=action.subject,
                    state=_STATE[action.kind],
                )
            )
            for name in alert.channels:
                self._bells[name].ring()
        if changed:
            self._publish_active()
            self.changed.ring()

    def _publish_active(self) -> None:
        self._ctx.alerts_active = [
            {
                "key": p.key,
                "level": p.level,
                "since": p.since,
                "raised": p.mailed,
                "title": p.title,
            }
            for p in self.engine.active_problems()
        ]


async def _tick_loop(ctx: ActorContext, spool: Spool, recorder: AlertRecorder) -> None:
    """Tick every ``TICK_EVERY`` seconds, and when a grace period, a repeat or the end of
    the quiet hours falls due before that: a problem is announced when its grace ends, not
    up to a tick later."""
    grace = ctx.config.alerts.unprinted_order_after
    last_tick = ctx.wall()
    while True:
        now = ctx.wall()
        wake = last_tick + TICK_EVERY
        due = recorder.engine.next_due(now)
        if due is not None:
            wake = min(wake, due)
        with trio.move_on_after(max(MIN_TICK, wake - now)) as waited:
            await recorder.changed.wait()  # a new problem may fall due sooner
        if not waited.cancelled_caught:
            continue
        last_tick = ctx.wall()
        unprinted = await spool.unprinted_orders(older_than=grace)
        held = {name: q.depth for name, q in ctx.queue_cache.items()}
        await recorder.tick(unprinted, held)
