"""Weighing the two witnesses of the time: the kernel's NTP state and Wix's ``Date``. Sans-IO.

Rules, in order:

1. A fresh Wix sample that differs from our clock by more than the limit wins: the clock is
   not trusted, and Wix's time (our clock plus the offset) is the best "now" there is.
2. Otherwise a kernel synchronised by NTP is trusted.
3. Otherwise a fresh Wix sample that agrees is enough (NTP blocked, but HTTPS works).
4. Otherwise nobody vouches for the clock: not trusted, and no "now" to record.

A sample is fresh while it is young (``max_age``, on the monotonic clock) and the wall clock
has not jumped since it was taken (the wall and monotonic clocks moved alike): after a jump
the old offset describes a clock that no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "JUMP_TOLERANCE",
    "SAMPLE_MAX_AGE",
    "UNKNOWN_KERNEL",
    "ClockVerdict",
    "KernelClock",
    "WixTimeSample",
    "best_now",
    "judge",
    "sample_fresh",
]

SAMPLE_MAX_AGE = 1800.0
"""Seconds a Wix time sample is believed (the clock actor takes one every ten minutes)."""
JUMP_TOLERANCE = 5.0
"""Seconds the wall clock may drift from the monotonic one before a sample counts as stale."""


@dataclass(frozen=True, slots=True)
class KernelClock:
    """The kernel's view (adjtimex): synchronised by NTP, not, or unknown."""

    synced: bool | None
    """None: the status could not be read (``detail`` says why)."""
    maxerror: float | None = None
    """The kernel's maximum error estimate, seconds."""
    detail: str = ""


UNKNOWN_KERNEL = KernelClock(None, None, "not read")


@dataclass(frozen=True, slots=True)
class WixTimeSample:
    """Wix's ``Date`` header and our own clocks at the moment it was answered."""

    server: float
    """Wix's time, epoch seconds (the header's whole second plus half a second)."""
    wall: float
    """Our wall clock then (the middle of the request)."""
    monotonic: float
    """Our monotonic clock then."""

    @property
    def offset(self) -> float:
        """Wix's time minus ours: positive when our clock is behind."""
        return self.server - self.wall


@dataclass(frozen=True, slots=True)
class ClockVerdict:
    trusted: bool
    """The wall clock may be used for gates and housekeeping (first start, pruning)."""
    offset: float | None
    """Wix's time minus ours, from a fresh sample; None without one."""
    skewed: bool
    """A fresh sample differs by more than the limit."""
    reason: str
    """For ``/health`` and the alert; "" when there is nothing to say."""


def sample_fresh(
    sample: WixTimeSample | None, *, wall: float, monotonic: float, max_age: float
) -> bool:
    if sample is None:
        return False
    elapsed = monotonic - sample.monotonic
    return 0 <= elapsed <= max_age and abs((wall - sample.wall) - elapsed) <= JUMP_TOLERANCE


def judge(
    kernel: KernelClock,
    sample: WixTimeSample | None,
    *,
    wall: float,
    monotonic: float,
    limit: float,
    max_age: float = SAMPLE_MAX_AGE,
) -> ClockVerdict:
    """The verdict on the wall clock now (rules in the module docstring)."""
    fresh = (
        sample if sample_fresh(sample, wall=wall, monotonic=monotonic, max_age=max_age) else None
    )
    offset = None if fresh is None else fresh.offset
    if offset is not None and abs(offset) > limit:
        side = "behind" if offset > 0 else "ahead of"
        reason = f"the clock is {span(abs(offset))} {side} Wix's time"
        return ClockVerdict(False, offset, True, reason)
    if kernel.synced:
        return ClockVerdict(True, offset, False, "")
    if offset is not None:
        quiet = kernel.synced is None  # status unreadable: nothing wrong that we know of
        reason = "" if quiet else "not synchronised by NTP, but agrees with Wix's time"
        return ClockVerdict(True, offset, False, reason)
    if kernel.synced is None:
        why = f"the kernel's time status is unknown ({kernel.detail})"
    else:
        why = "not synchronised by NTP"
    return ClockVerdict(False, None, False, f"{why}, and no time from Wix yet")


def best_now(verdict: ClockVerdict, wall: float) -> float | None:
    """The best estimate of the true time, or None while nobody vouches for one."""
    if verdict.skewed and verdict.offset is not None:
        return wall + verdict.offset
    if verdict.trusted:
        return wall
    return None


def span(seconds: float) -> str:
    """A rough duration for a reason line: ``40 s``, ``12 min``, ``5 h``, ``30 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
