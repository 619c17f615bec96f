"""Bad orders at the level of the bytes Wix sends: JSON text, not Python values.

Some of what Wix may send has no Python value to start from: a lone surrogate written as the
escape ``"\\ud83d"``, an integer of thousands of digits, ``1e999``, nesting deeper than a
decoder's recursion. :func:`raw_orders` takes a sample order and writes such fragments into
its JSON text in place of one to six values; :func:`raw_webhook` wraps a text into a signed
webhook the way Wix layers it (each layer a JSON string).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.crash.strategies import _approved_templates, _slots
from wixprint.sim.webhooks import order_event_envelope, sign_event

_PIECES = [
    r"\ud83d",  # a high surrogate alone: half an emoji
    r"\ude00",  # a low one alone
    r"\ud83d\ude00",  # a whole emoji, escaped
    r"\u0000",
    r"\u001b",  # ESC: a printer command if it got through
    r"\uffff",
    r"\n",
    r"\t",
    r"\\",
    r"\"",
    "ä",
    "€",
    "Ş",
    "x",
    " ",
]
escaped_strings = st.lists(st.sampled_from(_PIECES), max_size=10).map(
    lambda parts: '"' + "".join(parts) + '"'
)
deep_nesting = st.one_of(
    st.integers(1, 3000).map(lambda d: "[" * d + "]" * d),
    st.integers(1, 3000).map(lambda d: '{"a":' * d + "null" + "}" * d),
)
extreme_dates = st.sampled_from(
    [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999Z",
        "2025-13-45T99:99:99Z",
        "2025-06-13T16:47:21.482Z\u0000",
        "",
        " ",
        "yesterday",
    ]
).map(lambda text: json.dumps(text))
extreme_numbers = st.sampled_from(
    [
        "1e999",
        "-1e999",
        "1" * 5000,
        "-" + "9" * 4400,
        "9" * 400 + ".5",
        "1E-999999",
        "-0",
        "0.000000000000000000000000000001",
        "123456789012345678901234567890",
        "3.5",
    ]
)
wrong_types = st.sampled_from(
    ["true", "false", "null", "{}", "[]", "0", "-1", '"text"', '""', '{"amount": {}}', "[null]"]
)
fragments = st.one_of(escaped_strings, deep_nesting, extreme_dates, extreme_numbers, wrong_types)
"""JSON text that may stand where Wix should have put a value."""


@dataclass(frozen=True, slots=True)
class RawOrder:
    text: str
    """The order as JSON text, with the fragments in place."""
    order_id: str
    number: str


@st.composite
def raw_orders(draw: st.DrawFn) -> RawOrder:
    """A sample order with fresh id and number and one to six values written as fragments.

    ``id`` and ``number`` stay (so the order can be traced); everything else may change,
    status and dates included.
    """
    order: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(_approved_templates())))
    order_id, number = str(uuid.uuid4()), str(draw(st.integers(90000, 99999)))
    order["id"], order["number"] = order_id, number
    placed: dict[str, str] = {}
    for n in range(draw(st.integers(min_value=1, max_value=6))):
        slots = [(c, k) for c, k in _slots(order, []) if not (c is order and k in ("id", "number"))]
        container, key = slots[draw(st.integers(min_value=0, max_value=len(slots) - 1))]
        marker = f"@@fragment-{n}@@"
        container[key] = marker
        placed[marker] = draw(fragments)
    text = json.dumps(order, ensure_ascii=True)
    for marker, fragment in placed.items():
        text = text.replace(json.dumps(marker), fragment)
    return RawOrder(text=text, order_id=order_id, number=number)


def raw_webhook(order: RawOrder, private_key: Any, *, now: int) -> bytes:
    """A signed ``order_created`` webhook carrying the order's text as Wix layers it."""
    marker = {"@@order@@": True}
    envelope = order_event_envelope("created", marker)
    envelope["data"] = envelope["data"].replace(
        json.dumps(marker, separators=(",", ":")), order.text
    )
    return sign_event(envelope, private_key, iat=now, exp=now + 300)
