"""Link state with hysteresis, sans-IO: turns a stream of probe results into *changes*.

A flapping Wi-Fi link or a printer that drops one status reply must not produce an event
storm, so a new state is confirmed only after ``confirm`` consecutive observations agree.
The first observation after start is taken at once (there is nothing to flap from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    old: T | None
    new: T
    since: float
    """When the new state was first observed (not when it was confirmed)."""


class Hysteresis(Generic[T]):
    def __init__(self, confirm: int = 2) -> None:
        if confirm < 1:
            raise ValueError("confirm must be at least 1")
        self.confirm = confirm
        self.state: T | None = None
        self.since: float | None = None
        self._candidate: T | None = None
        self._candidate_since = 0.0
        self._count = 0

    def observe(self, value: T, now: float) -> Change[T] | None:
        """Feed one observation; returns the change once it is confirmed."""
        if self.state is None:
            return self._commit(value, now)
        if value == self.state:
            self._candidate = None
            self._count = 0
            return None
        if value != self._candidate:
            self._candidate = value
            self._candidate_since = now
            self._count = 0
        self._count += 1
        if self._count >= self.confirm:
            return self._commit(value, self._candidate_since)
        return None

    def force(self, value: T, now: float) -> Change[T] | None:
        """Take a state at once (e.g. a printed ticket proves the printer is up)."""
        if value == self.state:
            self._candidate = None
            self._count = 0
            return None
        return self._commit(value, now)

    def _commit(self, value: T, since: float) -> Change[T]:
        change = Change(self.state, value, since)
        self.state = value
        self.since = since
        self._candidate = None
        self._count = 0
        return change
