"""Is the wall clock true? A Raspberry Pi has no battery-backed clock: until NTP has run it
may be days or weeks off, in either direction.

Two witnesses: the kernel's NTP state (``kernel.py``: adjtimex) and Wix's own ``Date``
header, sampled by the clock actor. ``judge`` (sans-IO) weighs them; the service never
records its first start (the ``not_before`` gate) from a clock it cannot trust, and warns
when the Pi's clock and Wix's disagree by more than ``service.clock_skew_limit``.
"""

from __future__ import annotations

from wixprint.timesync.judge import (
    UNKNOWN_KERNEL,
    ClockVerdict,
    KernelClock,
    WixTimeSample,
    best_now,
    judge,
)

__all__ = [
    "UNKNOWN_KERNEL",
    "ClockVerdict",
    "KernelClock",
    "WixTimeSample",
    "best_now",
    "judge",
]
