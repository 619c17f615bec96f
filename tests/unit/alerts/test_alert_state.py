"""The engine's memory across restarts: a new engine restored from the saved state goes on
exactly where the old one stopped (no second announcement, the resolved message when the
problem ends, held messages kept), and a state it cannot read is refused whole."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.alerts.helpers import T0, engine, kinds, local, printer, simulate
from wixprint.alerts import AlertEngine
from wixprint.alerts.state import EngineState, decode_state, encode_state
from wixprint.events import ActorRestarted, TicketQuarantined, WixAuthFailed, WixReachable


def restarted(
    eng: AlertEngine, printers: tuple[str, ...] = ("kitchen",), **cfg: Any
) -> AlertEngine:
    """A new engine (a new process) from what ``eng`` saved, through its JSON form."""
    fresh = engine(**cfg)
    fresh.restore(decode_state(encode_state(eng.export_state())), printers=printers)
    return fresh


def test_an_announced_problem_is_not_announced_again_and_gets_its_resolved_message() -> None:
    eng = engine()
    out = simulate(eng, [printer(T0, paper="out")], start=T0, end=T0 + 300)
    assert kinds(out) == [("raise", "paper_out:kitchen")]

    again = restarted(eng)
    # The new process sees the printer still out of paper, since it started.
    out = simulate(again, [printer(T0 + 400, paper="out")], start=T0 + 400, end=T0 + 3000)
    assert out == []
    [view] = again.active_problems()
    assert (view.key, view.since, view.mailed) == ("paper_out:kitchen", T0, True)
    out = simulate(again, [printer(T0 + 3100)], start=T0 + 3100, end=T0 + 3200)
    assert kinds(out) == [("resolve", "paper_out:kitchen")]
    assert "Dauer: 51 Min." in out[0].body  # from the first process's start of it
    assert out[0].level == "info"
    assert out[0].problem_level == "critical"  # routed where the raise went


def test_repeats_keep_their_rhythm_across_a_restart() -> None:
    eng = engine(repeat_every=3600)
    simulate(eng, [printer(T0, online=False)], start=T0, end=T0 + 1800, step=10)
    again = restarted(eng, repeat_every=3600)
    out = simulate(again, [], start=T0 + 1800, end=T0 + 3800, step=10)
    assert [(a.kind, a.at) for a in out] == [("repeat", T0 + 120 + 3600)]


def test_a_problem_still_in_its_grace_keeps_its_start() -> None:
    eng = engine()
    simulate(eng, [printer(T0, online=False)], start=T0, end=T0 + 60)
    again = restarted(eng)
    out = simulate(again, [printer(T0 + 90, online=False)], start=T0 + 90, end=T0 + 200)
    assert [(a.kind, a.at, a.since) for a in out] == [("raise", T0 + 120, T0)]


def test_problems_of_a_printer_no_longer_configured_are_dropped() -> None:
    eng = engine()
    events = [printer(T0, paper="out", name="bar"), printer(T0, paper="out")]
    simulate(eng, events, start=T0, end=T0 + 300)
    again = restarted(eng, printers=("kitchen",))
    assert [p.key for p in again.active_problems()] == ["paper_out:kitchen"]


def test_held_messages_one_shots_and_restart_counts_survive() -> None:
    eng = engine(quiet_hours="22:00-07:00", restarts_alert_after=3)
    night = local(2025, 3, 14, 23)
    eng.observe(WixAuthFailed(at=night, status_code=401), night)
    eng.observe(WixReachable(at=night + 60), night + 60)  # its resolved message waits
    quarantined = TicketQuarantined(
        at=night, job_id=17, order_number="1005", printer="kitchen", receipt="kitchen", error="x"
    )
    assert len(eng.observe(quarantined, night)) == 1
    for i in range(2):
        restart = ActorRestarted(
            at=night + i, actor="fetcher", error_type="E", message="m", restarts=1, delay=1
        )
        eng.observe(restart, night + i)

    again = restarted(eng, quiet_hours="22:00-07:00", restarts_alert_after=3)
    assert again.observe(quarantined, night + 120) == []  # announced once, ever
    third = ActorRestarted(
        at=night + 130, actor="fetcher", error_type="E", message="m", restarts=1, delay=1
    )
    again.observe(third, night + 130)
    assert [p.key for p in again.active_problems()] == ["restarts:fetcher"]
    morning = again.tick(local(2025, 3, 15, 7))
    assert ("resolve", "wix_auth") in kinds(morning)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '{"version": 2}',
        '{"version": 1, "book": {"problems": [{"facts": {"category": "nonsense"}}]}}',
        '{"version": 1, "restarts": {"fetcher": ["soon"]}}',
    ],
)
def test_a_state_that_cannot_be_read_is_refused_whole(text: str) -> None:
    with pytest.raises(ValueError, match="alert state"):
        decode_state(text)


def test_an_empty_engine_saves_an_empty_state() -> None:
    assert engine().export_state() == EngineState()
    assert decode_state(encode_state(EngineState())) == EngineState()
