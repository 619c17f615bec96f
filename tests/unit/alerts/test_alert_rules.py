"""Alert rules on synthetic wall-clock times: grace, repeat, resolve, dedupe, levels."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.alerts.helpers import RESTAURANT, T0, engine, kinds, printer, simulate
from wixprint.alerts.messages import Language
from wixprint.events import (
    ActorRestarted,
    ClockState,
    InternetState,
    PrinterState,
    ResourceSample,
    StorageState,
    TicketNeedsAttention,
    TicketQuarantined,
    WixAuthFailed,
    WixReachable,
)


def offline_for(seconds: float) -> list[PrinterState]:
    return [printer(T0, online=False, reason="connect refused"), printer(T0 + seconds)]


def test_outage_shorter_than_grace_is_never_mailed() -> None:
    eng = engine()
    actions = simulate(eng, offline_for(60), start=T0, end=T0 + 4000)
    assert actions == []
    assert eng.statistics().suppressed == 1
    assert eng.active_problems() == []


def test_outage_longer_than_grace_raises_once_then_resolves_with_duration() -> None:
    eng = engine()
    actions = simulate(
        eng,
        offline_for(130),
        start=T0,
        end=T0 + 4000,
        held={"kitchen": 3},
    )
    assert kinds(actions) == [
        ("raise", "printer_offline:kitchen"),
        ("resolve", "printer_offline:kitchen"),
    ]
    raised, resolved = actions
    assert raised.level == "critical"
    assert raised.raised_at == raised.at == T0 + 120
    assert raised.since == T0
    assert raised.subject == f"[{RESTAURANT}] KRITISCH: Drucker kitchen nicht erreichbar"
    assert "connect refused" in raised.body
    assert "3 Ticket(s) warten" in raised.body
    assert resolved.level == "info"
    assert resolved.subject == f"[{RESTAURANT}] Behoben: Drucker kitchen nicht erreichbar"
    assert "Dauer: 2 Min." in resolved.body
    assert "3 Ticket(s) haben gewartet" in resolved.body


def test_three_hour_outage_is_repeated_every_hour() -> None:
    eng = engine()
    actions = simulate(eng, offline_for(3 * 3600), start=T0, end=T0 + 4 * 3600, step=10)
    assert [a.kind for a in actions] == ["raise", "repeat", "repeat", "resolve"]
    assert [a.at - T0 for a in actions] == [120, 3720, 7320, 10800]
    assert actions[1].subject.endswith("(besteht weiter)")
    assert "Dauer: 3 Std." in actions[3].body


def test_the_same_state_reported_again_and_again_is_one_mail() -> None:
    eng = engine()
    events = [printer(T0 + i * 5, online=False, since=T0) for i in range(200)]
    actions = simulate(eng, events, start=T0, end=T0 + 1000)
    assert kinds(actions) == [("raise", "printer_offline:kitchen")]
    [view] = eng.active_problems()
    assert (view.key, view.level, view.since, view.mailed) == (
        "printer_offline:kitchen",
        "critical",
        T0,
        True,
    )


def test_flapping_within_grace_sends_nothing() -> None:
    events = []
    for cycle in range(20):  # 60 s offline, 30 s online, for half an hour
        start = T0 + cycle * 90
        events += [printer(start, online=False), printer(start + 60)]
    eng = engine()
    assert simulate(eng, events, start=T0, end=T0 + 3600) == []
    assert eng.statistics().suppressed == 20


def test_state_already_old_when_first_seen_is_raised_at_once() -> None:
    eng = engine()
    actions = eng.observe(printer(T0, online=False, since=T0 - 600), T0)
    assert kinds(actions) == [("raise", "printer_offline:kitchen")]
    assert actions[0].since == T0 - 600


def test_paper_near_end_warns_immediately_and_paper_out_takes_over() -> None:
    eng = engine()
    near = eng.observe(printer(T0, paper="near_end"), T0)
    assert [(a.kind, a.key, a.level) for a in near] == [
        ("raise", "paper_near_end:kitchen", "warning")
    ]
    assert "WARNUNG" in near[0].subject
    events = [printer(T0 + 600, paper="out"), printer(T0 + 900, paper="ok")]
    actions = simulate(eng, events, start=T0 + 5, end=T0 + 1000)
    # Near-end is superseded silently; paper out waits its grace, then resolves.
    assert kinds(actions) == [("raise", "paper_out:kitchen"), ("resolve", "paper_out:kitchen")]
    assert actions[0].at == T0 + 720
    assert "Papier nachlegen" in actions[0].body
    assert eng.active_problems() == []


def test_paper_near_end_resolves_when_a_new_roll_is_in() -> None:
    eng = engine()
    actions = simulate(
        eng, [printer(T0, paper="near_end"), printer(T0 + 300)], start=T0, end=T0 + 400
    )
    assert [(a.kind, a.level) for a in actions] == [("raise", "warning"), ("resolve", "info")]


def test_paper_problem_is_left_alone_while_the_printer_is_offline() -> None:
    eng = engine()
    events = [
        printer(T0, paper="out"),
        printer(T0 + 200, online=False, paper="unknown"),  # switched off to change paper
        printer(T0 + 260, paper="ok"),
    ]
    actions = simulate(eng, events, start=T0, end=T0 + 400)
    assert kinds(actions) == [("raise", "paper_out:kitchen"), ("resolve", "paper_out:kitchen")]
    assert "Dauer: 4 Min." in actions[1].body  # 260 s: off-time counts as paper still out


def test_cover_open_beyond_grace() -> None:
    eng = engine()
    actions = simulate(
        eng, [printer(T0, cover_open=True), printer(T0 + 200)], start=T0, end=T0 + 300
    )
    assert kinds(actions) == [("raise", "cover_open:kitchen"), ("resolve", "cover_open:kitchen")]


def test_two_printers_are_separate_problems() -> None:
    eng = engine()
    events = [printer(T0, online=False), printer(T0, online=False, name="bar")]
    actions = simulate(eng, events, start=T0, end=T0 + 200)
    assert sorted(a.key for a in actions) == ["printer_offline:bar", "printer_offline:kitchen"]


def test_internet_down_uses_its_own_grace_and_its_end_time() -> None:
    eng = engine()
    short = [
        InternetState(at=T0, online=False, since=T0, target="www.wixapis.com:443"),
        InternetState(at=T0 + 200, online=True, since=T0 + 200, target="x"),
    ]
    assert simulate(eng, short, start=T0, end=T0 + 400) == []
    long = [
        InternetState(at=T0 + 1000, online=False, since=T0 + 1000, target="x"),
        # Reported late: the way back was confirmed at +1900, the outage ended at +1800.
        InternetState(at=T0 + 1900, online=True, since=T0 + 1800, target="x"),
    ]
    actions = simulate(eng, long, start=T0 + 1000, end=T0 + 2000)
    assert [(a.kind, a.key, a.at - T0) for a in actions] == [
        ("raise", "internet_down", 1300),
        ("resolve", "internet_down", 1900),
    ]
    assert "Dauer: 13 Min." in actions[1].body


def test_wix_auth_mail_carries_wix_words_and_the_likely_causes() -> None:
    eng = engine()
    event = WixAuthFailed(
        at=T0, status_code=403, causes=("permission", "site_id"), wix_said="[PERMISSION_DENIED]"
    )
    (action,) = eng.observe(event, T0)
    assert "Wix lehnt den API-Schlüssel ab (HTTP 403: [PERMISSION_DENIED])" in action.body
    body = action.body
    assert body.index("1. Dem API-Schlüssel fehlt") < body.index("2. Die Site-ID ist falsch")


def test_wix_auth_is_critical_at_once_and_resolves_on_success() -> None:
    eng = engine()
    first = eng.observe(WixAuthFailed(at=T0, status_code=401), T0)
    assert [(a.kind, a.key, a.level) for a in first] == [("raise", "wix_auth", "critical")]
    assert "HTTP 401" in first[0].body
    assert eng.observe(WixAuthFailed(at=T0 + 10, status_code=401), T0 + 10) == []
    done = eng.observe(WixReachable(at=T0 + 600), T0 + 600)
    assert [(a.kind, a.level) for a in done] == [("resolve", "info")]
    assert "Dauer: 10 Min." in done[0].body


def test_unprinted_order_after_n_minutes_with_its_number() -> None:
    eng = engine()
    assert eng.tick(T0, unprinted=[("1001", 300.0)]) == []
    raised = eng.tick(T0 + 310, unprinted=[("1001", 610.0), ("1002", 20.0)])
    assert [(a.kind, a.key, a.level) for a in raised] == [("raise", "unprinted_orders", "critical")]
    assert "1001" in raised[0].body
    assert "1002" not in raised[0].body
    assert raised[0].since == T0 - 300  # when order 1001 arrived
    # More late orders join the same problem: no new mail.
    assert eng.tick(T0 + 900, unprinted=[("1001", 1200.0), ("1002", 610.0)]) == []
    # Not known this time (None) changes nothing; an empty list means all printed.
    assert eng.tick(T0 + 950) == []
    [resolved] = eng.tick(T0 + 1000, unprinted=[])
    assert resolved.kind == "resolve"
    assert "1001, 1002" in resolved.body


def test_quarantined_ticket_is_mailed_once() -> None:
    eng = engine(language="en")
    event = TicketQuarantined(
        at=T0, job_id=17, order_number="1005", printer="kitchen", receipt="kitchen", error="boom"
    )
    [action] = eng.observe(event, T0)
    assert (action.kind, action.key, action.level) == ("raise", "quarantined:17", "critical")
    assert action.subject == f"[{RESTAURANT}] CRITICAL: Order 1005 cannot be printed"
    assert "boom" in action.body
    assert eng.observe(event, T0 + 5) == []
    assert eng.tick(T0 + 7200) == []  # one-shot: no repeat, no resolve


@pytest.mark.parametrize(
    ("language", "subject", "said"),
    [
        ("en", "CRITICAL: Order 1006: printing not confirmed", "went to the printer 3 times"),
        ("de", "KRITISCH: Bestellung 1006: Druck nicht bestätigt", "3-mal an den Drucker"),
    ],
)
def test_a_ticket_set_aside_is_mailed_once_naming_the_order(
    language: Language, subject: str, said: str
) -> None:
    eng = engine(language=language)
    event = TicketNeedsAttention(
        at=T0, job_id=18, order_number="1006", printer="kitchen", receipt="kitchen", attempts=3
    )
    [action] = eng.observe(event, T0)
    assert (action.kind, action.key, action.level) == ("raise", "attention:18", "critical")
    assert action.subject == f"[{RESTAURANT}] {subject}"
    assert said in action.body
    assert "REPRINT" in action.body
    assert eng.observe(event, T0 + 5) == []
    assert eng.tick(T0 + 7200) == []  # one-shot: no repeat, no resolve


def restart(at: float, actor: str = "fetcher") -> ActorRestarted:
    return ActorRestarted(
        at=at, actor=actor, error_type="RuntimeError", message="bug", restarts=1, delay=1.0
    )


def test_repeated_restarts_warn_and_resolve_after_a_quiet_hour() -> None:
    eng = engine(restarts_alert_after=3, repeat_every=7200)
    assert eng.observe(restart(T0), T0) == []
    assert eng.observe(restart(T0 + 60), T0 + 60) == []
    [warn] = eng.observe(restart(T0 + 120), T0 + 120)
    assert (warn.kind, warn.key, warn.level) == ("raise", "restarts:fetcher", "warning")
    assert "3-mal" in warn.body
    assert eng.observe(restart(T0 + 180), T0 + 180) == []
    assert eng.tick(T0 + 180 + 3599) == []
    [resolved] = eng.tick(T0 + 180 + 3600)
    assert (resolved.kind, resolved.key) == ("resolve", "restarts:fetcher")


def test_restarts_spread_over_more_than_an_hour_do_not_warn() -> None:
    eng = engine(restarts_alert_after=3)
    actions = [a for i in range(5) for a in eng.observe(restart(T0 + i * 2000), T0 + i * 2000)]
    assert actions == []


def sample(at: float, **values: float | bool) -> ResourceSample:
    base: dict[str, float | bool | None] = {
        "cpu_percent": None,
        "memory_percent": None,
        "disk_percent": None,
        "rss_bytes": None,
        "open_files": None,
        "temperature_c": None,
        "throttled_now": None,
    }
    base.update(values)
    return ResourceSample(at=at, **base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "key", "threshold", "margin"),
    [
        ("disk_percent", "disk", 90.0, 2.0),
        ("memory_percent", "memory", 90.0, 5.0),
        ("temperature_c", "temperature", 80.0, 5.0),
    ],
)
def test_resource_thresholds_with_hysteresis(
    field: str, key: str, threshold: float, margin: float
) -> None:
    eng = engine()
    assert eng.observe(sample(T0, **{field: threshold - 1}), T0) == []
    [warn] = eng.observe(sample(T0 + 30, **{field: threshold + 1}), T0 + 30)
    assert (warn.kind, warn.key, warn.level) == ("raise", key, "warning")
    # Just under the threshold is not "resolved": that would flap.
    assert eng.observe(sample(T0 + 60, **{field: threshold - margin / 2}), T0 + 60) == []
    assert eng.observe(sample(T0 + 90, **{field: threshold + 2}), T0 + 90) == []
    [done] = eng.observe(sample(T0 + 120, **{field: threshold - margin - 1}), T0 + 120)
    assert (done.kind, done.key) == ("resolve", key)


def test_unknown_resource_values_change_nothing() -> None:
    eng = engine()
    eng.observe(sample(T0, disk_percent=95.0), T0)
    assert eng.observe(sample(T0 + 30), T0 + 30) == []
    assert [p.key for p in eng.active_problems()] == ["disk"]


def test_throttling_warns_and_resolves() -> None:
    eng = engine()
    [warn] = eng.observe(sample(T0, throttled_now=True), T0)
    assert (warn.key, warn.level) == ("throttled", "warning")
    [done] = eng.observe(sample(T0 + 60, throttled_now=False), T0 + 60)
    assert done.kind == "resolve"


def test_same_inputs_give_the_same_mails() -> None:
    events = [
        printer(T0, online=False),
        WixAuthFailed(at=T0 + 50, status_code=403),
        printer(T0 + 400),
        WixReachable(at=T0 + 500),
    ]
    first = simulate(engine(), events, start=T0, end=T0 + 600)
    second = simulate(engine(), events, start=T0, end=T0 + 600)
    assert first == second
    assert len(first) == 4


def test_next_due_tells_when_a_raise_or_repeat_is_due() -> None:
    eng = engine()
    assert eng.next_due(T0) is None
    eng.observe(printer(T0, online=False), T0)
    assert eng.next_due(T0) == T0 + 120
    eng.tick(T0 + 120)
    assert eng.next_due(T0 + 120) == T0 + 120 + 3600


def test_statistics_count_what_was_sent() -> None:
    eng = engine()
    simulate(eng, offline_for(3 * 3600), start=T0, end=T0 + 4 * 3600, step=60)
    stats = eng.statistics()
    assert (stats.raised, stats.repeated, stats.resolved, stats.active) == (1, 2, 1, 0)


def storage(
    at: float, *, writable: bool, intake: bool, since: float, reason: str = ""
) -> StorageState:
    return StorageState(at=at, writable=writable, intake=intake, since=since, reason=reason)


def test_a_full_disk_is_mailed_at_once_and_its_restarts_are_not_counted() -> None:
    """The disk fills (writes fail), the reserve lets printing go on (intake still paused),
    space is freed: one raise, one resolve; the printer's outage restarts mail nothing."""
    eng = engine(restarts_alert_after=3)
    full = "cannot write: the disk is full (SQLITE_FULL)"
    events = [
        storage(T0, writable=False, intake=False, since=T0, reason=full),
        storage(T0 + 1, writable=True, intake=False, since=T0 + 1, reason="reserve in use"),
        *[
            ActorRestarted(
                at=T0 + 10 * i,
                actor="printer:kitchen",
                error_type="SpoolUnwritable",
                message="spool claim failed",
                restarts=0,
                delay=1.0,
            )
            for i in range(1, 10)
        ],
        storage(T0 + 1800, writable=True, intake=True, since=T0 + 1800),
    ]
    actions = simulate(eng, events, start=T0, end=T0 + 3000)
    assert kinds(actions) == [("raise", "storage"), ("resolve", "storage")]
    raised, resolved = actions
    assert raised.at == T0
    assert raised.level == "critical"
    assert "Speicherkarte voll oder schreibgeschützt" in raised.subject
    assert "SQLITE_FULL" in raised.body
    assert "Dauer: 30 Min." in resolved.body


def clock(at: float, *, skewed: bool, reason: str = "") -> ClockState:
    offset = -30 * 86400.0 if skewed else 1.0
    return ClockState(
        at=at, trusted=not skewed, skewed=skewed, offset=offset, since=at, reason=reason
    )


def test_a_clock_fixed_by_ntp_soon_after_boot_is_not_mailed_a_lasting_skew_is() -> None:
    behind = "the clock is 30 d behind Wix's time"
    eng = engine()
    boot = [clock(T0, skewed=True, reason=behind), clock(T0 + 90, skewed=False)]
    assert simulate(eng, boot, start=T0, end=T0 + 3000) == []

    eng = engine()
    lasting = [clock(T0, skewed=True, reason=behind), clock(T0 + 3600, skewed=False)]
    actions = simulate(eng, lasting, start=T0, end=T0 + 4000)
    assert kinds(actions) == [("raise", "clock"), ("resolve", "clock")]
    assert actions[0].at == T0 + 900
    assert actions[0].level == "warning"
    assert "Uhr des Raspberry Pi falsch" in actions[0].subject
    assert behind in actions[0].body


def test_a_paused_printer_raises_nothing_and_is_alerted_again_when_resumed() -> None:
    eng = engine()
    events = [
        replace(printer(T0, paper="out"), paused=True),  # the roll is changed, paused
        replace(printer(T0 + 60, online=False, since=T0 + 60), paused=True),  # switched off
        printer(T0 + 1000, online=False, since=T0 + 60),  # resumed, still off
    ]
    actions = simulate(eng, events, start=T0, end=T0 + 1200)
    # Nothing while paused; resumed, the outage counts from when it began: its grace is over.
    assert kinds(actions) == [("raise", "printer_offline:kitchen")]
    assert actions[0].at == T0 + 1000
