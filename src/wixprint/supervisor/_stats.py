"""Introspection snapshots of a supervision tree (OTP's ``which_children`` plus the history).

Snapshots are frozen and cheap to build, so ``GET /recovery/status`` can take one at any time;
:func:`statistics_to_json` turns one into plain dicts for the HTTP layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from wixprint.supervisor._events import ErrorInfo, RestartEvent
from wixprint.supervisor._spec import Restart, Strategy

__all__ = [
    "ChildState",
    "ChildStatistics",
    "SupervisorState",
    "SupervisorStatistics",
    "statistics_to_json",
]

ChildState = Literal["starting", "running", "backoff", "stopping", "stopped", "failed", "ignored"]
SupervisorState = Literal["idle", "starting", "running", "stopping", "stopped", "failed"]


@dataclass(frozen=True, slots=True)
class ChildStatistics:
    """One child as its supervisor sees it.

    Attributes:
        name: the child's spec name.
        kind: ``"worker"`` or ``"supervisor"`` (a nested supervisor).
        restart: the child's restart type.
        state: starting, running, backoff (waiting to restart), stopping, stopped, failed
            (crashed and not restarted, or could not be stopped), ignored (returned without
            ``started()``: OTP's ``ignore``, kept but not running).
        restarts: times this child was started again since the supervisor was created.
        last_error: its most recent error, if any.
        backoff_delay: the delay it is waiting out (state ``backoff``), else ``None``.
        uptime: seconds since it started, ``None`` unless running.
        supervisor: the nested supervisor's own statistics, for ``kind == "supervisor"``.
    """

    name: str
    kind: Literal["worker", "supervisor"]
    restart: Restart
    state: ChildState
    restarts: int
    last_error: ErrorInfo | None
    backoff_delay: float | None
    uptime: float | None
    supervisor: SupervisorStatistics | None


@dataclass(frozen=True, slots=True)
class SupervisorStatistics:
    """A supervisor, its children (in start order) and its recent restart events."""

    name: str
    strategy: Strategy
    intensity: int
    period: float
    state: SupervisorState
    restarts_in_window: int
    children: tuple[ChildStatistics, ...]
    recent: tuple[RestartEvent, ...]


def statistics_to_json(stats: SupervisorStatistics) -> dict[str, object]:
    """Plain, JSON-ready dicts (enums as their string values), recursively for nested trees."""
    return {
        "name": stats.name,
        "strategy": stats.strategy.value,
        "intensity": stats.intensity,
        "period": stats.period,
        "state": stats.state,
        "restarts_in_window": stats.restarts_in_window,
        "children": [_child_to_json(child) for child in stats.children],
        "recent": [event.to_json() for event in stats.recent],
    }


def _child_to_json(child: ChildStatistics) -> dict[str, object]:
    return {
        "name": child.name,
        "kind": child.kind,
        "restart": child.restart.value,
        "state": child.state,
        "restarts": child.restarts,
        "last_error": None if child.last_error is None else asdict(child.last_error),
        "backoff_delay": child.backoff_delay,
        "uptime": child.uptime,
        "supervisor": None if child.supervisor is None else statistics_to_json(child.supervisor),
    }
