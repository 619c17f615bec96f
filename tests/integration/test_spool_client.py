"""The async spool handle on a real file: how long its lists are, that a cancelled start or
stop still closes the file, and what a refused or closed spool says."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import (
    KITCHEN,
    make_order,
    new_alert,
    open_test_spool,
    raw,
    virtual_wall,
)
from wixprint.errors import SpoolError, SpoolUnwritable
from wixprint.spool import Spool, db, db_misc, open_spool
from wixprint.spool.schema import MigrationReport
from wixprint.spool.storage import WriteCheck, pause_reason
from wixprint.spool.types import SpoolStatistics


async def test_lists_stop_at_their_default_length_and_never_pass_a_thousand(
    spool: Spool,
) -> None:
    for n in range(101):
        await spool.accept(make_order(f"o-{n}", number=str(n), targets=(KITCHEN,)))
    await spool.record_alerts([new_alert(f"paper_out:p{n}") for n in range(51)])
    conn = raw(spool)
    conn.execute("UPDATE jobs SET state = 'attention'")  # each set aside by a silent printer
    for _ in range(4):  # 1616 history entries
        conn.execute(
            "INSERT INTO job_events (at, job_id, order_id, kind, printer, event, state)"
            " SELECT at, job_id, order_id, kind, printer, event, state FROM job_events"
        )
    assert len(await spool.recent_orders()) == 50
    assert len(await spool.attention_jobs()) == 100
    assert len(await spool.recent_job_events()) == 100
    assert len(await spool.recent_job_events(5000)) == 1000
    assert len(await spool.pending_alerts()) == 50
    assert len(await spool.pending_deliveries("mail")) == 50


async def test_a_stop_that_comes_as_a_cancel_still_closes_the_file(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    with trio.CancelScope() as scope:
        async with open_test_spool(tmp_path / "spool.db") as spool:
            await spool.accept(make_order())
            conn = raw(spool)
            scope.cancel()
            await trio.sleep(1)
    assert scope.cancelled_caught
    assert_closed(conn)
    assert not (tmp_path / "spool.db-wal").exists()  # checkpointed: one file to copy


async def test_a_start_cancelled_after_the_file_opened_still_closes_it(
    tmp_path: Path, thread_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[sqlite3.Connection] = []
    real_connect = db.connect

    def connect(path: Path, now: float) -> tuple[sqlite3.Connection, MigrationReport]:
        conn, report = real_connect(path, now)
        opened.append(conn)
        return conn, report

    monkeypatch.setattr(db, "connect", connect)
    with trio.CancelScope() as scope:

        def clock() -> float:  # the shutdown arrives right after the file opened
            if opened:
                scope.cancel()
            return virtual_wall()

        async with open_spool(tmp_path / "spool.db", clock=clock):
            pytest.fail("a cancelled start yielded a spool")
    assert scope.cancelled_caught
    [conn] = opened
    assert_closed(conn)


async def test_a_paused_intake_says_exactly_why(spool: Spool) -> None:
    """The fetcher's /health line is this text."""
    spool.intake_paused = pause_reason(WriteCheck.FULL)
    with pytest.raises(SpoolUnwritable) as refused:
        await spool.accept(make_order())
    assert str(refused.value) == f"new orders wait: {pause_reason(WriteCheck.FULL)}"


async def test_a_closed_spool_says_so(tmp_path: Path, thread_clock: trio.testing.MockClock) -> None:
    async with open_test_spool(tmp_path / "spool.db") as spool:
        pass
    with pytest.raises(SpoolError) as refused:
        await spool.recent_orders()
    assert str(refused.value) == "the spool is closed"


async def test_tasks_calling_at_once_take_turns_on_the_one_connection(spool: Spool) -> None:
    """Every call is one transaction on the spool's one connection: two at once in two
    threads would begin a transaction inside the other's."""

    async def intake(first: int) -> None:
        for n in range(first, first + 25):
            await spool.accept(make_order(f"o-{n}", number=str(n)))

    async with trio.open_nursery() as nursery:
        for first in range(0, 200, 25):
            nursery.start_soon(intake, first)
    assert (await spool.statistics()).orders == 200


async def test_a_call_that_waits_its_turn_leaves_at_a_cancel_before_it_touches_the_file(
    spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call at a time on the one connection: while one runs in its thread, the next waits
    its turn in trio, where a stop or a timeout still takes it back untouched. A call already
    in its thread cannot leave: it would be a second transaction at once on the connection."""
    gate = threading.Event()
    real_statistics = db_misc.statistics

    def held(conn: sqlite3.Connection) -> SpoolStatistics:
        gate.wait()  # in the first call's thread, until the test lets it go
        return real_statistics(conn)

    monkeypatch.setattr(db_misc, "statistics", held)
    second = trio.CancelScope()
    left: list[bool] = []

    async def write_meta() -> None:
        with second:
            await spool.set_meta("owner", "second call")
        left.append(second.cancelled_caught)

    async with trio.open_nursery() as nursery:
        try:
            nursery.start_soon(spool.statistics)
            await trio.testing.wait_all_tasks_blocked()  # the first call holds its turn
            nursery.start_soon(write_meta)
            await trio.testing.wait_all_tasks_blocked()
            second.cancel()
            await trio.testing.wait_all_tasks_blocked()
            assert left == [True]  # it left at once, while the first call still runs
        finally:
            gate.set()
    assert await spool.get_meta("owner") is None


def assert_closed(conn: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        conn.execute("SELECT 1")
