"""What every actor is handed by ``app.py``: configuration, the bus, health, metrics and
the handles of lower layers. Actors know each other only through these handles.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import trio

from wixprint.config import Config
from wixprint.events import (
    Event,
    InternetState,
    JobsQueued,
    PrinterState,
    RecoveryRecorded,
    ResourceSample,
    WixAuthFailed,
    WixReachable,
)
from wixprint.health import Health, HealthRegistry
from wixprint.links import Hysteresis
from wixprint.printing.base import Transport
from wixprint.supervisor import Bus, HistoryStore
from wixprint.timesync import ClockVerdict, best_now
from wixprint.vocabulary import PrinterStatus
from wixprint.web.metrics import Metrics

if TYPE_CHECKING:
    from wixprint.spool import Spool
    from wixprint.spool.types import Job, PendingOrder, QueueStats


RECENT_EVENTS = 200
PAUSED_META = "printer_paused:"
"""Spool meta key prefix (then the printer's name): "1" while an operator has it paused, so
a pause outlasts a restart."""


class Doorbell:
    """An in-memory wake-up: "there may be new jobs". The queue itself is only the database.

    A ring between two waits is not lost: ``wait`` returns at once if rung since the last wait.
    """

    def __init__(self) -> None:
        self._rung = False
        self._event = trio.Event()

    def ring(self) -> None:
        self._rung = True
        self._event.set()

    async def wait(self) -> None:
        """Return once rung (at once if rung since the last wait). Bound it with
        ``trio.move_on_after``."""
        if not self._rung:
            await self._event.wait()
        self._rung = False
        self._event = trio.Event()


class SpoolRef:
    """The current spool handle. Set by the spool actor; the root is rest_for_one, so every
    actor that read it restarts when the spool restarts."""

    def __init__(self) -> None:
        self._spool: Spool | None = None
        self._ready = trio.Event()

    def set(self, spool: Spool | None) -> None:
        self._spool = spool
        if spool is not None:
            self._ready.set()
        else:
            self._ready = trio.Event()

    def get(self) -> Spool:
        if self._spool is None:
            raise RuntimeError("the spool is not open")
        return self._spool

    async def wait_open(self) -> Spool:
        await self._ready.wait()
        return self.get()


class ClockTruth:
    """What the service knows of its wall clock, kept by the clock actor.

    ``trusted()`` is for whatever must not act on a wrong clock (pruning: a clock weeks ahead
    would delete history that a poll then prints again). ``first_start`` is the ``not_before``
    gate, recorded once from a time someone vouches for.
    """

    UNCHECKED = ClockVerdict(False, None, False, "not checked yet")

    def __init__(self) -> None:
        self.verdict = self.UNCHECKED
        self._first_start: str | None = None
        self._known = trio.Event()

    def trusted(self) -> bool:
        return self.verdict.trusted

    def now(self, wall: float) -> datetime:
        """The best estimate of the true time for decisions against Wix's times (a pre-order's
        release, the poll mark, a webhook's age): the wall clock, corrected by Wix's time while a
        fresh sample says it is off.
        A Pi booted 30 days behind must not hold every order as a pre-order for next month."""
        best = best_now(self.verdict, wall)
        return datetime.fromtimestamp(wall if best is None else best, UTC)

    @property
    def first_start(self) -> str | None:
        return self._first_start

    def set_first_start(self, value: str) -> None:
        self._first_start = value
        self._known.set()

    async def wait_first_start(self) -> str:
        await self._known.wait()
        assert self._first_start is not None
        return self._first_start


@dataclass
class ActorContext:
    config: Config
    bus: Bus[Event]
    health: HealthRegistry
    metrics: Metrics
    transports: dict[str, Transport]
    spool: SpoolRef = field(default_factory=SpoolRef)
    doorbells: dict[str, Doorbell] = field(default_factory=dict)
    queue_cache: dict[str, QueueStats] = field(default_factory=dict)
    """Per-printer queue statistics, refreshed by the spool actor (no DB on request paths)."""
    attention_cache: list[Job] = field(default_factory=list)
    """Jobs set aside as needing attention, refreshed with the queue statistics."""
    wall: Callable[[], float] = time.time
    """Wall-clock source; tests pass one that follows Trio's virtual clock."""
    poll_now: trio.Event = field(default_factory=trio.Event)
    """Set to make the fetcher poll at once (internet back). The fetcher replaces it."""
    recent: deque[Event] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    """Recent notable events for the status pages and the dashboard's first paint."""
    last_printer_state: dict[str, PrinterState] = field(default_factory=dict)
    last_internet: InternetState | None = None
    last_wix: WixAuthFailed | WixReachable | None = None
    """The latest word on Wix credentials: a restarted alerter starts from it."""
    alerts_active: list[dict[str, object]] = field(default_factory=list)
    """Open alert problems as JSON (key, level, since, raised, title), kept by the alerter for
    the status pages; the dashboard rings on a raised critical one."""
    web_url: str | None = None
    """Where the web actor's local listener is (known only after binding; port 0 in tests)."""
    public_url: str | None = None
    """Where its public listener (webhook paths only) is; None when not configured."""
    tree_status: Callable[[], dict[str, object]] | None = None
    """The supervision tree as JSON (set by app.py once the root exists)."""
    printer_links: dict[str, Hysteresis[PrinterStatus]] = field(default_factory=dict)
    """Confirmed state per printer, fed by both the connectivity and the printer actors."""
    spool_check: Doorbell = field(default_factory=Doorbell)
    """Ring to make the spool actor prove at once that it can still write (app.py rings it
    when an actor died of a ``SpoolError``)."""
    scheduled: tuple[PendingOrder, ...] = ()
    """Held pre-orders as the fetcher's scheduler last read them (``/recovery/status``)."""
    pending: Doorbell = field(default_factory=Doorbell)
    """Rung by intake when an order's tickets wait (a held pre-order, a payment method to
    fetch): the fetcher's scheduler looks at the spool's pending orders again."""
    history: HistoryStore | None = None
    """Restart history persisted across processes (``runner.py`` passes one; tests may not)."""
    clock: ClockTruth = field(default_factory=ClockTruth)
    """Whether the wall clock can be trusted, and the first start (the clock actor's)."""
    paused: set[str] = field(default_factory=set)
    """Printers an operator paused: their actors claim no job, their problems raise no alert."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.service.timezone)

    def publish(self, event: Event) -> None:
        self.bus.publish(event)
        self.metrics.observe(event)
        if isinstance(event, PrinterState):
            self.last_printer_state[event.printer] = event
        elif isinstance(event, InternetState):
            self.last_internet = event
        elif isinstance(event, WixAuthFailed | WixReachable):
            self.last_wix = event
        if not isinstance(event, (JobsQueued, ResourceSample)):
            self.recent.append(event)

    def ring(self, printers: tuple[str, ...] | None = None) -> None:
        for name, bell in self.doorbells.items():
            if printers is None or name in printers:
                bell.ring()

    def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a printer; the change is published with its last known state, so
        the alerter drops (or takes up again) its problems and the dashboard shows it."""
        if (name in self.paused) == paused:
            return
        if paused:
            self.paused.add(name)
        else:
            self.paused.discard(name)
        last = self.last_printer_state.get(name)
        link = self.printer_links.get(name)
        status = link.state if link is not None else None
        if last is not None:
            self.publish(replace(last, at=self.wall(), paused=paused))
        if status is not None:
            reason = last.reason if last is not None else ""
            self.health.set(f"printer:{name}", *self._printer_health(name, status, reason))
        else:  # not checked yet: "paused", or back to "not checked yet"
            state = (Health.DEGRADED, "paused") if paused else (Health.DOWN, "starting")
            self.health.set(f"printer:{name}", *state)
        self.ring((name,))

    def _printer_health(self, name: str, status: PrinterStatus, reason: str) -> tuple[Health, str]:
        if name in self.paused:
            return Health.DEGRADED, "paused"
        return printer_health(status, reason)

    def report_printer(
        self, name: str, status: PrinterStatus, *, reason: str = "", force: bool = False
    ) -> None:
        """Feed one observation of a printer; publish and update health on a confirmed change.

        ``force`` skips hysteresis: a ticket just printed is proof enough that it is up.
        """
        link = self.printer_links.setdefault(name, Hysteresis(self.config.connectivity.confirm))
        now = self.wall()
        prev_since = link.since
        was_down = link.state is not None and not link.state.can_print
        change = link.force(status, now) if force else link.observe(status, now)
        if change is None:
            if was_down and status.can_print:
                # Not confirmed yet, but waiting jobs may try now: a real print is the best
                # probe, and the kitchen wants its tickets within seconds of the return.
                self.ring((name,))
            return
        self.publish(
            PrinterState(
                at=now,
                printer=name,
                online=status.online,
                paper=status.paper,
                cover_open=status.cover_open,
                since=change.since,
                reason=reason,
                paused=name in self.paused,
            )
        )
        self.health.set(f"printer:{name}", *self._printer_health(name, status, reason))
        if status.can_print:
            self.ring((name,))
            if change.old is not None and not change.old.can_print and prev_since is not None:
                queue = self.queue_cache.get(name)
                self.publish(
                    RecoveryRecorded(
                        at=now,
                        what=f"printer:{name}",
                        down_since=prev_since,
                        duration=now - prev_since,
                        held=queue.depth if queue else 0,
                    )
                )


def printer_health(status: PrinterStatus, reason: str = "") -> tuple[Health, str]:
    """A printer problem degrades the service; it never makes it down.

    Paper out and an open cover come first: the printer then also reports itself offline
    (DLE EOT 1 bit 3), and "printer offline" would send someone to check the cable.
    """
    if status.cover_open:
        return Health.DEGRADED, "cover open"
    if status.paper == "out":
        return Health.DEGRADED, "paper out"
    if not status.online:
        return Health.DEGRADED, reason or "printer offline"
    if status.error:
        return Health.DEGRADED, "printer error"
    if status.paper == "near_end":
        return Health.READY, "paper near end"
    return Health.READY, ""
