"""Change values in a TOML config text and keep everything else: comments, order, spacing.

``wixprint setup`` edits the operator's file (or the commented example) in place: a key it
sets keeps its line and its comment, a key it does not ask about is never touched, and a
table that is missing is appended. ``[[printers]]`` tables are matched by ``name``. Pure;
values are strings, booleans, numbers and lists of them (all the config has).
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["TomlText", "Value", "toml_value"]

Value = str | bool | int | float | Sequence[str]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_-]+)\s*=\s*")
_COMMENT_COLUMN = 40


def toml_value(value: Value) -> str:
    """``value`` as TOML (strings as basic strings: JSON's escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def _key_line(line: str) -> re.Match[str]:
    """The ``key = `` part of a line known to hold a key."""
    match = _KEY.match(line)
    if match is None:  # pragma: no cover - callers pass lines _keys() found
        raise ValueError("not a key line")
    return match


def _scan(line: str, depth: int) -> tuple[int, int | None]:
    """Bracket depth after ``line`` and where its comment starts (strings respected)."""
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "#":
            return depth, i
        i += 1
    return depth, None


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    array: bool
    start: int
    """Index of the header line (-1: the root table before any header)."""
    end: int
    """Index after the table's last line (the next header)."""


class TomlText:
    """A TOML text being edited; ``str(doc)`` is the result."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def __str__(self) -> str:
        return "\n".join(self.lines) + "\n"

    def _tables(self) -> list[_Table]:
        heads: list[tuple[int, str, bool]] = [(-1, "", False)]
        depth = 0
        for index, line in enumerate(self.lines):
            if depth:  # inside a multi-line array
                depth, _ = _scan(line, depth)
            elif header := _HEADER.match(line):
                heads.append((index, header.group(2), header.group(1) == "[["))
            elif key := _KEY.match(line):
                depth, _ = _scan(line[key.end() :], 0)
        ends = [start for start, _, _ in heads[1:]] + [len(self.lines)]
        return [_Table(n, a, s, e) for (s, n, a), e in zip(heads, ends, strict=True)]

    def _keys(self, table: _Table) -> dict[str, tuple[int, int]]:
        """Key -> (first line, line after its value) within ``table``."""
        keys: dict[str, tuple[int, int]] = {}
        index = table.start + 1
        while index < table.end:
            match = _KEY.match(self.lines[index])
            if not match:
                index += 1
                continue
            depth, _ = _scan(self.lines[index][match.end() :], 0)
            last = index
            while depth > 0 and last + 1 < table.end:
                last += 1
                depth, _ = _scan(self.lines[last], depth)
            keys[match.group(2)] = (index, last + 1)
            index = last + 1
        return keys

    def _set_in(self, table: _Table, key: str, value: Value) -> None:
        keys = self._keys(table)
        text = f"{key} = {toml_value(value)}"
        if key in keys:
            first, after = keys[key]
            old_last = self.lines[after - 1]
            start = 0 if after - 1 > first else _key_line(old_last).end()
            _, comment_at = _scan(old_last[start:], 0)
            indent = _key_line(self.lines[first]).group(1)
            line = indent + text
            if comment_at is not None:
                column = start + comment_at
                comment = old_last[column:]
                line = (
                    line.ljust(column - 1) + " " + comment
                    if len(line) < column
                    else line + "  " + comment
                )
            self.lines[first:after] = [line]
            return
        last_key = max((after for _, after in keys.values()), default=table.start + 1)
        self.lines.insert(last_key, text)

    def set(self, table: str, key: str, value: Value) -> None:
        """Set ``table.key`` (the first table of that name); append the table if missing."""
        for found in self._tables():
            if found.name == table and not found.array:
                self._set_in(found, key, value)
                return
        self._append([f"[{table}]", f"{key} = {toml_value(value)}"])

    def _append(self, block: list[str]) -> None:
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        self.lines.extend(["", *block])

    def _array_tables(self, name: str) -> list[tuple[_Table, str]]:
        out = []
        for table in self._tables():
            if table.array and table.name == name:
                keys = self._keys(table)
                own = ""
                if "name" in keys:
                    first, after = keys["name"]
                    with contextlib.suppress(tomllib.TOMLDecodeError):
                        own = str(tomllib.loads("\n".join(self.lines[first:after]))["name"])
                out.append((table, own))
        return out

    def set_array_tables(self, name: str, items: Sequence[Mapping[str, Value]]) -> None:
        """Make the ``[[name]]`` tables ``items`` (matched by their ``name`` key).

        A table that stays keeps its other keys and comments; one not in ``items`` goes
        (its header and keys; comments after them stay); a new one is appended after the
        last one (or at the end).
        """
        wanted = {str(item["name"]): item for item in items}
        for table, own in reversed(self._array_tables(name)):
            if own in wanted:
                for key, value in wanted[own].items():
                    self._set_in(self._refresh(table), key, value)
            else:
                keys = self._keys(table)
                last = max((after for _, after in keys.values()), default=table.start + 1)
                del self.lines[table.start : last]
        existing = {own for _, own in self._array_tables(name)}
        for item in items:
            if str(item["name"]) in existing:
                continue
            block = [f"[[{name}]]", *(f"{k} = {toml_value(v)}" for k, v in item.items())]
            tables = self._array_tables(name)
            if tables:
                last_table = tables[-1][0]
                keys = self._keys(last_table)
                at = max((after for _, after in keys.values()), default=last_table.start + 1)
                self.lines[at:at] = ["", *block]
            else:
                self._append(block)

    def _refresh(self, table: _Table) -> _Table:
        """The same table after an edit shifted or resized it."""
        for found in self._tables():
            if found.start == table.start:
                return found
        raise LookupError(table.name)  # pragma: no cover - edits never move a header up
