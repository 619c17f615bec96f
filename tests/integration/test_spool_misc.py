"""Cursors, webhook dedupe, queue views and pruning, on the virtual clock (the alert outbox:
``test_spool_alerts``)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.disk import fill_to_the_last_byte, small_tmpfs
from tests.unit.spool.factories import KITCHEN, make_order, new_alert, open_test_spool, raw
from wixprint.errors import SpoolError
from wixprint.spool import SCHEMA_VERSION, JobState, QueueStats, Spool

DAY = 24 * 3600.0


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


async def print_all(spool: Spool, printer: str) -> None:
    while (job := await spool.claim_next(printer)) is not None:
        assert await spool.mark_printed(job.id)


async def test_cursors_and_meta_persist_across_reopen(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        assert await spool.get_cursor("orders") is None
        await spool.set_cursor("orders", "2025-06-13T16:00:00Z")
        await spool.set_cursor("orders", "2025-06-13T17:00:00Z")
        await spool.set_meta("first_start", "1750000000.0")
    async with open_test_spool(tmp_path / "spool.db") as spool:
        assert await spool.get_cursor("orders") == "2025-06-13T17:00:00Z"
        assert await spool.get_meta("first_start") == "1750000000.0"
        assert await spool.get_meta("orders") is None  # separate namespaces


async def test_seen_event_is_true_once(spool: Spool, thread_clock: trio.testing.MockClock) -> None:
    assert await spool.seen_event("evt-1")
    assert not await spool.seen_event("evt-1")
    assert await spool.seen_event("evt-2")


async def test_webhook_ids_are_forgotten_after_a_week(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.seen_event("evt-1")
    await trio.sleep(6 * DAY)
    await spool.prune(keep_for=30 * DAY, reference=None)
    assert not await spool.seen_event("evt-1")
    await trio.sleep(2 * DAY)
    await spool.prune(keep_for=30 * DAY, reference=None)
    assert await spool.seen_event("evt-1")


async def test_queue_stats_age_on_the_clock(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    assert await spool.queue_stats(("kitchen",)) == {
        "kitchen": QueueStats("kitchen", 0, None, 0, 0, attention=0)
    }
    await spool.accept(make_order("o-1", targets=(KITCHEN,)))
    assert (await spool.queue_stats())["kitchen"].oldest_age == 0.0  # queued this instant
    await trio.sleep(90)
    await spool.accept(make_order("o-2", targets=(KITCHEN,)))
    await trio.sleep(30)
    stats = await spool.queue_stats()
    assert stats["kitchen"] == QueueStats("kitchen", 2, pytest.approx(120.0), 0, 0)  # type: ignore[arg-type]
    await print_all(spool, "kitchen")
    assert (await spool.queue_stats())["kitchen"] == QueueStats("kitchen", 0, None, 2, 0)


async def test_unprinted_orders_after_their_grace(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order("o-1", number="101"))
    await trio.sleep(300)
    await spool.accept(make_order("o-2", number="102"))
    await spool.accept(make_order("o-3", number="103", status="INITIALIZED"))
    await trio.sleep(400)
    late = await spool.unprinted_orders(600)
    assert [number for number, _ in late] == ["101"]
    assert late[0][1] == pytest.approx(700.0)
    await print_all(spool, "kitchen")
    # Still unprinted at the counter (driver slip and receipt).
    assert [n for n, _ in await spool.unprinted_orders(600)] == ["101"]
    await print_all(spool, "counter")
    assert await spool.unprinted_orders(0) == []


async def test_recent_orders_show_ticket_states_and_no_customer_details(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order("o-1", number="101", note="Erika Mustermann +49 30 123"))
    await trio.sleep(1)
    await spool.accept(make_order("o-2", number="102", source="webhook"))
    await print_all(spool, "kitchen")
    orders = await spool.recent_orders()
    assert [(o.number, o.source, o.revision) for o in orders] == [
        ("102", "webhook", 1),
        ("101", "poll", 1),
    ]
    assert [(t.kind, t.state) for t in orders[1].tickets] == [
        ("kitchen", JobState.PRINTED),
        ("driver", JobState.QUEUED),
        ("customer", JobState.QUEUED),
    ]
    assert "Erika" not in repr(orders)
    assert len(await spool.recent_orders(limit=1)) == 1


async def test_job_history_newest_first(spool: Spool, thread_clock: trio.testing.MockClock) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    job = await spool.claim_next("kitchen")
    assert job is not None
    await spool.release(job.id, outcome_unknown=True, error="no answer")
    events = await spool.recent_job_events()
    assert [(e.event, e.state, e.order_number) for e in events] == [
        ("interrupted", JobState.QUEUED, "10001"),
        ("claim", JobState.PRINTING, "10001"),
        ("created", JobState.QUEUED, "10001"),
    ]
    assert events[0].detail == "no answer"


async def test_statistics(spool: Spool, thread_clock: trio.testing.MockClock) -> None:
    await spool.accept(make_order())
    stats = await spool.statistics()
    assert stats.schema_version == SCHEMA_VERSION
    assert stats.orders == 1
    assert stats.jobs == {state.value: 3 if state is JobState.QUEUED else 0 for state in JobState}
    assert stats.db_bytes > 0


async def test_webhook_ids_are_remembered_for_exactly_a_week(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.seen_event("evt-1")
    await trio.sleep(7 * DAY - 60)
    await spool.prune(keep_for=30 * DAY, reference=None)
    assert not await spool.seen_event("evt-1")  # still known: a late duplicate is dropped
    await spool.seen_event("evt-2")
    await trio.sleep(7 * DAY + 60)
    await spool.prune(keep_for=30 * DAY, reference=None)
    assert await spool.seen_event("evt-2")


async def test_a_failing_call_names_itself(spool: Spool) -> None:
    conn = raw(spool)
    conn.execute("PRAGMA query_only = ON")  # the card turned read-only
    with pytest.raises(SpoolError, match=r"^spool set cursors failed"):
        await spool.set_cursor("orders", "mark")
    with pytest.raises(SpoolError, match=r"^spool seen_event failed"):
        await spool.seen_event("evt-1")
    conn.execute("PRAGMA query_only = OFF")
    conn.execute("ALTER TABLE cursors RENAME TO cursors_damaged")  # a damaged file
    with pytest.raises(SpoolError, match=r"^spool get cursors failed"):
        await spool.get_cursor("orders")
    conn.execute("ALTER TABLE alert_outbox RENAME TO alert_outbox_damaged")
    with pytest.raises(SpoolError, match=r"^spool statistics failed"):
        await spool.statistics()


async def test_statistics_count_the_file_and_its_write_ahead_log(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "spool.db"
    wal = tmp_path / "spool.db-wal"
    async with open_test_spool(path) as spool:
        await spool.accept(make_order())
        await spool.record_alerts([new_alert()])
        stats = await spool.statistics()
        assert wal.stat().st_size > 0
        assert stats.db_bytes == path.stat().st_size + wal.stat().st_size
        assert stats.pending_alerts == 1
        wal.unlink()  # gone from the folder (the open file lives on): counted as nothing
        assert (await spool.statistics()).db_bytes == path.stat().st_size


async def test_a_healthy_spool_passes_its_integrity_check(spool: Spool) -> None:
    await spool.accept(make_order())
    assert await spool.integrity_check()


async def test_a_checkpoint_empties_the_log_unless_a_reader_still_needs_it(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "spool.db"
    async with open_test_spool(path) as spool:
        await spool.accept(make_order("o-1"))
        assert await spool.wal_checkpoint() == (0, 0, 0)  # all moved, the log truncated
        assert (tmp_path / "spool.db-wal").stat().st_size == 0
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM orders").fetchone()  # holds its snapshot
            await spool.accept(make_order("o-2"))
            busy, logged, moved = await spool.wal_checkpoint()
        finally:
            reader.close()
        assert busy == 1
        assert logged > moved >= 0
        assert (tmp_path / "spool.db-wal").stat().st_size > 0


async def test_a_backup_goes_into_a_new_or_existing_folder(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order())
        await spool.backup_to(tmp_path / "backups" / "daily" / "one.db")
        await spool.backup_to(tmp_path / "backups" / "daily" / "two.db")
    for name in ("one.db", "two.db"):
        async with open_test_spool(tmp_path / "backups" / "daily" / name) as copy:
            assert (await copy.statistics()).orders == 1


async def test_a_failed_backup_says_why(spool: Spool, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(SpoolError, match=r"^spool backup failed: File exists$"):
        await spool.backup_to(tmp_path / "a-file" / "backup.db")


async def test_a_full_disk_stops_a_backup_and_a_checkpoint_with_sqlites_reason(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The operator's ``wixprint backup`` and the checkpoint say that SQLite ran out of room,
    not a bare traceback: the WAL holds the orders until a checkpoint copies them into the
    spool file, which then has no byte left to grow into."""
    with small_tmpfs(tmp_path / "sd", size="4m") as disk:
        async with open_test_spool(disk / "spool.db") as spool:
            for number in range(1, 41):
                await spool.accept(make_order(f"order-{number}", number=str(number)))
            fill_to_the_last_byte(disk)
            full = r"\(SQLITE_FULL: database or disk is full\)$"
            with pytest.raises(SpoolError, match=r"^spool backup failed " + full):
                await spool.backup_to(disk / "backup.db")
            with pytest.raises(SpoolError, match=r"^spool checkpoint failed " + full):
                await spool.wal_checkpoint()
