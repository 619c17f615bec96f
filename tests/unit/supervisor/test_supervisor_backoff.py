"""Restart backoff: the curve, its cap, jitter, and both resets.

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
"""

from __future__ import annotations

import dataclasses
import random
import re

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Scripted, Step, run_until
from wixprint.supervisor import Backoff, ChildSpec, Supervisor, current_child
from wixprint.supervisor._backoff import BackoffState


def test_delay_doubles_from_min_to_max_then_jitters_above_the_cap() -> None:
    backoff = Backoff(min_delay=0.05, max_delay=30.0, random_factor=0.2)
    assert [backoff.delay(n, 0.0) for n in range(4)] == [0.05, 0.1, 0.2, 0.4]
    assert backoff.delay(20, 0.0) == 30.0
    assert backoff.delay(10_000, 0.0) == 30.0
    assert backoff.delay(20, 0.5) == pytest.approx(33.0)
    assert backoff.delay(20, 0.999999) < 36.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_delay": 0.0},
        {"min_delay": -1.0},
        {"min_delay": float("nan")},
        {"min_delay": 2.0, "max_delay": 1.0},
        {"random_factor": -0.1},
        {"random_factor": 1.5},
        {"reset_after": 0.0},
    ],
)
def test_bad_backoff_arguments_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**kwargs)


async def test_restart_times_follow_the_curve_and_its_cap(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    crasher = Scripted(log, "c", ["crash"] * 6)
    backoff = Backoff(min_delay=1.0, max_delay=8.0, random_factor=0.0, reset_after=1000.0)
    sup = Supervisor("root", [crasher.spec(backoff=backoff)], intensity=100, period=1.0)
    await run_until(sup, 100.0)
    # Delays 1, 2, 4, 8, 8, 8.
    assert log.times("c start") == [0.0, 1.0, 3.0, 7.0, 15.0, 23.0, 31.0]
    assert [e.delay for e in sup.statistics().recent] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_jitter_stays_within_the_random_factor(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    crasher = Scripted(log, "c", ["crash"] * 30)
    backoff = Backoff(min_delay=1.0, max_delay=4.0, random_factor=0.5)
    sup = Supervisor("root", [crasher.spec(backoff=backoff)], intensity=100, rng=random.Random(1))
    await run_until(sup, 1000.0)
    delays = [e.delay or 0.0 for e in sup.statistics().recent]
    assert len(delays) == 30
    bases = [1.0, 2.0] + [4.0] * 28
    assert all(base <= d < base * 1.5 for base, d in zip(bases, delays, strict=True))
    assert len(set(delays)) == 30  # jitter really varies


async def test_backoff_resets_after_enough_uptime(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    crashes = Scripted(log, "c", ["crash", "crash", "crash"])
    backoff = Backoff(min_delay=1.0, max_delay=60.0, random_factor=0.0, reset_after=5.0)
    sup = Supervisor("root", [crashes.spec(backoff=backoff)], intensity=100)
    await run_until(sup, 10.0)
    later = Scripted(log, "late", ["crash", "crash"], after=5.0)
    sup2 = Supervisor("root", [later.spec(backoff=backoff)], intensity=100)
    await run_until(sup2, 40.0)
    # Without uptime: 1, 2, 4. With 5 s uptime before each crash: 1 every time.
    assert [e.delay for e in sup.statistics().recent] == [1.0, 2.0, 4.0]
    assert [e.delay for e in sup2.statistics().recent] == [1.0, 1.0]


async def test_uptime_just_short_of_reset_after_keeps_growing(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    crashes = Scripted(log, "c", ["crash"] * 3, after=4.0)
    backoff = Backoff(min_delay=1.0, max_delay=60.0, random_factor=0.0, reset_after=5.0)
    sup = Supervisor("root", [crashes.spec(backoff=backoff)], intensity=100)
    await run_until(sup, 40.0)
    assert [e.delay for e in sup.statistics().recent] == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("script", "delays", "starts"),
    [
        (
            ["crash", "crash", "crash", "healthy_crash", "crash"],
            [1.0, 2.0, 4.0, 1.0, 2.0],
            [0.0, 1.0, 3.0, 7.0, 8.0, 10.0],
        ),
        # A restart that raises before started() was never up: no uptime resets the curve.
        (
            ["crash", "fail_start", "fail_start", "crash", "fail_start"],
            [1.0, 2.0, 4.0, 8.0, 16.0],
            [0.0, 1.0, 3.0, 7.0, 15.0, 31.0],
        ),
    ],
    ids=["mark-healthy-resets-at-once", "failed-starts-follow-the-curve"],
)
async def test_the_curve_through_healthy_marks_and_failed_starts(
    autojump_clock: trio.abc.Clock, script: list[Step], delays: list[float], starts: list[float]
) -> None:
    log = Log()
    child = Scripted(log, "c", script)
    backoff = Backoff(min_delay=1.0, max_delay=60.0, random_factor=0.0, reset_after=1000.0)
    sup = Supervisor("root", [child.spec(backoff=backoff)], intensity=100)
    await run_until(sup, 100.0)
    assert [e.delay for e in sup.statistics().recent] == delays
    assert log.times("c start") == starts


async def test_current_child_names_the_child_and_outside_is_detached(
    autojump_clock: trio.abc.Clock,
) -> None:
    seen: list[str] = []

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        seen.append(current_child().name)
        task_status.started()
        await current_child().wait_stop_requested()

    sup = Supervisor("root", [ChildSpec("named", child, shutdown=1.0)])
    await run_until(sup, 1.0)
    assert seen == ["named"]
    assert trio.current_time() == 1.0  # it honoured the stop request, no grace used
    detached = current_child()
    assert detached.name == ""
    detached.mark_healthy()
    assert not detached.stop_requested.is_set()


# -- the default curve, the argument rules, failed starts ----------------------------------


async def test_the_default_curve_starts_at_50_ms_caps_at_30_s_and_resets_after_a_minute(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Every child without its own curve (and every nested supervisor) uses the defaults."""
    assert Backoff().delay(0, 0.0) == 0.05
    assert Backoff().delay(30, 0.0) == 30.0
    assert Backoff().delay(30, 0.5) == pytest.approx(33.0)  # 20 % jitter above the cap
    exact = Backoff(random_factor=0.0)  # the default curve without its jitter
    log = Log()
    looping = Scripted(log, "loop", ["crash"] * 12)
    sup = Supervisor("root", [looping.spec(backoff=exact)], intensity=100)
    await run_until(sup, 200.0)
    delays = [e.delay for e in sup.statistics().recent]
    assert delays == [0.05 * 2**n for n in range(10)] + [30.0, 30.0]
    for uptime, expected in ((60.0, [0.05, 0.05, 0.05]), (59.5, [0.05, 0.1, 0.2])):
        steady = Scripted(log, "steady", ["crash"] * 3, after=uptime)
        sup = Supervisor("root", [steady.spec(backoff=exact)], intensity=100)
        await run_until(sup, trio.current_time() + 4 * uptime)
        assert [e.delay for e in sup.statistics().recent] == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_delay": 0.0}, "Backoff.min_delay must be a finite number > 0"),
        ({"min_delay": 2.0, "max_delay": 1.0}, "Backoff.max_delay must be >= min_delay"),
        ({"random_factor": 1.5}, "Backoff.random_factor must be within [0, 1]"),
        ({"reset_after": 0.0}, "Backoff.reset_after must be > 0"),
    ],
)
def test_a_refusal_names_the_argument_and_its_rule(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Backoff(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_delay": 2.0, "max_delay": 2.0},  # a constant delay
        {"random_factor": 0.0},
        {"random_factor": 1.0},
        {"reset_after": 0.5},
    ],
)
def test_the_edges_of_each_rule_are_accepted(kwargs: dict[str, float]) -> None:
    backoff = Backoff(**kwargs)
    assert backoff.delay(0, 0.0) == backoff.min_delay
    assert backoff.delay(10, 0.0) == backoff.max_delay


def test_a_curve_cannot_be_changed_after_it_was_checked() -> None:
    """One curve may be shared by many children; changing it would also skip the checks."""
    backoff = Backoff()
    with pytest.raises(dataclasses.FrozenInstanceError):
        backoff.min_delay = 0.0  # type: ignore[misc]
    assert backoff.min_delay == 0.05


def test_an_uncapped_curve_stops_doubling_after_62_steps() -> None:
    """A days-long outage must not overflow the float (2.0 ** 1024 raises)."""
    backoff = Backoff(min_delay=1.0, max_delay=1e300, random_factor=0.0)
    assert backoff.delay(62, 0.0) == 2.0**62
    assert backoff.delay(63, 0.0) == 2.0**62
    assert backoff.delay(100_000, 0.0) == 2.0**62


def test_a_curve_never_started_restarts_at_its_minimum() -> None:
    """The sans-IO state alone: an end without a start has no uptime to judge."""
    state = BackoffState(Backoff(min_delay=1.0, max_delay=8.0, random_factor=0.0))
    assert [state.next_delay(100.0 * n, 0.0) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]


async def test_a_child_sees_its_own_health_mark_and_each_run_starts_unmarked(
    autojump_clock: trio.abc.Clock,
) -> None:
    seen: list[tuple[bool, bool]] = []

    async def child(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        before = current_child().healthy
        current_child().mark_healthy()
        seen.append((before, current_child().healthy))
        await trio.sleep(1.0)
        raise RuntimeError("crash after a healthy second")

    sup = Supervisor("root", [ChildSpec("c", child, backoff=EXACT)], intensity=100)
    await run_until(sup, 2.5)
    assert seen == [(False, True), (False, True)]
