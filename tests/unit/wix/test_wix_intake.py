"""The poll window, the high-water mark and the not-before gate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wixprint.wix.intake import (
    POLL_SORT,
    RESTAURANTS_APP_ID,
    advance_mark,
    build_search_filter,
    format_wix_time,
    initial_mark,
    is_before,
    order_timestamp,
    parse_wix_time,
)


def test_filter_reaches_back_by_the_overlap_and_always_asks_for_cancels_and_rejects() -> None:
    search_filter = build_search_filter(
        "2025-06-13T16:47:23.905Z", overlap=600, statuses=["APPROVED"], restaurants_app_only=False
    )
    assert search_filter == {
        "status": {"$in": ["APPROVED", "CANCELED", "REJECTED"]},
        "updatedDate": {"$gte": "2025-06-13T16:37:23.905Z"},
    }


def test_filter_keeps_configured_statuses_once_and_adds_the_restaurants_app() -> None:
    search_filter = build_search_filter(
        "2025-01-01T00:05:00Z",
        overlap=600.5,
        statuses=["APPROVED", "CANCELED", "APPROVED"],
        restaurants_app_only=True,
    )
    assert search_filter["status"] == {"$in": ["APPROVED", "CANCELED", "REJECTED"]}
    # Crosses midnight and the year; keeps milliseconds and the Z.
    assert search_filter["updatedDate"] == {"$gte": "2024-12-31T23:54:59.500Z"}
    assert search_filter["lineItems.catalogReference.appId"] == {
        "$hasSome": [RESTAURANTS_APP_ID, "b278a256-2757-4f19-9313-c05c783bec92"]
    }


@pytest.mark.parametrize("mark", [None, "", "yesterday", "2025-13-45T00:00:00Z"])
def test_filter_without_a_readable_mark_has_no_date_bound(mark: str | None) -> None:
    search_filter = build_search_filter(
        mark, overlap=600, statuses=["APPROVED"], restaurants_app_only=False
    )
    assert "updatedDate" not in search_filter


def test_poll_sort_is_oldest_change_first() -> None:
    assert POLL_SORT == [{"fieldName": "updatedDate", "order": "ASC"}]


def test_mark_advances_to_the_newest_update_and_never_back() -> None:
    orders = [
        {"id": "a", "updatedDate": "2025-06-13T16:47:23.905Z"},
        {"id": "b", "updatedDate": "2025-06-14T19:41:57.610Z"},
        {"id": "c", "updatedDate": "2025-06-13T10:00:00.000Z"},
    ]
    assert advance_mark("2025-06-01T00:00:00.000Z", orders) == "2025-06-14T19:41:57.610Z"
    assert advance_mark("2025-07-01T00:00:00.000Z", orders) == "2025-07-01T00:00:00.000Z"
    assert advance_mark(None, orders) == "2025-06-14T19:41:57.610Z"


def test_mark_ignores_orders_without_a_readable_date() -> None:
    orders: list[dict[str, object]] = [
        {"id": "a"},
        {"id": "b", "updatedDate": 17},
        {"id": "c", "updatedDate": "soon"},
    ]
    assert advance_mark("2025-06-01T00:00:00.000Z", orders) == "2025-06-01T00:00:00.000Z"
    assert advance_mark(None, orders) is None
    assert advance_mark(None, []) is None


def test_mark_normalises_offsets_and_microseconds() -> None:
    orders = [{"id": "a", "updatedDate": "2025-06-13T18:47:23.905999+02:00"}]
    assert advance_mark(None, orders) == "2025-06-13T16:47:23.905Z"


def test_a_date_far_in_the_future_cannot_hide_later_orders() -> None:
    now = datetime(2025, 6, 13, 17, 0, tzinfo=UTC)
    orders = [
        {"id": "bad", "updatedDate": "2099-01-01T00:00:00.000Z"},
        {"id": "ok", "updatedDate": "2025-06-13T16:59:00.000Z"},
    ]
    assert advance_mark(None, orders, now=now) == "2025-06-13T16:59:00.000Z"
    assert advance_mark(None, orders) == "2099-01-01T00:00:00.000Z"


def test_initial_mark_uses_not_before_else_now() -> None:
    now = datetime(2025, 6, 13, 17, 0, 0, 123456, tzinfo=UTC)
    assert initial_mark("", now) == "2025-06-13T17:00:00.123Z"
    assert initial_mark("garbled", now) == "2025-06-13T17:00:00.123Z"
    assert initial_mark("2025-06-01T08:00:00+02:00", now) == "2025-06-01T06:00:00.000Z"
    assert initial_mark("2025-06-01T08:00:00", now) == "2025-06-01T08:00:00.000Z"


@pytest.mark.parametrize(
    ("created", "not_before", "expected"),
    [
        ("2025-06-13T16:47:21.482Z", "2025-06-14T00:00:00Z", True),
        ("2025-06-14T00:00:00.000Z", "2025-06-14T00:00:00Z", False),
        ("2025-06-14T00:00:00.001Z", "2025-06-14T00:00:00Z", False),
        ("2025-06-14T01:00:00+02:00", "2025-06-14T00:00:00Z", True),
        (None, "2025-06-14T00:00:00Z", False),
        ("", "2025-06-14T00:00:00Z", False),
        ("not a date", "2025-06-14T00:00:00Z", False),
        ("2025-06-13T16:47:21.482Z", "", False),
        ("2025-06-13T16:47:21.482Z", "garbled", False),
    ],
)
def test_is_before(created: str | None, not_before: str, expected: bool) -> None:
    assert is_before(created, not_before) is expected


def test_order_timestamp_is_tolerant() -> None:
    raw = {
        "createdDate": "2025-06-13T16:47:21.482Z",
        "slot": "2025-06-13T17:30:00Z",
        "event": "2025-06-13T16:47:21.640512Z",
        "number": 10231,
        "bad": "13.06.2025 18:47",
    }
    assert order_timestamp(raw, "createdDate") == "2025-06-13T16:47:21.482Z"
    assert order_timestamp(raw, "slot") == "2025-06-13T17:30:00.000Z"
    assert order_timestamp(raw, "event") == "2025-06-13T16:47:21.640Z"
    assert order_timestamp(raw, "number") is None
    assert order_timestamp(raw, "bad") is None
    assert order_timestamp(raw, "missing") is None


def test_format_round_trips_through_parse() -> None:
    moment = parse_wix_time("2025-03-30T00:59:59.999Z")
    assert moment is not None
    assert format_wix_time(moment) == "2025-03-30T00:59:59.999Z"
    assert format_wix_time(datetime(2025, 3, 30, 1, 0)) == "2025-03-30T01:00:00.000Z"
