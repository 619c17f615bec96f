"""The health model: every component reports ready, degraded (with a reason) or down.

The aggregate feeds ``GET /health`` and the systemd watchdog. Reads are cheap and never touch
I/O, so the status endpoint answers fast even while the spool is busy. A printer out of paper
is *degraded*; a spool that cannot write is *down*.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass


class Health(enum.Enum):
    READY = "ready"
    DEGRADED = "degraded"
    DOWN = "down"


_RANK = {Health.READY: 0, Health.DEGRADED: 1, Health.DOWN: 2}
OVERALL_NAME = {Health.READY: "ok", Health.DEGRADED: "degraded", Health.DOWN: "down"}


@dataclass(frozen=True, slots=True)
class Check:
    component: str
    state: Health
    reason: str
    since: float
    """Wall-clock seconds when this state began."""
    critical: bool
    """A critical component that is down makes the whole service down."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    status: str
    """ok | degraded | down"""
    checks: tuple[Check, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "checks": {
                c.component: {"status": c.state.value, "reason": c.reason, "since": c.since}
                for c in self.checks
            },
        }


class HealthRegistry:
    """Holds each component's last reported health. Synchronous and in-memory by design."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, component: str, *, critical: bool = False) -> None:
        """Declare a component before it reports; it starts DOWN ("starting")."""
        if component not in self._checks:
            self._checks[component] = Check(
                component, Health.DOWN, "starting", time.time(), critical
            )

    def set(self, component: str, state: Health, reason: str = "") -> None:
        old = self._checks.get(component)
        critical = old.critical if old else False
        if old is not None and old.state == state and old.reason == reason:
            return
        since = old.since if old is not None and old.state == state else time.time()
        self._checks[component] = Check(component, state, reason, since, critical)

    def remove(self, component: str) -> None:
        self._checks.pop(component, None)

    def get(self, component: str) -> Check | None:
        return self._checks.get(component)

    def snapshot(self) -> HealthSnapshot:
        checks = tuple(sorted(self._checks.values(), key=lambda c: c.component))
        return HealthSnapshot(aggregate(checks), checks)


def aggregate(checks: tuple[Check, ...]) -> str:
    """ok, degraded or down: a critical component down is down; anything else not ready is
    degraded."""
    worst = Health.READY
    for check in checks:
        state = check.state
        if state == Health.DOWN and not check.critical:
            state = Health.DEGRADED
        if _RANK[state] > _RANK[worst]:
            worst = state
    return OVERALL_NAME[worst]
