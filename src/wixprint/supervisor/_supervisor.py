"""The supervisor: OTP semantics with per-child Akka-style backoff, as one Trio task.

``run()`` owns a nursery with one wrapper task per child (:mod:`._child`). Children start left
to right: each is spawned, and the supervisor waits until it called ``started()`` before the
next one. Afterwards a single loop handles, one at a time, the children's ends (reported
through an unbounded in-memory inbox) and due restarts, so every decision is sequential like
an OTP supervisor's mailbox. Restarts are scheduled, not slept, so one child's long backoff
never delays handling another child's crash.

A stop request interrupts only the supervisor's *waiting*: a child still starting is stopped
like the others, in reverse start order, each with its bounded grace (:mod:`._child`).
Intensity counts every restart decision except dependency outages, on active time
(:mod:`._intensity`). Exceeded, or a child raised ``SystemExit`` (or another non-``Exception``):
all children stop in reverse order and ``run()`` raises; the parent sees its child fail.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from typing import final

import trio

from wixprint.errors import RestartIntensityExceeded
from wixprint.supervisor._child import (
    ChildRecord,
    ChildRun,
    StopRequest,
    child_statistics,
    settle,
    spawn,
    stop_record,
)
from wixprint.supervisor._events import Action, Classification, RestartEvent
from wixprint.supervisor._history import HistoryStore
from wixprint.supervisor._intensity import RestartIntensity
from wixprint.supervisor._nesting import grace_of, nested_supervisor, stop_budget
from wixprint.supervisor._outcome import (
    affected_indices,
    classify,
    error_info,
    should_restart,
    split_cancelled,
)
from wixprint.supervisor._report import Reporter
from wixprint.supervisor._spec import ChildSpec, Restart, Strategy
from wixprint.supervisor._stats import SupervisorState, SupervisorStatistics

__all__ = ["Supervisor"]


@final
class Supervisor:
    """Runs children, restarts them per OTP rules and backoff, and gives up loudly.

    Args:
        name: shown in statistics, events and logs.
        children: specs in start order (names unique).
        strategy: which siblings restart with a child.
        intensity: at most this many counted restarts ...
        period: ... within this many seconds of active time (sliding window), else give up.
        on_event: called with every :class:`RestartEvent`; its exceptions are logged, not fatal.
        history: persists every event across process restarts.
        dependency_errors: more exception types treated like ``DependencyUnavailable``.
        rng: jitter source (a seeded one makes backoff reproducible).
        recent: how many events the in-memory ring buffer keeps.
        cancel_timeout: seconds (> 0) a cancelled child may take to end before the supervisor
            gives up on it and moves on.
        parallel_stop: when the supervisor stops, stop all children at once instead of in
            reverse order (independent siblings, like OTP's ``simple_one_for_one``).
    """

    def __init__(
        self,
        name: str,
        children: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        intensity: int = 3,
        period: float = 5.0,
        on_event: Callable[[RestartEvent], None] | None = None,
        history: HistoryStore | None = None,
        dependency_errors: tuple[type[BaseException], ...] = (),
        rng: random.Random | None = None,
        recent: int = 50,
        cancel_timeout: float = 1.0,
        parallel_stop: bool = False,
    ) -> None:
        if not name:
            raise ValueError("a supervisor needs a name")
        names = [spec.name for spec in children]
        if len(set(names)) != len(names):
            raise ValueError(f"supervisor {name!r}: child names must be unique: {names}")
        if not (cancel_timeout > 0 and math.isfinite(cancel_timeout)):
            # > 0: even a child that ends at once needs the scheduler to run it, and a nested
            # supervisor's grace (its budget) must leave room for its own ordered stop.
            raise ValueError(f"supervisor {name!r}: cancel_timeout must be finite and > 0")
        self.name = name
        self.strategy = Strategy(strategy)
        self.intensity = intensity
        self.period = period
        self.cancel_timeout = cancel_timeout
        self.parallel_stop = parallel_stop
        self._window = RestartIntensity(intensity, period)
        self._specs = tuple(children)
        self._events = Reporter(name, recent=recent, history=history, on_event=on_event)
        self._dependency_errors = dependency_errors
        self._rng = rng if rng is not None else random.Random()
        self._records = [ChildRecord(spec, i) for i, spec in enumerate(self._specs)]
        self._state: SupervisorState = "idle"
        self._running = False
        self._stop_request = StopRequest()
        self._fatal: BaseException | None = None
        self._finished = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._inbox: trio.MemorySendChannel[ChildRun | None] | None = None

    @property
    def children(self) -> tuple[ChildSpec, ...]:
        """The child specs, in start order."""
        return self._specs

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start every child in order, signal readiness, supervise until stopped or giving up.

        A stop requested during the start still signals readiness (so ``nursery.start``
        returns), after the children already started were stopped in order.

        Raises:
            RestartIntensityExceeded: too many restarts in the window; all children stopped.
            BaseException: the error of a child whose *initial* start failed, or the
                ``SystemExit`` (or other non-``Exception``) a child raised; all children
                were stopped in reverse order first.
        """
        await self._run(task_status, None)

    def request_stop(self) -> None:
        """Begin a graceful stop: children in reverse start order, each per its grace."""
        self._stop_request.request()
        if self._inbox is not None:
            self._inbox.send_nowait(None)

    async def stop(self) -> None:
        """Stop gracefully and wait until ``run()`` has returned."""
        self.request_stop()
        if self._running:
            await self._finished.wait()

    def stop_budget(self) -> float:
        """The longest a stop of this supervisor can take: every child using its whole grace
        and ``cancel_timeout`` (one after another, or the longest of them in parallel).

        A nested supervisor's infinite grace (OTP's ``infinity``) counts as its own budget.
        """
        return stop_budget(self._specs, self.cancel_timeout, self.parallel_stop)

    def statistics(self) -> SupervisorStatistics:
        """A frozen snapshot of this supervisor, its children and nested subtrees."""
        try:
            now: float | None = trio.current_time()
        except RuntimeError:
            now = None
        return SupervisorStatistics(
            name=self.name,
            strategy=self.strategy,
            intensity=self.intensity,
            period=self.period,
            state=self._state,
            restarts_in_window=self._window.count(now),
            children=tuple(
                child_statistics(record, now, _nested_statistics(record.spec))
                for record in self._records
            ),
            recent=tuple(self._events.recent),
        )

    # -- the run ------------------------------------------------------------------------------

    async def _run(
        self, task_status: trio.TaskStatus[None], parent_stop: trio.Event | None
    ) -> None:
        if self._running:
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        self._running = True
        self._finished = trio.Event()
        self._fresh_records()
        self._window.clear()
        self._fatal = None
        send, receive = trio.open_memory_channel[ChildRun | None](math.inf)
        self._inbox = send
        failure: BaseException | None = None
        escaped = False
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if parent_stop is not None:
                    nursery.start_soon(self._forward_stop, parent_stop)
                self._state = "starting"
                failure = await self._start_all()
                if failure is None:
                    task_status.started()
                    self._state = "running"
                    failure = await self._supervise(receive)
                # The forwarder, and any child given up on (it ends when it ends).
                nursery.cancel_scope.cancel()
        except BaseException as exc:
            escaped = split_cancelled(exc)[1] is not None
            raise
        finally:
            self._nursery = None
            self._inbox = None
            send.close()
            receive.close()
            for record in self._records:
                self._clear_restart(record)
                if record.state not in ("failed", "ignored"):
                    record.state = "stopped"
            self._state = "failed" if failure is not None or escaped else "stopped"
            self._running = False
            self._stop_request = StopRequest()
            self._finished.set()
        if failure is not None:
            raise failure

    def _fresh_records(self) -> None:
        """A (re)started supervisor begins from its specs, as an OTP restart would."""
        old = {record.spec.name: record for record in self._records}
        self._records = [ChildRecord(spec, i) for i, spec in enumerate(self._specs)]
        for record in self._records:
            record.restarts = old[record.spec.name].restarts
            record.last_error = old[record.spec.name].last_error

    async def _forward_stop(self, parent_stop: trio.Event) -> None:
        await parent_stop.wait()
        self.request_stop()

    async def _start_all(self) -> BaseException | None:
        for record in self._records:
            if self._stop_request.requested:
                break
            failed = await self._start(record)
            if failed is not None:
                # OTP: a failed initial start stops the children already started, then the
                # supervisor itself fails with that reason.
                record.state = "failed"
                record.last_error = error_info(failed, time.time())
                self._emit(record, classify(failed, self._dependency_errors), failed, "escalate")
                return await self._shut_down(failed)
        return None

    async def _start(self, record: ChildRecord) -> BaseException | None:
        """Start one child and wait until it is ready; return what a failed start raised."""
        assert self._nursery is not None
        assert self._inbox is not None
        self._clear_restart(record)
        run = spawn(self._nursery, self._inbox, record)
        await self._stop_request.wait_settled(run)
        return settle(record, run, self.name)

    async def _supervise(
        self, inbox: trio.MemoryReceiveChannel[ChildRun | None]
    ) -> BaseException | None:
        while not self._stop_request.requested and self._fatal is None:
            due = min(
                (r.restart_at for r in self._records if r.restart_at is not None), default=math.inf
            )
            failure: BaseException | None = None
            if due <= trio.current_time():
                failure = await self._restart_due()
            else:
                message: ChildRun | None = None
                with trio.move_on_at(due):
                    message = await inbox.receive()
                if message is not None:
                    failure = await self._on_exit(message)
            if failure is not None:
                return await self._shut_down(failure)
        return await self._shut_down(None)

    async def _shut_down(self, failure: BaseException | None) -> BaseException | None:
        self._state = "stopping"
        await self._stop_all()
        return failure if failure is not None else self._fatal

    async def _on_exit(self, run: ChildRun) -> BaseException | None:
        record = run.record
        if run is not record.run or run.deliberate:
            return None
        record.run = None
        return await self._handle_end(record, run.outcome)

    async def _handle_end(
        self, record: ChildRecord, exc: BaseException | None
    ) -> BaseException | None:
        """Apply the restart type, then strategy and intensity, to one child's end."""
        classification = classify(exc, self._dependency_errors)
        if exc is not None:
            record.last_error = error_info(exc, time.time())
        if classification == "fatal":
            assert exc is not None
            record.state = "failed"
            self._emit(record, classification, exc, "escalate")
            return exc
        if not should_restart(record.spec.restart, classification):
            record.state = "stopped" if classification == "normal" else "failed"
            record.dropped = record.spec.restart is Restart.TEMPORARY
            self._emit(record, classification, exc, "none")
            return None
        return await self._restart(record, classification, exc)

    async def _restart(
        self, record: ChildRecord, classification: Classification, exc: BaseException | None
    ) -> BaseException | None:
        """Schedule ``record`` (and its strategy's siblings) for restart, or give up."""
        now = trio.current_time()
        counted = classification != "dependency"
        if counted and self._window.add(now):
            record.state = "failed"
            self._emit(record, classification, exc, "escalate")
            oldest = self._window.oldest()
            since = now if oldest is None else oldest
            history = [event for event in self._events.recent if event.monotonic >= since]
            return RestartIntensityExceeded(self.name, history)
        delay = record.backoff.next_delay(now, self._rng.random())
        self._emit(record, classification, exc, "restart", delay)
        group = [
            self._records[i]
            for i in affected_indices(self.strategy, record.index, len(self._records))
        ]
        for sibling in reversed(group):
            if sibling.run is None:
                continue
            # Also a sibling that just ended on its own: the group restart covers its exit.
            await self._stop(sibling)
            if sibling.spec.restart is Restart.TEMPORARY:
                sibling.dropped = True
                self._emit(sibling, "shutdown", None, "none")
            else:
                self._emit(sibling, "shutdown", None, "restart", delay)
        if self._fatal is not None:
            return self._fatal
        members = [record, *(s for s in group if not s.dropped)]
        at = max([now + delay, *(m.restart_at for m in members if m.restart_at is not None)])
        for member in members:
            member.restart_at = at
            member.delay = at - now
            member.state = "backoff"
            if counted:
                self._window.hold(member.index, trio.current_time())
        return None

    async def _restart_due(self) -> BaseException | None:
        now = trio.current_time()
        for record in self._records:
            if self._stop_request.requested or self._fatal is not None:
                return None
            if record.dropped or record.restart_at is None or record.restart_at > now:
                continue
            record.restarts += 1
            failed = await self._start(record)
            if failed is not None:
                failure = await self._handle_end(record, failed)
                if failure is not None:
                    return failure
        return None

    def _clear_restart(self, record: ChildRecord) -> None:
        record.restart_at = None
        record.delay = None
        self._window.release(record.index, trio.current_time())

    async def _stop(self, record: ChildRecord) -> None:
        self._clear_restart(record)
        outcome = await stop_record(
            record, self.name, grace=grace_of(record.spec), cancel_timeout=self.cancel_timeout
        )
        if outcome is not None and self._fatal is None and classify(outcome) == "fatal":
            self._fatal = outcome
            self._emit(record, "fatal", outcome, "escalate")

    async def _stop_all(self) -> None:
        if not self.parallel_stop:
            for record in reversed(self._records):
                await self._stop(record)
            return
        async with trio.open_nursery() as nursery:
            for record in self._records:
                nursery.start_soon(self._stop, record)

    # -- events -------------------------------------------------------------------------------

    def _emit(
        self,
        record: ChildRecord,
        classification: Classification,
        exc: BaseException | None,
        action: Action,
        delay: float | None = None,
    ) -> None:
        count = self._window.count(trio.current_time())
        self._events.emit(record.spec.name, classification, exc, action, delay, count)


def _nested_statistics(spec: ChildSpec) -> SupervisorStatistics | None:
    nested = nested_supervisor(spec)
    return None if nested is None else nested.statistics()
