"""Properties over random supervision trees, on the virtual clock.

Charter: see ``test_supervisor_core.py``. Each example builds a random tree (strategies,
restart types, graces, start delays, crash times, cleanups that fail, nested supervisors),
runs it with ``trio.run`` on a ``MockClock``, requests a stop at a random moment, and checks
what must hold whatever happens:

* the supervisor never dies of a child's error: ``run()`` returns after the stop or raises
  ``RestartIntensityExceeded``, nothing else;
* every graceful stop gives each child its grace: no child instance is ever cancelled
  before its stop request plus its grace (stops are always request, grace, cancel);
* a stop ends within the tree's :meth:`~wixprint.supervisor.Supervisor.stop_budget`;
* escalation happens exactly when the documented rule says (a sliding window of
  ``intensity`` counted restarts in ``period`` seconds of *active* time: time in which no
  child waits out a counted restart's backoff), re-derived here from what can be observed:
  the decisions (events) and the times children started;
* whether a crash loop escalates never depends on the backoff's jitter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.supervisor.supervisor_helpers import Boom
from wixprint.errors import DependencyUnavailable, RestartIntensityExceeded
from wixprint.supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    RestartEvent,
    Strategy,
    Supervisor,
    current_child,
    supervisor_spec,
)

Kind = Literal["run", "crash", "return", "dep", "fail_start", "ignore"]
EPS = 1e-6


@dataclass(frozen=True)
class Plan:
    """What one start of a child does."""

    kind: Kind
    startup: float
    after: float
    cleanup: float | None
    """Seconds of cleanup once asked to stop; None: ignores the request (only a cancel)."""
    cleanup_fails: bool
    """An inner task raises when cancelled: the child ends with [Cancelled, Boom]."""


@dataclass
class Instance:
    """What one start of a child did, as the child saw it."""

    began: float
    started: float | None = None
    stop_seen: float | None = None
    cancelled: float | None = None
    ending: bool = False


@dataclass
class Worker:
    name: str
    plans: list[Plan]
    restart: Restart
    grace: float
    instances: list[Instance] = field(default_factory=list)

    def spec(self, backoff: Backoff) -> ChildSpec:
        return ChildSpec(
            self.name, self, restart=self.restart, shutdown=self.grace, backoff=backoff
        )

    async def __call__(self, *, task_status: trio.TaskStatus[None]) -> None:
        n = len(self.instances)
        plan = self.plans[n] if n < len(self.plans) else Plan("run", 0.0, 0.0, 0.5, False)
        me = Instance(began=trio.current_time())
        self.instances.append(me)
        try:
            await self._run(plan, me, task_status)
        except BaseException as exc:
            # A Cancelled gets this far only when the supervisor (or its parent) cancelled us.
            if _holds_cancelled(exc):
                me.cancelled = trio.current_time()
                if me.stop_seen is None and current_child().stop_requested.is_set():
                    me.stop_seen = me.cancelled  # grace 0: cancelled before the watcher ran
            raise

    async def _run(self, plan: Plan, me: Instance, task_status: trio.TaskStatus[None]) -> None:
        async with trio.open_nursery() as inner:
            if plan.cleanup_fails:
                inner.start_soon(self._fail_when_cancelled, me)
            body = trio.CancelScope()
            inner.start_soon(self._watch_stop, me, body, plan.cleanup is not None)
            with body:
                await self._body(plan, me, task_status)
            if body.cancelled_caught and plan.cleanup is not None:
                await trio.sleep(plan.cleanup)
                if plan.cleanup_fails:
                    raise Boom(f"{self.name} cleanup failed")
            me.ending = True
            inner.cancel_scope.cancel()

    async def _body(self, plan: Plan, me: Instance, task_status: trio.TaskStatus[None]) -> None:
        await trio.sleep(plan.startup)
        if plan.kind == "fail_start":
            raise Boom(f"{self.name} could not start")
        if plan.kind == "ignore":
            return
        task_status.started()
        me.started = trio.current_time()
        if plan.kind == "run":
            await trio.sleep_forever()
        await trio.sleep(plan.after)
        if plan.kind == "crash":
            raise Boom(f"{self.name} crashed")
        if plan.kind == "dep":
            raise DependencyUnavailable(f"{self.name} lost its dependency")

    @staticmethod
    async def _watch_stop(me: Instance, body: trio.CancelScope, honours: bool) -> None:
        await current_child().wait_stop_requested()
        me.stop_seen = trio.current_time()
        if honours:
            body.cancel()

    @staticmethod
    async def _fail_when_cancelled(me: Instance) -> None:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            if not me.ending:
                raise Boom("cleanup failed while cancelled") from None
            raise


def _holds_cancelled(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(trio.Cancelled)[0] is not None
    return isinstance(exc, trio.Cancelled)


# -- strategies --------------------------------------------------------------------------------

seconds = st.floats(min_value=0.01, max_value=8.0, allow_nan=False)


@st.composite
def plans(draw: st.DrawFn, *, first: bool, crashy: bool = False) -> Plan:
    kinds: list[Kind] = ["run", "crash", "return", "dep", "ignore"]
    if crashy:  # crash loops: mostly crashes, rarely settling down
        crashes: list[Kind] = ["crash"] * 6
        kinds = [*crashes, "return", "dep", "run"]
    if not first:  # a failed *initial* start fails the supervisor by design (OTP)
        kinds.append("fail_start")
    return Plan(
        kind=draw(st.sampled_from(kinds)),
        startup=draw(st.one_of(st.just(0.0), seconds)),
        after=draw(seconds),
        cleanup=draw(st.one_of(st.none(), st.just(0.0), seconds)),
        cleanup_fails=draw(st.booleans()),
    )


@st.composite
def workers(draw: st.DrawFn, name: str, *, crashy: bool = False) -> Worker:
    first = draw(plans(first=True, crashy=crashy))
    rest = draw(st.lists(plans(first=False, crashy=crashy), max_size=16 if crashy else 6))
    restarts = [Restart.PERMANENT] * 3 + [Restart.TRANSIENT] if crashy else list(Restart)
    return Worker(
        name=name,
        plans=[first, *rest],
        restart=draw(st.sampled_from(restarts)),
        grace=draw(st.one_of(st.just(0.0), seconds)),
    )


@dataclass
class Tree:
    root: Supervisor
    workers: list[Worker]
    stop_at: float


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    all_workers: list[Worker] = []
    counter = iter(range(1000))

    def backoff() -> Backoff:
        low = draw(st.floats(min_value=0.05, max_value=2.0))
        return Backoff(
            min_delay=low,
            max_delay=low * draw(st.sampled_from([1.0, 4.0, 16.0])),
            random_factor=draw(st.floats(min_value=0.0, max_value=1.0)),
            reset_after=draw(st.floats(min_value=1.0, max_value=30.0)),
        )

    def supervisor(depth: int) -> Supervisor:
        specs: list[ChildSpec] = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            if depth < 2 and draw(st.integers(min_value=0, max_value=3)) == 0:
                specs.append(supervisor_spec(supervisor(depth + 1), backoff=backoff()))
            else:
                worker = draw(workers(f"w{next(counter)}"))
                all_workers.append(worker)
                specs.append(worker.spec(backoff()))
        return Supervisor(
            f"s{next(counter)}",
            specs,
            strategy=draw(st.sampled_from(list(Strategy))),
            intensity=draw(st.integers(min_value=0, max_value=6)),
            period=draw(st.floats(min_value=1.0, max_value=30.0)),
            rng=random.Random(draw(st.integers(min_value=0, max_value=2**16))),
            cancel_timeout=draw(st.floats(min_value=0.001, max_value=1.0)),
            parallel_stop=draw(st.booleans()),
            recent=10_000,
        )

    root = supervisor(0)
    return Tree(root, all_workers, stop_at=draw(st.floats(min_value=0.0, max_value=60.0)))


# -- running a tree ----------------------------------------------------------------------------


@dataclass
class Outcome:
    error: BaseException | None
    stop_requested: float | None
    ended: float


def run_tree(tree: Tree) -> Outcome:
    result: list[Outcome] = []

    async def main() -> None:
        error: BaseException | None = None
        requested: float | None = None
        async with trio.open_nursery() as nursery:

            async def stopper() -> None:
                nonlocal requested
                await trio.sleep(tree.stop_at)
                requested = trio.current_time()
                tree.root.request_stop()

            nursery.start_soon(stopper)
            try:
                with trio.fail_after(100_000):
                    await tree.root.run()
            except Exception as exc:
                error = exc
            nursery.cancel_scope.cancel()
        result.append(Outcome(error, requested, trio.current_time()))

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    return result[0]


PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(trees())
def test_random_trees_contain_failures_and_stop_gracefully_within_budget(tree: Tree) -> None:
    budget = tree.root.stop_budget()
    outcome = run_tree(tree)
    # Never dies of a child's error.
    assert outcome.error is None or isinstance(outcome.error, RestartIntensityExceeded), repr(
        outcome.error
    )
    assert tree.root.statistics().state == ("stopped" if outcome.error is None else "failed")
    # Every stop is graceful: a child is cancelled only after its stop request and grace.
    for worker in tree.workers:
        for instance in worker.instances:
            if instance.cancelled is None:
                continue
            assert instance.stop_seen is not None, (worker.name, instance)
            assert instance.cancelled >= instance.stop_seen + worker.grace - EPS, (
                worker.name,
                worker.grace,
                instance,
            )
    # A requested stop ends within the tree's budget.
    if outcome.error is None and outcome.stop_requested is not None:
        assert outcome.ended - outcome.stop_requested <= budget + EPS


# -- the escalation rule, re-derived from observations ----------------------------------------


def predicted_escalation(
    events: list[RestartEvent], starts: dict[str, list[float]], intensity: int, period: float
) -> int | None:
    """Index (among the counted decisions) of the one the rule says must escalate.

    A counted decision (a restart or give-up that is not a dependency outage) of child c at
    time t stops the clock from t until c's next start. A decision's active time is its
    time minus the stopped time before it; it exceeds the intensity when more than
    ``intensity`` counted decisions lie within ``period`` of active time up to it. (One
    for one: the n-th restart of c is followed by c's start number n + 1, if any.)
    """
    pauses: list[tuple[float, float]] = []
    actives: list[float] = []
    restarts = dict.fromkeys(starts, 0)
    k = -1
    for event in events:
        if event.action == "none":
            continue
        restarts[event.child] += 1  # every restart, counted or not, starts the child again
        if event.classification == "dependency":
            continue
        k += 1
        t = event.monotonic
        stopped = sum(max(0.0, min(end, t) - begin) for begin, end in _union(pauses))
        actives.append(t - stopped)
        window = [a for a in actives if a >= actives[-1] - period]
        if any(abs(a - (actives[-1] - period)) < EPS for a in actives):
            raise Ambiguous
        if len(window) > intensity:
            return k
        later = starts[event.child][restarts[event.child] :]
        pauses.append((t, later[0] if later else math.inf))
    return None


class Ambiguous(Exception):
    """A restart sits on the window's edge to within float noise: no prediction."""


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


@PROPERTIES
@given(
    st.lists(workers("w", crashy=True), min_size=1, max_size=4),
    st.integers(min_value=1, max_value=8),
    st.floats(min_value=1.0, max_value=40.0),
    st.floats(min_value=0.5, max_value=5.0),
    st.floats(min_value=0.05, max_value=1.0),
    st.integers(min_value=0, max_value=2**16),
)
def test_escalation_happens_exactly_when_the_documented_rule_says(
    made: list[Worker], intensity: int, period: float, low: float, jitter: float, seed: int
) -> None:
    for i, worker in enumerate(made):
        worker.name = f"w{i}"
    backoff = Backoff(min_delay=low, max_delay=30.0, random_factor=jitter, reset_after=60.0)
    root = Supervisor(
        "root",
        [w.spec(backoff) for w in made],
        intensity=intensity,
        period=period,
        rng=random.Random(seed),
        recent=10_000,
    )
    outcome = run_tree(Tree(root, made, stop_at=600.0))
    events = list(root.statistics().recent)
    starts = {w.name: [i.began for i in w.instances] for w in made}
    try:
        predicted = predicted_escalation(events, starts, intensity, period)
    except Ambiguous:
        return
    counted = [e for e in events if e.action != "none" and e.classification != "dependency"]
    escalated = [k for k, e in enumerate(counted) if e.action == "escalate"]
    if predicted is None:
        assert escalated == []
        assert outcome.error is None
    else:
        assert escalated == [predicted] == [len(counted) - 1]
        assert isinstance(outcome.error, RestartIntensityExceeded)


@settings(PROPERTIES, max_examples=60)
@given(
    st.floats(min_value=0.05, max_value=15.0),
    st.integers(min_value=1, max_value=10),
    st.floats(min_value=5.0, max_value=60.0),
    st.integers(min_value=0, max_value=2**16),
    st.integers(min_value=0, max_value=2**16),
)
def test_whether_a_crash_loop_escalates_never_depends_on_the_jitter(
    uptime: float, intensity: int, period: float, seed_a: int, seed_b: int
) -> None:
    def run(seed: int) -> tuple[bool, int | None]:
        crash = Plan("crash", 0.0, uptime, None, False)
        worker = Worker("w", [crash] * 200, Restart.PERMANENT, 0.0)
        backoff = Backoff(min_delay=0.05, max_delay=30.0, random_factor=1.0)
        root = Supervisor(
            "root",
            [worker.spec(backoff)],
            intensity=intensity,
            period=period,
            rng=random.Random(seed),
        )
        # Escalation, if due, comes by the (intensity + 1)-th crash: watch twice as long.
        horizon = 2 * (intensity + 1) * (uptime + backoff.max_delay * 1.2)
        outcome = run_tree(Tree(root, [worker], stop_at=horizon))
        escalated = outcome.error is not None
        return escalated, len(worker.instances) if escalated else None

    if abs(intensity * uptime - period) < 1e-3:
        return  # on the edge: float noise decides, as it would without any jitter
    escalated, starts = run(seed_a)
    assert (escalated, starts) == run(seed_b)
    assert escalated == (intensity * uptime <= period)
    if escalated:
        assert starts == intensity + 1
