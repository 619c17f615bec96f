"""A test deadline on the virtual clock that a busy loop cannot escape.

``trio.fail_after`` counts virtual time, and the clock jumps only when every task waits. A
task that loops without ever waiting (a status poll answered at once, again and again, or a
wait that ends the moment it starts) keeps virtual time standing: that deadline never comes
and the test hangs. :func:`fail_after` also fails once the tasks have taken ``steps`` steps
at one virtual instant. The steps of every task in the run count (the fake printer's and the
test's too, not only the code under test). The printing tests take at most 125 steps at
one instant (measured 2026-12-07 over ``test_printing_truth``, ``_slow_proof``,
``_network``, ``_network_edges``, ``_local`` and ``_fake``): :data:`STEPS` is 800 times
that, so a legitimate burst does not trip it, and a loop that never lets time pass trips
it after a few seconds of real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio
import trio.lowlevel

STEPS = 100_000


class _StandingClock(trio.abc.Instrument):
    """Cancels ``scope`` when the tasks take more than ``steps`` steps at one instant."""

    def __init__(self, scope: trio.CancelScope, steps: int) -> None:
        self.scope = scope
        self.steps = steps
        self.at = trio.current_time()
        self.taken = 0
        self.tripped = False

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        now = trio.current_time()
        if now != self.at:
            self.at, self.taken = now, 0
            return
        self.taken += 1
        if self.taken > self.steps and not self.tripped:
            self.tripped = True
            self.scope.cancel()


@contextmanager
def fail_after(seconds: float, *, steps: int = STEPS) -> Iterator[None]:
    """Like :func:`trio.fail_after` (virtual ``seconds``), and also fail when virtual time
    stands still for ``steps`` task steps: some task loops without waiting."""
    with trio.fail_after(seconds) as scope:
        clock = _StandingClock(scope, steps)
        trio.lowlevel.add_instrument(clock)
        try:
            yield
        finally:
            trio.lowlevel.remove_instrument(clock)
            if clock.tripped:
                raise trio.TooSlowError(f"virtual time stood still for {steps} task steps")
