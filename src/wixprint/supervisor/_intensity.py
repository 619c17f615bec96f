"""Restart intensity, sans-IO: OTP's sliding window, on the supervisor's *active* time.

OTP (``supervisor.erl`` ``add_restart/1``), per supervisor, across all its children: keep the
restart times ``R >= now - period``, add ``now``, and give up when more than ``intensity``
are kept. OTP restarts at once; we wait out a backoff first, and in wall time that backoff
empties the window it is measured in: a child crashing one second after every start, with
backoffs capped at 30 s, would restart for ever and never escalate.

So the window runs on **active time**: Trio clock time minus the time during which some
child waited out the backoff of a *counted* restart. A restart stays counted for ``period``
seconds of active time. A child that crashes ``u`` seconds after each start therefore
escalates on its ``intensity + 1``-th crash if ``intensity * u <= period``, and never
otherwise, whatever the backoff curve and its jitter (the jitter only moves wall time).
Dependency outages are not counted and do not stop the clock, so a long outage backing off
cannot keep an unrelated old crash counted. With no backoff, active time is wall time:
exactly OTP's rule.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable

__all__ = ["RestartIntensity"]


class RestartIntensity:
    """At most ``intensity`` restarts within ``period`` seconds of active time."""

    def __init__(self, intensity: int, period: float) -> None:
        if intensity < 0:
            raise ValueError("intensity must be >= 0")
        if not (period > 0 and math.isfinite(period)):
            raise ValueError("period must be a finite number of seconds > 0")
        self.intensity = intensity
        self.period = period
        self._times: deque[tuple[float, float]] = deque()
        """(active time, clock time) of each counted restart, oldest first."""
        self._waiting: set[Hashable] = set()
        self._paused_since: float | None = None
        self._paused = 0.0

    def active(self, now: float) -> float:
        """Clock time ``now`` minus every pause so far (including one still running)."""
        paused = self._paused
        if self._paused_since is not None:
            paused += now - self._paused_since
        return now - paused

    def hold(self, key: Hashable, now: float) -> None:
        """``key`` began waiting out a counted restart's backoff: the window stops."""
        if not self._waiting:
            self._paused_since = now
        self._waiting.add(key)

    def release(self, key: Hashable, now: float) -> None:
        """``key`` stopped waiting (it starts again, or it was stopped)."""
        if key not in self._waiting:
            return
        self._waiting.discard(key)
        if not self._waiting and self._paused_since is not None:
            self._paused += now - self._paused_since
            self._paused_since = None

    def add(self, now: float) -> bool:
        """Count a restart at ``now``; True when that exceeds the intensity."""
        at = self.active(now)
        self._expire(at)
        self._times.append((at, now))
        return len(self._times) > self.intensity

    def count(self, now: float | None) -> int:
        """Restarts still inside the window at ``now`` (all kept ones if ``now`` is None)."""
        if now is not None:
            self._expire(self.active(now))
        return len(self._times)

    def oldest(self) -> float | None:
        """Clock time of the oldest restart still counted."""
        return self._times[0][1] if self._times else None

    def clear(self) -> None:
        self._times.clear()
        self._waiting.clear()
        self._paused_since = None
        self._paused = 0.0

    def _expire(self, at: float) -> None:
        while self._times and self._times[0][0] < at - self.period:
            self._times.popleft()
