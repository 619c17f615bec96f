"""Bounded stops: grace, cancel, a deadline, then the supervisor moves on; parallel stops;
the worst-case stop time of a tree.

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
A child stuck in a worker thread that ignores cancellation (a blocked device write) is a
real thread blocked on a ``threading.Event`` the test releases at the end; those tests run
on ``thread_clock``, so virtual time never jumps while the released thread returns.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator

import pytest
import trio
import trio.testing

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Scripted, run_until, statistics_at
from wixprint.supervisor import ChildSpec, Strategy, Supervisor, supervisor_spec


class Blocked:
    """A child whose job is a blocking call in a worker thread that cannot be abandoned
    (``abandon_on_cancel=False``, like a write to a stalled USB printer): once in it,
    neither the stop request nor cancellation ends it until the thread returns."""

    def __init__(self, log: Log, name: str, *, block_after: float = 0.0) -> None:
        self.log = log
        self.name = name
        self.block_after = block_after
        self.release = threading.Event()
        self.starts = 0

    def spec(self, *, shutdown: float = 0.0) -> ChildSpec:
        return ChildSpec(self.name, self, shutdown=shutdown, backoff=EXACT)

    async def __call__(self, *, task_status: trio.TaskStatus[None]) -> None:
        self.starts += 1
        task_status.started()
        if self.starts > 1:
            await trio.sleep_forever()
        await trio.sleep(self.block_after)
        self.log(f"{self.name} blocked")
        try:
            await trio.to_thread.run_sync(self.release.wait)
        finally:
            self.log(f"{self.name} down")


BlockedFactory = Callable[[Log, str], Blocked]


@pytest.fixture
def blocked() -> Iterator[BlockedFactory]:
    """Makes stuck children; their threads are released when the test ends at the latest."""
    made: list[Blocked] = []

    def make(log: Log, name: str) -> Blocked:
        made.append(Blocked(log, name))
        return made[-1]

    yield make
    for child in made:
        child.release.set()


async def test_a_child_that_will_not_die_is_given_up_and_the_stop_moves_on(
    thread_clock: trio.abc.Clock,
    caplog: pytest.LogCaptureFixture,
    blocked: BlockedFactory,
) -> None:
    """It used to freeze its supervisor: awaited without limit, and silently with grace 0."""
    log = Log()
    first = Scripted(log, "first", cleanup=1.0)
    stuck = blocked(log, "stuck")
    sup = Supervisor("root", [first.spec(shutdown=5.0), stuck.spec()])  # cancel_timeout 1 s
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"), trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(10.0)

            async def stop() -> None:
                await sup.stop()
                log("stop returned")

            nursery.start_soon(stop)
            with trio.move_on_after(60):  # without bounded stops: never (then released)
                await log.wait_for("first down")
            await trio.testing.wait_all_tasks_blocked()
            stats = sup.statistics()
            stuck.release.set()
    # stuck: cancelled at 10 (grace 0), given up at 11; first then stops with its grace.
    assert log.after(10.0)[:2] == [(12.0, "first cleaned"), (12.0, "first down")]
    assert stats.state == "stopping"
    assert [c.state for c in stats.children] == ["stopped", "failed"]
    last = stats.children[1].last_error
    assert last is not None
    assert last.error_type == "StopTimeout"
    assert "1 s after" in last.message
    [record] = [r for r in caplog.records if r.message == "child_stop_abandoned"]
    assert (getattr(record, "actor", None), record.levelname) == ("stuck", "ERROR")
    assert log.texts()[-2:] == ["stuck down", "stop returned"]
    assert sup.statistics().state == "stopped"


async def test_a_sibling_that_will_not_die_does_not_hold_up_a_group_restart(
    thread_clock: trio.abc.Clock, blocked: BlockedFactory
) -> None:
    """The supervisor keeps supervising: the group restarts, the straggler is left to end."""
    log = Log()
    stuck = blocked(log, "stuck")
    crasher = Scripted(log, "crasher", ["crash"], after=5.0)
    sup = Supervisor(
        "root",
        [stuck.spec(shutdown=2.0), crasher.spec()],
        strategy=Strategy.ONE_FOR_ALL,
        cancel_timeout=1.0,
        intensity=5,
    )
    stats = await statistics_at(sup, 20.0, before_stop=stuck.release.set)
    # crash at 5; stuck: grace 2, cancel, 1 s, given up at 8; the 1 s backoff is over, so
    # both start again at once.
    assert log.times("crasher start") == [0.0, 8.0]
    assert stuck.starts == 2
    assert [c.state for c in stats.children] == ["running", "running"]
    assert stats.state == "running"


async def test_a_nested_supervisor_with_a_stuck_grandchild_is_given_up_too(
    thread_clock: trio.abc.Clock, blocked: BlockedFactory
) -> None:
    """OTP's ``infinity`` for a supervisor child means "as long as its own bounded stop"."""
    log = Log()
    stuck = blocked(log, "stuck")
    sub = Supervisor("sub", [stuck.spec(shutdown=3.0)], cancel_timeout=1.0)
    first = Scripted(log, "first", cleanup=1.0)
    root = Supervisor("root", [first.spec(shutdown=5.0), supervisor_spec(sub)], cancel_timeout=1.0)
    assert sub.stop_budget() == 4.0
    assert root.stop_budget() == (4.0 + 1.0) + (5.0 + 1.0)
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(root.run)
            await trio.sleep(10.0)
            nursery.start_soon(root.stop)
            with trio.move_on_after(60):  # without bounded stops: never (then released)
                await log.wait_for("first down")
            stuck.release.set()
    # sub: stuck gets 3 s, then 1 s after the cancel (14); root gives sub its budget (4 s)
    # plus 1 s (15), then first stops with its grace.
    assert log.after(10.0)[:2] == [(16.0, "first cleaned"), (16.0, "first down")]


async def test_a_grace_overrun_is_logged_once_per_child(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    log = Log()
    slow = Scripted(log, "slow")  # ignores the stop request
    sup = Supervisor("root", [slow.spec(shutdown=2.0)])
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        await run_until(sup, 1.0)
    assert log.after(1.0) == [(3.0, "slow cancelled"), (3.0, "slow down")]
    overruns = [r for r in caplog.records if r.message == "child_shutdown_overrun"]
    assert [getattr(r, "actor", None) for r in overruns] == ["slow"]


# -- 8. parallel stops and the stop budget ---------------------------------------------------


async def test_parallel_stop_gives_every_child_its_grace_at_the_same_time(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Independent siblings (printers) need not wait for each other: the stop takes the
    longest grace, not their sum."""
    log = Log()
    printers = [Scripted(log, f"p{i}", cleanup=3.0 * (i + 1)) for i in range(3)]
    sup = Supervisor("printers", [p.spec(shutdown=10.0) for p in printers], parallel_stop=True)
    assert sup.stop_budget() == 10.0 + 1.0
    await run_until(sup, 5.0)
    assert sorted(log.after(5.0)) == [
        (8.0, "p0 cleaned"),
        (8.0, "p0 down"),
        (11.0, "p1 cleaned"),
        (11.0, "p1 down"),
        (14.0, "p2 cleaned"),
        (14.0, "p2 down"),
    ]
    assert trio.current_time() == 14.0


async def test_parallel_stop_still_gives_up_on_a_stuck_child(
    thread_clock: trio.abc.Clock, blocked: BlockedFactory
) -> None:
    log = Log()
    stuck = blocked(log, "stuck")
    polite = Scripted(log, "polite", cleanup=4.0)
    sup = Supervisor(
        "printers",
        [stuck.spec(shutdown=2.0), polite.spec(shutdown=10.0)],
        parallel_stop=True,
        cancel_timeout=1.0,
    )
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(5.0)
            nursery.start_soon(sup.stop)
            with trio.move_on_after(60):
                await log.wait_for("polite down")
            await trio.testing.wait_all_tasks_blocked()
            states = [c.state for c in sup.statistics().children]
            stuck.release.set()
    assert log.times("polite cleaned") == [9.0]
    assert states == ["failed", "stopped"]


def test_the_stop_budget_adds_graces_and_deadlines_in_order_and_nests() -> None:
    log = Log()
    a, b = Scripted(log, "a"), Scripted(log, "b")
    inner = Supervisor(
        "inner",
        [a.spec(shutdown=10.0), b.spec(shutdown=10.0)],
        parallel_stop=True,
        cancel_timeout=0.25,
    )
    outer = Supervisor(
        "outer",
        [Scripted(log, "c").spec(shutdown=2.0), supervisor_spec(inner)],
        cancel_timeout=0.25,
    )
    assert inner.stop_budget() == 10.25
    assert outer.stop_budget() == (2.0 + 0.25) + (10.25 + 0.25)
    capped = Supervisor("capped", [supervisor_spec(inner, shutdown=5.0)], cancel_timeout=0.5)
    assert capped.stop_budget() == 5.5
    forever = Supervisor("forever", [a.spec(shutdown=math.inf)])
    assert forever.stop_budget() == math.inf


def test_a_supervisor_without_children_adds_nothing_to_the_stop_budget() -> None:
    """A subtree with nothing configured (no printers yet) must not lengthen every stop."""
    empty = Supervisor("empty", [])
    assert empty.stop_budget() == 0.0
    assert Supervisor("empty", [], parallel_stop=True).stop_budget() == 0.0
    outer = Supervisor("outer", [supervisor_spec(empty)], cancel_timeout=0.25)
    assert outer.stop_budget() == 0.25


def test_bad_cancel_timeouts_are_refused() -> None:
    with pytest.raises(ValueError, match="cancel_timeout"):
        Supervisor("root", [], cancel_timeout=-1.0)
    with pytest.raises(ValueError, match="cancel_timeout"):
        Supervisor("root", [], cancel_timeout=0.0)
    with pytest.raises(ValueError, match="cancel_timeout"):
        Supervisor("root", [], cancel_timeout=math.inf)


async def test_during_a_stop_the_children_already_stopped_show_stopped(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A status page read mid-stop: the child in its grace is "stopping" (no uptime: it no
    longer serves); those after it in start order, running or waiting for a restart, are
    already "stopped"."""
    log = Log()
    slow = Scripted(log, "slow", cleanup=5.0)
    quick = Scripted(log, "quick", cleanup=0.0)
    crasher = Scripted(log, "crasher", ["crash"], after=0.5)  # restart due at 1.5
    sup = Supervisor("root", [slow.spec(shutdown=10.0), quick.spec(shutdown=10.0), crasher.spec()])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(1.0)
            assert sup.statistics().children[2].state == "backoff"
            nursery.start_soon(sup.stop)
            await trio.sleep(2.0)
            stats = sup.statistics()
    assert stats.state == "stopping"
    assert [(c.state, c.backoff_delay, c.uptime) for c in stats.children] == [
        ("stopping", None, None),
        ("stopped", None, None),
        ("stopped", None, None),
    ]
    assert log.times("slow down") == [6.0]


async def test_stopping_a_supervisor_that_already_stopped_is_harmless(
    autojump_clock: trio.abc.Clock,
) -> None:
    sup = Supervisor("root", [Scripted(Log(), "w").spec()])
    await run_until(sup, 1.0)
    with trio.fail_after(1):
        await sup.stop()
    assert sup.statistics().state == "stopped"
