"""The health registry itself: what a report changes, what it keeps, and the JSON ``/health``
serves. (The aggregate per component and state: ``ops/test_health_table.py``.)"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from wixprint import health
from wixprint.health import Check, Health, HealthRegistry, HealthSnapshot


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The registry's wall clock, set by the test (only this module's view of ``time``)."""
    now = [1000.0]
    monkeypatch.setattr(health, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def test_since_is_when_the_state_began_not_the_last_report(clock: list[float]) -> None:
    registry = HealthRegistry()
    registry.register("fetcher")
    registry.set("fetcher", Health.READY)
    clock[0] = 1010.0
    registry.set("fetcher", Health.READY, "polled")  # same state, new reason
    check = registry.get("fetcher")
    assert check is not None
    assert (check.state, check.reason, check.since) == (Health.READY, "polled", 1000.0)
    clock[0] = 1020.0
    registry.set("fetcher", Health.DEGRADED, "polled")  # new state, same reason: it counts
    check = registry.get("fetcher")
    assert check is not None
    assert (check.state, check.reason, check.since) == (Health.DEGRADED, "polled", 1020.0)
    assert registry.snapshot().status == "degraded"


def test_a_component_that_reports_without_registering_is_not_critical(clock: list[float]) -> None:
    registry = HealthRegistry()
    registry.set("monitor", Health.DOWN, "psutil failed")
    check = registry.get("monitor")
    assert check is not None
    assert (check.critical, check.since) == (False, 1000.0)
    assert registry.snapshot().status == "degraded"
    registry.register("spool", critical=True)
    registry.set("spool", Health.DOWN, "disk full")
    registry.set("spool", Health.DOWN, "disk full")  # a repeat changes nothing
    assert registry.snapshot().status == "down"


def test_health_json_is_what_the_route_serves(clock: list[float]) -> None:
    registry = HealthRegistry()
    registry.register("spool", critical=True)
    registry.set("spool", Health.READY)
    assert registry.snapshot().to_json() == {
        "status": "ok",
        "checks": {"spool": {"status": "ready", "reason": "", "since": 1000.0}},
    }


def test_checks_and_snapshots_cannot_be_changed_behind_the_registry() -> None:
    check = Check("spool", Health.READY, "", 0.0, critical=True)
    snapshot = HealthSnapshot("ok", (check,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.state = Health.DOWN  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.status = "down"  # type: ignore[misc]
