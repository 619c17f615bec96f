"""Wix timestamps: UTC ISO-8601 with ``Z``; milliseconds on dates, none on slots,
microseconds on webhook event times. One parser for all of them."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_wix_time(value: object) -> datetime | None:
    """An aware UTC datetime from a Wix timestamp, or None if absent or unreadable.

    Accepts ``Z`` or an offset, with or without fractional seconds; a naive time is taken as UTC.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_wix_time(moment: datetime) -> str:
    """The form Wix uses and expects in filters: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
