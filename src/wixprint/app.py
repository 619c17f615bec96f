"""Builds the supervision tree from the configuration and wires the actors' handles.

```
root            rest_for_one   (the spool first: if it restarts, everything after it restarts)
├── spool
└── services    one_for_one
    ├── alerter      first: subscribed before anything can report a problem
    ├── clock        is the wall clock true? records the first start from a true time
    ├── connectivity
    ├── fetcher
    ├── printers     one_for_one, printer:<name> per [[printers]] entry
    ├── monitor
    ├── web
    └── watchdog     starts last: READY=1 means the whole tree is up
```
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio

from wixprint.actors.alerter import run_alerter
from wixprint.actors.clock import run_clock
from wixprint.actors.connectivity import run_connectivity
from wixprint.actors.context import ActorContext, Doorbell
from wixprint.actors.fetcher import run_fetcher
from wixprint.actors.monitor import run_monitor
from wixprint.actors.printer import run_printer
from wixprint.actors.spool import run_spool
from wixprint.actors.watchdog import run_watchdog
from wixprint.actors.web import run_web
from wixprint.config import Config
from wixprint.events import ActorRestarted, Event
from wixprint.printing.base import Transport
from wixprint.printing.factory import make_transport
from wixprint.supervisor import (
    Backoff,
    Bus,
    ChildSpec,
    HistoryStore,
    RestartEvent,
    Strategy,
    Supervisor,
    statistics_to_json,
    supervisor_spec,
)
from wixprint.web.metrics import Metrics

PRINTER_STOP_GRACE = 10.0
"""A printer mid-job gets this long to collect its proof before it is cancelled."""
CANCEL_TIMEOUT = 0.25
"""Seconds a cancelled actor may take to unwind (a SQLite statement, closing a socket); after
that its supervisor logs it and moves on. Part of every child's share of the stop budget."""


@dataclass
class ServiceOptions:
    """Knobs for the demo and the tests; production uses the defaults."""

    environ: Mapping[str, str] = field(default_factory=dict)
    wall: Callable[[], float] = time.time
    echo: Callable[[str], None] | None = None
    transports: dict[str, Transport] | None = None
    history: HistoryStore | None = None
    with_monitor: bool = True
    with_watchdog: bool = True
    exit_reason: str = ""
    """Set by ``runner.serve`` when the service ends: why (the demo says it)."""
    hard_exit: Callable[[int], object] = os._exit
    """The last resort when a stop cannot finish (a task stuck in a worker thread)."""


def build_context(config: Config, options: ServiceOptions) -> ActorContext:
    state_dir = Path(config.service.state_dir)
    transports = options.transports or {
        p.name: make_transport(p, state_dir=state_dir, echo=options.echo) for p in config.printers
    }
    bus: Bus[Event] = Bus()
    from wixprint.health import HealthRegistry

    ctx = ActorContext(
        config=config,
        bus=bus,
        health=HealthRegistry(),
        metrics=Metrics(),
        transports=transports,
        wall=options.wall,
    )
    ctx.doorbells.update({p.name: Doorbell() for p in config.printers})
    ctx.history = options.history
    return ctx


def build_tree(ctx: ActorContext, options: ServiceOptions) -> Supervisor:
    def on_event(event: RestartEvent) -> None:
        # The supervisor library logs every decision itself; here we only publish.
        if event.error_type in ("SpoolError", "SpoolUnwritable"):
            ctx.spool_check.ring()  # the spool actor confirms and reports "down" with why
        if event.action == "restart":
            ctx.publish(
                ActorRestarted(
                    at=ctx.wall(),
                    actor=event.child,
                    error_type=event.error_type or "",
                    message=event.message or "",
                    restarts=event.restarts_in_window,
                    delay=event.delay or 0.0,
                )
            )

    printers = Supervisor(
        "printers",
        [
            ChildSpec(
                name=f"printer:{p.name}",
                fn=partial(run_printer, ctx, p),
                shutdown=PRINTER_STOP_GRACE,
                backoff=Backoff(min_delay=0.05, max_delay=30.0),
            )
            for p in ctx.config.printers
        ],
        strategy=Strategy.ONE_FOR_ONE,
        intensity=10,
        period=60.0,
        on_event=on_event,
        history=options.history,
        cancel_timeout=CANCEL_TIMEOUT,
        # Printers are independent: each gets its whole grace at the same time, so the stop
        # budget does not grow with the number of printers.
        parallel_stop=True,
    )
    services_children = [
        # The alerter first: it must be subscribed before anything can go wrong (a rejected
        # Wix key is reported by the fetcher's very first poll).
        ChildSpec(name="alerter", fn=partial(run_alerter, ctx)),
        # Before the fetcher: it records the first start, which intake waits for.
        ChildSpec(name="clock", fn=partial(run_clock, ctx)),
        ChildSpec(name="connectivity", fn=partial(run_connectivity, ctx)),
        ChildSpec(name="fetcher", fn=partial(run_fetcher, ctx), shutdown=2.0),
        supervisor_spec(printers),
    ]
    if options.with_monitor:
        services_children.append(ChildSpec(name="monitor", fn=partial(run_monitor, ctx)))
    services_children.append(ChildSpec(name="web", fn=partial(run_web, ctx), shutdown=3.0))
    if options.with_watchdog:
        services_children.append(
            ChildSpec(name="watchdog", fn=partial(run_watchdog, ctx, options.environ))
        )
    services = Supervisor(
        "services",
        services_children,
        strategy=Strategy.ONE_FOR_ONE,
        intensity=10,
        period=60.0,
        on_event=on_event,
        history=options.history,
        cancel_timeout=CANCEL_TIMEOUT,
    )
    root = Supervisor(
        "root",
        [
            # Stopped last: it only closes the database once everything else is down.
            ChildSpec(name="spool", fn=partial(run_spool, ctx), shutdown=2.0),
            supervisor_spec(services),
        ],
        strategy=Strategy.REST_FOR_ONE,
        intensity=3,
        period=60.0,
        on_event=on_event,
        history=options.history,
        cancel_timeout=CANCEL_TIMEOUT,
    )
    ctx.tree_status = lambda: statistics_to_json(root.statistics())
    return root


@dataclass
class Service:
    """One running service: the context and the root supervisor."""

    ctx: ActorContext
    root: Supervisor

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the tree (ready when every actor is) and run until stopped or given up.

        Raises:
            RestartIntensityExceeded: the root supervisor gave up.
        """
        await self.root.run(task_status=task_status)

    async def stop(self) -> None:
        await self.root.stop()


def create_service(config: Config, options: ServiceOptions | None = None) -> Service:
    opts = options or ServiceOptions()
    ctx = build_context(config, opts)
    return Service(ctx, build_tree(ctx, opts))
