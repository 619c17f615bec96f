"""Restart events and error summaries: the supervision tree's typed history.

OTP only logs its supervisor reports; here every decision is also a value, kept in a ring
buffer per supervisor, passed to ``on_event``, served by the status endpoint and persisted by
:class:`~wixprint.supervisor.HistoryStore` across process restarts. Values are plain strings and
floats so they serialise as they are; tracebacks are a few ``file:line in function`` lines,
never frame locals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal, get_args

__all__ = ["Action", "Classification", "ErrorInfo", "RestartEvent"]

Classification = Literal["normal", "abnormal", "dependency", "shutdown", "fatal"]
"""How a child ended: returned by itself, raised, lost a dependency, was stopped by us, or
raised a ``BaseException`` that is no ``Exception`` (``SystemExit``): the tree stops."""

Action = Literal["restart", "escalate", "none"]
"""What the supervisor did about it."""

_CLASSIFICATIONS: frozenset[str] = frozenset(get_args(Classification))
_ACTIONS: frozenset[str] = frozenset(get_args(Action))


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The last error of a child, safe to show and log.

    Attributes:
        error_type: the exception's class name (a single-exception group is unwrapped).
        message: ``str(exc)``, shortened.
        at: wall-clock seconds (``time.time()``) when it happened.
    """

    error_type: str
    message: str
    at: float


@dataclass(frozen=True, slots=True)
class RestartEvent:
    """One child exit and the supervisor's decision about it.

    Attributes:
        supervisor: the deciding supervisor's name.
        child: the child's name.
        classification: normal, abnormal, dependency, shutdown (stopped by a sibling's
            restart) or fatal (``SystemExit`` and the like: no restart, the tree stops).
        error_type: exception class name, ``None`` for a normal exit or shutdown.
        message: exception message, ``""`` without one.
        traceback: the last few frames as ``file:line in function`` lines, ``""`` without one.
        monotonic: Trio clock time (``trio.current_time()``).
        wall: wall-clock seconds (``time.time()``).
        action: restart, escalate (the supervisor gave up) or none.
        delay: seconds of backoff before the restart, ``None`` unless restarting.
        restarts_in_window: restarts counted against intensity after this decision.
    """

    supervisor: str
    child: str
    classification: Classification
    error_type: str | None
    message: str
    traceback: str
    monotonic: float
    wall: float
    action: Action
    delay: float | None
    restarts_in_window: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RestartEvent:
        """Rebuild an event from :meth:`to_json` output.

        Raises:
            ValueError, TypeError: the data does not describe an event.
        """
        classification = _text(data, "classification")
        action = _text(data, "action")
        if classification not in _CLASSIFICATIONS:
            raise ValueError(f"unknown classification {classification!r}")
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        error_type = data.get("error_type")
        if error_type is not None and not isinstance(error_type, str):
            raise TypeError("error_type must be a string or null")
        delay = data.get("delay")
        return cls(
            supervisor=_text(data, "supervisor"),
            child=_text(data, "child"),
            classification=classification,  # type: ignore[arg-type]  # checked above
            error_type=error_type,
            message=_text(data, "message"),
            traceback=_text(data, "traceback"),
            monotonic=_number(data, "monotonic"),
            wall=_number(data, "wall"),
            action=action,  # type: ignore[arg-type]  # checked above
            delay=None if delay is None else _number(data, "delay"),
            restarts_in_window=int(_number(data, "restarts_in_window")),
        )


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _number(data: Mapping[str, object], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite")
    return float(value)
