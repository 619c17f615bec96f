"""Wix timestamps: UTC ISO-8601 with ``Z``; milliseconds on dates, none on slots,
microseconds on webhook event times. One parser for all of them."""

from __future__ import annotations

from datetime import UTC, datetime

MIN_YEAR = 1000
MAX_YEAR = 9000
"""Timestamps outside these years are treated as unreadable: every later step (a time-zone
conversion, a day added to a due date, the poll overlap subtracted from a mark) stays far
from ``datetime``'s limits, so no garbled date can raise ``OverflowError`` downstream."""


def parse_wix_time(value: object) -> datetime | None:
    """An aware UTC datetime from a Wix timestamp, or None if absent or unreadable.

    Accepts ``Z`` or an offset, with or without fractional seconds; a naive time is taken as
    UTC. Never raises: a date out of range (``9999-12-31T23:59:59-01:00`` overflows on its way
    to UTC) is unreadable like any other garbage.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        utc = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        return None
    return utc


def format_wix_time(moment: datetime) -> str:
    """The form Wix uses and expects in filters: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def wix_time_of(seconds: float) -> str:
    """Wall-clock seconds as a Wix timestamp (for comparing our clock with Wix's dates).

    A clock beyond ``datetime``'s range reads as the last moment of ``MAX_YEAR``."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        moment = datetime(MAX_YEAR if seconds > 0 else MIN_YEAR, 1, 1, tzinfo=UTC)
    return format_wix_time(moment)
