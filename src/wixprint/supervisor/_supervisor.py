"""The supervisor: OTP semantics with per-child Akka-style backoff, as one Trio task.

``run()`` owns a nursery with one wrapper task per child (:mod:`._child`). Children start left
to right, each via ``nursery.start``. Afterwards a single loop handles, one at a time, the
children's ends (reported through an unbounded in-memory inbox) and due restarts, so every
decision is sequential like an OTP supervisor's mailbox. Restarts are scheduled, not slept, so
one child's long backoff never delays handling another child's crash.

Intensity counts every restart decision, including failed restart attempts, except dependency
outages (``DependencyUnavailable``), which wait out their backoff without spending the budget.
When the budget is exceeded, all children stop in reverse start order and ``run()`` raises
:class:`~wixprint.errors.RestartIntensityExceeded`; a parent supervisor sees that as an abnormal
exit of its child and applies its own policy (escalation); see :mod:`._nesting`.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import final

import trio

from wixprint.errors import RestartIntensityExceeded
from wixprint.supervisor._child import ChildRecord, ChildRun, run_child, stop_child
from wixprint.supervisor._events import Action, Classification, RestartEvent
from wixprint.supervisor._history import HistoryStore
from wixprint.supervisor._intensity import RestartIntensity
from wixprint.supervisor._outcome import affected_indices, classify, error_info, should_restart
from wixprint.supervisor._report import deliver, log_event, make_event
from wixprint.supervisor._spec import ChildSpec, Restart, Strategy
from wixprint.supervisor._stats import ChildStatistics, SupervisorState, SupervisorStatistics

__all__ = ["Supervisor"]


@final
class Supervisor:
    """Runs children, restarts them per OTP rules and backoff, and gives up loudly.

    Args:
        name: shown in statistics, events and logs.
        children: specs in start order (names unique).
        strategy: which siblings restart with a child.
        intensity: at most this many counted restarts ...
        period: ... within this many seconds (sliding window), else give up.
        on_event: called with every :class:`RestartEvent`; its exceptions are logged, not fatal.
        history: persists every event across process restarts.
        dependency_errors: more exception types treated like ``DependencyUnavailable``.
        rng: jitter source (a seeded one makes backoff reproducible).
        recent: how many events the in-memory ring buffer keeps.
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
    ) -> None:
        if not name:
            raise ValueError("a supervisor needs a name")
        names = [spec.name for spec in children]
        if len(set(names)) != len(names):
            raise ValueError(f"supervisor {name!r}: child names must be unique: {names}")
        self.name = name
        self.strategy = Strategy(strategy)
        self.intensity = intensity
        self.period = period
        self._window = RestartIntensity(intensity, period)
        self._specs = tuple(children)
        self._on_event = on_event
        self._history = history
        self._dependency_errors = dependency_errors
        self._rng = rng if rng is not None else random.Random()
        self._recent: deque[RestartEvent] = deque(maxlen=recent)
        self._records = [ChildRecord(spec, i) for i, spec in enumerate(self._specs)]
        self._state: SupervisorState = "idle"
        self._running = False
        self._stop_requested = False
        self._finished = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._inbox: trio.MemorySendChannel[ChildRun | None] | None = None
        self._start_scope: trio.CancelScope | None = None

    @property
    def children(self) -> tuple[ChildSpec, ...]:
        """The child specs, in start order."""
        return self._specs

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start every child in order, signal readiness, supervise until stopped or giving up.

        Raises:
            RestartIntensityExceeded: too many restarts in the window; all children stopped.
            Exception: the error of a child whose *initial* start failed (the children
                already started were stopped in reverse order first).
        """
        await self._run(task_status, None)

    def request_stop(self) -> None:
        """Begin a graceful stop: children in reverse start order, each per its grace."""
        self._stop_requested = True
        if self._inbox is not None:
            self._inbox.send_nowait(None)
        if self._start_scope is not None:
            self._start_scope.cancel()

    async def stop(self) -> None:
        """Stop gracefully and wait until ``run()`` has returned."""
        self.request_stop()
        if self._running:
            await self._finished.wait()

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
            restarts_in_window=self._window.count(now if now is not None else -math.inf),
            children=tuple(self._child_statistics(record, now) for record in self._records),
            recent=tuple(self._recent),
        )

    def _child_statistics(self, record: ChildRecord, now: float | None) -> ChildStatistics:
        run = record.run
        uptime = None
        if record.state == "running" and run is not None and run.started_at is not None:
            uptime = None if now is None else now - run.started_at
        nested = getattr(record.spec.fn, "supervisor", None)
        if not isinstance(nested, Supervisor):
            nested = None
        return ChildStatistics(
            name=record.spec.name,
            kind="worker" if nested is None else "supervisor",
            restart=record.spec.restart,
            state=record.state,
            restarts=record.restarts,
            last_error=record.last_error,
            backoff_delay=record.delay if record.state == "backoff" else None,
            uptime=uptime,
            supervisor=None if nested is None else nested.statistics(),
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
        send, receive = trio.open_memory_channel[ChildRun | None](math.inf)
        self._inbox = send
        failure: Exception | None = None
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
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self._inbox = None
            send.close()
            receive.close()
            for record in self._records:
                record.restart_at = None
                if record.state != "failed":
                    record.state = "stopped"
            self._state = "failed" if failure is not None else "stopped"
            self._running = False
            self._stop_requested = False
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

    async def _start_all(self) -> Exception | None:
        for record in self._records:
            if self._stop_requested:
                break
            try:
                await self._start(record)
            except Exception as exc:
                record.state = "failed"
                record.last_error = error_info(exc, time.time())
                self._emit(record, classify(exc, self._dependency_errors), exc, "escalate", None)
                self._state = "stopping"
                await self._stop_all()
                return exc
        return None

    async def _start(self, record: ChildRecord) -> None:
        """Start one child and wait for its ``started()``; its start error propagates."""
        assert self._nursery is not None
        run = ChildRun(record)
        record.run = run
        record.state = "starting"
        record.restart_at = None
        record.delay = None
        with trio.CancelScope() as scope:
            self._start_scope = scope
            if self._stop_requested:
                scope.cancel()
            try:
                await self._nursery.start(run_child, run, self._inbox)
            except BaseException:
                record.run = None
                record.state = "stopped"
                raise
            finally:
                self._start_scope = None
        if run.started_at is None:  # the start was abandoned for a stop request
            return
        record.backoff.started(run.started_at)
        record.state = "running"

    async def _supervise(
        self, inbox: trio.MemoryReceiveChannel[ChildRun | None]
    ) -> Exception | None:
        while not self._stop_requested:
            due = min(
                (r.restart_at for r in self._records if r.restart_at is not None), default=math.inf
            )
            failure: Exception | None = None
            if due <= trio.current_time():
                failure = await self._restart_due()
            else:
                message: ChildRun | None = None
                with trio.move_on_at(due):
                    message = await inbox.receive()
                if message is not None:
                    failure = await self._on_exit(message)
            if failure is not None:
                return failure
        self._state = "stopping"
        await self._stop_all()
        return None

    async def _on_exit(self, run: ChildRun) -> Exception | None:
        record = run.record
        if run is not record.run or run.deliberate:
            return None
        record.run = None
        exc = run.outcome
        classification = classify(exc, self._dependency_errors)
        if exc is not None:
            record.last_error = error_info(exc, time.time())
        if not should_restart(record.spec.restart, classification):
            record.state = "stopped" if classification == "normal" else "failed"
            record.dropped = record.spec.restart is Restart.TEMPORARY
            self._emit(record, classification, exc, "none", None)
            return None
        return await self._restart(record, classification, exc)

    async def _restart(
        self, record: ChildRecord, classification: Classification, exc: BaseException | None
    ) -> Exception | None:
        """Schedule ``record`` (and its strategy's siblings) for restart, or give up."""
        now = trio.current_time()
        if classification != "dependency" and self._window.add(now):
            record.state = "failed"
            self._emit(record, classification, exc, "escalate", None)
            self._state = "stopping"
            await self._stop_all()
            history = [event for event in self._recent if event.monotonic >= now - self.period]
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
                self._emit(sibling, "shutdown", None, "none", None)
            else:
                self._emit(sibling, "shutdown", None, "restart", delay)
        members = [record, *(s for s in group if not s.dropped)]
        at = max([now + delay, *(m.restart_at for m in members if m.restart_at is not None)])
        for member in members:
            member.restart_at = at
            member.delay = at - now
            member.state = "backoff"
        return None

    async def _restart_due(self) -> Exception | None:
        now = trio.current_time()
        for record in self._records:
            if self._stop_requested:
                return None
            if record.dropped or record.restart_at is None or record.restart_at > now:
                continue
            record.restarts += 1
            try:
                await self._start(record)
            except Exception as exc:
                record.last_error = error_info(exc, time.time())
                failure = await self._restart(record, classify(exc, self._dependency_errors), exc)
                if failure is not None:
                    return failure
        return None

    async def _stop(self, record: ChildRecord) -> None:
        run = record.run
        record.restart_at = None
        record.delay = None
        if run is None:
            if record.state != "failed":
                record.state = "stopped"
            return
        record.state = "stopping"
        await stop_child(run, self.name)
        if run.outcome is not None:
            record.last_error = error_info(run.outcome, time.time())
        record.run = None
        record.state = "stopped"

    async def _stop_all(self) -> None:
        for record in reversed(self._records):
            await self._stop(record)

    # -- events -------------------------------------------------------------------------------

    def _emit(
        self,
        record: ChildRecord,
        classification: Classification,
        exc: BaseException | None,
        action: Action,
        delay: float | None,
    ) -> None:
        now = trio.current_time()
        event = make_event(
            self.name,
            record.spec.name,
            classification,
            exc,
            action,
            delay,
            monotonic=now,
            restarts_in_window=self._window.count(now),
        )
        self._recent.append(event)
        log_event(event, exc)
        if self._history is not None:
            self._history.record(event)
        if self._on_event is not None:
            deliver(event, self._on_event)
