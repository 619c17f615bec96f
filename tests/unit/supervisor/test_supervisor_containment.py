"""Containment: no child's exception ever escapes into its supervisor's nursery.

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
The first tests are the experiments that broke the library, kept as regression tests: a
child that raises while it is cancelled (``BaseExceptionGroup([Cancelled, Exc])``), a stop
that arrives while a nested supervisor is still starting, and ``SystemExit`` from a child.
"""

from __future__ import annotations

import logging

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import (
    EXACT,
    FailsWhileCancelled,
    Log,
    Raises,
    Scripted,
    run_until,
    statistics_at,
)
from wixprint.errors import RestartIntensityExceeded
from wixprint.supervisor import (
    ChildSpec,
    Restart,
    RestartEvent,
    Strategy,
    Supervisor,
    supervisor_spec,
)

# -- 1. a child that raises while it is being cancelled ------------------------------------


async def test_a_child_failing_while_cancelled_in_a_one_for_all_restart_is_contained(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Experiment 1a: the restart used to die half-way, the events saying "restart"."""
    log = Log()
    fragile = FailsWhileCancelled(log, "fragile")
    b, c = Scripted(log, "b", ["crash"], after=5.0), Scripted(log, "c")
    specs = [fragile.spec(), b.spec(), c.spec()]
    sup = Supervisor("root", specs, strategy=Strategy.ONE_FOR_ALL, intensity=5)
    await run_until(sup, 10.0)
    assert log.after(5.0)[:9] == [
        (5.0, "b down"),
        (5.0, "c cancelled"),
        (5.0, "c down"),
        (5.0, "fragile cleanup failed"),
        (6.0, "fragile start"),
        (6.0, "fragile up"),
        (6.0, "b start"),
        (6.0, "b up"),
        (6.0, "c start"),
    ]
    stats = sup.statistics()
    assert stats.state == "stopped"
    fragile_stats = stats.children[0]
    assert fragile_stats.last_error is not None
    assert fragile_stats.last_error.message == "fragile cleanup failed"
    assert [(e.child, e.classification, e.action) for e in stats.recent] == [
        ("b", "abnormal", "restart"),
        ("c", "shutdown", "restart"),
        ("fragile", "shutdown", "restart"),
    ]


async def test_a_child_failing_while_cancelled_does_not_cut_its_siblings_grace(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Experiment 1b: the sibling lost its grace and ``stop()`` raised while the state
    already said "stopped"."""
    log = Log()
    polite = Scripted(log, "polite", cleanup=2.0)
    fragile = FailsWhileCancelled(log, "fragile")
    sup = Supervisor("root", [polite.spec(shutdown=5.0), fragile.spec()])
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        await run_until(sup, 10.0)
    assert log.after(10.0) == [
        (10.0, "fragile cleanup failed"),
        (12.0, "polite cleaned"),
        (12.0, "polite down"),
    ]
    assert sup.statistics().state == "stopped"
    errors = [r for r in caplog.records if r.message == "child_shutdown_error"]
    assert [getattr(r, "actor", None) for r in errors] == ["fragile"]


async def test_a_child_failing_while_cancelled_during_its_own_grace_is_classified(
    autojump_clock: trio.abc.Clock,
) -> None:
    """It honours the stop request, but its cleanup outlives the grace and then fails."""
    log = Log()
    fragile = FailsWhileCancelled(log, "fragile", cleanup=10.0)
    sup = Supervisor("root", [fragile.spec(shutdown=1.0)])
    await run_until(sup, 3.0)
    assert log.after(3.0) == [(4.0, "fragile cleanup failed")]
    child = sup.statistics().children[0]
    assert child.state == "stopped"
    assert child.last_error is not None
    assert child.last_error.error_type == "Boom"


async def test_a_crash_of_a_running_child_wrapped_with_an_inner_failure_is_abnormal(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A child's own nursery may raise a group of several errors: still one abnormal exit."""

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(1.0)
        raise ExceptionGroup("two", [ValueError("a"), KeyError("b")])

    sup = Supervisor("root", [ChildSpec("c", child, backoff=EXACT)], intensity=100)
    await run_until(sup, 4.5)
    assert [(e.classification, e.action) for e in sup.statistics().recent] == [
        ("abnormal", "restart"),
        ("abnormal", "restart"),
    ]


# -- 3. a stop while a nested supervisor is still starting ---------------------------------


async def test_a_stop_during_a_nested_start_gives_running_grandchildren_their_grace(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Experiment 3: a printer already running was cancelled at once, mid-job, despite its
    grace; now the stop waits for the start in progress and is done in order."""
    log = Log()
    first = Scripted(log, "first", cleanup=1.0)
    printer = Scripted(log, "printer", cleanup=3.0)
    slow = Scripted(log, "slow", startup=20.0)
    sub = Supervisor("printers", [printer.spec(shutdown=10.0), slow.spec()])
    root = Supervisor("root", [first.spec(shutdown=5.0), supervisor_spec(sub)])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(root.run)
            await trio.sleep(5.0)
            assert [c.state for c in root.statistics().children] == ["running", "starting"]
            await root.stop()
    # slow (grace 0) is cancelled in its start; printer collects its proof for 3 s; then
    # first, started before the subtree, stops last.
    assert log.after(5.0) == [
        (8.0, "printer cleaned"),
        (8.0, "printer down"),
        (9.0, "first cleaned"),
        (9.0, "first down"),
    ]
    assert slow.starts == 1
    assert root.statistics().state == "stopped"
    assert sub.statistics().state == "stopped"


async def test_a_cleanup_error_while_a_start_is_stopped_is_no_failure(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Experiment 3b: the same window turned a SIGTERM into the root failing (exit 70)."""
    log = Log()
    fragile = FailsWhileCancelled(log, "fragile")
    slow = Scripted(log, "slow", startup=20.0)
    sub = Supervisor("sub", [fragile.spec(), slow.spec()])
    root = Supervisor("root", [supervisor_spec(sub)])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(root.run)
            await trio.sleep(5.0)
            await root.stop()
    assert log.after(5.0) == [(5.0, "fragile cleanup failed")]
    assert root.statistics().state == "stopped"
    assert root.statistics().recent == ()


async def test_a_stop_during_a_restart_waits_for_the_child_in_start(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A child restarting with a slow start gets its grace like a running one: stops are
    always graceful (request, grace, cancel), then the rest follow in order."""
    log = Log()
    first = Scripted(log, "first", cleanup=1.0)
    flaky = Scripted(log, "flaky", ["crash"], after=2.0)
    sup = Supervisor("root", [first.spec(shutdown=5.0), flaky.spec(shutdown=5.0)])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            flaky.startup = 50.0  # its restart (at 3.0) takes 50 s to get ready
            await trio.sleep(10.0)
            assert [c.state for c in sup.statistics().children] == ["running", "starting"]
            await sup.stop()
    # flaky does not look at the stop request while starting: cancelled after its 5 s.
    assert log.after(10.0) == [(16.0, "first cleaned"), (16.0, "first down")]
    assert flaky.starts == 2


# -- 5. returning without started() is OTP's ``ignore`` -------------------------------------


async def test_a_child_that_returns_without_starting_is_ignored_as_in_otp(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Experiment 5: a permanent child returning without ``started()`` was restarted 4
    times and exceeded the intensity within 0.4 s."""
    log = Log()
    calls: list[float] = []

    async def optional(*, task_status: trio.TaskStatus[None]) -> None:
        calls.append(trio.current_time())  # nothing to do here: not running, and that is fine

    after = Scripted(log, "after")
    sup = Supervisor(
        "root", [ChildSpec("optional", optional, backoff=EXACT), after.spec()], intensity=3
    )
    await run_until(sup, 60.0)
    assert calls == [0.0]
    assert after.starts == 1
    stats = sup.statistics()
    assert [(c.name, c.state) for c in stats.children] == [
        ("optional", "ignored"),
        ("after", "stopped"),
    ]
    assert stats.recent == ()
    assert stats.restarts_in_window == 0


async def test_a_restart_that_returns_without_starting_is_ignored_and_not_counted(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    starts: list[float] = []

    async def once(*, task_status: trio.TaskStatus[None]) -> None:
        starts.append(trio.current_time())
        if len(starts) == 1:
            task_status.started()
            await trio.sleep(2.0)
            raise ValueError("first run crashed")
        # the restart finds nothing to do

    sup = Supervisor("root", [ChildSpec("once", once, backoff=EXACT)], intensity=1)
    stats = await statistics_at(sup, 30.0)
    assert starts == [0.0, 3.0]
    assert stats.children[0].state == "ignored"
    assert [e.action for e in stats.recent] == ["restart"]
    assert log.entries == []


# -- 7. BaseExceptions from children ----------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [SystemExit(3), KeyboardInterrupt()], ids=["SystemExit", "KeyboardInterrupt"]
)
async def test_a_base_exception_from_a_child_stops_the_tree_in_order_then_propagates(
    autojump_clock: trio.abc.Clock, exc: BaseException
) -> None:
    """Experiment 7: it used to cancel the whole tree at once, and the state said
    "stopped"."""
    log = Log()
    first = Scripted(log, "first", cleanup=1.0)
    quitter = Raises(log, "quitter", exc, after=5.0)
    sibling = Scripted(log, "sibling", cleanup=2.0)
    sub = Supervisor("sub", [quitter.spec(), sibling.spec(shutdown=5.0)])
    root = Supervisor("root", [first.spec(shutdown=5.0), supervisor_spec(sub)])
    with trio.fail_after(100), pytest.raises(type(exc)) as caught:
        await root.run()
    assert caught.value is exc
    assert log.entries == [
        (0.0, "first start"),
        (0.0, "first up"),
        (0.0, "sibling start"),
        (0.0, "sibling up"),
        (5.0, "quitter raises"),
        (7.0, "sibling cleaned"),
        (7.0, "sibling down"),
        (8.0, "first cleaned"),
        (8.0, "first down"),
    ]
    assert (root.statistics().state, sub.statistics().state) == ("failed", "failed")
    assert [c.state for c in sub.statistics().children] == ["failed", "stopped"]
    [sub_event] = sub.statistics().recent
    assert (sub_event.child, sub_event.classification, sub_event.action) == (
        "quitter",
        "fatal",
        "escalate",
    )
    [root_event] = root.statistics().recent
    assert (root_event.child, root_event.classification, root_event.action) == (
        "sub",
        "fatal",
        "escalate",
    )
    assert root_event.error_type == type(exc).__name__


async def test_a_base_exception_while_a_child_is_stopped_still_propagates_after_the_stop(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()

    async def exits_on_stop(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            raise SystemExit(4)

    first = Scripted(log, "first", cleanup=1.0)
    sup = Supervisor("root", [first.spec(shutdown=5.0), ChildSpec("quits", exits_on_stop)])
    caught: list[BaseException] = []

    async def run(*, task_status: trio.TaskStatus[None]) -> None:
        try:
            await sup.run(task_status=task_status)
        except SystemExit as exc:
            caught.append(exc)

    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(run)
            await trio.sleep(2.0)
            await sup.stop()  # the stop finishes in order; then run() raises
    assert log.after(2.0) == [(3.0, "first cleaned"), (3.0, "first down")]
    assert [type(e) for e in caught] == [SystemExit]
    stats = sup.statistics()
    assert stats.state == "failed"
    assert [(e.child, e.classification, e.action) for e in stats.recent] == [
        ("quits", "fatal", "escalate")
    ]


async def test_a_base_exception_from_a_start_is_a_failed_start(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()

    async def quits(*, task_status: trio.TaskStatus[None]) -> None:
        raise SystemExit(5)

    first = Scripted(log, "first", cleanup=1.0)
    sup = Supervisor("root", [first.spec(shutdown=5.0), ChildSpec("quits", quits)])
    with trio.fail_after(100), pytest.raises(SystemExit):
        await sup.run()
    assert log.texts() == ["first start", "first up", "first cleaned", "first down"]
    [event] = sup.statistics().recent
    assert (event.child, event.classification, event.action) == ("quits", "fatal", "escalate")


async def test_restart_intensity_still_escalates_through_containment(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Containment never hides a failure from the intensity rule."""
    log = Log()
    fragile = FailsWhileCancelled(log, "fragile")
    crasher = Scripted(log, "crasher", ["crash"] * 10)
    specs = [fragile.spec(), crasher.spec(restart=Restart.TRANSIENT)]
    sup = Supervisor("root", specs, strategy=Strategy.ONE_FOR_ALL, intensity=2, period=60.0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    assert fragile.starts == 3
    assert sup.statistics().state == "failed"


async def test_a_base_exception_from_the_event_callback_fails_the_supervisor(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Only an ``Exception`` of ``on_event`` is logged and forgiven; ``SystemExit`` is the
    process asking to end, and the tree says it failed rather than "stopped"."""

    def exits(event: RestartEvent) -> None:
        raise SystemExit(6)

    sup = Supervisor("root", [Scripted(Log(), "w", ["crash"], after=1.0).spec()], on_event=exits)
    with trio.fail_after(100), pytest.raises(BaseExceptionGroup) as caught:
        await sup.run()
    assert [type(e) for e in caught.value.exceptions] == [SystemExit]
    assert sup.statistics().state == "failed"
