"""The child's side of supervision: ``current_child()``.

Each child task sees its own :class:`ChildHandle` through a context variable (Trio copies the
context per task, so siblings never see each other's). Through it a child learns that a
graceful stop was requested, and tells its supervisor that it is healthy, which resets its
restart backoff early (Akka's manual reset: "after the first successful print").
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import final

import trio

__all__ = ["ChildHandle", "current_child"]


@final
class ChildHandle:
    """What a supervised child may ask of, and hear from, its supervisor.

    Attributes:
        name: the child's name in its spec.
        stop_requested: set when the supervisor asks the child to finish; after the spec's
            ``shutdown`` grace the child is cancelled anyway.
    """

    def __init__(self, name: str, on_healthy: Callable[[], None] | None = None) -> None:
        self.name = name
        self.stop_requested = trio.Event()
        self._on_healthy = on_healthy
        self._healthy = False

    @property
    def healthy(self) -> bool:
        """Whether the child called :meth:`mark_healthy` during this run."""
        return self._healthy

    def mark_healthy(self) -> None:
        """Declare this run healthy: the next restart waits only the minimum delay again."""
        self._healthy = True
        if self._on_healthy is not None:
            self._on_healthy()

    async def wait_stop_requested(self) -> None:
        """Return once the supervisor asked this child to stop."""
        await self.stop_requested.wait()


_current: ContextVar[ChildHandle | None] = ContextVar("wixprint_supervisor_child", default=None)


def current_child() -> ChildHandle:
    """The handle of the supervised child running this task.

    Outside any supervisor (an actor run on its own in a test) this is a detached handle
    whose stop is never requested and whose health goes nowhere, so actors need no special
    case for it.
    """
    handle = _current.get()
    return handle if handle is not None else ChildHandle("")


def set_current_child(handle: ChildHandle) -> None:
    """Bind ``handle`` for the calling task (the supervisor calls this in each child task)."""
    _current.set(handle)
