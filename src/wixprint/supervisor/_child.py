"""One child at run time: its record, the task wrapper around it, and its bounded stop.

Containment: the wrapper is the only code that touches what a child raises, and nothing a
child raises escapes it. It runs the child's function inside the child's own cancel scope,
from the very start (the task lives in the supervisor's nursery, not inside
``nursery.start``), and keeps everything the child raised — before or after ``started()``,
while running, stopping, being cancelled or cleaning up — as the run's ``outcome``. Only the
``Cancelled`` part goes back to the cancel scope it belongs to: a child cancelled while an
inner task fails ends with ``BaseExceptionGroup([Cancelled, Exc])``, which ``except
Exception`` cannot catch. The supervisor reads the outcome and classifies it.

A stop is always graceful and always bounded: the stop request, the grace, then the cancel,
then at most ``cancel_timeout`` seconds. A child that outlives that (stuck in a worker thread
that cannot be abandoned, or a shielded wait) is logged and given up on: the supervisor moves
on, and the task ends whenever it ends. Trio cannot kill a task; the process root's stop
deadline is the last word.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import final

import trio

from wixprint.supervisor._backoff import BackoffState
from wixprint.supervisor._events import ErrorInfo
from wixprint.supervisor._handle import ChildHandle, set_current_child
from wixprint.supervisor._outcome import error_info, split_cancelled
from wixprint.supervisor._report import child_ignored
from wixprint.supervisor._spec import ChildSpec
from wixprint.supervisor._stats import ChildState, ChildStatistics, SupervisorStatistics

__all__ = [
    "ChildRecord",
    "ChildRun",
    "StopRequest",
    "child_statistics",
    "run_child",
    "settle",
    "spawn",
    "stop_child",
    "stop_record",
]

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
        self.settled = trio.Event()
        """Set once the child called ``started()`` or ended, whichever first."""
        self.done = trio.Event()
        self.started_at: float | None = None
        self.outcome: BaseException | None = None
        """What the child raised (its ``Cancelled`` removed); None if it returned."""
        self.deliberate = False
        """The supervisor stopped this run itself; its exit is not a failure to handle."""


@final
class _StatusProxy:
    """The child's ``task_status``: ``started()`` marks the run ready."""

    def __init__(self, run: ChildRun) -> None:
        self._run = run

    def started(self, value: object = None) -> None:
        if self._run.started_at is not None:
            raise RuntimeError("called 'started' twice on the same task status")
        self._run.started_at = trio.current_time()
        self._run.settled.set()


async def run_child(run: ChildRun, inbox: trio.MemorySendChannel[ChildRun | None]) -> None:
    """Run one start of a child; report its end to ``inbox`` if it had started.

    Never raises anything but a ``Cancelled`` that belongs to an enclosing scope.
    """
    set_current_child(run.handle)
    spec = run.record.spec
    try:
        with run.scope:
            try:
                await spec.fn(*spec.args, task_status=_StatusProxy(run))
            except BaseException as exc:
                cancelled, rest = split_cancelled(exc)
                run.outcome = rest
                if cancelled is not None:
                    if rest is not None and not run.scope.cancel_called:
                        _log_unreported(run, rest)
                    raise cancelled from None
    finally:
        run.done.set()
        run.settled.set()
    if run.started_at is not None and not run.deliberate:
        with contextlib.suppress(trio.ClosedResourceError, trio.BrokenResourceError):
            inbox.send_nowait(run)


def spawn(
    nursery: trio.Nursery, inbox: trio.MemorySendChannel[ChildRun | None], record: ChildRecord
) -> ChildRun:
    """Start a new run of ``record`` in ``nursery`` (not waiting for it to be ready)."""
    run = ChildRun(record)
    record.run = run
    record.state = "starting"
    nursery.start_soon(run_child, run, inbox, name=f"{record.spec.name}")
    return run


def settle(record: ChildRecord, run: ChildRun, supervisor: str) -> BaseException | None:
    """Record where a start stands after waiting for it; return what a failed start raised.

    None when it runs, when a stop request interrupted the wait (the stop then takes the
    starting child like any other), and when it returned without ``started()``: OTP's
    ``ignore``, kept but not running, not restarted, not counted.
    """
    if run.started_at is not None:
        record.backoff.started(run.started_at)
        record.state = "running"
        return None
    if not run.done.is_set():
        return None
    record.run = None
    if run.outcome is not None:
        return run.outcome
    record.state = "ignored"
    child_ignored(supervisor, record.spec.name)
    return None


@final
class StopRequest:
    """A supervisor's stop request, which also interrupts its wait for a starting child."""

    def __init__(self) -> None:
        self.requested = False
        self._wait: trio.CancelScope | None = None

    def request(self) -> None:
        self.requested = True
        if self._wait is not None:
            self._wait.cancel()

    async def wait_settled(self, run: ChildRun) -> None:
        """Wait until ``run`` is ready or ended, or a stop is requested."""
        with trio.CancelScope() as self._wait:
            if self.requested:
                self._wait.cancel()
            try:
                await run.settled.wait()
            finally:
                self._wait = None


def _log_unreported(run: ChildRun, error: BaseException) -> None:
    """The whole supervisor is being cancelled: nobody will classify this error."""
    logger.warning(
        "child_error_while_cancelled",
        exc_info=error,
        extra={"actor": run.record.spec.name},
    )


async def stop_child(
    run: ChildRun, supervisor: str, *, grace: float, cancel_timeout: float
) -> bool:
    """Ask a child to stop, wait out its grace, cancel it, wait ``cancel_timeout`` more.

    Returns:
        True once the child ended; False if it outlived all that and was given up on.
    """
    run.deliberate = True
    name = run.record.spec.name
    fields = {"supervisor": supervisor, "actor": name}
    run.handle.stop_requested.set()
    if grace > 0 and not run.done.is_set():
        with trio.move_on_after(grace):
            await run.done.wait()
        if not run.done.is_set():
            logger.warning("child_shutdown_overrun", extra={**fields, "grace": grace})
    if not run.done.is_set():
        run.scope.cancel()
        with trio.move_on_after(cancel_timeout):
            await run.done.wait()
    if not run.done.is_set():
        logger.error(
            "child_stop_abandoned",
            extra={**fields, "grace": grace, "cancel_timeout": cancel_timeout},
        )
        return False
    if run.outcome is not None:
        logger.warning("child_shutdown_error", exc_info=run.outcome, extra=fields)
    return True


async def stop_record(
    record: ChildRecord, supervisor: str, *, grace: float, cancel_timeout: float
) -> BaseException | None:
    """Stop ``record``'s run, if any, and set its state; return what the run raised."""
    run = record.run
    if run is None:
        if record.state not in ("failed", "ignored"):
            record.state = "stopped"
        return None
    record.state = "stopping"
    ended = await stop_child(run, supervisor, grace=grace, cancel_timeout=cancel_timeout)
    record.run = None
    if not ended:
        record.state = "failed"
        record.last_error = ErrorInfo(
            error_type="StopTimeout",
            message=f"did not end within {grace:g} s of grace and {cancel_timeout:g} s after"
            " its cancellation",
            at=time.time(),
        )
        return None
    record.state = "stopped"
    if run.outcome is not None:
        record.last_error = error_info(run.outcome, time.time())
    return run.outcome


def child_statistics(
    record: ChildRecord, now: float | None, nested: SupervisorStatistics | None
) -> ChildStatistics:
    """One child as :meth:`Supervisor.statistics` shows it (``nested``: its subtree)."""
    run = record.run
    uptime = None
    if record.state == "running" and run is not None and run.started_at is not None:
        uptime = None if now is None else now - run.started_at
    return ChildStatistics(
        name=record.spec.name,
        kind="worker" if nested is None else "supervisor",
        restart=record.spec.restart,
        state=record.state,
        restarts=record.restarts,
        last_error=record.last_error,
        backoff_delay=record.delay if record.state == "backoff" else None,
        uptime=uptime,
        supervisor=nested,
    )
