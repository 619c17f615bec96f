"""The alert outbox on a real SQLite file: one delivery per channel, each tracked on its own,
the engine's state written with the alerts, and the migration from the single-mail outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import BASE_TIME, new_alert, open_test_spool
from wixprint.errors import SpoolError
from wixprint.spool import NewAlert, OutboxAlert, Spool
from wixprint.spool.db_alerts import (
    load_alert_state,
    mark_delivered,
    mark_delivery_failed,
    pending_alerts,
    pending_deliveries,
    record_alerts,
    retire_channels,
)
from wixprint.spool.schema import migrate


async def test_each_channel_drains_its_own_deliveries_oldest_first(spool: Spool) -> None:
    first, second = await spool.record_alerts(
        [new_alert("paper_out:kitchen"), new_alert("internet_down", raised_at=BASE_TIME + 1)]
    )
    assert first < second
    # Mail is down: its first delivery fails and it keeps its place.
    await spool.mark_delivery_failed(first, "mail", "SmtpUnavailable")
    # ntfy goes on regardless and delivers both.
    assert [a.id for a in await spool.pending_deliveries("ntfy")] == [first, second]
    await spool.mark_delivered(first, "ntfy")
    await spool.mark_delivered(second, "ntfy")
    assert await spool.pending_deliveries("ntfy") == []

    mail = await spool.pending_deliveries("mail")
    assert [(a.id, a.attempts) for a in mail] == [(first, 1), (second, 0)]
    assert (mail[0].kind, mail[0].problem_level, mail[0].since) == (
        "raise",
        "critical",
        BASE_TIME - 120,
    )
    # Not done while a channel still owes it.
    assert [a.id for a in await spool.pending_alerts()] == [first, second]
    assert (await spool.statistics()).pending_alerts == 2
    await spool.mark_delivered(first, "mail")
    await spool.mark_delivered(first, "mail")  # a second mark changes nothing
    assert [a.id for a in await spool.pending_alerts()] == [second]
    await spool.mark_delivered(second, "mail")
    assert await spool.pending_alerts() == []


async def test_an_alert_for_no_channel_is_done_at_once(spool: Spool) -> None:
    await spool.record_alerts([new_alert(channels=())])
    assert await spool.pending_alerts() == []
    assert await spool.pending_deliveries("mail") == []


async def test_an_alert_without_facts_is_kept_with_none(spool: Spool) -> None:
    """The heal command's alert names no problem: the outbox keeps it, with no facts."""
    alert = new_alert("spool_healed", channels=("mail",))
    bare = NewAlert(**{f.name: getattr(alert, f.name) for f in fields(alert) if f.name != "facts"})
    await spool.record_alerts([bare])
    assert [(a.key, a.facts) for a in await spool.pending_deliveries("mail")] == [
        ("spool_healed", "")
    ]


async def test_state_is_written_with_the_alerts_or_not_at_all(spool: Spool, tmp_path: Path) -> None:
    assert await spool.load_alert_state() is None
    await spool.record_alerts([], state='{"version": 1}')
    assert await spool.load_alert_state() == '{"version": 1}'
    # A failing write (the channel list names one channel twice is fine; a NULL key is not)
    # leaves neither the alert nor the new state behind.
    broken = new_alert()
    object.__setattr__(broken, "key", None)
    with pytest.raises(SpoolError):
        await spool.record_alerts([new_alert(), broken], state='{"version": 2}')
    assert await spool.load_alert_state() == '{"version": 1}'
    assert await spool.pending_alerts() == []


async def test_retired_channels_stop_holding_alerts(spool: Spool) -> None:
    (alert,) = await spool.record_alerts([new_alert(channels=("mail", "ntfy"))])
    await spool.mark_delivered(alert, "mail")
    assert await spool.retire_alert_channels(["mail"]) == 1  # ntfy was removed from config
    assert await spool.pending_alerts() == []
    assert await spool.pending_deliveries("ntfy") == []
    await spool.record_alerts([new_alert(channels=("webhook",))])
    assert await spool.retire_alert_channels([]) == 1
    assert await spool.pending_alerts() == []


async def test_pruning_a_sent_alert_takes_its_deliveries(
    spool: Spool, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    (alert,) = await spool.record_alerts([new_alert(channels=("mail",))])
    await spool.mark_delivered(alert, "mail")
    await trio.sleep(40 * 86400)
    assert await spool.prune(keep_for=30 * 86400, reference=None) >= 1
    conn = sqlite3.connect(tmp_path / "spool.db")
    try:
        assert conn.execute("SELECT count(*) FROM alert_deliveries").fetchone()[0] == 0
    finally:
        conn.close()


async def test_migration_turns_waiting_mails_into_mail_deliveries(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "spool.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, path, target=2)  # the outbox before channels: mail only
        conn.executemany(
            "INSERT INTO alert_outbox (key, level, subject, body, raised_at, attempts, sent_at,"
            " last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("printer_offline:kitchen", "critical", "s1", "b1", BASE_TIME, 3, None, "Smtp"),
                ("internet_down", "critical", "s2", "b2", BASE_TIME + 1, 1, BASE_TIME + 5, None),
            ],
        )
        migrate(conn, path)
        # What the spool file tells an operator: the mail's attempts and its last error.
        rows = conn.execute("SELECT channel, attempts, last_error FROM alert_deliveries")
        assert rows.fetchall() == [("mail", 3, "Smtp")]
    finally:
        conn.close()
    async with open_test_spool(path) as spool:
        (waiting,) = await spool.pending_deliveries("mail")
        assert (waiting.key, waiting.attempts, waiting.problem_level, waiting.kind) == (
            "printer_offline:kitchen",
            3,
            "critical",
            "raise",
        )
        await spool.mark_delivered(waiting.id, "mail")
        assert await spool.pending_alerts() == []
        assert await spool.load_alert_state() is None


def test_an_alert_reads_back_as_it_was_written(conn: sqlite3.Connection) -> None:
    """What a channel words its message from: every field as recorded. A resolved problem is
    level info but keeps its problem's level; an alert with no problem level takes its own."""
    resolved = new_alert(kind="resolve", raised_at=BASE_TIME + 7, facts='{"a": 1}')
    plain = new_alert("internet_down", level="warning", problem_level="")
    first, second = record_alerts(conn, [resolved, plain], None, BASE_TIME)
    expected = [
        OutboxAlert(
            id=first,
            key="paper_out:kitchen",
            level="info",
            subject="resolve paper_out:kitchen",
            body="paper_out:kitchen body",
            raised_at=BASE_TIME + 7,
            attempts=0,
            kind="resolve",
            problem_level="critical",
            since=BASE_TIME - 113,
            facts='{"a": 1}',
        ),
        OutboxAlert(
            id=second,
            key="internet_down",
            level="warning",
            subject="raise internet_down",
            body="internet_down body",
            raised_at=BASE_TIME,
            attempts=0,
            kind="raise",
            problem_level="warning",
            since=BASE_TIME - 120,
            facts="",
        ),
    ]
    assert pending_alerts(conn, 10) == expected
    assert pending_deliveries(conn, "ntfy", 10) == expected


def test_a_failed_delivery_is_noted_on_the_alert_with_its_channel(
    conn: sqlite3.Connection,
) -> None:
    """The spool file tells an operator why an alert is late, and through which channel.

    No code reads ``last_error`` back (of the outbox or of a delivery): its reader is the
    operator who opens the spool with ``sqlite3``, so these raw queries are its interface."""
    (alert,) = record_alerts(conn, [new_alert()], None, BASE_TIME)
    mark_delivery_failed(conn, alert, "mail", "SmtpUnavailable")
    mark_delivery_failed(conn, alert, "ntfy", "HTTP 502")
    mark_delivered(conn, alert, "ntfy", BASE_TIME + 5)
    outbox = conn.execute("SELECT attempts, last_error FROM alert_outbox").fetchone()
    assert tuple(outbox) == (2, "ntfy: HTTP 502")
    rows = conn.execute("SELECT channel, attempts, last_error FROM alert_deliveries ORDER BY 1")
    assert [tuple(r) for r in rows] == [("mail", 1, "SmtpUnavailable"), ("ntfy", 2, None)]


def test_retiring_keeps_every_channel_still_configured(conn: sqlite3.Connection) -> None:
    (alert,) = record_alerts(
        conn, [new_alert(channels=("mail", "ntfy", "webhook"))], None, BASE_TIME
    )
    assert retire_channels(conn, ["mail", "ntfy"], BASE_TIME) == 1
    assert [a.id for a in pending_deliveries(conn, "mail", 10)] == [alert]
    assert [a.id for a in pending_deliveries(conn, "ntfy", 10)] == [alert]
    assert pending_deliveries(conn, "webhook", 10) == []


def test_the_engine_state_an_earlier_version_saved_is_read(conn: sqlite3.Connection) -> None:
    """The state's row name is part of the file: an upgrade must not forget what the engine
    announced (it would announce every open problem again)."""
    conn.execute(
        "INSERT INTO alert_state (name, value, updated_at) VALUES ('engine', '{\"v\": 1}', 0)"
    )
    assert load_alert_state(conn) == '{"v": 1}'
    record_alerts(conn, [], '{"v": 2}', BASE_TIME)
    rows = conn.execute("SELECT name, value FROM alert_state")
    assert [tuple(r) for r in rows] == [("engine", '{"v": 2}')]


_OPERATIONS: dict[str, Callable[[sqlite3.Connection], object]] = {
    "record_alerts": lambda c: record_alerts(c, [new_alert()], None, BASE_TIME),
    "load_alert_state": load_alert_state,
    "pending_alerts": lambda c: pending_alerts(c, 10),
    "pending_deliveries": lambda c: pending_deliveries(c, "mail", 10),
    "mark_delivered": lambda c: mark_delivered(c, 1, "mail", BASE_TIME),
    "mark_delivery_failed": lambda c: mark_delivery_failed(c, 1, "mail", "down"),
    "retire_channels": lambda c: retire_channels(c, ["mail"], BASE_TIME),
}


@pytest.mark.parametrize("op", _OPERATIONS)
def test_a_failing_alert_operation_names_itself(conn: sqlite3.Connection, op: str) -> None:
    """The log line of a spool failure says which operation failed (here: a transaction
    already open on the connection, so none can begin)."""
    conn.execute("BEGIN")
    with pytest.raises(SpoolError, match=rf"^spool {op} failed: cannot begin"):
        _OPERATIONS[op](conn)
