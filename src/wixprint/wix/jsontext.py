"""JSON from Wix, read so that no content can stop intake.

Two steps, used on every path an order comes in by (the search answer, each layer of a
webhook, the order itself before it is parsed):

* :func:`loads` decodes text and raises nothing but ``ValueError``. Numbers are bounded (an
  integer of thousands of digits, ``1e999``, ``NaN`` become null instead of an exception or an
  infinity), and nesting deeper than the decoder's recursion limit is cut to null instead of
  raising ``RecursionError``: one odd order must not make a whole search page unreadable,
  since the page would then fail at every poll.
* :func:`clean` copies a decoded value into one that is safe to hash, store and print: lone
  UTF-16 surrogates (half an emoji, legal in JSON as ``"\\ud83d"``) and NULs become U+FFFD,
  non-finite numbers null, and anything nested deeper than ``MAX_DEPTH`` null. Without it a
  lone surrogate raises ``UnicodeEncodeError`` when the order is hashed or stored.

:func:`ascii_dump` keeps the exact original for a quarantined order: ASCII JSON escapes every
surrogate, so nothing is lost and nothing can fail to encode.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

__all__ = ["MAX_DEPTH", "ascii_dump", "clean", "loads", "safe_json", "safe_text"]

MAX_DEPTH: Final = 64
"""Deepest nesting kept by :func:`clean`; a Wix order is about eight levels deep."""
MAX_PARSE_DEPTH: Final = 200
"""Deeper containers are replaced by null when the decoder ran out of recursion."""
MAX_INT_DIGITS: Final = 1000
REPLACEMENT: Final = "\ufffd"

_UNSAFE = re.compile("[\ud800-\udfff\x00]")
_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def _bounded_int(text: str) -> int | None:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _no_constant(_name: str) -> None:
    return None


def _decode(text: str | bytes) -> Any:
    return json.loads(
        text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant
    )


def loads(data: str | bytes) -> Any:
    """Decode JSON text (bytes as UTF-8); ``ValueError`` for anything that is not JSON."""
    try:
        return _decode(data)
    except RecursionError:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return _decode(_cap_depth(text, MAX_PARSE_DEPTH))


def _cap_depth(text: str, limit: int) -> str:
    """``text`` with every container nested deeper than ``limit`` replaced by ``null``.

    A scan over the structural characters only (strings and their escapes are skipped), with
    no recursion of its own. Unbalanced input stays unbalanced: the decoder then refuses it.
    """
    out: list[str] = []
    copied = 0
    depth = 0
    in_string = False
    skip_from: int | None = None
    skip_depth = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if in_string:
            in_string = token != '"'
            continue
        if token == '"':
            in_string = True
        elif token in "[{":
            depth += 1
            if skip_from is None and depth > limit:
                skip_from, skip_depth = match.start(), depth
        elif token in "]}":
            if skip_from is not None and depth == skip_depth:
                out.append(text[copied:skip_from])
                out.append("null")
                copied = match.end()
                skip_from = None
            depth -= 1
    out.append(text[copied:] if skip_from is None else text[copied:skip_from] + "null")
    return "".join(out)


def safe_text(text: str) -> str:
    """``text`` with lone surrogates and NULs replaced by U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSAFE.sub(REPLACEMENT, text)


def clean(value: object, *, max_depth: int = MAX_DEPTH) -> tuple[Any, tuple[str, ...]]:
    """A safe copy of a decoded JSON value and what had to be repaired (short names).

    Iterative, so no depth of input can exhaust the stack; dict key order is kept.
    """
    problems: set[str] = set()

    def text(s: str) -> str:
        fixed = safe_text(s)
        if fixed != s:
            problems.add("unsafe text")
        return fixed

    root: list[Any] = [None]
    stack: list[tuple[object, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        src, holder, key, depth = stack.pop()
        if isinstance(src, str):
            holder[key] = text(src)
        elif src is None or isinstance(src, (bool, int)):
            holder[key] = src
        elif isinstance(src, float):
            if math.isfinite(src):
                holder[key] = src
            else:
                holder[key] = None
                problems.add("number out of range")
        elif isinstance(src, (dict, list)):
            if depth >= max_depth:
                holder[key] = None
                problems.add("nesting too deep")
            elif isinstance(src, dict):
                pairs = [(text(str(k)), v) for k, v in src.items()]
                new: dict[str, Any] = dict.fromkeys(k for k, _ in pairs)
                holder[key] = new
                stack.extend((v, new, k, depth + 1) for k, v in pairs)
            else:
                items: list[Any] = [None] * len(src)
                holder[key] = items
                stack.extend((v, items, i, depth + 1) for i, v in enumerate(src))
        else:
            holder[key] = None
            problems.add("not JSON")
    return root[0], tuple(sorted(problems))


def _shallow(value: object, limit: int) -> bool:
    """Whether no container in ``value`` is nested ``limit`` levels deep (breadth first)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return True
    return False


def safe_json(value: object) -> tuple[Any, str, tuple[str, ...]]:
    """``value`` made safe (see :func:`clean`), its compact JSON text, and what was repaired.

    Nearly every order is safe as it came: that is checked in C (one ``json.dumps``, which
    the stored text needs anyway, and a UTF-8 encode) plus a breadth-first depth count;
    only an order that fails a check pays for the copy :func:`clean` makes.
    """
    if isinstance(value, (dict, list)) and _shallow(value, MAX_DEPTH):
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            text.encode("utf-8")
        except (ValueError, TypeError, RecursionError):
            pass  # NaN or infinity, a lone surrogate, a non-JSON value: the slow way
        else:
            if "\\u0000" not in text:
                return value, text, ()
    cleaned, problems = clean(value)
    return cleaned, json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")), problems


def ascii_dump(value: object) -> str:
    """The value as ASCII JSON, lossless for any text (surrogates are escaped); a short
    placeholder if it cannot be written at all (nesting beyond the recursion limit)."""
    try:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError) as exc:
        return json.dumps({"unserializable": type(exc).__name__})
