"""Scripted children and a time-stamped log for the supervision tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import trio

from wixprint.errors import DependencyUnavailable
from wixprint.supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    Supervisor,
    SupervisorStatistics,
    current_child,
)

Step = Literal["run", "crash", "return", "fail_start", "dep", "healthy_crash"]

# Exact delays on the virtual clock: 1, 2, 4, 8, 8, ... seconds.
EXACT = Backoff(min_delay=1.0, max_delay=8.0, random_factor=0.0, reset_after=1000.0)


class Boom(Exception):
    """A bug in a child."""


class Log:
    """``(trio time, text)`` entries in the order things happened."""

    def __init__(self) -> None:
        self.entries: list[tuple[float, str]] = []
        self._changed = trio.Event()

    def __call__(self, text: str) -> None:
        self.entries.append((trio.current_time(), text))
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, text: str) -> None:
        """Return once ``text`` was logged."""
        while text not in self.texts():
            await self._changed.wait()

    def texts(self) -> list[str]:
        return [text for _, text in self.entries]

    def times(self, text: str) -> list[float]:
        return [t for t, entry in self.entries if entry == text]

    def after(self, t: float) -> list[tuple[float, str]]:
        return [(at, text) for at, text in self.entries if at >= t]


class Scripted:
    """A child whose n-th start follows ``script[n]``; past the script it runs until stopped.

    Steps: ``run`` (until stopped), ``crash``/``dep``/``return``/``healthy_crash`` after
    ``after`` seconds of uptime, ``fail_start`` (raises before ``started()``).
    ``cleanup=None`` ignores the stop request (only cancellation ends it); a number honours
    it, cleaning up for that many seconds.
    """

    def __init__(
        self,
        log: Log,
        name: str,
        script: Sequence[Step] = (),
        *,
        after: float = 0.0,
        startup: float = 0.0,
        cleanup: float | None = None,
    ) -> None:
        self.log = log
        self.name = name
        self.script = list(script)
        self.after = after
        self.startup = startup
        self.cleanup = cleanup
        self.starts = 0

    def spec(
        self,
        *,
        restart: Restart = Restart.PERMANENT,
        shutdown: float = 0.0,
        backoff: Backoff = EXACT,
    ) -> ChildSpec:
        return ChildSpec(self.name, self, restart=restart, shutdown=shutdown, backoff=backoff)

    async def __call__(self, *, task_status: trio.TaskStatus[None]) -> None:
        step = self.script[self.starts] if self.starts < len(self.script) else "run"
        self.starts += 1
        self.log(f"{self.name} start")
        if self.startup:
            await trio.sleep(self.startup)
        if step == "fail_start":
            raise Boom(f"{self.name} could not start")
        task_status.started()
        self.log(f"{self.name} up")
        try:
            if step == "run":
                if self.cleanup is None:
                    await trio.sleep_forever()
                await current_child().wait_stop_requested()
                await trio.sleep(self.cleanup)
                self.log(f"{self.name} cleaned")
                return
            await trio.sleep(self.after)
            if step == "healthy_crash":
                current_child().mark_healthy()
                raise Boom(f"{self.name} crashed after being healthy")
            if step == "crash":
                raise Boom(f"{self.name} crashed")
            if step == "dep":
                raise DependencyUnavailable(f"{self.name} lost its dependency")
        except trio.Cancelled:
            self.log(f"{self.name} cancelled")
            raise
        finally:
            self.log(f"{self.name} down")


async def statistics_at(
    sup: Supervisor, at: float, *, before_stop: Callable[[], object] = lambda: None
) -> SupervisorStatistics:
    """Run ``sup``, take its statistics at virtual time ``at``, call ``before_stop``, stop it."""
    with trio.fail_after(at + 600):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep_until(at)
            stats = sup.statistics()
            before_stop()
            await sup.stop()
    return stats


async def run_until(sup: Supervisor, stop_at: float) -> None:
    """Run ``sup`` until virtual time ``stop_at``, then stop it gracefully.

    The absolute deadline turns a hang into ``TooSlowError`` instead of a stuck test.
    """
    with trio.fail_after(stop_at + 600):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep_until(stop_at)
            await sup.stop()


class FailsWhileCancelled:
    """A child whose inner helper task raises while it is being cancelled.

    Under strict exception groups the child then ends with
    ``BaseExceptionGroup([Cancelled, Boom])``: the case ``except Exception`` cannot catch.
    ``cleanup`` seconds (if given) are spent honouring a stop request before it returns.
    """

    def __init__(
        self, log: Log, name: str, *, startup: float = 0.0, cleanup: float | None = None
    ) -> None:
        self.log = log
        self.name = name
        self.startup = startup
        self.cleanup = cleanup
        self.starts = 0

    def spec(self, *, restart: Restart = Restart.PERMANENT, shutdown: float = 0.0) -> ChildSpec:
        return ChildSpec(self.name, self, restart=restart, shutdown=shutdown, backoff=EXACT)

    async def __call__(self, *, task_status: trio.TaskStatus[None]) -> None:
        self.starts += 1
        self.log(f"{self.name} start")
        async with trio.open_nursery() as inner:
            inner.start_soon(self._guard)
            if self.startup:
                await trio.sleep(self.startup)
            task_status.started()
            self.log(f"{self.name} up")
            if self.cleanup is None:
                await trio.sleep_forever()
            await current_child().wait_stop_requested()
            await trio.sleep(self.cleanup)
            self.log(f"{self.name} cleaned")
            inner.cancel_scope.cancel()

    async def _guard(self) -> None:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            self.log(f"{self.name} cleanup failed")
            raise Boom(f"{self.name} cleanup failed") from None


class Raises:
    """A child that starts, runs ``after`` seconds, then raises ``exc`` (any BaseException)."""

    def __init__(self, log: Log, name: str, exc: BaseException, *, after: float) -> None:
        self.log = log
        self.name = name
        self.exc = exc
        self.after = after

    def spec(self, *, shutdown: float = 0.0) -> ChildSpec:
        return ChildSpec(self.name, self, shutdown=shutdown, backoff=EXACT)

    async def __call__(self, *, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(self.after)
        self.log(f"{self.name} raises")
        raise self.exc
