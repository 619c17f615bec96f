"""What the spool remembers of an order after pruning, the quarantine, and the two horizons.

Pruning decides by Wix's clock (the poll mark), never by this machine's alone; a pruned order
leaves a tombstone that the revision rules read like the order; dropping tombstones after
years moves the history start, and a restored backup sets the restore horizon.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import (
    BAR,
    BASE_TIME,
    DRIVER,
    KITCHEN,
    make_order,
    new_alert,
    open_test_spool,
)
from wixprint.errors import SpoolError
from wixprint.spool import (
    AcceptOutcome,
    JobState,
    QuarantinedOrder,
    Spool,
    Variant,
    open_spool,
)
from wixprint.wixtime import wix_time_of

DAY = 86400.0
T0 = "2025-06-13T16:47:23.905Z"  # the factory's updatedDate
T1 = "2025-06-13T17:00:00.000Z"
LATER = "2025-07-20T12:00:00.000Z"


def mark_after(days: float) -> str:
    """A poll mark ``days`` after the factory order's last update."""
    return wix_time_of(1_749_833_243.905 + days * DAY)


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


async def print_all(spool: Spool, *printers: str) -> int:
    done = 0
    for printer in printers:
        while (job := await spool.claim_next(printer)) is not None:
            assert await spool.mark_printed(job.id)
            done += 1
    return done


async def bury_printed_order(spool: Spool) -> None:
    """Accept the factory order, print all of it, and prune it by a mark 30 days on."""
    await spool.accept(make_order(targets=(KITCHEN, DRIVER)))
    assert await print_all(spool, "kitchen", "counter") == 2
    await trio.sleep(30 * DAY)  # this machine's clock agrees with Wix's here
    await spool.prune(keep_for=20 * DAY, reference=mark_after(30))
    assert await spool.order_raw("o-1") is None


async def test_a_pruned_order_coming_back_is_no_first_sight(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """Its tombstone remembers it: /metrics does not count it as received a second time."""
    await bury_printed_order(spool)
    back = await spool.accept(make_order(targets=(KITCHEN, DRIVER), updated=mark_after(31)))
    assert back.first_sight is False
    assert back.outcome is not AcceptOutcome.DUPLICATE  # taken in again, from its tombstone


async def test_pruning_follows_the_poll_mark_not_this_machines_clock(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    await print_all(spool, "kitchen")
    # This machine's clock says a year passed; Wix's clock (the mark) says a day.
    await trio.sleep(365 * DAY)
    await spool.prune(keep_for=20 * DAY, reference=mark_after(1))
    assert await spool.order_raw("o-1") is not None
    # No mark at all: nothing is pruned but history.
    await spool.prune(keep_for=20 * DAY, reference=None)
    assert await spool.order_raw("o-1") is not None
    # A mark far ahead of this clock: the earlier of the two counts.
    await spool.prune(keep_for=400 * DAY, reference="2099-01-01T00:00:00.000Z")
    assert await spool.order_raw("o-1") is not None
    await spool.prune(keep_for=20 * DAY, reference=mark_after(21))
    assert await spool.order_raw("o-1") is None


async def test_pruning_goes_by_the_last_change_and_by_the_creation_only_without_one(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    long_ago = "2025-04-01T10:00:00.000Z"
    await spool.accept(make_order("changed", created=long_ago, targets=(KITCHEN,)))
    await spool.accept(make_order("undated", created=long_ago, updated="?", targets=(KITCHEN,)))
    await print_all(spool, "kitchen")
    await trio.sleep(30 * DAY)
    await spool.prune(keep_for=20 * DAY, reference=mark_after(10))
    assert await spool.order_raw("changed") is not None  # changed 10 days ago
    assert await spool.order_raw("undated") is None


def rows(path: Path) -> int:
    """Rows of every table that pruning deletes from."""
    tables: tuple[str, ...] = ("orders", "jobs", "job_events", "tombstones", "quarantine")
    tables += ("alert_outbox", "webhook_events")
    with closing(sqlite3.connect(path)) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


async def test_pruning_reports_the_rows_it_deleted(
    spool: Spool, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The count goes into the ``spool_pruned`` log line."""
    path = tmp_path / "spool.db"
    await spool.accept(make_order(targets=(KITCHEN, DRIVER)))
    await spool.accept(make_order("o-2", number="2", targets=(KITCHEN,)))
    kept = QuarantinedOrder(
        key="q-1", number="9", updated=T0, source="poll", stage="parse", error="E", raw="{}"
    )
    await spool.quarantine_order(kept)
    await spool.enqueue_slip("slip-1", "paper is out", ["counter", "bar"])
    await spool.enqueue_slip("slip-2", "paper is back", ["counter"])
    (alert,) = await spool.record_alerts([new_alert(channels=("mail",))])
    await spool.mark_delivered(alert, "mail")
    assert await spool.seen_event("evt-1")
    await trio.sleep(2 * DAY)
    await spool.enqueue_slip("slip-3", "cover open", ["bar"])  # printed just now: it stays
    (fresh,) = await spool.record_alerts([new_alert("cover_open:bar", channels=("mail",))])
    await spool.mark_delivered(fresh, "mail")  # sent just now: it stays
    await print_all(spool, "kitchen", "counter", "bar")
    before = rows(path)
    # The orders are buried, and their tombstones go at once (kept for a day only), as
    # does the quarantined copy; the old slips go without tombstones; so do the history,
    # the sent alert and the webhook id.
    pruned = await spool.prune(
        keep_for=DAY, keep_tombstones_for=DAY, reference=mark_after(3), events_older_than=DAY
    )
    assert await spool.known_revisions(["o-1", "o-2", "q-1"]) == {}
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT order_id FROM orders").fetchall() == [("slip-3",)]
        assert conn.execute("SELECT count(*) FROM alert_outbox").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM job_events").fetchone() > (0,)  # today's
    assert pruned == before - rows(path) + 2 > 11  # + the tombstones, written and deleted


async def test_waiting_and_failed_tickets_keep_their_order(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order("waiting", targets=(KITCHEN,)))
    await spool.accept(make_order("poison", number="2", targets=(DRIVER,)))
    job = await spool.claim_next("counter")
    assert job is not None
    await spool.record_render_failure(job.id, "broken", max_failures=1)
    await spool.prune(keep_for=20 * DAY, reference=mark_after(300))
    assert await spool.order_raw("waiting") is not None
    assert await spool.order_raw("poison") is not None
    failed = await spool.get_job(job.id)
    assert failed is not None
    assert failed.state is JobState.FAILED


async def test_a_pruned_order_sent_again_is_a_duplicate(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    again = await spool.accept(make_order(targets=(KITCHEN, DRIVER)))
    assert (again.outcome, again.job_ids) == (AcceptOutcome.DUPLICATE, ())
    assert await spool.known_revisions(["o-1", "never"]) == {"o-1": [T0]}


async def test_a_late_change_of_a_pruned_order_is_a_revision_not_a_new_order(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    archived = await spool.accept(make_order(updated=LATER, targets=(KITCHEN, DRIVER)))
    assert (archived.outcome, archived.revision, archived.job_ids) == (
        AcceptOutcome.UPDATED,
        1,
        (),
    )
    changed = make_order(
        updated="2025-07-21T12:00:00.000Z", fingerprint="fp-2", targets=(KITCHEN, DRIVER)
    )
    result = await spool.accept(changed)
    assert (result.outcome, result.revision) == (AcceptOutcome.REVISED, 2)
    jobs = [await spool.get_job(i) for i in result.job_ids]
    assert [(j.kind, j.variant, j.reprint) for j in jobs if j] == [
        ("kitchen", Variant.CHANGED, False)
    ]


async def cancel_stations(spool: Spool) -> list[tuple[str, str, Variant]]:
    """The (kind, printer, variant) of the tickets a late cancellation of the factory order
    prints (its kitchen items go to the bar by now)."""
    result = await spool.accept(make_order(status="CANCELED", updated=LATER, targets=(BAR,)))
    jobs = [await spool.get_job(i) for i in result.job_ids]
    return [(j.kind, j.printer, j.variant) for j in jobs if j]


async def test_a_cancel_of_a_pruned_order_reaches_the_stations_it_printed_at(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    # Its kitchen items go to the bar by now: the cancellation goes where they printed.
    assert await cancel_stations(spool) == [
        ("kitchen", "kitchen", Variant.CANCELED),
        ("driver", "counter", Variant.CANCELED),
    ]


async def test_a_tombstone_with_unreadable_stations_cancels_at_the_orders_current_ones(
    spool: Spool, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    with closing(sqlite3.connect(tmp_path / "spool.db", isolation_level=None)) as conn:
        conn.execute("UPDATE tombstones SET targets = 'damaged'")
    assert await cancel_stations(spool) == [("kitchen", "bar", Variant.CANCELED)]


async def test_a_pruned_canceled_order_changed_again_prints_no_second_cancellation(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    await spool.accept(make_order(status="CANCELED", updated=T1, targets=(KITCHEN,)))
    assert await print_all(spool, "kitchen") == 2
    await trio.sleep(30 * DAY)
    await spool.prune(keep_for=20 * DAY, reference=mark_after(30))
    assert await spool.order_raw("o-1") is None
    assert await cancel_stations(spool) == []  # a refund, say


async def test_a_pruned_orders_changed_items_print_changed_at_once(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    changed = make_order(updated=LATER, fingerprint="fp-2", targets=(KITCHEN, DRIVER))
    result = await spool.accept(changed)
    jobs = [await spool.get_job(i) for i in result.job_ids]
    assert [(j.kind, j.variant) for j in jobs if j] == [("kitchen", Variant.CHANGED)]


async def test_old_tombstones_go_and_what_they_covered_comes_back_marked(
    tmp_path: Path, spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    await trio.sleep(100 * DAY)
    await spool.prune(keep_for=20 * DAY, keep_tombstones_for=100 * DAY, reference=mark_after(90))
    assert await spool.known_revisions(["o-1"]) == {"o-1": [T0]}
    await spool.prune(keep_for=20 * DAY, keep_tombstones_for=100 * DAY, reference=mark_after(101))
    assert await spool.known_revisions(["o-1"]) == {}
    start = await spool.get_meta("history_start")  # its name in every spool file
    assert start is not None
    assert start > T0
    # Forgotten now, so it may have printed: a new sight of it says REPRINT.
    again = await spool.accept(make_order(targets=(KITCHEN,)))
    assert again.outcome is AcceptOutcome.NEW
    job = await spool.get_job(again.job_ids[0])
    assert job is not None
    assert (job.reprint, job.reason) == (True, "before_history")
    # An order Wix created after the history start is simply new.
    fresh = make_order("o-2", created=LATER, updated=LATER, targets=(KITCHEN,))
    job = await spool.get_job((await spool.accept(fresh)).job_ids[0])
    assert job is not None
    assert not job.reprint


async def test_a_tombstone_is_kept_two_years_after_its_orders_last_change(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await bury_printed_order(spool)
    await trio.sleep(731 * DAY)
    await spool.prune(keep_for=20 * DAY, reference=mark_after(730))
    assert await spool.known_revisions(["o-1"]) == {"o-1": [T0]}
    await spool.prune(keep_for=20 * DAY, reference=mark_after(730 + 1 / DAY))
    assert await spool.known_revisions(["o-1"]) == {}


async def test_a_quarantined_order_is_kept_once_and_known_at_its_revision(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    kept = QuarantinedOrder(
        key="o-9", number="9", updated=T0, source="poll", stage="parse", error="E", raw="{}"
    )
    assert await spool.quarantine_order(kept)
    assert not await spool.quarantine_order(kept)  # the same order again: no second alert
    assert await spool.known_revisions(["o-9"]) == {"o-9": [T0]}


async def test_a_damaged_file_names_the_call_that_failed(
    spool: Spool, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    with closing(sqlite3.connect(tmp_path / "spool.db", isolation_level=None)) as conn:
        conn.execute("ALTER TABLE tombstones RENAME TO tombstones_damaged")
    with pytest.raises(SpoolError, match=r"^spool known_revisions failed"):
        await spool.known_revisions(["o-1"])
    with pytest.raises(SpoolError, match=r"^spool prune failed"):
        await spool.prune(keep_for=20 * DAY, reference=mark_after(30))
    with closing(sqlite3.connect(tmp_path / "spool.db", isolation_level=None)) as conn:
        conn.execute("ALTER TABLE quarantine RENAME TO quarantine_damaged")
    kept = QuarantinedOrder(
        key="o-9", number="9", updated=T0, source="poll", stage="parse", error="E", raw="{}"
    )
    with pytest.raises(SpoolError, match=r"^spool quarantine_order failed"):
        await spool.quarantine_order(kept)


async def test_a_damaged_restored_copy_names_the_call_that_failed(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    live, copy = tmp_path / "spool.db", tmp_path / "backup.db"
    async with open_test_spool(live) as spool:
        await spool.accept(make_order(targets=(KITCHEN,)))
        await spool.backup_to(copy)
    with closing(sqlite3.connect(copy, isolation_level=None)) as conn:
        conn.execute("ALTER TABLE job_events RENAME TO job_events_damaged")
    with pytest.raises(SpoolError, match=r"^spool adopt_snapshot failed"):
        async with open_test_spool(copy):
            pass


@pytest.mark.parametrize(
    "damage",
    [
        "'garbled'",
        "'[1]'",
        "value || 'x'",  # the whole stamp still there, with a byte after it
        "'[' || value || ']'",  # the whole stamp, inside a list
    ],
)
async def test_a_copy_with_an_unreadable_stamp_is_restored_as_of_now(
    tmp_path: Path, thread_clock: trio.testing.MockClock, damage: str
) -> None:
    """The restoring machine's clock reads a day before the copy was taken: a readable stamp
    would set the horizon to the copy's time, an unreadable one leaves only now."""
    live, copy = tmp_path / "spool.db", tmp_path / "backup.db"
    await trio.sleep(3600)
    taken = BASE_TIME + trio.current_time()
    async with open_test_spool(live) as spool:
        await spool.backup_to(copy)
    with closing(sqlite3.connect(copy, isolation_level=None)) as conn:
        conn.execute(f"UPDATE meta SET value = {damage} WHERE name = 'snapshot'")
    async with open_spool(copy, clock=lambda: taken - DAY) as restored:
        assert restored.restore_horizon == wix_time_of(taken - DAY)


async def test_a_restored_backup_marks_what_the_replaced_spool_may_have_printed(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    live, copy = tmp_path / "spool.db", tmp_path / "backup.db"
    async with open_test_spool(live) as spool:
        await spool.accept(make_order(targets=(KITCHEN, DRIVER)))
        await print_all(spool, "kitchen")  # the driver slip still waits
        await spool.backup_to(copy)
        assert spool.restore_horizon is None
    await trio.sleep(3600)
    async with open_test_spool(copy) as restored:
        assert restored.restore_horizon == wix_time_of(BASE_TIME + trio.current_time())
        assert await restored.get_meta("restore_horizon") == restored.restore_horizon
        # The job history says why the waiting slip will print with the banner.
        [marked] = [e for e in await restored.recent_job_events() if e.event == "restored"]
        assert (marked.kind, marked.state, marked.detail) == (
            "driver",
            JobState.QUEUED,
            "restored from a backup: may be on paper",
        )
        waiting = await restored.claim_next("counter")
        assert waiting is not None
        assert (waiting.reprint, waiting.reason) == (True, "restored")
        # Any new ticket of an order updated before the restore: REPRINT as well.
        before = await restored.accept(make_order("o-3", targets=(KITCHEN,)))
        job = await restored.get_job(before.job_ids[0])
        assert job is not None
        assert (job.reprint, job.reason) == (True, "restored")
        # An order updated after the restore is news: no banner.
        after = make_order("o-2", created=LATER, updated=LATER, targets=(KITCHEN,))
        job = await restored.get_job((await restored.accept(after)).job_ids[0])
        assert job is not None
        assert not job.reprint
    async with open_test_spool(copy) as reopened:
        assert reopened.restore_horizon is None  # adopted once, remembered in meta


@pytest.mark.parametrize("mark_ahead", [None, 600.0])
async def test_a_restore_on_a_machine_whose_clock_is_behind_keeps_the_copys_time(
    tmp_path: Path, thread_clock: trio.testing.MockClock, mark_ahead: float | None
) -> None:
    """The restoring machine's clock reads a day before the copy was taken: the horizon is
    the copy's own time, or its poll mark (Wix's clock) when that is later still."""
    live, copy = tmp_path / "spool.db", tmp_path / "backup.db"
    await trio.sleep(3600)
    taken = BASE_TIME + trio.current_time()
    async with open_test_spool(live) as spool:
        if mark_ahead is not None:
            await spool.set_cursor("poll_mark", wix_time_of(taken + mark_ahead))  # as on disk
        await spool.backup_to(copy)
    async with open_spool(copy, clock=lambda: taken - DAY) as restored:
        assert restored.restore_horizon == wix_time_of(taken + (mark_ahead or 0.0))


async def test_restoring_a_stamped_backup_keeps_the_moment_it_was_taken(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """``wixprint restore`` stamps only copies without a stamp: this one was taken an hour
    after its last order, and a machine whose clock is behind still restores it as of then."""
    from wixprint.commands.backup import SPOOL_FILE, restore
    from wixprint.config import Config, ServiceConfig

    backup = tmp_path / "backup"
    backup.mkdir()
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order(targets=(KITCHEN,)))
        await trio.sleep(3600)
        taken = BASE_TIME + trio.current_time()
        await spool.backup_to(backup / SPOOL_FILE)
    config = Config(service=ServiceConfig(state_dir=str(tmp_path / "state")))
    assert restore(config, backup) == 0
    async with open_spool(tmp_path / "state" / SPOOL_FILE, clock=lambda: taken - DAY) as restored:
        assert restored.restore_horizon == wix_time_of(taken)


@pytest.mark.parametrize(
    ("all_pruned", "start"),
    [
        (False, "2025-06-01T10:00:00.000Z"),  # the newest order left
        (True, "2025-06-02T08:00:00.000Z"),  # no order left: the poll mark
    ],
)
def test_the_migration_remembers_that_an_old_spool_pruned(
    tmp_path: Path, all_pruned: bool, start: str
) -> None:
    from wixprint.spool.schema import migrate

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, path, target=2)
        conn.execute("INSERT INTO cursors (name, value) VALUES ('poll_mark', '2025-06-02T08:00Z')")
        for n, created in enumerate(("2025-05-01T10:00:00Z", "2025-06-01T10:00:00Z")):
            conn.execute(
                "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
                " raw_json, revision, received_at, updated_at, source)"
                " VALUES (?, ?, 'APPROVED', ?, ?, 'fp', '{}', 1, 0, 0, 'poll')",
                (f"o-{n}", str(n), created, created),
            )
        conn.execute(
            "INSERT INTO jobs (order_id, revision, kind, printer, variant, state, created_at,"
            " updated_at) VALUES ('o-1', 1, 'kitchen', 'kitchen', 'new', 'printed', 0, 0)"
        )
        # Earlier jobs were pruned: the id sequence ran past what is left.
        conn.execute("UPDATE sqlite_sequence SET seq = 40 WHERE name = 'jobs'")
        if all_pruned:
            conn.execute("DELETE FROM jobs")
            conn.execute("DELETE FROM orders")
        migrate(conn, path)
        row = conn.execute("SELECT value FROM meta WHERE name = ?", ("history_start",)).fetchone()
        assert row == (start,)
        backup = sqlite3.connect(path.with_name("old.db.v2.bak"))
        try:
            stamp = backup.execute("SELECT value FROM meta WHERE name = 'snapshot'").fetchone()
        finally:
            backup.close()
        assert stamp is not None  # a rollback to this copy will know it was restored
    finally:
        conn.close()


def test_a_spool_that_never_pruned_keeps_its_whole_history(tmp_path: Path) -> None:
    from wixprint.spool.schema import migrate

    path = tmp_path / "young.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, path, target=2)
        conn.execute(
            "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
            " raw_json, revision, received_at, updated_at, source)"
            " VALUES ('o', '1', 'APPROVED', ?, ?, 'fp', '{}', 1, 0, 0, 'poll')",
            (T0, T0),
        )
        conn.execute(
            "INSERT INTO jobs (order_id, revision, kind, printer, variant, state, created_at,"
            " updated_at) VALUES ('o', 1, 'kitchen', 'kitchen', 'new', 'printed', 0, 0)"
        )
        migrate(conn, path)
        assert (
            conn.execute("SELECT value FROM meta WHERE name = ?", ("history_start",)).fetchone()
            is None
        )
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"tombstones", "quarantine"} <= tables
    finally:
        conn.close()


def test_an_old_spool_that_pruned_everything_before_any_poll_has_no_history_start(
    tmp_path: Path,
) -> None:
    """Nothing left to date it by (no order, no poll mark): no start is written, not a
    made-up one."""
    from wixprint.spool.schema import migrate

    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, path, target=2)
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', 40)")
        migrate(conn, path)
        assert (
            conn.execute("SELECT name, value FROM meta WHERE name LIKE 'history%'").fetchall() == []
        )
    finally:
        conn.close()


@pytest.mark.parametrize("orders", [1, 0])
def test_restoring_a_backup_from_before_stamps_stamps_it(tmp_path: Path, orders: int) -> None:
    """Taken, as far as it tells, when it last saw an order; an empty one, when its file was
    last written."""
    from wixprint.commands.backup import SPOOL_FILE, restore
    from wixprint.config import Config, ServiceConfig
    from wixprint.spool.schema import migrate

    backup = tmp_path / "backup"
    backup.mkdir()
    conn = sqlite3.connect(backup / SPOOL_FILE, isolation_level=None)
    try:
        migrate(conn, None, target=2)  # an old backup: no snapshot stamp inside
        for _ in range(orders):
            conn.execute(
                "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
                " raw_json, revision, received_at, updated_at, source)"
                " VALUES ('o', '1', 'APPROVED', ?, ?, 'fp', '{}', 1, ?, ?, 'poll')",
                (T0, T0, BASE_TIME, BASE_TIME),
            )
    finally:
        conn.close()
    os.utime(backup / SPOOL_FILE, (BASE_TIME - DAY, BASE_TIME - DAY))
    config = Config(service=ServiceConfig(state_dir=str(tmp_path / "state")))
    assert restore(config, backup) == 0
    conn = sqlite3.connect(tmp_path / "state" / SPOOL_FILE)
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = 'snapshot'").fetchone()
    finally:
        conn.close()
    assert row is not None
    assert wix_time_of(BASE_TIME if orders else BASE_TIME - DAY) in row[0]
