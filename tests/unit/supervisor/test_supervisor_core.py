"""Supervision core: start order, strategies, restart types, shutdown.

Charter for every test of ``wixprint.supervisor``:

* Virtual time only. Anything timed runs on ``autojump_clock`` (``thread_clock`` where a
  worker thread writes a file) and asserts **exact** virtual times: with
  ``random_factor=0`` backoff delays are exact, so a restart at 6.0 s means exactly 6.0 s.
* Every supervisor run is wrapped in an absolute ``trio.fail_after`` on Trio's clock
  (:func:`run_until`), so a hang fails fast instead of stalling the suite.
* Children are scripted fakes (:class:`Scripted`) that log ``(time, what)``; assertions are
  about the order and times a user of the tree would observe, never about internals.
* No mocks, no real sleeps, no network.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import (
    EXACT,
    Boom,
    Log,
    Scripted,
    run_until,
    statistics_at,
)
from wixprint.errors import DependencyUnavailable
from wixprint.supervisor import ChildSpec, Restart, RestartEvent, Strategy, Supervisor


async def test_children_start_in_order_each_after_the_previous_is_ready(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a = Scripted(log, "a", startup=1.0)
    b = Scripted(log, "b", startup=2.0)
    sup = Supervisor("root", [a.spec(), b.spec()])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            log("root ready")
            assert sup.statistics().state == "running"
            await sup.stop()
    assert log.entries[:5] == [
        (0.0, "a start"),
        (1.0, "a up"),
        (1.0, "b start"),
        (3.0, "b up"),
        (3.0, "root ready"),
    ]


async def test_initial_start_failure_stops_started_children_in_reverse_and_raises(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, b = Scripted(log, "a"), Scripted(log, "b")
    bad = Scripted(log, "bad", ["fail_start"], startup=1.0)
    never = Scripted(log, "never")
    sup = Supervisor("root", [a.spec(), b.spec(), bad.spec(), never.spec()])
    with trio.fail_after(100), pytest.raises(Boom, match="bad could not start"):
        await sup.run()
    assert log.texts() == [
        "a start",
        "a up",
        "b start",
        "b up",
        "bad start",
        "b cancelled",
        "b down",
        "a cancelled",
        "a down",
    ]
    assert never.starts == 0
    stats = sup.statistics()
    assert stats.state == "failed"
    assert [c.state for c in stats.children] == ["stopped", "stopped", "failed", "stopped"]
    last = stats.children[2].last_error
    assert last is not None
    assert (last.error_type, last.message) == ("Boom", "bad could not start")
    assert stats.recent[-1].child == "bad"
    assert stats.recent[-1].action == "escalate"


async def test_one_for_one_restarts_only_the_failed_child(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, b, c = Scripted(log, "a"), Scripted(log, "b", ["crash"], after=5.0), Scripted(log, "c")
    sup = Supervisor("root", [a.spec(), b.spec(), c.spec()], strategy=Strategy.ONE_FOR_ONE)
    await run_until(sup, 10.0)
    assert log.after(5.0)[:3] == [(5.0, "b down"), (6.0, "b start"), (6.0, "b up")]
    assert (a.starts, b.starts, c.starts) == (1, 2, 1)


async def test_one_for_all_stops_others_in_reverse_then_restarts_all_in_order(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, b, c = Scripted(log, "a"), Scripted(log, "b", ["crash"], after=5.0), Scripted(log, "c")
    sup = Supervisor("root", [a.spec(), b.spec(), c.spec()], strategy=Strategy.ONE_FOR_ALL)
    await run_until(sup, 10.0)
    assert log.after(5.0)[:11] == [
        (5.0, "b down"),
        (5.0, "c cancelled"),
        (5.0, "c down"),
        (5.0, "a cancelled"),
        (5.0, "a down"),
        (6.0, "a start"),
        (6.0, "a up"),
        (6.0, "b start"),
        (6.0, "b up"),
        (6.0, "c start"),
        (6.0, "c up"),
    ]
    events = sup.statistics().recent
    assert [(e.child, e.classification, e.action) for e in events] == [
        ("b", "abnormal", "restart"),
        ("c", "shutdown", "restart"),
        ("a", "shutdown", "restart"),
    ]


async def test_rest_for_one_restarts_the_child_and_those_started_after_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, b = Scripted(log, "a"), Scripted(log, "b", ["crash"], after=5.0)
    c, d = Scripted(log, "c"), Scripted(log, "d")
    specs = [a.spec(), b.spec(), c.spec(), d.spec()]
    sup = Supervisor("root", specs, strategy=Strategy.REST_FOR_ONE)
    await run_until(sup, 10.0)
    assert log.after(5.0)[:11] == [
        (5.0, "b down"),
        (5.0, "d cancelled"),
        (5.0, "d down"),
        (5.0, "c cancelled"),
        (5.0, "c down"),
        (6.0, "b start"),
        (6.0, "b up"),
        (6.0, "c start"),
        (6.0, "c up"),
        (6.0, "d start"),
        (6.0, "d up"),
    ]
    assert a.starts == 1


async def test_a_failed_restart_attempt_applies_the_strategy_again(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, b = Scripted(log, "a"), Scripted(log, "b", ["crash", "fail_start"], after=5.0)
    sup = Supervisor("root", [a.spec(), b.spec()], strategy=Strategy.ONE_FOR_ALL)
    await run_until(sup, 20.0)
    # b crashes at 5; both restart at 6 where b fails to start, so a is stopped again and
    # both restart after b's next delay (2 s) at 8.
    assert log.times("a start") == [0.0, 6.0, 8.0]
    assert log.times("b start") == [0.0, 6.0, 8.0]
    assert (6.0, "a cancelled") in log.entries
    assert [(e.child, e.classification) for e in sup.statistics().recent] == [
        ("b", "abnormal"),
        ("a", "shutdown"),
        ("b", "abnormal"),
        ("a", "shutdown"),
    ]


async def test_siblings_crashing_together_cause_one_group_restart(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a = Scripted(log, "a", ["crash"], after=5.0)
    b = Scripted(log, "b", ["crash"], after=5.0)
    sup = Supervisor("root", [a.spec(), b.spec()], strategy=Strategy.ONE_FOR_ALL)
    await run_until(sup, 20.0)
    assert log.times("a start") == [0.0, 6.0]
    assert log.times("b start") == [0.0, 6.0]
    # Which crash the supervisor sees first is up to Trio's scheduler; the other one is
    # covered by the group restart, not counted twice.
    events = sup.statistics().recent
    assert sorted((e.classification, e.restarts_in_window) for e in events) == [
        ("abnormal", 1),
        ("shutdown", 1),
    ]
    assert {e.child for e in events} == {"a", "b"}
    assert all(c.last_error is not None for c in sup.statistics().children)


async def test_permanent_child_is_restarted_after_a_normal_return(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    worker = Scripted(log, "w", ["return", "return"], after=2.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.PERMANENT)])
    await run_until(sup, 20.0)
    # Returns at 2, restarts at 3 (delay 1), returns at 5, restarts at 7 (delay 2).
    assert log.times("w start") == [0.0, 3.0, 7.0]
    assert [e.classification for e in sup.statistics().recent] == ["normal", "normal"]


async def test_transient_child_is_not_restarted_after_a_normal_return(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    worker = Scripted(log, "w", ["return"], after=2.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.TRANSIENT)])
    stats = await statistics_at(sup, 20.0)
    assert worker.starts == 1
    assert (stats.state, stats.children[0].state) == ("running", "stopped")
    assert sup.statistics().recent[-1].action == "none"


async def test_transient_child_is_restarted_after_a_crash(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    worker = Scripted(log, "w", ["crash"], after=2.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.TRANSIENT)])
    await run_until(sup, 20.0)
    assert log.times("w start") == [0.0, 3.0]


async def test_temporary_child_is_never_restarted_but_its_crash_is_reported(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    events: list[RestartEvent] = []
    worker = Scripted(log, "w", ["crash"], after=2.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.TEMPORARY)], on_event=events.append)
    await run_until(sup, 20.0)
    assert worker.starts == 1
    assert [(e.child, e.classification, e.action, e.error_type) for e in events] == [
        ("w", "abnormal", "none", "Boom")
    ]
    child = sup.statistics().children[0]
    assert child.state == "failed"
    assert child.last_error is not None
    assert child.last_error.message == "w crashed"


async def test_temporary_sibling_terminated_by_one_for_all_is_dropped(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a = Scripted(log, "a", ["crash"], after=5.0)
    temp, c = Scripted(log, "temp"), Scripted(log, "c")
    specs = [a.spec(), temp.spec(restart=Restart.TEMPORARY), c.spec()]
    sup = Supervisor("root", specs, strategy=Strategy.ONE_FOR_ALL)
    await run_until(sup, 10.0)
    assert (a.starts, temp.starts, c.starts) == (2, 1, 2)
    assert log.after(6.0)[:4] == [
        (6.0, "a start"),
        (6.0, "a up"),
        (6.0, "c start"),
        (6.0, "c up"),
    ]
    temp_events = [e for e in sup.statistics().recent if e.child == "temp"]
    assert [(e.classification, e.action) for e in temp_events] == [("shutdown", "none")]


async def test_a_temporary_child_that_ended_is_not_brought_back_by_a_group_restart(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a = Scripted(log, "a", ["crash"], after=5.0)
    temp = Scripted(log, "temp", ["return"], after=1.0)
    specs = [a.spec(), temp.spec(restart=Restart.TEMPORARY)]
    sup = Supervisor("root", specs, strategy=Strategy.ONE_FOR_ALL)
    await run_until(sup, 20.0)
    assert (a.starts, temp.starts) == (2, 1)


async def test_a_stop_during_a_group_restart_starts_no_further_sibling(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The stop interrupts the wait for the first child of the group; the rest of the
    group, due at the same moment, is not started just to be stopped."""
    log = Log()
    slow = Scripted(log, "slow")
    crasher = Scripted(log, "crasher", ["crash"], after=2.0)
    sup = Supervisor("root", [slow.spec(), crasher.spec()], strategy=Strategy.ONE_FOR_ALL)
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            slow.startup = 50.0  # its restart (at 3.0) takes 50 s to get ready
            await trio.sleep(10.0)
            await sup.stop()
    assert (slow.starts, crasher.starts) == (2, 1)
    assert trio.current_time() == 10.0


async def test_stop_goes_in_reverse_order_with_grace_then_cancel(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    polite = Scripted(log, "polite", cleanup=1.0)
    stubborn = Scripted(log, "stubborn")
    quick = Scripted(log, "quick")
    specs = [polite.spec(shutdown=5.0), stubborn.spec(shutdown=2.0), quick.spec(shutdown=0.0)]
    sup = Supervisor("root", specs)
    await run_until(sup, 10.0)
    assert log.after(10.0) == [
        (10.0, "quick cancelled"),
        (10.0, "quick down"),
        (12.0, "stubborn cancelled"),
        (12.0, "stubborn down"),
        (13.0, "polite cleaned"),
        (13.0, "polite down"),
    ]
    assert trio.current_time() == 13.0
    assert [c.state for c in sup.statistics().children] == ["stopped"] * 3
    assert sup.statistics().state == "stopped"


async def test_stop_during_backoff_does_not_restart_the_child(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    worker = Scripted(log, "w", ["crash"], after=1.0)
    sup = Supervisor("root", [worker.spec()])
    await run_until(sup, 1.5)  # crashed at 1.0, restart due at 2.0
    assert worker.starts == 1
    assert trio.current_time() == 1.5


async def test_stop_while_a_child_hangs_before_ready_returns_promptly(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    a, stuck = Scripted(log, "a"), Scripted(log, "stuck", startup=float("inf"))
    sup = Supervisor("root", [a.spec(), stuck.spec()])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sup.run)
            await trio.sleep(5.0)
            assert [c.state for c in sup.statistics().children] == ["running", "starting"]
            await sup.stop()
    assert trio.current_time() == 5.0
    assert log.texts() == ["a start", "a up", "stuck start", "a cancelled", "a down"]
    assert sup.statistics().state == "stopped"


async def test_a_supervisor_runs_again_after_it_stopped(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    worker = Scripted(log, "w")
    sup = Supervisor("root", [worker.spec()])
    await run_until(sup, 1.0)
    await run_until(sup, 2.0)
    assert log.times("w start") == [0.0, 1.0]


async def test_running_twice_at_once_is_refused(autojump_clock: trio.abc.Clock) -> None:
    sup = Supervisor("root", [Scripted(Log(), "w").spec()])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            with pytest.raises(RuntimeError, match=r"^supervisor 'root' is already running$"):
                await sup.run()
            await sup.stop()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "a supervisor needs a name"),
        (
            {"children": [Scripted(Log(), "w").spec(), Scripted(Log(), "w").spec()]},
            "supervisor 'root': child names must be unique: ['w', 'w']",
        ),
        ({"cancel_timeout": 0.0}, "supervisor 'root': cancel_timeout must be finite and > 0"),
    ],
    ids=["no-name", "duplicate-names", "no-cancel-timeout"],
)
def test_a_bad_supervisor_is_refused_naming_it_and_the_rule(
    kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"name": "root", "children": [], **kwargs}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Supervisor(**arguments)  # type: ignore[arg-type]


def test_a_supervisor_lists_its_child_specs_in_start_order() -> None:
    specs = [Scripted(Log(), "fetcher").spec(), Scripted(Log(), "printer").spec()]
    assert Supervisor("root", specs).children == tuple(specs)


def test_a_supervisor_allows_three_restarts_in_five_seconds_by_default() -> None:
    stats = Supervisor("root", []).statistics()
    assert (stats.intensity, stats.period, stats.restarts_in_window) == (3, 5.0, 0)


async def test_a_stop_requested_before_the_run_starts_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A SIGTERM that arrives while the process is still setting up: the tree never starts
    a child, and ``run()`` still signals readiness and returns."""
    log = Log()
    sup = Supervisor("root", [Scripted(log, "w").spec()])
    sup.request_stop()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
    assert log.entries == []
    assert sup.statistics().state == "stopped"


async def test_a_tree_cancelled_from_outside_while_starting_ends_stopped(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The parent's own cancel scope (its deadline) is no failure of this tree."""
    log = Log()
    slow = Scripted(log, "slow", startup=10.0)
    sup = Supervisor("root", [Scripted(log, "a").spec(), slow.spec()])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sup.run)
        await trio.sleep(5.0)
        assert sup.statistics().state == "starting"
        nursery.cancel_scope.cancel()
    stats = sup.statistics()
    assert stats.state == "stopped"
    assert [c.state for c in stats.children] == ["stopped", "stopped"]
    assert log.texts() == ["a start", "a up", "slow start", "a cancelled", "a down"]


async def test_restart_counts_and_the_last_error_outlive_a_rerun(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A nested supervisor restarted by its parent still shows what its children went
    through (OTP keeps no such thing, an operator wants it)."""
    worker = Scripted(Log(), "w", ["crash", "crash"], after=1.0)
    sup = Supervisor("root", [worker.spec()], intensity=10)
    await run_until(sup, 10.0)  # crashes at 1 and 3, restarted at 2 and 5
    await run_until(sup, 20.0)
    child = sup.statistics().children[0]
    assert worker.starts == 4
    assert child.restarts == 2
    assert child.last_error is not None
    assert child.last_error.message == "w crashed"


# -- how an exit is judged and summarised ---------------------------------------------------


async def test_a_transient_child_that_lost_its_dependency_is_restarted_but_not_counted(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    worker = Scripted(log, "w", ["dep"], after=2.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.TRANSIENT)], intensity=1)
    await run_until(sup, 20.0)
    assert log.times("w start") == [0.0, 3.0]
    (event,) = sup.statistics().recent
    assert (event.classification, event.action, event.restarts_in_window) == (
        "dependency",
        "restart",
        0,
    )


@pytest.mark.parametrize(
    ("errors", "classification", "counted"),
    [
        ([DependencyUnavailable("printer"), DependencyUnavailable("shop")], "dependency", 0),
        ([DependencyUnavailable("printer"), Boom("bug")], "abnormal", 1),
    ],
)
async def test_several_outages_at_once_are_an_outage_and_a_bug_among_them_is_a_crash(
    autojump_clock: trio.abc.Clock,
    errors: list[Exception],
    classification: str,
    counted: int,
) -> None:
    """A child that lost two links at once raises them together: no bug, not counted."""
    starts: list[float] = []

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        starts.append(trio.current_time())
        task_status.started()
        if len(starts) > 1:
            await trio.sleep_forever()
        await trio.sleep(2.0)
        raise ExceptionGroup("links lost", errors)

    spec = ChildSpec("w", child, restart=Restart.TRANSIENT, backoff=EXACT)
    sup = Supervisor("root", [spec], intensity=1)
    await run_until(sup, 20.0)
    assert starts == [0.0, 3.0]
    (event,) = sup.statistics().recent
    assert (event.classification, event.restarts_in_window) == (classification, counted)


@pytest.mark.parametrize(
    ("length", "shown"),
    [(500, "x" * 500), (501, "x" * 499 + "…"), (5000, "x" * 499 + "…")],
)
async def test_an_error_message_is_cut_to_500_characters(
    autojump_clock: trio.abc.Clock, length: int, shown: str
) -> None:
    """Events are kept, served and written to disk: one huge message must not bloat them."""

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(1.0)
        raise Boom("x" * length)

    sup = Supervisor("root", [ChildSpec("w", child, restart=Restart.TEMPORARY)])
    await run_until(sup, 5.0)
    (event,) = sup.statistics().recent
    last_error = sup.statistics().children[0].last_error
    assert last_error is not None
    assert event.message == last_error.message == shown


def _level1() -> None:
    _level2()


def _level2() -> None:
    _level3()


def _level3() -> None:
    _level4()


def _level4() -> None:
    _level5()


def _level5() -> None:
    raise Boom("deep")


async def test_the_traceback_shows_the_four_innermost_frames_one_per_line(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(1.0)
        _level1()

    sup = Supervisor("root", [ChildSpec("w", child, restart=Restart.TEMPORARY)])
    await run_until(sup, 5.0)
    (event,) = sup.statistics().recent
    lines = event.traceback.split("\n")
    assert [line.split(":")[0] for line in lines] == ["test_supervisor_core.py"] * 4
    assert [line.split(" in ")[1] for line in lines] == ["_level2", "_level3", "_level4", "_level5"]
    assert all(line.split(":")[1].split(" ")[0].isdigit() for line in lines)


# -- child specs ----------------------------------------------------------------------------


async def _idle(*, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()
    await trio.sleep_forever()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": ""}, ValueError, "a child needs a name"),
        ({"fn": "printer"}, TypeError, "child 'w': fn must be an async function"),
        ({"shutdown": -1.0}, ValueError, "child 'w': shutdown must be >= 0 seconds"),
        ({"shutdown": float("nan")}, ValueError, "child 'w': shutdown must be >= 0 seconds"),
        ({"restart": "permanent"}, TypeError, "child 'w': restart must be a Restart"),
    ],
)
def test_a_bad_child_spec_is_refused_naming_the_child_and_the_rule(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {"name": "w", "fn": _idle, **kwargs}
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        ChildSpec(**arguments)  # type: ignore[arg-type]


def test_a_child_spec_cannot_be_changed_after_it_was_checked() -> None:
    spec = ChildSpec("w", _idle)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.shutdown = -1.0  # type: ignore[misc]


async def test_a_child_without_its_own_curve_restarts_on_the_default_one(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    crasher = Scripted(log, "c", ["crash"])
    sup = Supervisor("root", [ChildSpec("c", crasher)])
    await run_until(sup, 1.0)
    (restart,) = log.times("c start")[1:]
    assert 0.05 <= restart < 0.06  # 50 ms and at most 20 % jitter


async def test_each_child_runs_in_a_task_named_after_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Trio's task tree (instruments, debuggers, crash dumps) shows which actor is which."""
    names: list[str] = []

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        names.append(trio.lowlevel.current_task().name)
        task_status.started()
        await trio.sleep_forever()

    sup = Supervisor("root", [ChildSpec("printer-1", child), ChildSpec("fetcher", child)])
    await run_until(sup, 1.0)
    assert names == ["printer-1", "fetcher"]


async def test_a_child_calling_started_twice_crashes_with_trios_message(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def twice(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(1.0)
        task_status.started()

    sup = Supervisor("root", [ChildSpec("twice", twice, backoff=EXACT)], intensity=10)
    await run_until(sup, 1.5)
    [event] = sup.statistics().recent
    assert (event.classification, event.error_type, event.message) == (
        "abnormal",
        "RuntimeError",
        "called 'started' twice on the same task status",
    )
