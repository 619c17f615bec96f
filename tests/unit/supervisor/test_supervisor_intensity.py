"""Restart intensity, escalation through nested supervisors, and dependency outages.

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
"""

from __future__ import annotations

import random

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
from wixprint.errors import DependencyUnavailable, RestartIntensityExceeded
from wixprint.supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    RestartEvent,
    Strategy,
    Supervisor,
    supervisor_spec,
)


async def test_intensity_exceeded_stops_children_in_reverse_and_raises_with_history(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    first, last = Scripted(log, "first"), Scripted(log, "last")
    crasher = Scripted(log, "crasher", ["crash"] * 10)
    sup = Supervisor("root", [first.spec(), crasher.spec(), last.spec()], intensity=2, period=10.0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded) as caught:
        await sup.run()
    # Crashes at 0, 1 (after 1 s backoff) and 3 (after 2 s): the third restart is one too many.
    assert log.times("crasher start") == [0.0, 1.0, 3.0]
    assert trio.current_time() == 3.0
    assert log.after(3.0)[-4:] == [
        (3.0, "last cancelled"),
        (3.0, "last down"),
        (3.0, "first cancelled"),
        (3.0, "first down"),
    ]
    err = caught.value
    assert err.supervisor == "root"
    history = [e for e in err.history if isinstance(e, RestartEvent)]
    assert len(history) == len(err.history) == 3
    assert [(e.action, e.restarts_in_window) for e in history] == [
        ("restart", 1),
        ("restart", 2),
        ("escalate", 3),
    ]
    assert all(e.error_type == "Boom" and e.message == "crasher crashed" for e in history)
    assert "in __call__" in history[-1].traceback
    stats = sup.statistics()
    assert stats.state == "failed"
    assert [c.state for c in stats.children] == ["stopped", "failed", "stopped"]


async def test_restarts_spread_wider_than_the_period_never_escalate(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    crasher = Scripted(log, "crasher", ["crash"] * 20, after=6.0)
    backoff = Backoff(min_delay=1.0, max_delay=1.0, random_factor=0.0)
    sup = Supervisor("root", [crasher.spec(backoff=backoff)], intensity=1, period=5.0)
    await run_until(sup, 100.0)
    # One crash every 7 s; the window of 5 s never holds two.
    assert log.times("crasher start")[:4] == [0.0, 7.0, 14.0, 21.0]
    assert crasher.starts == 15


async def test_every_failed_restart_attempt_counts(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    flaky = Scripted(log, "flaky", ["crash", "fail_start", "fail_start"], after=1.0)
    sup = Supervisor("root", [flaky.spec()], intensity=2, period=60.0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    # Crash at 1; start attempts at 2 (fails) and 4 (fails): three restarts > 2.
    assert log.times("flaky start") == [0.0, 2.0, 4.0]
    actions = [e.action for e in sup.statistics().recent]
    assert actions == ["restart", "restart", "escalate"]


async def test_dependency_outages_never_count_against_intensity(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    flaky = Scripted(log, "wifi", ["dep"] * 100)
    fast = Backoff(min_delay=0.01, max_delay=0.01, random_factor=0.0)
    sup = Supervisor("root", [flaky.spec(backoff=fast)], intensity=1, period=60.0, recent=200)
    await run_until(sup, 10.0)
    assert flaky.starts == 101
    events = sup.statistics().recent
    assert len(events) == 100
    assert {(e.classification, e.action, e.restarts_in_window) for e in events} == {
        ("dependency", "restart", 0)
    }
    assert sup.statistics().state == "stopped"


async def test_extra_dependency_errors_and_single_exception_groups_are_outages(
    autojump_clock: trio.abc.Clock,
) -> None:
    raised: list[BaseException] = [
        ExceptionGroup("wrapped", [DependencyUnavailable("router rebooting")]),
        ConnectionRefusedError("printer port closed"),
    ]

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        if raised:
            raise raised.pop(0)
        await trio.sleep_forever()

    sup = Supervisor(
        "root",
        [ChildSpec("c", child, backoff=EXACT)],
        intensity=0,
        dependency_errors=(ConnectionError,),
    )
    await run_until(sup, 10.0)
    events = sup.statistics().recent
    assert [(e.classification, e.error_type) for e in events] == [
        ("dependency", "DependencyUnavailable"),
        ("dependency", "ConnectionRefusedError"),
    ]


async def test_a_group_with_a_bug_inside_is_abnormal(autojump_clock: trio.abc.Clock) -> None:
    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        raise ExceptionGroup("two", [DependencyUnavailable("down"), Boom("bug")])

    sup = Supervisor("root", [ChildSpec("c", child, backoff=EXACT)], intensity=0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    assert sup.statistics().recent[-1].classification == "abnormal"


async def test_nested_supervisor_escalates_and_parent_restarts_the_subtree(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    # The grandchild crashes twice in a row (sub gives up), then is fine after the restart.
    grandchild = Scripted(log, "g", ["crash", "crash"], after=0.5)
    helper = Scripted(log, "h")
    sub = Supervisor("sub", [helper.spec(), grandchild.spec()], intensity=1, period=10.0)
    sibling = Scripted(log, "sibling")
    root = Supervisor(
        "root",
        [supervisor_spec(sub, backoff=EXACT), sibling.spec()],
        strategy=Strategy.ONE_FOR_ONE,
        intensity=3,
    )
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(root.run)
            await trio.sleep(10.0)
            stats = root.statistics()
            await root.stop()
    # g crashes at 0.5, restarts at 1.5, crashes at 2.0: sub gives up at 2.0, stopping h.
    # The root restarts the whole subtree at 3.0 (its 1 s backoff); g then stays up.
    assert log.times("g start") == [0.0, 1.5, 3.0]
    assert log.times("h start") == [0.0, 3.0]
    assert (2.0, "h cancelled") in log.entries
    assert sibling.starts == 1
    assert [(e.supervisor, e.child, e.error_type, e.action) for e in stats.recent] == [
        ("root", "sub", "RestartIntensityExceeded", "restart")
    ]
    sub_stats = stats.children[0]
    assert sub_stats.kind == "supervisor"
    assert sub_stats.restarts == 1
    assert sub_stats.state == "running"
    assert sub_stats.supervisor is not None
    assert sub_stats.supervisor.state == "running"
    assert [c.name for c in sub_stats.supervisor.children] == ["h", "g"]


async def test_escalation_climbs_until_the_root_gives_up(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    grandchild = Scripted(log, "g", ["crash"] * 100)
    sub = Supervisor("sub", [grandchild.spec()], intensity=0)
    root = Supervisor("root", [supervisor_spec(sub, backoff=EXACT)], intensity=1, period=60.0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded) as caught:
        await root.run()
    assert caught.value.supervisor == "root"
    last = caught.value.history[-1]
    assert isinstance(last, RestartEvent)
    assert (last.child, last.error_type, last.action) == (
        "sub",
        "RestartIntensityExceeded",
        "escalate",
    )
    # Total starts before the root gives up: product of intensities on the path, plus one.
    assert grandchild.starts == 2


async def test_transient_sub_supervisor_is_stopped_by_parent_with_its_subtree(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    inner = Scripted(log, "inner", cleanup=2.0)
    sub = Supervisor("sub", [inner.spec(shutdown=10.0)])
    outer = Scripted(log, "outer")
    root = Supervisor("root", [supervisor_spec(sub, restart=Restart.TRANSIENT), outer.spec()])
    await run_until(root, 5.0)
    # The sub-supervisor's infinite grace lets its child finish its 2 s cleanup.
    assert log.after(5.0) == [
        (5.0, "outer cancelled"),
        (5.0, "outer down"),
        (7.0, "inner cleaned"),
        (7.0, "inner down"),
    ]


# -- intensity with backoff: the window runs on active time ---------------------------------

INTENSITY, PERIOD = 10, 60.0
"""The services and printers supervisors' budget (app.py): 10 restarts in 60 s."""
CAPPED = Backoff(min_delay=0.05, max_delay=30.0, random_factor=0.2)
"""The library default curve: up to 30 s, jittered up to 36 s."""


async def test_a_child_crashing_a_second_after_each_start_escalates_despite_backoff(
    autojump_clock: trio.abc.Clock,
) -> None:
    """It used to restart for ever every 30-36 s: restarts were counted in a window of
    wall time that the backoff itself kept empty."""
    log = Log()
    crasher = Scripted(log, "crasher", ["crash"] * 100, after=1.0)
    sup = Supervisor("services", [crasher.spec(backoff=CAPPED)], intensity=INTENSITY, period=PERIOD)
    with trio.fail_after(3600), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    assert crasher.starts == 11
    # Eleven seconds of running plus ten backoffs: 0.05 s doubling to 25.6 s, 51.15 s in
    # all without jitter and at most 20 % more with it.
    assert 11 + 51.15 <= trio.current_time() <= 11 + 51.15 * 1.2 + 1e-9


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("uptime", "escalates"),
    [(0.5, True), (5.9, True), (6.1, False), (12.0, False)],
    ids=["0.5s", "5.9s", "6.1s", "12s"],
)
async def test_whether_a_crash_loop_escalates_never_depends_on_jitter(
    autojump_clock: trio.abc.Clock, seed: int, uptime: float, escalates: bool
) -> None:
    """The documented rule: a child that crashes ``uptime`` seconds after every start
    escalates on its (intensity + 1)-th crash if ``intensity * uptime <= period``, and never
    otherwise, whatever the backoff curve and its jitter draw."""
    log = Log()
    crasher = Scripted(log, "crasher", ["crash"] * 1000, after=uptime)
    jittery = Backoff(min_delay=0.05, max_delay=30.0, random_factor=1.0)
    sup = Supervisor(
        "services",
        [crasher.spec(backoff=jittery)],
        rng=random.Random(seed),
        intensity=INTENSITY,
        period=PERIOD,
    )
    horizon = 2000.0
    if escalates:
        with trio.fail_after(horizon), pytest.raises(RestartIntensityExceeded):
            await sup.run()
        assert crasher.starts == 11
    else:
        await run_until(sup, horizon)
        assert sup.statistics().restarts_in_window <= 10
        assert crasher.starts > 30


async def test_the_window_keeps_running_while_no_child_waits_to_restart(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Active time is wall time whenever nothing is backing off: OTP's window exactly."""
    log = Log()
    crasher = Scripted(log, "crasher", ["crash"] * 3, after=3.9)
    quick = Backoff(min_delay=0.001, max_delay=0.001, random_factor=0.0)
    sup = Supervisor("root", [crasher.spec(backoff=quick)], intensity=2, period=8.0)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    # Crashes at 3.9, 7.8 and 11.7 (+ 1-2 ms backoffs): three within 8 s of active time.
    assert crasher.starts == 3
    assert 11.7 < trio.current_time() < 11.71


async def test_dependency_backoff_does_not_stop_the_window(autojump_clock: trio.abc.Clock) -> None:
    """A long outage backing off must not keep an old, unrelated crash counted for ever."""
    log = Log()
    wifi = Scripted(log, "wifi", ["dep"] * 1000)
    slow_dep = Backoff(min_delay=20.0, max_delay=20.0, random_factor=0.0)
    bug = Scripted(log, "bug", ["crash", "run", "crash"], after=1.0)
    sup = Supervisor("root", [wifi.spec(backoff=slow_dep), bug.spec()], intensity=1, period=30.0)
    stats = await statistics_at(sup, 100.0)
    assert stats.state == "running"
    assert [e.action for e in stats.recent if e.child == "bug"] == ["restart"]
