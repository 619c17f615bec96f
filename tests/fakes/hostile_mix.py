"""The hostile-client suite's attack mix: every attacker of ``tests/fakes/hostile.py`` at
once, held while the caller watches the service, every socket closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import trio

from tests.fakes.hostile import (
    HalfOpen,
    WebsocketSwarm,
    h2_prior_knowledge,
    h2c_upgrade,
    open_half_open,
    open_slow_readers,
    open_websocket_swarm,
    post_hostile_tokens,
    rebinding_probes,
    server_sockets,
    status_of,
)

__all__ = ["Mix", "MixReport", "open_hostile_mix"]

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Mix:
    """How much of each: the issue's suite by default."""

    half_open: int = 2000
    """Half-open requests, split between the two listeners."""
    hold: int = 500
    """Sockets the attacker keeps per listener (its own descriptors are finite too)."""
    websockets: int = 200
    slow_readers: int = 50


@dataclass
class MixReport:
    half_open: dict[str, HalfOpen] = field(default_factory=dict)
    swarm: WebsocketSwarm = field(default_factory=WebsocketSwarm)
    slow_readers: int = 0
    tokens: dict[str, int | None] = field(default_factory=dict)
    h2_prior_knowledge: dict[str, int | None] = field(default_factory=dict)
    h2c_upgrade: dict[str, int | None] = field(default_factory=dict)
    rebinding: dict[str, int | None] = field(default_factory=dict)
    peak_server_sockets: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each attacker took to open (on the clock of ``trio.current_time``)."""


async def _holding(
    opener: AbstractAsyncContextManager[T],
    keep: Callable[[T], None],
    done: trio.Event,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with opener as value:
        keep(value)
        task_status.started()
        await done.wait()


async def _timed(report: MixReport, name: str, probe: Awaitable[T]) -> T:
    started = trio.current_time()
    try:
        return await probe
    finally:
        report.seconds[name] = round(trio.current_time() - started, 2)


async def _sample_sockets(
    ports: Mapping[str, int], pid: int | None, report: MixReport, every: float
) -> None:
    while True:
        for name, port in ports.items():
            count = await trio.to_thread.run_sync(server_sockets, [port], pid)
            report.peak_server_sockets[name] = max(report.peak_server_sockets.get(name, 0), count)
        await trio.sleep(every)


@asynccontextmanager
async def open_hostile_mix(
    local_port: int,
    public_port: int,
    mix: Mix = Mix(),
    *,
    server_pid: int | None = None,
    sample_every: float = 0.25,
) -> AsyncIterator[MixReport]:
    """Every attacker at once: half-open requests on both listeners, the websocket swarm and
    the slow readers on the local one, opened concurrently and held while the caller's body
    runs; meanwhile the one-shot probes (hostile tokens on the public listener, HTTP/2 on
    both, DNS rebinding on the local one) run once. Every socket is closed on the way out.
    ``peak_server_sockets`` samples the server process's side of each listener throughout."""
    report = MixReport()
    ports = {"local": local_port, "public": public_port}
    per_listener = mix.half_open // 2
    hold = min(mix.hold, per_listener)

    def keep_half_open(name: str) -> Callable[[HalfOpen], None]:
        return lambda attack: report.half_open.__setitem__(name, attack)

    def keep_swarm(swarm: WebsocketSwarm) -> None:
        report.swarm = swarm

    def keep_readers(streams: list[trio.SocketStream]) -> None:
        report.slow_readers = len(streams)

    openers: dict[str, tuple[AbstractAsyncContextManager[Any], Callable[[Any], None]]] = {
        "half_open_local": (
            open_half_open(local_port, per_listener, hold=hold),
            keep_half_open("local"),
        ),
        "half_open_public": (
            open_half_open(public_port, per_listener, hold=hold),
            keep_half_open("public"),
        ),
        "websockets": (open_websocket_swarm(local_port, mix.websockets), keep_swarm),
        "slow_readers": (open_slow_readers(local_port, mix.slow_readers), keep_readers),
    }
    done = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_sample_sockets, ports, server_pid, report, sample_every)
        try:
            async with trio.open_nursery() as starting:
                for name, (opener, keep) in openers.items():
                    holding = partial(_holding, opener, keep, done)
                    starting.start_soon(_timed, report, name, nursery.start(holding))
                report.tokens = await _timed(report, "tokens", post_hostile_tokens(public_port))
                for name, port in ports.items():
                    report.h2_prior_knowledge[name] = status_of(await h2_prior_knowledge(port))
                    report.h2c_upgrade[name] = status_of(await h2c_upgrade(port))
                report.rebinding = await rebinding_probes(local_port)
            yield report
        finally:
            done.set()
            nursery.cancel_scope.cancel()
