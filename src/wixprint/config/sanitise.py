"""A configuration without its secrets, written from the *parsed* TOML: no spelling of a key
(dotted, quoted, inline table, multi-line string) can smuggle a secret through, as a text
filter would let it. Used by ``wixprint backup``."""

from __future__ import annotations

import datetime
import json
import math
import re
import tomllib
from typing import Any

from wixprint.config.load import SECRET_SOURCES

__all__ = ["sanitised_config"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_KEYS: tuple[tuple[str, str], ...] = (
    *((section, key) for section, key, _env, _cred in SECRET_SOURCES),
    # A push URL is a password too: an ntfy topic, a chat webhook's key.
    ("alerts.ntfy", "url"),
    ("alerts.webhook", "url"),
)


def sanitised_config(text: str) -> str | None:
    """*text* as TOML with every secret removed, or None if it does not parse (then nothing
    of it is safe to keep)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    for section, key in _SECRET_KEYS:
        table: Any = data
        for part in section.split("."):
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict):
            table.pop(key, None)
    header = "# wix-printer-service configuration from a backup: secrets removed\n"
    return header + _table(data, ())


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a TOML value: {type(value).__name__}")  # pragma: no cover


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(data: dict[str, Any], path: tuple[str, ...]) -> str:
    lines = [
        f"{_key(k)} = {_value(v)}"
        for k, v in data.items()
        if not isinstance(v, dict) and not _is_table_array(v)
    ]
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in data.items():
        name = ".".join(_key(p) for p in (*path, k))
        if isinstance(v, dict):
            out += f"\n[{name}]\n" + _table(v, (*path, k))
        elif _is_table_array(v):
            for item in v:
                out += f"\n[[{name}]]\n" + _table(item, (*path, k))
    return out
