"""JSON responses and the small helpers every route module shares."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence

from quart import Response, current_app

__all__ = ["error_response", "json_bytes", "json_response"]


def _fallback(value: object) -> object:
    """Encode the few non-JSON types status data tends to carry, never fail on the rest."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def json_bytes(data: Mapping[str, object] | Sequence[object]) -> bytes:
    return json.dumps(data, default=_fallback, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Mapping[str, object] | Sequence[object], status: int = 200) -> Response:
    response: Response = current_app.response_class(
        json_bytes(data), status=status, content_type="application/json"
    )
    return response


def error_response(status: int, error: str, **extra: object) -> Response:
    """``{"error": ...}``: a short, fixed reason. Never request data, tokens or tracebacks."""
    return json_response({"error": error, **extra}, status)
