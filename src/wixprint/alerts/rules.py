"""Alert rules: bus events and the clock in, mail actions out. Pure, no I/O, no own clock.

This module decides *what* is a problem and when it began or ended (grace periods,
thresholds with hysteresis, restart counting); ``problems.ProblemBook`` decides when to mail
(raise after grace, repeat, resolve only what was mailed, quiet hours).

Problem keys: ``printer_offline:<printer>``, ``paper_out:<printer>``, ``cover_open:<printer>``,
``paper_near_end:<printer>``, ``internet_down``, ``wix_auth``, ``unprinted_orders`` (one
problem listing the late order numbers), ``quarantined:<job id>``, ``attention:<job id>``
and ``order_quarantined:<order id>`` (one-shot), ``restarts:<actor>``, ``disk``, ``memory``,
``temperature``, ``throttled``, ``storage`` (the spool cannot write, or intake is paused for a
full disk), ``clock``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import tzinfo
from typing import Literal

from wixprint.alerts.messages import AlertFacts, Category, Language, Level
from wixprint.alerts.problems import (
    AlertAction,
    AlertStatistics,
    ProblemBook,
    ProblemView,
    printer_of,
)
from wixprint.alerts.quiet import QuietHours
from wixprint.alerts.state import EngineState
from wixprint.config import AlertsConfig
from wixprint.events import (
    ActorRestarted,
    ClockState,
    Event,
    InternetState,
    OrderQuarantined,
    PrinterState,
    ResourceSample,
    StorageState,
    TicketNeedsAttention,
    TicketQuarantined,
    WixAuthFailed,
    WixReachable,
)

__all__ = ["AlertAction", "AlertEngine", "AlertStatistics", "ProblemView"]

RESTART_WINDOW = 3600.0
"""Restarts of one actor are counted over this many seconds; quiet this long ends it."""
ONE_SHOT_MEMORY = 86400.0
"""A one-shot alert (quarantined ticket) with the same key is not mailed twice this long."""
CLOCK_GRACE = 900.0
"""A Pi boots with the last shutdown's time and NTP fixes it within a minute or two: only a
difference from Wix's time that outlasts this is mailed."""
MARGINS: dict[str, float] = {"disk": 2.0, "memory": 5.0, "temperature": 5.0}
"""Hysteresis: a resource problem ends only below its threshold minus this margin."""


class AlertEngine:
    """The alert state machine. Feed it events with ``observe`` and call ``tick`` often.

    Every result depends only on the inputs, including ``now`` (wall-clock seconds).
    """

    def __init__(
        self, alerts: AlertsConfig, *, restaurant: str, language: Language, tz: tzinfo
    ) -> None:
        self._cfg = alerts
        self._book = ProblemBook(
            repeat_every=alerts.repeat_every,
            quiet=QuietHours.parse(alerts.quiet_hours),
            restaurant=restaurant,
            language=language,
            tz=tz,
            unprinted_grace=alerts.unprinted_order_after,
        )
        self._one_shots: dict[str, float] = {}
        self._restarts: dict[str, deque[float]] = {}
        self._clear_seen: dict[str, float] = {}

    # -- inputs ---------------------------------------------------------------------------

    def observe(self, event: Event, now: float) -> list[AlertAction]:
        """Account for one bus event; returns the mails due now (other events: none)."""
        out: list[AlertAction] = []
        if isinstance(event, PrinterState):
            self._on_printer(event, now, out)
        elif isinstance(event, InternetState):
            self._condition(
                "internet_down",
                "internet_down",
                "critical",
                self._cfg.internet_offline_after,
                active=not event.online,
                at=event.at,
                since=event.since,
                ended=event.since,
                now=now,
                out=out,
                detail=event.target,
            )
        elif isinstance(event, WixAuthFailed):
            detail = f"HTTP {event.status_code}" + (f": {event.wix_said}" if event.wix_said else "")
            # The target of a wix_auth problem is its likely causes (the mail's advice).
            causes = ",".join(event.causes)
            self._book.open(
                "wix_auth", "wix_auth", "critical", event.at, 0.0, now, target=causes, detail=detail
            )
        elif isinstance(event, WixReachable):
            self._book.close("wix_auth", event.at, now, out)
        elif isinstance(event, TicketQuarantined | TicketNeedsAttention):
            self._on_ticket(event, now, out)
        elif isinstance(event, OrderQuarantined):
            key = f"order_quarantined:{event.order_id}"
            detail = f"{event.stage}: {event.error}"
            self._one_shot("order_quarantined", key, event, event.number, detail, now, out)
        elif isinstance(event, ActorRestarted):
            self._on_restart(event, now)
        elif isinstance(event, ResourceSample):
            self._on_resources(event, now, out)
        elif isinstance(event, ClockState):
            self._host_condition("clock", "warning", CLOCK_GRACE, event.skewed, event, now, out)
        elif isinstance(event, StorageState):
            self._host_condition("storage", "critical", 0.0, not event.intake, event, now, out)
        self._book.advance(now, out)
        return out

    def tick(
        self,
        now: float,
        *,
        unprinted: Sequence[tuple[str, float]] | None = None,
        held: Mapping[str, int] | None = None,
    ) -> list[AlertAction]:
        """Raise what outlasted its grace, repeat, end stale problems, release deferred
        info mails after the quiet hours.

        ``unprinted`` lists (order number, age in seconds) of orders without a printed
        ticket; None means "not known this time" and leaves that problem as it is, an empty
        list ends it. ``held`` maps a printer name (or a problem key) to the tickets it
        holds, reported in the mails.
        """
        out: list[AlertAction] = []
        if held is not None:
            self._book.set_held(held)
        if unprinted is not None:
            self._on_unprinted(unprinted, now, out)
        self._expire_restarts(now, out)
        self._book.advance(now, out)
        return out

    # -- outputs for status pages ---------------------------------------------------------

    def active_problems(self) -> list[ProblemView]:
        return self._book.views()

    def statistics(self) -> AlertStatistics:
        return self._book.statistics()

    # -- memory across restarts -------------------------------------------------------------

    def export_state(self) -> EngineState:
        """What a later run needs to go on where this one stopped (see ``alerts.state``)."""
        return EngineState(
            book=self._book.export(),
            one_shots=dict(self._one_shots),
            restarts={actor: tuple(times) for actor, times in self._restarts.items() if times},
        )

    def restore(self, state: EngineState, *, printers: Collection[str]) -> None:
        """Take over an earlier run's memory, before any event. Problems of printers that
        are no longer configured are dropped: nothing would ever end them."""
        known = set(printers)

        def keep(facts: AlertFacts) -> bool:
            printer = printer_of(facts)
            return printer is None or printer in known

        self._book.restore(state.book, keep)
        self._one_shots.update(state.one_shots)
        for actor, times in state.restarts.items():
            self._restarts.setdefault(actor, deque()).extend(times)

    def next_due(self, now: float) -> float | None:
        """The earliest time a ``tick`` has a raise, repeat or release due (None: nothing).

        Restart expiry and unprinted orders are not included: tick at least every minute.
        """
        return self._book.next_due(now)

    # -- rules ----------------------------------------------------------------------------

    def _on_printer(self, ev: PrinterState, now: float, out: list[AlertAction]) -> None:
        grace = self._cfg.printer_offline_after
        # At paper end or with the cover open an Epson reports itself offline (DLE EOT 1
        # bit 3), yet it answered: that is a paper or cover problem, not an unreachable
        # printer (whose mail would send someone to check the cable).
        answered = ev.online or ev.paper == "out" or ev.cover_open
        # (category, level, grace, active, ended): offline ends when the new state began;
        # paper and cover are seen per probe, so they end when observed.
        conditions: list[tuple[Category, Level, float, bool, float]] = [
            ("printer_offline", "critical", grace, not answered, ev.since)
        ]
        if answered:  # while unreachable, paper and cover are unknown: leave those be
            if ev.paper == "out":
                self._book.drop(f"paper_near_end:{ev.printer}")  # superseded, no mail
            if ev.paper != "unknown":
                conditions.append(("paper_out", "critical", grace, ev.paper == "out", ev.at))
                conditions.append(("paper_near_end", "warning", 0.0, ev.paper == "near_end", ev.at))
            conditions.append(("cover_open", "critical", grace, ev.cover_open, ev.at))
        for category, level, cond_grace, active, ended in conditions:
            self._condition(
                f"{category}:{ev.printer}",
                category,
                level,
                cond_grace,
                active=active and not ev.paused,  # paused by an operator: nobody to call
                at=ev.at,
                since=ev.since,
                ended=ended,
                now=now,
                out=out,
                target=ev.printer,
                detail=ev.reason if category == "printer_offline" else "",
            )

    def _on_ticket(
        self, ev: TicketQuarantined | TicketNeedsAttention, now: float, out: list[AlertAction]
    ) -> None:
        """A ticket that will not print (quarantined) or was never confirmed (set aside)."""
        category: Category
        if isinstance(ev, TicketQuarantined):
            category, key, detail, count = "quarantined", "quarantined", _short(ev.error), 0
        else:
            category, key = "needs_attention", "attention"
            detail, count = f"{ev.printer}, {ev.receipt}", ev.attempts
        self._one_shot(
            category,
            f"{key}:{ev.job_id}",
            ev,
            ev.order_number,
            detail,
            now,
            out,
            count=count,
            printer=ev.printer,
        )

    def _one_shot(
        self,
        category: Category,
        key: str,
        event: Event,
        target: str,
        detail: str,
        now: float,
        out: list[AlertAction],
        *,
        count: int = 0,
        printer: str = "",
    ) -> None:
        """A critical mail once per key (within ``ONE_SHOT_MEMORY``): an event without end."""
        self._one_shots = {k: t for k, t in self._one_shots.items() if now - t < ONE_SHOT_MEMORY}
        if key in self._one_shots:
            return
        self._one_shots[key] = now
        facts = AlertFacts(
            category=category,
            key=key,
            level="critical",
            since=event.at,
            target=target,
            detail=detail,
            count=count,
            printer=printer,
        )
        self._book.one_shot(facts, now, out)

    def _on_restart(self, ev: ActorRestarted, now: float) -> None:
        if ev.error_type == "SpoolUnwritable":
            return  # a full or read-only disk: the storage alert tells, once
        times = self._restarts.setdefault(ev.actor, deque())
        times.append(ev.at)
        while times and times[0] < ev.at - RESTART_WINDOW:
            times.popleft()
        key = f"restarts:{ev.actor}"
        if len(times) >= self._cfg.restarts_alert_after or key in self._book:
            self._book.open(
                key,
                "restarts",
                "warning",
                times[0],
                0.0,
                now,
                target=ev.actor,
                count=len(times),
                detail=_short(f"{ev.error_type}: {ev.message}"),
            )

    def _expire_restarts(self, now: float, out: list[AlertAction]) -> None:
        for actor, times in list(self._restarts.items()):
            if times and now - times[-1] < RESTART_WINDOW:
                continue
            del self._restarts[actor]
            if times:
                self._book.close(f"restarts:{actor}", times[-1], now, out)

    def _on_resources(self, ev: ResourceSample, now: float, out: list[AlertAction]) -> None:
        checks: tuple[tuple[Category, float | None, float], ...] = (
            ("disk", ev.disk_percent, self._cfg.disk_percent),
            ("memory", ev.memory_percent, self._cfg.memory_percent),
            ("temperature", ev.temperature_c, self._cfg.temperature_c),
        )
        for category, value, threshold in checks:
            if value is None:
                continue
            if value >= threshold:
                self._book.open(
                    category, category, "warning", ev.at, 0.0, now, value=value, threshold=threshold
                )
            elif value < threshold - MARGINS[category]:
                self._book.close(category, ev.at, now, out)
        if ev.throttled_now is not None:
            self._condition(
                "throttled",
                "throttled",
                "warning",
                0.0,
                active=ev.throttled_now,
                at=ev.at,
                since=ev.at,
                ended=ev.at,
                now=now,
                out=out,
            )

    def _on_unprinted(
        self, unprinted: Sequence[tuple[str, float]], now: float, out: list[AlertAction]
    ) -> None:
        grace = self._cfg.unprinted_order_after
        late = sorted((o for o in unprinted if o[1] >= grace), key=lambda o: (-o[1], o[0]))
        if not late:
            self._book.close("unprinted_orders", now, now, out)
            return
        numbers = tuple(number for number, _ in late)
        since = now - late[0][1]  # when the oldest late order arrived
        self._book.open(
            "unprinted_orders", "unprinted_orders", "critical", since, 0.0, now, orders=numbers
        )

    def _host_condition(
        self,
        category: Literal["clock", "storage"],
        level: Level,
        grace: float,
        active: bool,
        ev: ClockState | StorageState,
        now: float,
        out: list[AlertAction],
    ) -> None:
        """The Pi itself (its clock, its SD card): one problem, its reason as the detail."""
        self._condition(
            category,
            category,
            level,
            grace,
            active=active,
            at=ev.at,
            since=ev.since,
            ended=ev.since,
            now=now,
            out=out,
            detail=ev.reason,
        )

    def _condition(
        self,
        key: str,
        category: Category,
        level: Level,
        grace: float,
        *,
        active: bool,
        at: float,
        since: float,
        ended: float,
        now: float,
        out: list[AlertAction],
        target: str = "",
        detail: str = "",
    ) -> None:
        """A boolean condition: opens the problem while true, closes it when false."""
        if active:
            # The condition cannot have begun before we last saw it clear.
            start = max(since, self._clear_seen.get(key, since))
            self._book.open(key, category, level, start, grace, now, target=target, detail=detail)
        else:
            self._clear_seen[key] = at
            self._book.close(key, ended, now, out)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
