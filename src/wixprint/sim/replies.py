"""What the simulated shop answers: Wix's JSON and error shapes, and order copies as served."""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "JSON_HEADERS",
    "Reply",
    "error",
    "json_reply",
    "opaque",
    "served",
    "transactions",
    "validation_error",
    "wire_json",
]

JSON_HEADERS: Final[Mapping[str, str]] = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def served(order: dict[str, Any]) -> dict[str, Any]:
    """A copy with a few keys our parser does not know, as newer Wix versions would send."""
    copied = copy.deepcopy(order)
    copied["extendedFields"] = {"namespaces": {"_user_fields": {}}}
    copied["tags"] = {"privateTags": {"tagIds": []}, "tags": {"tagIds": []}}
    copied["simFutureField"] = {"note": "unknown keys must be ignored"}
    items = copied.get("lineItems")
    for item in items if isinstance(items, list) else []:  # any shape a test stored
        if isinstance(item, dict):
            item["simFutureField"] = 1
    return copied


def transactions(order: dict[str, Any]) -> dict[str, Any]:
    """``orderTransactions`` derived from the order: none for a free order, cash (offline,
    pending) when nothing is paid yet, else a card paid online."""
    unpaid = order.get("paymentStatus") == "NOT_PAID"
    summary = order.get("priceSummary")
    total = summary.get("total") if isinstance(summary, dict) else None
    amount = total.get("amount") if isinstance(total, dict) else None
    if isinstance(amount, str) and _is_zero(amount):
        return {"orderId": order.get("id"), "payments": [], "refunds": []}
    payment = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"payment:{order.get('id')}")),
        "amount": total,
        "regularPaymentDetails": {
            "paymentMethod": "Cash" if unpaid else "CreditCard",
            "offlinePayment": unpaid,
            "status": "PENDING" if unpaid else "APPROVED",
        },
    }
    return {"orderId": order.get("id"), "payments": [payment], "refunds": []}


def _is_zero(amount: str) -> bool:
    try:
        return Decimal(amount) == 0
    except ArithmeticError:
        return False


def opaque(token: str) -> str:
    """A cursor string a client cannot read anything into."""
    return base64.urlsafe_b64encode(f"sim:{token}".encode()).decode().rstrip("=")


_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def wire_json(value: object, *, separators: tuple[str, str] | None = None) -> str:
    """JSON text as Wix writes it: UTF-8 characters as they are, but a lone UTF-16 surrogate
    (half an emoji a client cut off) as its ``\\uXXXX`` escape, which is legal JSON and what
    a JavaScript or Java serializer emits; it cannot be encoded as UTF-8 at all."""
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_reply(status: int, payload: object, headers: Mapping[str, str] = JSON_HEADERS) -> Reply:
    return Reply(status, wire_json(payload).encode(), dict(headers))


def error(
    status: int, message: str, code: str | None, *, headers: Mapping[str, str] = JSON_HEADERS
) -> Reply:
    """Wix's error shape: ``message`` plus ``details.applicationError.code`` when given."""
    details: dict[str, Any] = {}
    if code is not None:
        details["applicationError"] = {"code": code, "description": message, "data": {}}
    return json_reply(status, {"message": message, "details": details}, headers)


def validation_error(field_name: str, description: str) -> Reply:
    """A 400 in Wix's ``validationError.fieldViolations`` shape."""
    violation = {"field": field_name, "description": description, "violatedRule": "OTHER"}
    payload = {
        "message": description,
        "details": {"validationError": {"fieldViolations": [violation]}},
    }
    return json_reply(400, payload)
