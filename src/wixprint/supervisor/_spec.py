"""Child specifications: what a supervisor runs, and how it treats each child's exits.

The vocabulary is OTP's (``sup_princ.md``): restart types decide *whether* a child comes back,
strategies decide *which siblings* come back with it. The Akka-style :class:`Backoff` decides
*when*.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from wixprint.supervisor._backoff import Backoff

__all__ = ["ChildSpec", "Restart", "Strategy"]


class Restart(enum.Enum):
    """When a child that ended is started again (exactly OTP's meaning)."""

    PERMANENT = "permanent"
    """Always, even after a normal return."""
    TRANSIENT = "transient"
    """Only after an abnormal exit (an exception)."""
    TEMPORARY = "temporary"
    """Never; not even when a sibling's restart terminated it (its spec is dropped then)."""


class Strategy(enum.Enum):
    """Which children restart when one of them must."""

    ONE_FOR_ONE = "one_for_one"
    """Only the child that ended."""
    ONE_FOR_ALL = "one_for_all"
    """All children: the others are stopped in reverse order, all restart in start order."""
    REST_FOR_ONE = "rest_for_one"
    """The child and every child started after it ("later depends on earlier")."""


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """One child of a supervisor.

    ``fn(*args, task_status=...)`` is awaited with :meth:`trio.Nursery.start` semantics: the
    supervisor starts the next sibling only once this child called ``task_status.started()``.
    A child that returns without calling it is OTP's ``ignore``: kept (state ``ignored``),
    not running, never restarted, not counted against intensity.

    Attributes:
        name: unique among its siblings; shown in statistics and logs.
        fn: the child's async function.
        args: positional arguments for ``fn``.
        restart: whether the child comes back after it ended.
        shutdown: grace seconds on stop: the child's stop request is set and the supervisor
            waits this long for it to return by itself before cancelling it (then it waits
            the supervisor's ``cancel_timeout`` more and moves on). ``0`` cancels at once;
            ``math.inf`` waits for ever, except for a nested supervisor (its default), where
            it means that subtree's own bounded stop time.
        backoff: delay curve before each restart of this child.
    """

    name: str
    fn: Callable[..., Awaitable[object]]
    args: tuple[object, ...] = ()
    restart: Restart = Restart.PERMANENT
    shutdown: float = 0.0
    backoff: Backoff = field(default_factory=Backoff)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a child needs a name")
        if not callable(self.fn):
            raise TypeError(f"child {self.name!r}: fn must be an async function")
        if math.isnan(self.shutdown) or self.shutdown < 0:
            raise ValueError(f"child {self.name!r}: shutdown must be >= 0 seconds")
        if not isinstance(self.restart, Restart):
            raise TypeError(f"child {self.name!r}: restart must be a Restart")
