"""Fault points: arming in-process and from the environment.

Charter: see ``test_supervisor_core.py``. Every test leaves the fault registry empty.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from wixprint.errors import InjectedFault
from wixprint.supervisor import faults

POINT = "printer.mid_send"


@pytest.fixture(autouse=True)
def _clean_faults() -> Iterator[None]:
    faults.reset()
    yield
    faults.reset()


def _pattern(name: str, hits: int) -> list[bool]:
    fired = []
    for _ in range(hits):
        try:
            faults.point(name)
        except InjectedFault as exc:
            fired.append(exc.point == name)
        else:
            fired.append(False)
    return fired


def test_a_disarmed_point_does_nothing_and_counts_nothing() -> None:
    for name in faults.KNOWN_POINTS:
        faults.point(name)
    assert faults.statistics() == {}


def test_an_armed_point_fires_and_counts() -> None:
    faults.arm(POINT)
    with pytest.raises(InjectedFault, match=POINT):
        faults.point(POINT)
    faults.point("printer.before_send")  # another point stays quiet
    stats = faults.statistics()
    assert set(stats) == {POINT}
    assert (stats[POINT].hits, stats[POINT].fires, stats[POINT].armed) == (1, 1, True)


def test_skip_then_times_then_the_point_disarms_itself() -> None:
    faults.arm(POINT, skip=2, times=2)
    assert _pattern(POINT, 6) == [False, False, True, True, False, False]
    stats = faults.statistics()[POINT]
    assert (stats.hits, stats.fires, stats.armed) == (4, 2, False)


def test_probability_uses_the_given_generator() -> None:
    faults.arm(POINT, 0.5, rng=random.Random(3))
    first = _pattern(POINT, 40)
    faults.arm(POINT, 0.5, rng=random.Random(3))
    assert _pattern(POINT, 40) == first
    assert 0 < sum(first) < 40


def test_armed_context_disarms_on_exit_even_after_a_fault() -> None:
    with pytest.raises(InjectedFault), faults.armed(POINT):
        faults.point(POINT)
    faults.point(POINT)
    assert faults.statistics()[POINT].armed is False


def test_disarm_one_or_all() -> None:
    faults.arm(POINT)
    faults.arm("web.webhook")
    faults.disarm(POINT)
    faults.point(POINT)
    with pytest.raises(InjectedFault):
        faults.point("web.webhook")
    faults.disarm()
    faults.point("web.webhook")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "printer.explode"}, "unknown fault point"),
        ({"name": POINT, "probability": 1.5}, "probability"),
        ({"name": POINT, "probability": -0.1}, "probability"),
        ({"name": POINT, "times": 0}, "times"),
        ({"name": POINT, "skip": -1}, "skip"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], match: str) -> None:
    name = kwargs.pop("name")
    assert isinstance(name, str)
    with pytest.raises(ValueError, match=match):
        faults.arm(name, **kwargs)  # type: ignore[arg-type]
    assert faults.statistics() == {}


def test_the_environment_arms_seeded_reproducible_points() -> None:
    env = {
        "WIXPRINT_FAULTS": " printer.mid_send=0.5 , spool.after_commit=0.25,",
        "WIXPRINT_FAULTS_SEED": "42",
    }
    faults.arm_from_env(env)
    mid, commit = _pattern(POINT, 50), _pattern("spool.after_commit", 50)
    assert 0 < sum(mid) < 50
    assert 0 < sum(commit) < 50

    # Same seed, other interleaving of the points: each point repeats its own pattern.
    faults.reset()
    faults.arm_from_env(env)
    assert _pattern("spool.after_commit", 50) == commit
    assert _pattern(POINT, 50) == mid

    faults.reset()
    faults.arm_from_env({**env, "WIXPRINT_FAULTS_SEED": "43"})
    assert _pattern(POINT, 50) != mid


def test_the_environment_without_the_variable_arms_nothing() -> None:
    faults.arm_from_env({})
    faults.arm_from_env({"WIXPRINT_FAULTS": "", "WIXPRINT_FAULTS_SEED": "1"})
    for name in faults.KNOWN_POINTS:
        faults.point(name)
    assert faults.statistics() == {}


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ("printer.mid_send", "'printer.mid_send'"),
        ("printer.mid_send=often", "'printer.mid_send=often'"),
        ("web.webhook=1,printer.explode=0.5", "'printer.explode=0.5'"),
        ("web.webhook=2", "'web.webhook=2'"),
        ("web.webhook=nan", "'web.webhook=nan'"),
    ],
)
def test_a_malformed_environment_is_refused_naming_the_item(spec: str, bad: str) -> None:
    with pytest.raises(ValueError, match="WIXPRINT_FAULTS") as caught:
        faults.arm_from_env({"WIXPRINT_FAULTS": spec})
    assert bad in str(caught.value)
    assert faults.statistics() == {}  # nothing half-armed
