"""Named fault points for crash injection.

Actors call :func:`point` at their crash windows (after a fetch, after a spool commit, mid-send
to a printer...). Disarmed, a point costs one truthiness test of a module global. Armed, it
raises :class:`~wixprint.errors.InjectedFault` with the armed probability, so supervision,
restart and recovery paths run for real in tests and chaos runs.

From the environment (off unless set)::

    WIXPRINT_FAULTS="printer.mid_send=0.05,spool.after_commit=0.01"
    WIXPRINT_FAULTS_SEED=42

With a seed, each point draws from its own generator seeded by ``(seed, point)``, so a point's
firing pattern depends only on its own hit count, not on how tasks interleave. Synopsis for
tests::

    with faults.armed("printer.before_send", times=1, skip=2):
        ...  # the third hit raises, later hits pass
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from wixprint.errors import InjectedFault

__all__ = [
    "ENV_FAULTS",
    "ENV_SEED",
    "KNOWN_POINTS",
    "PointStatistics",
    "arm",
    "arm_from_env",
    "armed",
    "disarm",
    "parse_spec",
    "point",
    "reset",
    "statistics",
]

KNOWN_POINTS: tuple[str, ...] = (
    "fetcher.after_fetch",
    "spool.after_commit",
    "printer.before_send",
    "printer.mid_send",
    "printer.after_send",
    "alerter.before_send",
    "web.webhook",
)
ENV_FAULTS = "WIXPRINT_FAULTS"
ENV_SEED = "WIXPRINT_FAULTS_SEED"


@dataclass(frozen=True, slots=True)
class PointStatistics:
    """Counters of one point since it was first armed (or since :func:`reset`).

    Attributes:
        hits: times the point was reached while armed.
        fires: times it raised.
        armed: whether it is armed now.
    """

    name: str
    hits: int
    fires: int
    armed: bool


class _Arming:
    def __init__(
        self, probability: float, times: int | None, skip: int, rng: random.Random
    ) -> None:
        self.probability = probability
        self.remaining = times
        self.skip = skip
        self.rng = rng


_armed: dict[str, _Arming] = {}
_hits: dict[str, int] = {}
_fires: dict[str, int] = {}
# Points may be hit from worker threads (the spool's SQLite calls).
_lock = threading.Lock()


def point(name: str) -> None:
    """A crash window named ``name``: raises ``InjectedFault(name)`` when armed and it fires."""
    if _armed:
        _maybe_fire(name)


def _maybe_fire(name: str) -> None:
    with _lock:
        arming = _armed.get(name)
        if arming is None:
            return
        _hits[name] = _hits.get(name, 0) + 1
        if arming.skip > 0:
            arming.skip -= 1
            return
        if arming.rng.random() >= arming.probability:
            return
        _fires[name] = _fires.get(name, 0) + 1
        if arming.remaining is not None:
            arming.remaining -= 1
            if arming.remaining <= 0:
                del _armed[name]
    raise InjectedFault(name)


def _check(name: str, probability: float, times: int | None, skip: int) -> None:
    if name not in KNOWN_POINTS:
        raise ValueError(f"unknown fault point {name!r}; known: {', '.join(KNOWN_POINTS)}")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"fault point {name!r}: probability must be within [0, 1]")
    if times is not None and times < 1:
        raise ValueError(f"fault point {name!r}: times must be >= 1 or None")
    if skip < 0:
        raise ValueError(f"fault point {name!r}: skip must be >= 0")


def arm(
    name: str,
    probability: float = 1.0,
    *,
    times: int | None = None,
    skip: int = 0,
    rng: random.Random | None = None,
) -> None:
    """Arm ``name``: after ``skip`` hits, each hit raises with ``probability``, ``times`` times
    at most (``None``: no limit); the point disarms itself after its last fire.

    Raises:
        ValueError: unknown point or an argument out of range.
    """
    _check(name, probability, times, skip)
    with _lock:
        _hits.setdefault(name, 0)
        _fires.setdefault(name, 0)
        _armed[name] = _Arming(
            probability, times, skip, rng if rng is not None else random.Random()
        )


def disarm(name: str | None = None) -> None:
    """Disarm one point, or every point with ``None``. Counters are kept."""
    with _lock:
        if name is None:
            _armed.clear()
        else:
            _armed.pop(name, None)


def reset() -> None:
    """Disarm everything and forget all counters."""
    with _lock:
        _armed.clear()
        _hits.clear()
        _fires.clear()


def statistics() -> dict[str, PointStatistics]:
    """Counters per point that was ever armed since the last :func:`reset`."""
    with _lock:
        return {
            name: PointStatistics(
                name=name, hits=_hits[name], fires=_fires.get(name, 0), armed=name in _armed
            )
            for name in _hits
        }


@contextmanager
def armed(
    name: str,
    probability: float = 1.0,
    *,
    times: int | None = None,
    skip: int = 0,
    rng: random.Random | None = None,
) -> Iterator[None]:
    """:func:`arm` for the duration of a ``with`` block; disarmed on exit."""
    arm(name, probability, times=times, skip=skip, rng=rng)
    try:
        yield
    finally:
        disarm(name)


def parse_spec(text: str) -> dict[str, float]:
    """``"point=probability,..."`` to a mapping; ``ValueError`` names the bad item."""
    result: dict[str, float] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"{ENV_FAULTS}: bad item {item!r}: expected point=probability")
        try:
            probability = float(value)
            _check(name, probability, None, 0)
        except ValueError as exc:
            raise ValueError(f"{ENV_FAULTS}: bad item {item!r}: {exc}") from None
        result[name] = probability
    return result


def arm_from_env(environ: Mapping[str, str]) -> None:
    """Arm the points listed in ``WIXPRINT_FAULTS``; nothing when it is unset or empty.

    The whole specification is checked before any point is armed.

    Raises:
        ValueError: a malformed item, an unknown point or a probability outside [0, 1].
    """
    spec = parse_spec(environ.get(ENV_FAULTS, ""))
    seed = environ.get(ENV_SEED)
    for name, probability in spec.items():
        rng = random.Random(f"{seed}:{name}") if seed is not None else random.Random()
        arm(name, probability, rng=rng)
