"""Reading Wix JSON where every field is optional and no shape is trusted.

Each read names its path; a value of the wrong type becomes a warning (the path, never the
value: it may hold personal data) and counts as absent. The order parser and its helper
modules (``parse_items``, ``parse_money``, ``fulfilment``) share one ``Reader`` per order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from wixprint.wixtime import parse_wix_time

__all__ = ["Obj", "Reader", "at", "blank", "raw_text"]

Obj = Mapping[str, object]
MAX_AMOUNT = Decimal(10) ** 9
"""Amounts and rates at or beyond this are unreadable (a warning): no sum of them can then
overflow ``Decimal``'s context, and no receipt line can be absurdly long."""
_WRONG = object()


def at(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top."""
    return f"{path}.{key}" if path else key


class Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def get(self, m: Obj | None, key: str, path: str, typ: type | tuple[type, ...]) -> Any:
        value = None if m is None else m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) and typ is not bool:
            value = _WRONG  # JSON true/false is an int to Python, never a number to Wix
        if not isinstance(value, typ):
            self.warnings.append(at(path, key))
            return None
        return value

    def obj(self, m: Obj | None, key: str, path: str) -> Obj | None:
        result: Obj | None = self.get(m, key, path, Mapping)
        return result

    def objs(self, m: Obj | None, key: str, path: str) -> list[tuple[str, Obj]]:
        """The mappings of a list, each with its path; other elements are warned about."""
        items: list[object] = self.get(m, key, path, list) or []
        base = at(path, key)
        out: list[tuple[str, Obj]] = []
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                out.append((f"{base}[{i}]", item))
            else:
                self.warnings.append(f"{base}[{i}]")
        return out

    def text(self, m: Obj | None, key: str, path: str) -> str | None:
        result: str | None = self.get(m, key, path, str)
        return result

    def localized(self, m: Obj | None, key: str, path: str) -> str | None:
        """A ``{original, translated}`` text: the original (site language)."""
        bare = None if m is None else m.get(key)
        if isinstance(bare, str):
            return bare
        inner = self.obj(m, key, path)
        sub = at(path, key)
        original = self.text(inner, "original", sub)
        return original if original is not None else self.text(inner, "translated", sub)

    def decimal(self, m: Obj | None, key: str, path: str) -> Decimal | None:
        value = self.get(m, key, path, (str, int))
        if value is None:
            return None
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except ArithmeticError:
            result = Decimal("NaN")
        if not result.is_finite() or abs(result) >= MAX_AMOUNT:
            self.warnings.append(at(path, key))
            return None
        return result

    def money(self, m: Obj | None, key: str, path: str) -> Decimal | None:
        """A Wix ``Price`` ``{amount, formattedAmount}``: the amount string as a Decimal."""
        return self.decimal(self.obj(m, key, path), "amount", at(path, key))

    def time(self, m: Obj | None, key: str, path: str, tz: ZoneInfo) -> datetime | None:
        raw = self.text(m, key, path)
        if raw is None or not raw.strip():
            return None
        parsed = parse_wix_time(raw)
        if parsed is None:
            self.warnings.append(at(path, key))
            return None
        return parsed.astimezone(tz)

    def first_text(self, m: Obj | None, keys: tuple[str, ...], path: str) -> str | None:
        """The first of ``keys`` that holds a string: REST names first, SDK aliases after
        (``id``/``_id``, ``addressLine``/``addressLine1``)."""
        for key in keys:
            value = self.text(m, key, path)
            if value is not None:
                return value
        return None


def raw_text(m: Obj, key: str) -> str | None:
    value = m.get(key)
    return value if isinstance(value, str) else None


def blank(value: str | None) -> str | None:
    """None for None, empty or whitespace-only text; the text otherwise."""
    return value if value is not None and value.strip() else None
