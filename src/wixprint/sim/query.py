"""The simulated shop's query engine: Wix API Query Language filters and sorts over dicts.

Covers what the fetcher sends and a little more, and refuses the rest with ``QueryError`` (a
400 at the HTTP layer), so a client bug shows up in tests instead of being silently ignored.
Paging is keyset-based like Wix's: a cursor remembers the sort key of the last order served,
so orders changing between pages do not shift or repeat the remaining pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from wixprint.wix.intake import parse_wix_time

__all__ = [
    "DEFAULT_SORT",
    "QueryError",
    "SortSpec",
    "after_key",
    "matches",
    "parse_sort",
    "sort_key_of",
    "sort_orders",
]

SortSpec = list[tuple[str, bool]]
"""(field, descending) pairs."""

DEFAULT_SORT: Final[SortSpec] = [("createdDate", True)]
SORTABLE: Final = frozenset(
    {"createdDate", "updatedDate", "number", "status", "paymentStatus", "fulfillmentStatus"}
)
_DATE_FIELDS: Final = frozenset({"createdDate", "updatedDate"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class QueryError(ValueError):
    """The request cannot be answered; the message is the Wix-style validation text."""


def matches(order: dict[str, Any], search_filter: object) -> bool:
    """Whether ``order`` passes ``search_filter`` (a Wix filter object)."""
    if not isinstance(search_filter, dict):
        raise QueryError("filter must be an object")
    for field, condition in search_filter.items():
        if field == "$and":
            if not all(matches(order, sub) for sub in _list_of(condition, field)):
                return False
        elif field == "$or":
            if not any(matches(order, sub) for sub in _list_of(condition, field)):
                return False
        elif field == "$not":
            if matches(order, condition):
                return False
        elif not _field_matches(order, field, condition):
            return False
    return True


def _list_of(value: object, operator: str) -> list[object]:
    if not isinstance(value, list):
        raise QueryError(f"{operator} needs an array")
    return value


def _field_matches(order: dict[str, Any], field: str, condition: object) -> bool:
    values = _values(order, field)
    if not isinstance(condition, dict) or not any(k.startswith("$") for k in condition):
        return _compare("$eq", values, condition, field)
    return all(_compare(op, values, operand, field) for op, operand in condition.items())


def _values(node: object, path: str) -> list[object]:
    """Every value at a dotted path; arrays on the way fan out (``lineItems.x.y``)."""
    current: list[object] = [node]
    for step in path.split("."):
        following: list[object] = []
        for item in current:
            if isinstance(item, dict) and step in item:
                value = item[step]
                following.extend(value if isinstance(value, list) else [value])
        current = following
    return current


def _compare(op: str, values: list[object], operand: object, field: str) -> bool:
    if op == "$exists":
        return bool(values) is bool(operand)
    if op in ("$eq", "$ne"):
        found = any(_equal(v, operand, field) for v in values)
        return found if op == "$eq" else not found
    if op in ("$in", "$nin", "$hasSome", "$hasAll"):
        choices = _list_of(operand, op)
        if op == "$hasAll":
            return all(any(_equal(v, c, field) for v in values) for c in choices)
        found = any(_equal(v, c, field) for v in values for c in choices)
        return not found if op == "$nin" else found
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_ordered(op, v, operand, field) for v in values)
    if op == "$startsWith":
        return isinstance(operand, str) and any(
            isinstance(v, str) and v.startswith(operand) for v in values
        )
    raise QueryError(f"unsupported filter operator {op} on {field}")


def _normal(value: object, field: str) -> object:
    if field in _DATE_FIELDS and isinstance(value, str):
        parsed = parse_wix_time(value)
        if parsed is None:
            raise QueryError(f"{field} is not an ISO date")
        return parsed
    return value


def _equal(value: object, operand: object, field: str) -> bool:
    if field in _DATE_FIELDS and isinstance(value, str):
        return parse_wix_time(value) == _normal(operand, field)
    return value == operand


def _ordered(op: str, value: object, operand: object, field: str) -> bool:
    left = parse_wix_time(value) if field in _DATE_FIELDS else value
    right = _normal(operand, field)
    if left is None:
        return False
    try:
        if op == "$gt":
            return bool(left > right)  # type: ignore[operator]
        if op == "$gte":
            return bool(left >= right)  # type: ignore[operator]
        if op == "$lt":
            return bool(left < right)  # type: ignore[operator]
        return bool(left <= right)  # type: ignore[operator]
    except TypeError:
        raise QueryError(f"{op} on {field} compares incompatible values") from None


def parse_sort(sort: object) -> SortSpec:
    """A validated sort spec from the request's ``sort`` array (empty: the default)."""
    if sort is None:
        return list(DEFAULT_SORT)
    if not isinstance(sort, list):
        raise QueryError("sort must be an array")
    spec: SortSpec = []
    for entry in sort:
        if not isinstance(entry, dict) or not isinstance(entry.get("fieldName"), str):
            raise QueryError("sort entries need a fieldName")
        field = entry["fieldName"]
        order = entry.get("order", "ASC")
        if field not in SORTABLE:
            raise QueryError(f"sorting by {field} is not supported")
        if order not in ("ASC", "DESC"):
            raise QueryError(f"sort order must be ASC or DESC, not {order!r}")
        spec.append((field, order == "DESC"))
    return spec or list(DEFAULT_SORT)


def sort_key_of(order: dict[str, Any], spec: SortSpec) -> list[object]:
    """The values that position ``order`` under ``spec``, with the id as the tie-breaker."""
    key: list[object] = []
    for field, _descending in spec:
        value = order.get(field)
        if field in _DATE_FIELDS:
            key.append((parse_wix_time(value) or _EPOCH).isoformat(timespec="microseconds"))
        elif field == "number":
            key.append(_number_key(value))
        else:
            key.append("" if value is None else str(value))
    key.append(str(order.get("id", "")))
    return key


def _number_key(value: object) -> str:
    text = str(value) if value is not None else ""
    return text.rjust(20, "0") if text.isdigit() else text


def _compare_keys(spec: SortSpec) -> Callable[[list[object], list[object]], int]:
    directions = [descending for _field, descending in spec] + [False]

    def compare(a: list[object], b: list[object]) -> int:
        for left, right, descending in zip(a, b, directions, strict=True):
            if left == right:
                continue
            smaller = str(left) < str(right)
            return (1 if smaller else -1) if descending else (-1 if smaller else 1)
        return 0

    return compare


def sort_orders(orders: Sequence[dict[str, Any]], spec: SortSpec) -> list[dict[str, Any]]:
    compare = _compare_keys(spec)
    keyed = [(sort_key_of(order, spec), index) for index, order in enumerate(orders)]

    def by_key(a: tuple[list[object], int], b: tuple[list[object], int]) -> int:
        return compare(a[0], b[0])

    keyed.sort(key=functools.cmp_to_key(by_key))
    return [orders[index] for _key, index in keyed]


def after_key(
    ordered: Sequence[dict[str, Any]], spec: SortSpec, last: list[object]
) -> list[dict[str, Any]]:
    """The part of an already sorted list strictly after the position ``last``."""
    compare = _compare_keys(spec)
    return [order for order in ordered if compare(sort_key_of(order, spec), last) > 0]
