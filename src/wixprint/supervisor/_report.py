"""Turning a supervisor decision into a :class:`RestartEvent`, a log line and a callback.

Log lines use the stdlib logger ``wixprint.supervisor`` with the event name as message and
fields in ``extra`` (structlog's ``ExtraAdder`` turns them into JSON keys). Abnormal and fatal
exits log their traceback; dependency outages are expected and log one warning line without
it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import final

import trio

from wixprint.supervisor._events import Action, Classification, RestartEvent
from wixprint.supervisor._history import HistoryStore
from wixprint.supervisor._outcome import describe, short_traceback

__all__ = ["Reporter", "child_ignored", "deliver", "log_event", "make_event"]

logger = logging.getLogger("wixprint.supervisor")


def make_event(
    supervisor: str,
    child: str,
    classification: Classification,
    exc: BaseException | None,
    action: Action,
    delay: float | None,
    *,
    monotonic: float,
    restarts_in_window: int,
) -> RestartEvent:
    error_type, message = describe(exc) if exc is not None else (None, "")
    return RestartEvent(
        supervisor=supervisor,
        child=child,
        classification=classification,
        error_type=error_type,
        message=message,
        traceback=short_traceback(exc) if exc is not None else "",
        monotonic=monotonic,
        wall=time.time(),
        action=action,
        delay=delay,
        restarts_in_window=restarts_in_window,
    )


def log_event(event: RestartEvent, exc: BaseException | None) -> None:
    extra = {
        "supervisor": event.supervisor,
        "actor": event.child,
        "classification": event.classification,
        "action": event.action,
        "delay": event.delay,
        "error_type": event.error_type,
        "restarts_in_window": event.restarts_in_window,
    }
    name = "supervisor_gave_up" if event.action == "escalate" else "child_exited"
    if event.classification in ("abnormal", "fatal"):
        logger.error(name, exc_info=exc, extra=extra)
    elif event.classification == "dependency" or event.action == "escalate":
        logger.warning(name, extra={**extra, "error": event.message})
    else:
        logger.info(name, extra=extra)


def deliver(event: RestartEvent, on_event: Callable[[RestartEvent], None]) -> None:
    """Call ``on_event``; a bug in the callback is logged and never stops supervision."""
    try:
        on_event(event)
    except Exception:
        logger.exception("supervisor_on_event_failed", extra={"supervisor": event.supervisor})


def child_ignored(supervisor: str, child: str) -> None:
    """OTP's ``ignore``: no exit and no decision, so no event; one line says why it is idle."""
    logger.info("child_ignored", extra={"supervisor": supervisor, "actor": child})


@final
class Reporter:
    """Where one supervisor's events go: its ring buffer, the log, the history file and the
    ``on_event`` callback."""

    def __init__(
        self,
        supervisor: str,
        *,
        recent: int,
        history: HistoryStore | None,
        on_event: Callable[[RestartEvent], None] | None,
    ) -> None:
        self.supervisor = supervisor
        self.recent: deque[RestartEvent] = deque(maxlen=recent)
        self._history = history
        self._on_event = on_event

    def emit(
        self,
        child: str,
        classification: Classification,
        exc: BaseException | None,
        action: Action,
        delay: float | None,
        restarts_in_window: int,
    ) -> None:
        event = make_event(
            self.supervisor,
            child,
            classification,
            exc,
            action,
            delay,
            monotonic=trio.current_time(),
            restarts_in_window=restarts_in_window,
        )
        self.recent.append(event)
        log_event(event, exc)
        if self._history is not None:
            self._history.record(event)
        if self._on_event is not None:
            deliver(event, self._on_event)
