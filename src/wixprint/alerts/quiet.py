"""Quiet hours: a local "HH:MM-HH:MM" window, possibly spanning midnight, in which
info-level mails wait. Pure; the time zone comes from the configuration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from wixprint.errors import ConfigError

_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    """Exclusive. ``start == end`` is an empty window."""

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """``"22:00-07:00"`` → a window; ``""`` → None. Raises ConfigError otherwise."""
        if not text.strip():
            return None
        match = _PATTERN.match(text)
        if match is None:
            raise ConfigError([f'alerts.quiet_hours: expected "HH:MM-HH:MM", got {text!r}'])
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ConfigError([f"alerts.quiet_hours: not a time of day in {text!r}"])
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, ts: float, tz: tzinfo) -> bool:
        """Whether wall-clock seconds ``ts`` fall inside the window, in local time ``tz``."""
        now = datetime.fromtimestamp(ts, tz).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_end(self, ts: float, tz: tzinfo) -> float:
        """The first moment after ``ts`` outside the window (``ts`` itself if outside)."""
        if not self.contains(ts, tz):
            return ts
        local = datetime.fromtimestamp(ts, tz)
        candidate = datetime.combine(local.date(), self.end, tzinfo=tz)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return candidate.timestamp()
