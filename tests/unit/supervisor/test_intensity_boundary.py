"""The intensity window's edge, exactly as OTP keeps it: a restart at ``R`` still counts at
``now`` while ``R >= now - period`` (``supervisor.erl``, ``inPeriod``). One restart exactly
``period`` seconds old is inside; a moment later it is out.
"""

from __future__ import annotations

import math

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Scripted, run_until
from wixprint.errors import RestartIntensityExceeded
from wixprint.supervisor import Supervisor
from wixprint.supervisor._intensity import RestartIntensity


def test_a_restart_exactly_period_old_still_counts() -> None:
    window = RestartIntensity(intensity=1, period=60.0)
    assert window.add(100.0) is False
    assert window.count(160.0) == 1
    assert window.add(160.0) is True  # 100 >= 160 - 60: two in the window, one too many


def test_a_restart_just_older_than_period_no_longer_counts() -> None:
    window = RestartIntensity(intensity=1, period=60.0)
    assert window.add(100.0) is False
    assert window.count(160.5) == 0
    assert window.add(160.5) is False


def test_the_edge_is_measured_on_active_time() -> None:
    window = RestartIntensity(intensity=1, period=60.0)
    window.add(0.0)
    window.hold("child", 10.0)
    window.release("child", 40.0)  # 30 s of backoff do not count
    assert window.count(90.0) == 1  # active 60: exactly period old
    assert window.add(90.0) is True
    window = RestartIntensity(intensity=1, period=60.0)
    window.add(0.0)
    window.hold("child", 10.0)
    window.release("child", 40.0)
    assert window.add(90.5) is False


def crash_loop(uptime: float, crashes: int) -> tuple[Scripted, Supervisor]:
    """A child crashing ``uptime`` s after each start, under intensity 2 in 10 s."""
    crasher = Scripted(Log(), "crasher", ["crash"] * crashes, after=uptime)
    return crasher, Supervisor("root", [crasher.spec(backoff=EXACT)], intensity=2, period=10.0)


async def test_crashes_exactly_period_over_intensity_apart_escalate(
    autojump_clock: trio.abc.Clock,
) -> None:
    # intensity x uptime = 2 x 5 s = period: the third crash finds both earlier ones inside.
    crasher, sup = crash_loop(5.0, 10)
    with trio.fail_after(100), pytest.raises(RestartIntensityExceeded):
        await sup.run()
    assert crasher.starts == 3


async def test_crashes_a_little_further_apart_never_escalate(
    autojump_clock: trio.abc.Clock,
) -> None:
    crasher, sup = crash_loop(5.5, 30)
    await run_until(sup, 150.0)
    assert crasher.starts > 10
    assert sup.statistics().state != "failed"


def test_active_time_leaves_out_every_backoff_wait_even_one_still_running() -> None:
    window = RestartIntensity(intensity=1, period=60.0)
    assert window.active(5.0) == 5.0
    window.hold("a", 10.0)
    assert window.active(15.0) == 10.0  # the clock stopped at 10
    window.hold("b", 12.0)
    window.release("a", 15.0)  # b still waits: still stopped
    assert window.active(18.0) == 10.0
    window.release("b", 20.0)
    assert window.active(30.0) == 20.0
    window.release("b", 35.0)  # not waiting: no effect
    window.hold("c", 40.0)
    assert window.active(50.0) == 30.0  # 10 s before, and 10 s of this wait so far
    window.release("c", 50.0)
    assert window.active(60.0) == 40.0
    window.clear()
    assert window.active(70.0) == 70.0


@pytest.mark.parametrize("intensity", [-1, -5])
def test_a_negative_intensity_is_refused(intensity: int) -> None:
    with pytest.raises(ValueError, match=r"^intensity must be >= 0$"):
        RestartIntensity(intensity=intensity, period=60.0)


@pytest.mark.parametrize("period", [0.0, -1.0, math.inf, math.nan])
def test_a_period_must_be_finite_and_positive(period: float) -> None:
    with pytest.raises(ValueError, match=r"^period must be a finite number of seconds > 0$"):
        RestartIntensity(intensity=1, period=period)


def test_small_periods_and_zero_intensity_are_fine() -> None:
    window = RestartIntensity(intensity=0, period=0.5)
    assert window.add(1.0) is True  # intensity 0: the first restart is one too many
    assert window.count(1.5) == 1
    assert window.count(1.6) == 0
