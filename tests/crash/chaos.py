"""Shared pieces of the chaos tests: configuration, the order stream, fault arming, a service
runner that restarts the process-level root like systemd would, and the drain wait.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import trio

from tests.crash.ledger import (
    MAX_COPIES,
    ExpectedOrder,
    LedgerReport,
    compare,
    printed_tickets,
)
from tests.fakes.fake_printer import FakePrinter
from tests.integration.harness import EPOCH, VirtualWall, config_text
from wixprint.app import Service, ServiceOptions, create_service
from wixprint.config import Config
from wixprint.config.rules import MAX_PREORDER_LEAD
from wixprint.runner import gave_up
from wixprint.sim.shop import FakeWixShop
from wixprint.supervisor import SupervisorStatistics, faults

MAX_GIVE_UPS = 5
"""Root give-ups tolerated in one run (systemd's StartLimitBurst); more is a crash loop."""

BASE_PROBABILITY: Mapping[str, float] = {
    # per hit; scaled to how often each point is reached, so restarts stay within intensity
    "fetcher.after_fetch": 0.03,
    "spool.after_commit": 0.004,
    "printer.before_send": 0.02,
    "printer.mid_send": 0.02,
    "printer.after_send": 0.02,
    "alerter.before_send": 0.2,
    "web.webhook": 0.1,
}


def chaos_config(
    tmp: Path,
    shop_url: str,
    printers: Mapping[str, int],
    *,
    smtp_port: int | None = None,
    public_pem: str = "",
    poll_interval: float = 2.0,
    overlap: float = 60.0,
    http_port: int = 0,
) -> str:
    """The harness configuration with a short poll overlap (a long stream stays cheap).

    Pre-orders print a week ahead (the longest lead): the sample orders are due days after
    the rig's virtual "now", and held orders have suites of their own; the ledger counts the
    tickets an order gets once released (``ledger.EVENTUALLY``).
    """
    text = config_text(
        tmp,
        shop_url,
        dict(printers),
        smtp_port=smtp_port,
        public_pem=public_pem,
        extra="\n[alerts]\nprinter_offline_after = 30\nrestarts_alert_after = 2\n"
        f"\n[layout]\npreorder_lead = {MAX_PREORDER_LEAD}\n",
    )
    text = text.replace(
        "poll_interval = 2.0\n", f"poll_interval = {poll_interval}\noverlap = {overlap}\n", 1
    )
    # Virtual seconds, as generous as the senders' own timeouts: hypercorn's read timeout
    # runs while a request is handled, and the mock clock leaps while a thread commits.
    text = text.replace(
        'admin_token = "test-admin"\n', 'admin_token = "test-admin"\n' + "read_timeout = 120.0\n", 1
    )
    return text.replace("port = 0\n", f"port = {http_port}\n", 1)


def wall_now() -> datetime:
    """The service's wall clock (virtual under a mock clock) as a datetime."""
    return datetime.fromtimestamp(EPOCH + trio.current_time(), UTC)


def raw_orders(shop: FakeWixShop) -> list[dict[str, object]]:
    found = (shop.order(order_id) for order_id in shop.order_ids())
    return [order for order in found if order is not None]


@dataclass
class FaultPlan:
    """Every known fault point armed, each with its own seeded generator.

    Each point first fires once after a random number of hits (so even a short run crashes
    every actor it reaches), then keeps firing with its probability until :meth:`stop`.
    """

    seed: int
    scale: float = 1.0
    probabilities: dict[str, float] = field(default_factory=dict)
    stopped: bool = False

    def arm(self) -> None:
        rng = random.Random(f"{self.seed}:plan")
        for name in faults.KNOWN_POINTS:
            p = min(1.0, BASE_PROBABILITY[name] * self.scale * rng.uniform(0.5, 2.0))
            self.probabilities[name] = p
            skip = rng.randrange(int(1 / BASE_PROBABILITY[name]) // 4 + 1)
            faults.arm(name, times=1, skip=skip, rng=random.Random(f"{self.seed}:{name}:first"))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Re-arm each point with its probability once its first shot fired."""
        self.arm()
        task_status.started()
        pending = set(faults.KNOWN_POINTS)
        while pending:
            await trio.sleep(2.0)
            if self.stopped:
                return
            for name, stats in faults.statistics().items():
                if name in pending and not stats.armed:
                    pending.discard(name)
                    rng = random.Random(f"{self.seed}:{name}")
                    faults.arm(name, self.probabilities[name], rng=rng)

    def stop(self) -> None:
        """Disarm every point for good (the drain runs without faults)."""
        self.stopped = True
        faults.disarm()

    def fires(self) -> dict[str, int]:
        return {name: s.fires for name, s in faults.statistics().items()}

    def describe(self) -> str:
        stats = faults.statistics()
        return ", ".join(
            f"{name}: p={p:.3f} hits={stats[name].hits} fires={stats[name].fires}"
            for name, p in self.probabilities.items()
            if name in stats
        )


class ServiceLoop:
    """Runs the service as systemd would: started again when the root supervisor gives up.

    More than ``MAX_GIVE_UPS`` give-ups in one run is a crash loop and fails the test.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.services: list[Service] = []
        self.gave_up = 0

    @property
    def current(self) -> Service:
        return self.services[-1]

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        status: trio.TaskStatus[None] | None = task_status
        while True:
            service = create_service(
                self.config,
                ServiceOptions(wall=VirtualWall(), with_monitor=False, with_watchdog=False),
            )
            self.services.append(service)
            try:
                if status is not None:
                    await service.run(task_status=status)
                else:
                    await service.run()
                return
            except BaseException as exc:
                if not gave_up(exc) or self.gave_up >= MAX_GIVE_UPS:
                    raise
                self.gave_up += 1
            status = None
            await trio.sleep(1.0)  # RestartSec

    async def stop(self) -> None:
        await self.current.stop()

    def restarts(self) -> dict[str, int]:
        """Restarts per tree node (actor or subtree), summed over every process start."""
        total: dict[str, int] = {}
        for service in self.services:
            for name, count in tree_restarts(service.root.statistics()).items():
                total[name] = total.get(name, 0) + count
        return total

    async def queue_depth(self) -> int | None:
        """Jobs queued or printing, None while the spool is not open."""
        try:
            spool = self.current.ctx.spool.get()
        except RuntimeError:
            return None
        stats = await spool.queue_stats()
        return sum(q.depth for q in stats.values())

    async def job_states(self) -> dict[str, int]:
        spool = self.current.ctx.spool.get()
        return dict((await spool.statistics()).jobs)


def tree_restarts(stats: SupervisorStatistics) -> dict[str, int]:
    found: dict[str, int] = {}
    for child in stats.children:
        found[child.name] = child.restarts
        if child.supervisor is not None:
            found.update(tree_restarts(child.supervisor))
    return found


async def wait_drained(
    loop: ServiceLoop,
    printers: Mapping[str, FakePrinter],
    expected: Mapping[str, ExpectedOrder],
    *,
    seed: int,
    limit: float,
    excused: Callable[[tuple[str, ...]], Awaitable[bool]] | None = None,
    optional: Collection[str] = (),
) -> LedgerReport:
    """Wait (at most ``limit`` seconds) until every expected ticket printed (or ``excused``
    says the missing ones may stay missing) and no job is queued; the ledger either way
    (``optional``: see ``ledger.compare``)."""
    with trio.move_on_after(limit):
        while True:
            report = compare(expected, printed_tickets(printers), seed=seed, optional=optional)
            done = not report.missing or (excused is not None and await excused(report.missing))
            if done and await loop.queue_depth() == 0:
                break
            await trio.sleep(1.0)
    # Each injected crash may add one more copy of the ticket it interrupted.
    crashes = sum(point.fires for point in faults.statistics().values())
    report = compare(
        expected,
        printed_tickets(printers),
        seed=seed,
        max_copies=MAX_COPIES + crashes,
        optional=optional,
    )
    depth = await loop.queue_depth()
    if depth:
        report.notes.append(f"jobs still queued or printing: {depth}")
    return report


async def feed_orders(
    shop: FakeWixShop,
    count: int,
    rng: random.Random,
    *,
    mean_gap: float,
    on_order: Callable[[dict[str, object]], Awaitable[None]] | None = None,
    now: Callable[[], datetime] = wall_now,
) -> None:
    """``count`` fresh APPROVED orders, one every ``mean_gap`` seconds on average."""
    for _ in range(count):
        await trio.sleep(rng.expovariate(1.0 / mean_gap))
        order = shop.new_demo_order(now())
        if on_order is not None:
            await on_order(order)


async def post_quietly(client: httpx.AsyncClient, url: str, body: bytes) -> int | None:
    """POST like Wix does; a refused connection or a 5xx is Wix's problem to retry."""
    try:
        response = await client.post(url, content=body)
    except httpx.HTTPError:
        return None
    return response.status_code
