"""Restart intensity, sans-IO: OTP's sliding window (``supervisor.erl`` ``add_restart/1``).

Per supervisor, across all its children: keep the restart times ``R >= now - period``, add
``now``, and give up when more than ``intensity`` are kept. Times are Trio clock floats, so a
``MockClock`` drives the window in tests.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["RestartIntensity"]


class RestartIntensity:
    """At most ``intensity`` restarts within ``period`` seconds."""

    def __init__(self, intensity: int, period: float) -> None:
        if intensity < 0:
            raise ValueError("intensity must be >= 0")
        if not (period > 0 and math.isfinite(period)):
            raise ValueError("period must be a finite number of seconds > 0")
        self.intensity = intensity
        self.period = period
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] < now - self.period:
            self._times.popleft()

    def add(self, now: float) -> bool:
        """Count a restart at ``now``; True when that exceeds the intensity."""
        self._expire(now)
        self._times.append(now)
        return len(self._times) > self.intensity

    def count(self, now: float) -> int:
        """Restarts still inside the window at ``now``."""
        self._expire(now)
        return len(self._times)

    def clear(self) -> None:
        self._times.clear()
