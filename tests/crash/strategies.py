"""Hypothesis strategies for bad input: Wix orders with fields replaced, removed or retyped,
and webhook bodies from plain garbage to well-signed envelopes of the wrong shape.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any

from hypothesis import strategies as st

from wixprint.sim.samples import fixture_orders

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
    | st.sampled_from(["", " ", "0", "-1", "1e999", "NaN", "2025-13-45T99:99:99Z", "€", "\x00"])
)
"""What Wix could put where we expect something else (JSON has no NaN or infinity)."""

json_values: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _approved_templates() -> list[dict[str, Any]]:
    return [o for o in fixture_orders() if o.get("status") == "APPROVED"]


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON tree, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((node, key))
            _slots(value, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((node, index))
            _slots(value, out)
    return out


@st.composite
def mutated_orders(draw: st.DrawFn, *, keep_identity: bool = False) -> dict[str, Any]:
    """A sample order with one to six fields replaced by any JSON, removed, or emptied.

    ``keep_identity`` leaves ``id``, ``number``, ``status`` and the dates alone (the caller
    sets them), so the order stays printable and traceable on paper.
    """
    order: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(_approved_templates())))
    protected = {"id", "number", "status", "createdDate", "updatedDate"} if keep_identity else set()
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        slots = [(c, k) for c, k in _slots(order, []) if not (c is order and k in protected)]
        if not slots:
            break
        container, key = slots[draw(st.integers(min_value=0, max_value=len(slots) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "delete", "empty", "long"]))
        if action == "replace":
            container[key] = draw(json_values)
        elif action == "delete" and isinstance(container, dict):
            del container[key]
        elif action == "empty":
            value = container[key]
            container[key] = type(value)() if isinstance(value, (dict, list, str)) else None
        elif action == "long":
            container[key] = draw(st.text(min_size=200, max_size=2000))
    return order


def with_identity(order: dict[str, Any], number: int, created: str) -> dict[str, Any]:
    """``order`` as a fresh APPROVED order with its own id and number."""
    order = copy.deepcopy(order)
    order["id"] = str(uuid.uuid4())
    order["number"] = str(number)
    order["status"] = "APPROVED"
    order["createdDate"] = order["updatedDate"] = created
    return order


def _jwt_shaped(parts: list[bytes]) -> bytes:
    return b".".join(base64.urlsafe_b64encode(p).rstrip(b"=") for p in parts)


garbage_bodies: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda s: s.encode("utf-8")),
    st.lists(st.binary(min_size=1, max_size=40), min_size=3, max_size=3).map(_jwt_shaped),
    json_values.map(lambda v: json.dumps(v).encode()),
)
"""Webhook bodies that are no valid token: bytes, text, JWT-shaped junk, JSON."""
