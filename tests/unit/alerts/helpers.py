"""Shared builders for the alert rule tests: synthetic wall-clock times, no real clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wixprint.alerts.messages import Language
from wixprint.alerts.rules import AlertAction, AlertEngine
from wixprint.config import AlertsConfig
from wixprint.events import Event, PrinterState
from wixprint.vocabulary import Paper

TZ = ZoneInfo("Europe/Berlin")
RESTAURANT = "Gasthaus Beispiel"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).timestamp()


T0 = local(2025, 3, 14, 12)
"""A Friday noon: outside any quiet hours used in these tests."""


def engine(language: Language = "de", **alerts: Any) -> AlertEngine:
    settings: dict[str, Any] = {
        "printer_offline_after": 120.0,
        "internet_offline_after": 300.0,
        "unprinted_order_after": 600.0,
        "repeat_every": 3600.0,
    }
    settings.update(alerts)
    return AlertEngine(
        AlertsConfig(**settings),
        restaurant=RESTAURANT,
        language=language,
        tz=TZ,
    )


def printer(
    at: float,
    *,
    online: bool = True,
    paper: Paper = "ok",
    cover_open: bool = False,
    since: float | None = None,
    name: str = "kitchen",
    reason: str = "",
) -> PrinterState:
    return PrinterState(
        at=at,
        printer=name,
        online=online,
        paper=paper,
        cover_open=cover_open,
        since=at if since is None else since,
        reason=reason,
    )


def simulate(
    eng: AlertEngine,
    events: Iterable[Event],
    *,
    start: float,
    end: float,
    step: float = 5.0,
    unprinted: Sequence[tuple[str, float]] | None = None,
    held: Mapping[str, int] | None = None,
) -> list[AlertAction]:
    """Feed events at their ``at`` and tick every ``step`` seconds from start to end."""
    pending = sorted(events, key=lambda e: e.at)
    out: list[AlertAction] = []
    now = start
    while now <= end:
        while pending and pending[0].at <= now:
            event = pending.pop(0)
            out += eng.observe(event, event.at)
        out += eng.tick(now, unprinted=unprinted, held=held)
        now += step
    return out


def kinds(actions: Iterable[AlertAction]) -> list[tuple[str, str]]:
    return [(a.kind, a.key) for a in actions]
