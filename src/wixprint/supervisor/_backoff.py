"""Akka-style restart backoff, sans-IO.

Delay for the n-th consecutive restart (Pekko ``BackoffSupervisor``)::

    min(max_delay, min_delay * 2**n) * (1 + U[0, 1) * random_factor)

The jitter is applied *after* the cap, so ``max_delay=30, random_factor=0.2`` waits up to 36 s.
``n`` returns to 0 when the child stayed up ``reset_after`` seconds without crashing (Akka's
auto reset) or when the child says it is healthy (Akka's manual ``Reset``), whichever first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffState"]

# 2**62 times any sane minimum is beyond every cap; stops float overflow on long outages.
_MAX_EXPONENT = 62


@dataclass(frozen=True, slots=True)
class Backoff:
    """The delay curve before a child is restarted.

    Attributes:
        min_delay: seconds before the first restart (> 0).
        max_delay: cap before jitter (>= ``min_delay``).
        random_factor: jitter share in ``[0, 1]``; 0 makes delays exact (tests).
        reset_after: seconds of uptime without a crash after which the curve starts over.
    """

    min_delay: float = 0.05
    max_delay: float = 30.0
    random_factor: float = 0.2
    reset_after: float = 60.0

    def __post_init__(self) -> None:
        if not (self.min_delay > 0 and math.isfinite(self.min_delay)):
            raise ValueError("Backoff.min_delay must be a finite number > 0")
        if not self.max_delay >= self.min_delay:
            raise ValueError("Backoff.max_delay must be >= min_delay")
        if not 0 <= self.random_factor <= 1:
            raise ValueError("Backoff.random_factor must be within [0, 1]")
        if not self.reset_after > 0:
            raise ValueError("Backoff.reset_after must be > 0")

    def delay(self, attempt: int, uniform: float) -> float:
        """The delay before restart number ``attempt`` (0-based) given a draw from ``[0, 1)``."""
        base = min(self.max_delay, self.min_delay * 2.0 ** min(attempt, _MAX_EXPONENT))
        return base * (1.0 + uniform * self.random_factor)


class BackoffState:
    """One child's position on its :class:`Backoff` curve."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.attempt = 0
        self._up_since: float | None = None

    def started(self, now: float) -> None:
        """The child is up (called ``task_status.started()``)."""
        self._up_since = now

    def reset(self) -> None:
        """The child declared itself healthy: the next restart waits ``min_delay`` again."""
        self.attempt = 0

    def next_delay(self, now: float, uniform: float) -> float:
        """The child ended (or failed to start) at ``now``: how long until it restarts."""
        if self._up_since is not None and now - self._up_since >= self.backoff.reset_after:
            self.attempt = 0
        self._up_since = None
        delay = self.backoff.delay(self.attempt, uniform)
        self.attempt += 1
        return delay
