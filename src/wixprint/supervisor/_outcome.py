"""How a child ended, sans-IO: classification, restart decisions and safe error summaries.

Failure classification protects the intensity budget (supervision.md §8.4): a dependency
outage is restarted after backoff but never counted, so a long Wi-Fi outage cannot escalate
to a process restart loop. Under strict exception groups a child's error may arrive wrapped;
a group that holds a single exception is unwrapped before it is judged. A ``BaseException``
that is not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``) is *fatal*: nothing is
restarted, the tree stops in order and the process root decides.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence

import trio

from wixprint.errors import DependencyUnavailable
from wixprint.supervisor._events import Classification, ErrorInfo
from wixprint.supervisor._spec import Restart, Strategy

__all__ = [
    "affected_indices",
    "classify",
    "describe",
    "error_info",
    "short_traceback",
    "should_restart",
    "split_cancelled",
    "unwrap",
]

_MAX_MESSAGE = 500
_FRAMES = 4


def unwrap(exc: BaseException) -> BaseException:
    """Peel exception groups that hold exactly one exception."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def split_cancelled(exc: BaseException) -> tuple[BaseException | None, BaseException | None]:
    """``(the Cancelled part, the rest)`` of what a task raised; either may be None.

    A child cancelled while an inner task fails ends with ``BaseExceptionGroup([Cancelled,
    Exc])``: the ``Cancelled`` belongs to whichever cancel scope is unwinding, the rest is
    the child's outcome.
    """
    if isinstance(exc, trio.Cancelled):
        return exc, None
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(trio.Cancelled)
    return None, exc


def classify(
    exc: BaseException | None, dependency_errors: Sequence[type[BaseException]] = ()
) -> Classification:
    """``normal`` for a return, ``fatal`` if any error is no ``Exception``, ``dependency`` if
    every error is an outage, else ``abnormal``."""
    if exc is None:
        return "normal"
    if not isinstance(exc, Exception):  # a BaseExceptionGroup holds a non-Exception
        return "fatal"
    types: tuple[type[BaseException], ...] = (DependencyUnavailable, *dependency_errors)
    exc = unwrap(exc)
    if isinstance(exc, BaseExceptionGroup):
        _, rest = exc.split(types)
        return "dependency" if rest is None else "abnormal"
    return "dependency" if isinstance(exc, types) else "abnormal"


def should_restart(restart: Restart, classification: Classification) -> bool:
    """OTP: permanent always, transient only after an abnormal exit, temporary never."""
    if restart is Restart.PERMANENT:
        return True
    if restart is Restart.TRANSIENT:
        return classification in ("abnormal", "dependency")
    return False


def affected_indices(strategy: Strategy, index: int, count: int) -> tuple[int, ...]:
    """Siblings (by start position) that restart together with child ``index``, itself excluded.

    Returned in start order; the supervisor stops them in reverse.
    """
    if strategy is Strategy.ONE_FOR_ALL:
        return tuple(i for i in range(count) if i != index)
    if strategy is Strategy.REST_FOR_ONE:
        return tuple(range(index + 1, count))
    return ()


def describe(exc: BaseException) -> tuple[str, str]:
    """``(type name, shortened message)`` of the unwrapped exception."""
    exc = unwrap(exc)
    message = str(exc)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return type(exc).__name__, message


def error_info(exc: BaseException, wall: float) -> ErrorInfo:
    error_type, message = describe(exc)
    return ErrorInfo(error_type=error_type, message=message, at=wall)


def short_traceback(exc: BaseException, frames: int = _FRAMES) -> str:
    """The innermost ``frames`` frames as ``file:line in function`` lines; no locals, no source."""
    exc = unwrap(exc)
    summary = traceback.extract_tb(exc.__traceback__)[-frames:]
    return "\n".join(
        f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}" for frame in summary
    )
