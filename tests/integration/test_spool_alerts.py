"""The alert outbox on a real SQLite file: one delivery per channel, each tracked on its own,
the engine's state written with the alerts, and the migration from the single-mail outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import BASE_TIME, new_alert, open_test_spool
from wixprint.errors import SpoolError
from wixprint.spool import Spool
from wixprint.spool.schema import migrate


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


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
            "INSERT INTO alert_outbox (key, level, subject, body, raised_at, attempts, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("printer_offline:kitchen", "critical", "s1", "b1", BASE_TIME, 3, None),
                ("internet_down", "critical", "s2", "b2", BASE_TIME + 1, 1, BASE_TIME + 5),
            ],
        )
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
