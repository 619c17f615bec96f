"""Supervisors as children of supervisors: the tree.

A nested supervisor is an ordinary child whose readiness is its whole subtree's and whose
graceful stop is its own ordered stop. When it gives up (``RestartIntensityExceeded``) its
parent sees an abnormal exit and applies its own restart type, strategy and intensity, so
failures climb one level at a time (supervision.md §6.4).

Its default grace is OTP's ``infinity``, which here means "as long as its own stop can take":
every stop below is bounded, so the subtree's :meth:`~Supervisor.stop_budget` is the grace,
and a tree's worst-case stop time adds up from the leaves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, final

import trio

from wixprint.supervisor._backoff import Backoff
from wixprint.supervisor._handle import current_child
from wixprint.supervisor._spec import ChildSpec, Restart
from wixprint.supervisor._stats import SupervisorStatistics


class Supervisor(Protocol):
    """What nesting needs of a supervisor (``_supervisor.Supervisor`` imports this module)."""

    name: str

    def stop_budget(self) -> float: ...

    def statistics(self) -> SupervisorStatistics: ...

    async def _run(self, task_status: trio.TaskStatus[None], stop: trio.Event) -> None: ...


__all__ = ["SupervisorRunner", "grace_of", "nested_supervisor", "stop_budget", "supervisor_spec"]


@final
class SupervisorRunner:
    """The ``fn`` of a nested supervisor's child spec (see :func:`supervisor_spec`)."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    async def __call__(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        # The parent's graceful stop becomes this supervisor's own ordered, graceful stop.
        await self.supervisor._run(task_status, current_child().stop_requested)


def supervisor_spec(
    sup: Supervisor,
    *,
    restart: Restart = Restart.PERMANENT,
    shutdown: float = math.inf,
    backoff: Backoff | None = None,
) -> ChildSpec:
    """A child spec that runs ``sup`` as a subtree of another supervisor.

    Its readiness is the subtree's (every grandchild started); its default ``shutdown`` waits
    for the whole subtree to stop in order, as OTP's ``infinity`` for supervisor children.
    """
    return ChildSpec(
        name=sup.name,
        fn=SupervisorRunner(sup),
        restart=restart,
        shutdown=shutdown,
        backoff=backoff if backoff is not None else Backoff(),
    )


def nested_supervisor(spec: ChildSpec) -> Supervisor | None:
    """The supervisor a :func:`supervisor_spec` child runs, None for a worker."""
    return spec.fn.supervisor if isinstance(spec.fn, SupervisorRunner) else None


def grace_of(spec: ChildSpec) -> float:
    """The child's grace on stop; a nested supervisor's infinite one is its stop budget."""
    if math.isfinite(spec.shutdown):
        return spec.shutdown
    nested = nested_supervisor(spec)
    return math.inf if nested is None else nested.stop_budget()


def stop_budget(specs: Sequence[ChildSpec], cancel_timeout: float, parallel: bool) -> float:
    """Each child's grace plus ``cancel_timeout``: summed, or the longest in parallel."""
    costs = [grace_of(spec) + cancel_timeout for spec in specs]
    if not costs:
        return 0.0
    return max(costs) if parallel else sum(costs)
