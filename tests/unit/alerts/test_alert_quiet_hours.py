"""Quiet hours: info mails wait, critical and warning mails never do."""

from __future__ import annotations

import pytest

from tests.unit.alerts.helpers import TZ, engine, local, printer, simulate
from wixprint.alerts.quiet import QuietHours
from wixprint.errors import ConfigError
from wixprint.events import WixAuthFailed, WixReachable


def test_parse_and_contains_across_midnight() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet is not None
    assert quiet.contains(local(2025, 3, 14, 23, 30), TZ)
    assert quiet.contains(local(2025, 3, 15, 0, 0), TZ)
    assert quiet.contains(local(2025, 3, 15, 6, 59), TZ)
    assert not quiet.contains(local(2025, 3, 15, 7, 0), TZ)
    assert not quiet.contains(local(2025, 3, 14, 21, 59), TZ)


def test_parse_a_daytime_window_and_empty() -> None:
    quiet = QuietHours.parse("13:00-14:30")
    assert quiet is not None
    assert quiet.contains(local(2025, 3, 14, 14, 0), TZ)
    assert not quiet.contains(local(2025, 3, 14, 14, 30), TZ)
    assert QuietHours.parse("") is None


@pytest.mark.parametrize("text", ["22-07", "25:00-07:00", "22:00", "22:60-07:00", "abc"])
def test_parse_rejects_garbage_with_the_key_name(text: str) -> None:
    with pytest.raises(ConfigError, match=r"alerts\.quiet_hours"):
        QuietHours.parse(text)


def test_next_end_is_the_next_morning() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet is not None
    assert quiet.next_end(local(2025, 3, 14, 23), TZ) == local(2025, 3, 15, 7)
    assert quiet.next_end(local(2025, 3, 15, 3), TZ) == local(2025, 3, 15, 7)
    assert quiet.next_end(local(2025, 3, 15, 12), TZ) == local(2025, 3, 15, 12)


def test_resolved_mail_at_night_waits_until_quiet_hours_end_critical_does_not() -> None:
    eng = engine(quiet_hours="22:00-07:00")
    night = local(2025, 3, 14, 23)
    events = [printer(night, online=False), printer(night + 600)]
    actions = simulate(eng, events, start=night, end=local(2025, 3, 15, 6, 59), step=60)
    # The critical raise went out at once, in the middle of quiet hours.
    assert [(a.kind, a.level, a.at) for a in actions] == [("raise", "critical", night + 120)]
    assert eng.statistics().deferred == 1
    assert eng.next_due(local(2025, 3, 15, 6, 59)) == local(2025, 3, 15, 7)
    released = eng.tick(local(2025, 3, 15, 7))
    assert [(a.kind, a.level) for a in released] == [("resolve", "info")]
    # Sent in the morning, but dated when it happened.
    assert released[0].raised_at == night + 600
    assert released[0].at == local(2025, 3, 15, 7)
    assert "14.03.2025 23:10" in released[0].body
    assert eng.statistics().deferred == 0


def test_info_after_midnight_is_deferred_too() -> None:
    eng = engine(quiet_hours="22:00-07:00")
    t = local(2025, 3, 15, 1)
    eng.observe(WixAuthFailed(at=t, status_code=401), t)
    assert eng.observe(WixReachable(at=t + 60), t + 60) == []
    assert eng.tick(local(2025, 3, 15, 6, 30)) == []
    assert [a.kind for a in eng.tick(local(2025, 3, 15, 7, 5))] == ["resolve"]


def test_a_new_raise_releases_the_same_problems_waiting_resolve_first() -> None:
    eng = engine(quiet_hours="22:00-07:00")
    t = local(2025, 3, 14, 23)
    eng.observe(WixAuthFailed(at=t, status_code=401), t)
    assert eng.observe(WixReachable(at=t + 60), t + 60) == []
    again = eng.observe(WixAuthFailed(at=t + 120, status_code=401), t + 120)
    assert [a.kind for a in again] == ["resolve", "raise"]
    assert again[0].raised_at == t + 60
