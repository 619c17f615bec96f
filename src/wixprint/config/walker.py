"""The field walker that reports *every* type error by key path (``load.load_config`` is the
entry point; ``rules`` holds the semantic checks).

msgspec stops at the first error, but an operator fixing a file wants every problem at once,
so the walker converts the TOML field by field (``msgspec.convert`` on each leaf) and collects
one line per problem. Semantic checks then run on the typed result; a check whose inputs
already failed type conversion stays quiet, so each mistake is reported once.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

import msgspec

_INVALID: Any = object()  # a value that failed conversion; its problem is already reported
_ZEROS: tuple[object, ...] = ("", 0, 0.0, False, [], {})


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "table"
    return "array" if isinstance(value, list) else type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Report:
    """Collects problem lines and remembers which key paths failed conversion."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.bad: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.lines.append(f"{path}: {message}")
        self.bad.add(path)

    def is_bad(self, path: str) -> bool:
        return any(path == b or path.startswith((b + ".", b + "[")) for b in self.bad)

    def check(self, path: str, message: str, *, uses: tuple[str, ...] = ()) -> None:
        """A semantic problem, dropped when *path* or an input in *uses* is already bad."""
        if not any(self.is_bad(p) for p in (path, *uses)):
            self.lines.append(f"{path}: {message}")

    def value(self, raw: object, tp: Any, path: str) -> Any:
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self.struct(raw, tp, path)
        origin = get_origin(tp)
        if origin is list:
            if not isinstance(raw, list):
                self.error(path, f"expected array, got {_kind(raw)}")
                return _INVALID
            items = [self.value(x, get_args(tp)[0], f"{path}[{i}]") for i, x in enumerate(raw)]
            return _INVALID if any(x is _INVALID for x in items) else items
        if origin is dict:
            if not isinstance(raw, dict):
                self.error(path, f"expected table, got {_kind(raw)}")
                return _INVALID
            entries = {k: self.value(v, get_args(tp)[1], _join(path, k)) for k, v in raw.items()}
            return _INVALID if _INVALID in entries.values() else entries
        if origin is Literal:
            choices = get_args(tp)
            if isinstance(raw, str) and raw in choices:
                return raw
            got = repr(raw) if isinstance(raw, str) else _kind(raw)
            self.error(path, f"expected one of {', '.join(map(repr, choices))}, got {got}")
            return _INVALID
        try:
            return msgspec.convert(raw, tp)
        except msgspec.ValidationError as exc:
            message = str(exc).replace("`", "")
            self.error(path, message[:1].lower() + message[1:])
            return _INVALID

    def struct(self, raw: object, cls: type[msgspec.Struct], path: str) -> Any:
        if not isinstance(raw, dict):
            self.error(path or "(top level)", f"expected table, got {_kind(raw)}")
            return _INVALID
        fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
        converted: dict[str, Any] = {}
        for key, item in raw.items():  # in file order, so problems read top to bottom
            if key in fields:
                converted[key] = self.value(item, fields[key].type, _join(path, key))
            else:
                self.lines.append(f"unknown key '{_join(path, key)}'")
        kwargs: dict[str, Any] = {}
        for key, field in fields.items():
            value = converted.get(key, _INVALID)
            if value is _INVALID:
                if field.default is not msgspec.NODEFAULT:
                    value = field.default
                elif field.default_factory is not msgspec.NODEFAULT:
                    value = field.default_factory()
                else:
                    if key not in raw:
                        self.error(_join(path, key), "missing required key")
                    value = _placeholder(field.type)
                    if value is _INVALID:
                        return _INVALID
            kwargs[field.name] = value
        return cls(**kwargs)


def _placeholder(tp: Any) -> Any:
    """A stand-in for a required field that failed, so the remaining checks can still run."""
    for zero in _ZEROS:
        try:
            return msgspec.convert(zero, tp)
        except msgspec.ValidationError:
            continue
    return _INVALID  # pragma: no cover - no required field of such a type exists
