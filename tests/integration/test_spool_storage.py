"""The spool file itself: pragmas, migrations, refusal of newer files, integrity, backup,
and write failures surfacing as SpoolError."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import (
    BASE_TIME,
    KITCHEN,
    TARGETS,
    make_order,
    new_alert,
    open_test_spool,
    raw,
)
from wixprint.errors import SpoolError, SpoolUnwritable
from wixprint.spool import SCHEMA_VERSION, AcceptOutcome, JobState
from wixprint.spool.db import connect
from wixprint.spool.lock import hold_state_lock
from wixprint.spool.schema import migrate
from wixprint.spool.storage import WriteCheck, pause_reason, write_check_of


def build_old_database(path: Path, version: int) -> None:
    """A spool file at ``version`` (only the first migrations run), holding data if it can."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        migrate(conn, path, target=version)
        if version >= 1:
            # Plain SQL of that version: today's code may need tables it does not have yet.
            old = make_order("old", number="501")
            row = (old.order_id, old.number, old.status, old.created, old.updated, old.raw_json)
            conn.execute(
                "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
                " raw_json, revision, received_at, updated_at, source)"
                " VALUES (?, ?, ?, ?, ?, 'fp-1', ?, 1, ?, ?, 'poll')",
                (*row, BASE_TIME, BASE_TIME),
            )
            for n, target in enumerate(old.targets):
                state = "printed" if n == 0 else "queued"
                conn.execute(
                    "INSERT INTO jobs (order_id, revision, kind, printer, variant, state,"
                    " created_at, updated_at) VALUES (?, 1, ?, ?, 'new', ?, ?, ?)",
                    (old.order_id, target.kind, target.printer, state, BASE_TIME, BASE_TIME),
                )
            conn.execute("INSERT INTO cursors (name, value) VALUES ('orders', 'mark-1')")
    finally:
        conn.close()


async def test_pragmas_on_every_open(tmp_path: Path, thread_clock: trio.testing.MockClock) -> None:
    for _ in range(2):
        async with open_test_spool(tmp_path / "spool.db") as spool:
            conn = raw(spool)
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            # A second writer (a backup, a restore) is waited for, 5 s at most.
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
            assert conn.isolation_level is None


async def test_new_file_and_missing_directory(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "var" / "state" / "spool.db"
    async with open_test_spool(path) as spool:
        assert spool.path == path  # the spool actor watches the free space of its folder
        assert spool.migration.old_version == 0
        assert spool.migration.new_version == SCHEMA_VERSION
        assert (await spool.statistics()).schema_version == SCHEMA_VERSION
    assert list(path.parent.glob("*.bak")) == []


@pytest.mark.parametrize("start", range(SCHEMA_VERSION))
async def test_migrates_every_older_version_with_a_backup(
    tmp_path: Path, thread_clock: trio.testing.MockClock, start: int
) -> None:
    path = tmp_path / "spool.db"
    if start == 0:
        path.touch()  # an empty file is version 0
    else:
        build_old_database(path, start)
    async with open_test_spool(path) as spool:
        assert (spool.migration.old_version, spool.migration.new_version) == (
            start,
            SCHEMA_VERSION,
        )
        assert (await spool.statistics()).schema_version == SCHEMA_VERSION
        assert await spool.integrity_check()
        if start >= 1:
            assert spool.migration.backup == tmp_path / f"spool.db.v{start}.bak"
            assert await spool.order_raw("old") == make_order("old", number="501").raw_json
            assert await spool.get_cursor("orders") == "mark-1"
            jobs = (await spool.statistics()).jobs
            assert (jobs["printed"], jobs["queued"]) == (1, 2)
            assert (await spool.accept(make_order("old", number="501"))).outcome is (
                AcceptOutcome.DUPLICATE
            )
        else:
            assert spool.migration.backup is None
        # What the newest version added works.
        assert await spool.seen_event("evt")
        assert await spool.record_alerts([new_alert(channels=("mail",))], state="{}")
    if start >= 1:
        backup = sqlite3.connect(tmp_path / f"spool.db.v{start}.bak")
        try:
            assert backup.execute("PRAGMA user_version").fetchone()[0] == start
            assert backup.execute("SELECT number FROM orders").fetchall() == [("501",)]
        finally:
            backup.close()


async def test_newer_database_is_refused_and_left_alone(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "spool.db"
    async with open_test_spool(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SpoolError) as caught:
        async with open_test_spool(path):
            pass
    message = str(caught.value)
    assert f"version {SCHEMA_VERSION + 1}" in message
    assert f"version {SCHEMA_VERSION} " in message
    assert "downgrade" in message
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


async def test_unopenable_path_is_a_spool_error(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """What the log says when the spool cannot start: the file, or the folder for it."""
    (tmp_path / "spool.db").mkdir()
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    (tmp_path / "a-file").touch()
    for name, message in (
        (
            "spool.db",
            "cannot open the spool database (SQLITE_CANTOPEN: unable to open database file)",
        ),
        ("junk.db", "cannot open the spool database (SQLITE_NOTADB: file is not a database)"),
        # libc's own words for the reason, whatever its language or version
        (
            "a-file/state/spool.db",
            f"cannot create the spool directory: {os.strerror(errno.ENOTDIR)}",
        ),
    ):
        with pytest.raises(SpoolError) as refused:
            async with open_test_spool(tmp_path / name):
                pass
        assert str(refused.value) == message


def test_a_database_without_write_ahead_log_is_not_used() -> None:
    """The spool needs WAL journaling (readers beside the writer, a commit that survives a
    power cut): where SQLite keeps another journal (here a database in memory), it refuses."""
    with pytest.raises(SpoolError) as refused:
        connect(Path(":memory:"))
    assert str(refused.value) == "spool database refused WAL journaling (journal_mode=memory)"


async def test_integrity_check_finds_a_damaged_file(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "spool.db"
    async with open_test_spool(path) as spool:
        for n in range(40):
            await spool.accept(make_order(f"o-{n}", note="x" * 2000))
        assert await spool.integrity_check()
        await spool.wal_checkpoint()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for offset in range(3 * page, 8 * page, 7):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    async with open_test_spool(path) as spool:
        assert not await spool.integrity_check()


async def test_backup_while_writes_continue_is_consistent(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    marks = (20, 60, 100)
    copies = [tmp_path / "backups" / f"copy-{n}.db" for n in marks]
    reached = {n: trio.Event() for n in marks}
    async with open_test_spool(tmp_path / "spool.db") as spool:

        async def writer() -> None:
            for n in range(1, 121):
                await spool.accept(make_order(f"o-{n}"))
                if n in reached:
                    reached[n].set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            for n, copy in zip(marks, copies, strict=True):
                await reached[n].wait()
                await spool.backup_to(copy)
        total = (await spool.statistics()).orders
    assert total == 120
    seen = []
    for copy in copies:
        assert not copy.with_name(copy.name + "-wal").exists()
        async with open_test_spool(copy) as backup:
            assert await backup.integrity_check()
            stats = await backup.statistics()
            # Each order with all three of its jobs: never half an accept.
            assert sum(stats.jobs.values()) == 3 * stats.orders
            seen.append(stats.orders)
    # Taken while the writer was still going, and in order.
    assert seen == sorted(seen)
    assert seen[0] >= 20
    assert seen[-1] < total


async def test_a_backup_name_leaves_room_only_for_its_temporary_copy_and_journal(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The copy is written as ``<name>.tmp`` first, and SQLite keeps ``<name>.tmp-journal``
    beside it: a name of 243 bytes, 255 with both suffixes (a file system's limit), works."""
    copy = tmp_path / ("b" * 243)
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order())
        await spool.backup_to(copy)
    assert [name for name in os.listdir(tmp_path) if name.startswith("b")] == [copy.name]
    async with open_test_spool(copy) as backup:
        assert (await backup.statistics()).orders == 1


async def test_closed_spool_refuses_calls(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        pass
    with pytest.raises(SpoolError, match="closed"):
        await spool.get_cursor("orders")


async def test_read_only_database_raises_spool_error(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order("o-1", targets=(KITCHEN,)))
        raw(spool).execute("PRAGMA query_only = ON")  # the file turned read-only under us
        order = make_order("o-2", note="Erika Mustermann")
        seen: list[SpoolUnwritable] = []
        spool.on_unwritable = seen.append
        with pytest.raises(SpoolUnwritable, match="readonly") as caught:
            await spool.accept(order)
        assert "Erika" not in str(caught.value)
        assert not caught.value.full  # read-only, not full: nothing to free
        assert seen == [caught.value]  # the spool actor hears of it, whoever met it
        with pytest.raises(SpoolError, match="spool claim failed"):
            await spool.claim_next("kitchen")
        # Reads still answer, for the status pages.
        assert (await spool.statistics()).orders == 1
        raw(spool).execute("PRAGMA query_only = OFF")
        assert (await spool.accept(order)).outcome is AcceptOutcome.NEW


async def test_disk_full_raises_spool_error_and_recovers(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order("o-1"))
        conn = raw(spool)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        big = make_order("o-2", note="x" * 50_000)
        with pytest.raises(SpoolUnwritable, match="SQLITE_FULL") as caught:
            await spool.accept(big)
        assert caught.value.full
        assert await spool.order_raw("o-2") is None
        conn.execute("PRAGMA max_page_count = 1073741823")
        assert (await spool.accept(big)).outcome is AcceptOutcome.NEW
        job = await spool.claim_next("kitchen")
        assert job is not None
        assert job.state is JobState.PRINTING


async def test_paused_intake_refuses_new_orders_but_printing_goes_on(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """While the disk is full the spool actor pauses intake: the room left is for recording
    what the printers print, and new orders wait in Wix."""
    async with open_test_spool(tmp_path / "spool.db") as spool:
        await spool.accept(make_order("o-1", targets=(KITCHEN,)))
        spool.intake_paused = "the disk is full"
        with pytest.raises(SpoolUnwritable, match="new orders wait: the disk is full"):
            await spool.accept(make_order("o-2", targets=(KITCHEN,)))
        job = await spool.claim_next("kitchen")
        assert job is not None
        assert await spool.mark_printed(job.id)
        spool.intake_paused = ""
        assert (await spool.accept(make_order("o-2"))).outcome is AcceptOutcome.NEW


async def test_paused_intake_still_prints_the_tickets_of_orders_already_held(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """A driver slip waiting for its payment method, or a pre-order coming due, belongs to an
    order already received: a full disk does not hold it back (nor crash the scheduler)."""
    async with open_test_spool(tmp_path / "spool.db") as spool:
        waiting = replace(make_order("o-1", targets=TARGETS), await_payment=True)
        await spool.accept(waiting)
        spool.intake_paused = "the disk is full"
        settled = replace(waiting, settle_payment=True, payment="{}", source="payment")
        assert (await spool.accept(settled)).outcome is AcceptOutcome.REVISED
        assert await spool.pending_orders() == []
        spool.intake_paused = ""
        preorder = replace(make_order("o-2"), hold_until="2025-06-15T18:00:00.000Z")
        assert (await spool.accept(preorder)).outcome is AcceptOutcome.SCHEDULED
        assert [(o.order_id, o.hold_until) for o in await spool.pending_orders()] == [
            ("o-2", preorder.hold_until)
        ]
        spool.intake_paused = "the disk is full"
        due = replace(make_order("o-2"), source="release")
        assert (await spool.accept(due)).outcome is AcceptOutcome.REVISED
        assert await spool.pending_orders() == []


async def test_a_paused_intake_refuses_with_the_kind_of_pause(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The fetcher's /health line is built from the refusal: a read-only card must not read
    "the disk is full"."""
    async with open_test_spool(tmp_path / "spool.db") as spool:
        for check, full in ((WriteCheck.REFUSED, False), (WriteCheck.FULL, True)):
            spool.intake_paused = pause_reason(check)
            with pytest.raises(SpoolUnwritable) as refused:
                await spool.accept(make_order("o-1", targets=(KITCHEN,)))
            assert refused.value.full is full
            assert pause_reason(write_check_of(refused.value)) == pause_reason(check)


def test_the_state_lock_names_its_holder_and_refuses_a_second_one(tmp_path: Path) -> None:
    """``wixprint restore`` and the service take the same lock: one at a time."""
    path = tmp_path / "spool.lock"
    with hold_state_lock(tmp_path, holder="service"):
        assert path.read_text(encoding="utf-8") == f"service {os.getpid()}\n"
        assert path.stat().st_mode & 0o777 == 0o600
        refusal = f"^another process holds {re.escape(str(path))} \\(the service running\\?\\)$"
        with pytest.raises(SpoolError, match=refusal), hold_state_lock(tmp_path, holder="restore"):
            pass
    with hold_state_lock(tmp_path, holder="restore"):  # free again once the block ended
        assert path.read_text(encoding="utf-8") == f"restore {os.getpid()}\n"
