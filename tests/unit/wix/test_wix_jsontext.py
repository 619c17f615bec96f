"""Reading Wix's JSON without ever raising anything but ValueError, and making it safe."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wixprint.wix.jsontext import MAX_DEPTH, ascii_dump, clean, loads, safe_json, safe_text
from wixprint.wixtime import parse_wix_time


def test_a_lone_surrogate_is_read_and_then_replaced() -> None:
    value = loads(b'{"note": "scharf \\ud83d", "ok": "\\ud83d\\ude00"}')
    assert value["note"] == "scharf \ud83d"
    cleaned, problems = clean(value)
    assert cleaned == {"note": "scharf \ufffd", "ok": "\U0001f600"}
    assert problems == ("unsafe text",)
    json.dumps(cleaned, ensure_ascii=False).encode()  # now it can be stored


def test_nul_and_surrogates_in_keys_are_replaced_too() -> None:
    cleaned, _ = clean({"a\x00": "b\x00", "\udc00": [1]})
    assert cleaned == {"a\ufffd": "b\ufffd", "\ufffd": [1]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e999", None),
        ("-1e999", None),
        ("NaN", None),
        ("Infinity", None),
        ("1" * 5000, None),
        ("12345678901234567890", 12345678901234567890),
        ("-0.5", -0.5),
    ],
)
def test_numbers_beyond_reason_read_as_null(text: str, expected: object) -> None:
    assert loads(f'{{"n": {text}}}') == {"n": expected}


def test_nesting_deeper_than_the_decoder_can_recurse_is_cut_not_raised() -> None:
    deep = "[" * 5000 + '"x"' + "]" * 5000
    value = loads(f'{{"id": "o-1", "deep": {deep}, "after": "kept"}}')
    assert value["id"] == "o-1"
    assert value["after"] == "kept"
    cleaned, problems = clean(value)
    assert "nesting too deep" in problems
    json.dumps(cleaned)  # no RecursionError downstream either


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    deep = "[" * 3000 + "]" * 3000
    text = f'{{"note": "[[[{{{{ \\" ]]", "deep": {deep}}}'
    assert loads(text)["note"] == '[[[{{ " ]]'


@pytest.mark.parametrize("text", ["", "{", "[" * 5000, '{"a": 1,}', "\xff", "nul"])
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text.encode("latin-1"))


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_clean_keeps_key_order_and_cuts_at_the_depth_limit() -> None:
    cleaned, problems = clean({"z": 1, "a": nested(MAX_DEPTH + 5), "m": 2})
    assert list(cleaned) == ["z", "a", "m"]
    assert problems == ("nesting too deep",)


def test_ascii_dump_keeps_every_character() -> None:
    value = {"note": "\ud83d \x00 ä"}
    assert json.loads(ascii_dump(value)) == value
    assert ascii_dump(value).isascii()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
def test_safe_text_always_encodes(text: str) -> None:
    safe_text(text).encode("utf-8")


JSONISH = st.text(alphabet=string.printable + '[]{}\\"ud83\u00e4', max_size=200)


@settings(max_examples=300, deadline=None)
@given(JSONISH)
def test_loads_raises_only_value_error(text: str) -> None:
    try:
        value = loads(text)
    except ValueError:
        return
    clean(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_wix_time_never_raises(text: str) -> None:
    parse_wix_time(text)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999+00:00",
        "0001-01-01",
    ],
)
def test_dates_at_the_ends_of_time_are_unreadable(text: str) -> None:
    assert parse_wix_time(text) is None


def test_safe_json_takes_a_clean_order_as_it_is() -> None:
    order = {"id": "o-1", "note": "Grüße 😀", "items": [{"qty": 2, "price": 3.5}]}
    data, text, problems = safe_json(order)
    assert data is order
    assert problems == ()
    assert json.loads(text) == order


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ({"note": "\ud83d"}, "unsafe text"),
        ({"note": "a\x00b"}, "unsafe text"),
        ({"total": float("nan")}, "number out of range"),
        ({"deep": nested(MAX_DEPTH + 1)}, "nesting too deep"),
    ],
)
def test_safe_json_repairs_what_cannot_be_stored(order: dict[str, object], problem: str) -> None:
    data, text, problems = safe_json(order)
    assert problems == (problem,)
    assert data is not order
    text.encode("utf-8")
    assert json.loads(text) == data
