"""The public names other packages are wired against (a contract, like trio's test_exports)."""

from __future__ import annotations

import wixprint.supervisor as sup

CONTRACT = {
    "Backoff",
    "Bus",
    "BusStatistics",
    "ChildHandle",
    "ChildSpec",
    "ChildStatistics",
    "ErrorInfo",
    "HistorySnapshot",
    "HistoryStore",
    "ProcessRecord",
    "Restart",
    "RestartEvent",
    "Strategy",
    "Subscription",
    "Supervisor",
    "SupervisorStatistics",
    "bus",
    "current_child",
    "faults",
    "statistics_to_json",
    "supervisor_spec",
}


def test_the_contract_names_are_exported() -> None:
    missing = {name for name in CONTRACT if not hasattr(sup, name)}
    assert missing == set()


def test_the_enums_carry_the_otp_names() -> None:
    assert [r.value for r in sup.Restart] == ["permanent", "transient", "temporary"]
    assert [s.value for s in sup.Strategy] == ["one_for_one", "one_for_all", "rest_for_one"]
    assert sup.faults.KNOWN_POINTS == (
        "fetcher.after_fetch",
        "spool.after_commit",
        "printer.before_send",
        "printer.mid_send",
        "printer.after_send",
        "alerter.before_send",
        "web.webhook",
    )


def test_backoff_defaults() -> None:
    assert sup.Backoff() == sup.Backoff(
        min_delay=0.05, max_delay=30.0, random_factor=0.2, reset_after=60.0
    )
