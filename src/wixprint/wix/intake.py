"""Sans-IO polling logic: which orders to ask Wix for, and how far the high-water mark moves.

The fetcher polls ``POST /ecom/v1/orders/search`` sorted by ``updatedDate`` ascending and keeps
a persisted high-water mark: the newest ``updatedDate`` it has committed to the spool.

Why the window reaches back ``overlap`` seconds before the mark instead of starting at it:

* Wix stamps ``updatedDate`` when a write begins, but the order becomes visible to Search a
  little later (indexing is eventually consistent). An order stamped just before our mark can
  appear only after we already polled past it; without the overlap it would never be fetched.
* Several orders can share one millisecond, and a page can end between them.
* Clock steps and retries on Wix's side can publish a slightly older ``updatedDate`` late.

The price is that every poll sees some orders again. That is harmless: the spool dedupes on the
order id and revision, so re-delivery is the normal case, not an error. The mark itself only
advances after the spool committed a page (the caller's job), so a crash between fetch and commit
re-fetches instead of skipping.

All times are Wix's: UTC ISO-8601 strings. Parsing is tolerant: a missing or garbled date is
``None``, never an exception, because every Wix field is optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from wixprint.wix.apps import RESTAURANT_APP_IDS, RESTAURANTS_APP_ID
from wixprint.wix.jsontext import safe_text
from wixprint.wixtime import format_wix_time, parse_wix_time

__all__ = [
    "MAX_FUTURE_SKEW",
    "POLL_SORT",
    "RESTAURANTS_APP_ID",
    "advance_mark",
    "build_search_filter",
    "format_wix_time",
    "initial_mark",
    "is_before",
    "order_key",
    "order_timestamp",
    "parse_wix_time",
    "revision_stamp",
]

POLL_SORT: Final[list[dict[str, str]]] = [{"fieldName": "updatedDate", "order": "ASC"}]
"""Oldest change first, so the mark can advance page by page."""

MAX_FUTURE_SKEW: Final = timedelta(days=1)
"""An ``updatedDate`` further than this past ``now`` is ignored by ``advance_mark``: one garbled
date must not push the mark into the future and hide every later order."""

_ALWAYS_FETCHED: Final = ("CANCELED", "REJECTED")
"""Fetched whatever ``print_statuses`` says: a cancellation, or a rejection of an order
printed while PENDING, must reach the stations that have its ticket."""


def order_key(raw: Mapping[str, object]) -> str | None:
    """The order's id as the spool keys it (made safe to store), None if it has none."""
    value = raw.get("id")
    return safe_text(value) if isinstance(value, str) and value else None


def revision_stamp(raw: Mapping[str, object]) -> str:
    """What orders an order's revisions: ``updatedDate``, else ``createdDate``, as sent."""
    for key in ("updatedDate", "createdDate"):
        value = raw.get(key)
        if isinstance(value, str) and value:
            return safe_text(value)
    return ""


def order_timestamp(raw: dict[str, Any], key: str) -> str | None:
    """``raw[key]`` normalised to ``format_wix_time`` form, or None if missing or garbled."""
    parsed = parse_wix_time(raw.get(key))
    return None if parsed is None else format_wix_time(parsed)


def build_search_filter(
    mark: str | None,
    *,
    overlap: float,
    statuses: Sequence[str],
    restaurants_app_only: bool,
    resume: str | None = None,
) -> dict[str, Any]:
    """The ``search.filter`` for one poll.

    ``CANCELED`` and ``REJECTED`` are always included so a cancellation (or the rejection of
    a PENDING order) after the ticket was printed is seen and a CANCELED ticket can go out.
    A missing or unreadable mark fetches without a date bound
    (safe: the not-before gate and the spool's dedupe still apply). ``resume`` (where an
    interrupted poll got to) starts the window there instead, if it lies inside it.
    """
    wanted = list(dict.fromkeys([*statuses, *_ALWAYS_FETCHED]))
    search_filter: dict[str, Any] = {"status": {"$in": wanted}}
    since = parse_wix_time(mark)
    if since is not None:
        start = since - timedelta(seconds=max(overlap, 0.0))
        resumed = parse_wix_time(resume)
        if resumed is not None and start < resumed <= since:
            start = resumed
        search_filter["updatedDate"] = {"$gte": format_wix_time(start)}
    if restaurants_app_only:
        search_filter["lineItems.catalogReference.appId"] = {"$hasSome": list(RESTAURANT_APP_IDS)}
    return search_filter


def advance_mark(
    mark: str | None,
    orders: Iterable[dict[str, Any]],
    *,
    now: datetime | None = None,
) -> str | None:
    """The newest ``updatedDate`` among ``mark`` and ``orders``; never moves backwards.

    Call it only once the spool committed these orders. With ``now`` given, dates more than
    ``MAX_FUTURE_SKEW`` ahead of it are ignored. Orders without a readable date do not move it.
    """
    best = parse_wix_time(mark)
    limit = None if now is None else _as_utc(now) + MAX_FUTURE_SKEW
    for order in orders:
        seen = parse_wix_time(order.get("updatedDate"))
        if seen is None or (limit is not None and seen > limit):
            continue
        if best is None or seen > best:
            best = seen
    if best is None:
        return mark
    return format_wix_time(best)


def initial_mark(not_before: str, now: datetime) -> str:
    """The mark for a spool that has none yet: ``not_before`` if set and readable, else ``now``.

    Starting at ``now`` on the very first run means history is not printed; the overlap
    still reaches back a little, and ``is_before`` keeps anything older off the printers.
    """
    start = parse_wix_time(not_before)
    if start is None:
        start = _as_utc(now)
    return format_wix_time(start)


def is_before(created: str | None, not_before: str) -> bool:
    """Whether an order created at ``created`` predates the ``not_before`` gate.

    Unknown is not before: an order with a missing or garbled created date is printed rather
    than silently dropped, and an empty or unreadable ``not_before`` gates nothing.
    """
    gate = parse_wix_time(not_before)
    when = parse_wix_time(created)
    if gate is None or when is None:
        return False
    return when < gate


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
