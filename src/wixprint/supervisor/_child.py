"""One child at run time: its record, the task wrapper around it, and its graceful stop.

The wrapper runs the child's function inside the child's own cancel scope. Before the child
called ``task_status.started()`` an exception propagates out of :meth:`trio.Nursery.start`
(a failed start); afterwards the wrapper catches it and reports the run to the supervisor's
inbox, so one child's crash never tears down the supervisor's nursery. ``Cancelled`` and other
``BaseException`` are never caught.
"""

from __future__ import annotations

import contextlib
import logging
from typing import final

import trio

from wixprint.supervisor._backoff import BackoffState
from wixprint.supervisor._events import ErrorInfo
from wixprint.supervisor._handle import ChildHandle, set_current_child
from wixprint.supervisor._spec import ChildSpec
from wixprint.supervisor._stats import ChildState

__all__ = ["ChildRecord", "ChildRun", "run_child", "stop_child"]

logger = logging.getLogger("wixprint.supervisor")


@final
class ChildRecord:
    """A supervisor's mutable bookkeeping for one spec."""

    def __init__(self, spec: ChildSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.state: ChildState = "stopped"
        self.run: ChildRun | None = None
        self.backoff = BackoffState(spec.backoff)
        self.restart_at: float | None = None
        self.delay: float | None = None
        self.restarts = 0
        self.last_error: ErrorInfo | None = None
        self.dropped = False
        """A temporary child that ended: never started again by this run of the supervisor."""


@final
class ChildRun:
    """One start of a child: its handle, cancel scope and how it ended."""

    def __init__(self, record: ChildRecord) -> None:
        self.record = record
        self.handle = ChildHandle(record.spec.name, record.backoff.reset)
        self.scope = trio.CancelScope()
        self.done = trio.Event()
        self.started_at: float | None = None
        self.outcome: Exception | None = None
        self.deliberate = False
        """The supervisor stopped this run itself; its exit is not a failure to handle."""


@final
class _StatusProxy:
    """Passes ``started()`` through, remembering that it happened and when."""

    def __init__(self, inner: trio.TaskStatus[None], run: ChildRun) -> None:
        self._inner = inner
        self._run = run

    @property
    def called(self) -> bool:
        return self._run.started_at is not None

    def started(self, value: object = None) -> None:
        if self.called:
            raise RuntimeError("called 'started' twice on the same task status")
        self._run.started_at = trio.current_time()
        self._inner.started()


async def run_child(
    run: ChildRun,
    inbox: trio.MemorySendChannel[ChildRun],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run one start of a child; report its end to ``inbox`` once it had started."""
    set_current_child(run.handle)
    status = _StatusProxy(task_status, run)
    spec = run.record.spec
    try:
        with run.scope:
            try:
                await spec.fn(*spec.args, task_status=status)
            except Exception as exc:
                if not status.called:
                    raise
                run.outcome = exc
        if not status.called:
            # Returned without started(): started, then ended normally (OTP's ``ignore``).
            status.started()
    finally:
        run.done.set()
    if not run.deliberate:
        with contextlib.suppress(trio.ClosedResourceError, trio.BrokenResourceError):
            inbox.send_nowait(run)


async def stop_child(run: ChildRun, supervisor: str) -> None:
    """Ask a running child to stop, wait out its grace, then cancel it; wait until it ended."""
    run.deliberate = True
    spec = run.record.spec
    run.handle.stop_requested.set()
    if spec.shutdown > 0 and not run.done.is_set():
        with trio.move_on_after(spec.shutdown):
            await run.done.wait()
        if not run.done.is_set():
            logger.warning(
                "child_shutdown_overrun",
                extra={"supervisor": supervisor, "actor": spec.name, "grace": spec.shutdown},
            )
    if not run.done.is_set():
        run.scope.cancel()
        await run.done.wait()
    if run.outcome is not None:
        logger.warning(
            "child_shutdown_error",
            exc_info=run.outcome,
            extra={"supervisor": supervisor, "actor": spec.name},
        )
