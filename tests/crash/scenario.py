"""One in-process chaos run: the whole service against the fakes on the virtual clock, with
fault points armed, dependency outages scheduled, or both, while a stream of orders arrives
by poll and by signed webhook. Returns what the tests assert on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import trio

from tests.crash.chaos import (
    FaultPlan,
    ServiceLoop,
    chaos_config,
    feed_orders,
    post_quietly,
    raw_orders,
    wait_drained,
)
from tests.crash.ledger import LedgerReport, expected_orders
from tests.crash.outages import HELD, Dependencies, Link, OutageSchedule
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import EPOCH, open_rig
from wixprint.config import load_config_text
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop

TAIL = 30.0
"""Seconds the faults go on after the last order arrived."""
MAIL_WAIT = 600.0
"""Seconds to wait for the first alert mail: the outbox retries a failed send after 30 s,
60 s, 120 s ... (``alerts.mailer.retry_delay``), and SMTP may have been down long."""
DRAIN = 420.0
"""Seconds a drain may take beyond two per order: the fetcher's backoff after a Wix outage
is capped at 300 s (``wix.client.next_poll_delay``), then the queue prints."""


@dataclass
class ChaosResult:
    seed: int
    report: LedgerReport
    restarts: dict[str, int]
    gave_up: int
    fires: dict[str, int]
    job_states: dict[str, int]
    mails: list[str] = field(default_factory=list)
    """Subjects of the alert e-mails the fake SMTP server received."""
    plan: FaultPlan | None = None
    schedule: OutageSchedule | None = None

    def describe(self) -> str:
        """The ledger difference plus everything needed to understand and replay the run."""
        lines = [self.report.describe()]
        lines.append(f"restarts: {self.restarts}; root gave up {self.gave_up}x")
        lines.append(f"job states: {self.job_states}")
        if self.plan is not None:
            lines.append(f"faults: {self.plan.describe()}")
        if self.schedule is not None:
            lines.append(self.schedule.describe())
        lines.append(f"mails: {self.mails}")
        return "\n".join(lines)

    def summary(self) -> str:
        restarts = sum(self.restarts.values())
        outages = len(self.schedule.outages) if self.schedule else 0
        return (
            f"{self.report.summary()} restarts={restarts} gave_up={self.gave_up} "
            f"fires={sum(self.fires.values())} outages={outages} mails={len(self.mails)}"
        )


async def run_scenario(
    tmp_path: Path,
    seed: int,
    orders: int,
    *,
    fault_scale: float | None = None,
    outages: bool = False,
    mean_gap: float = 2.0,
    mail_after: float | None = None,
) -> ChaosResult:
    """Stream ``orders`` orders through the service under the chosen chaos, drain, report.

    ``fault_scale`` arms every fault point (None: none); ``outages`` runs the dependency
    schedule; if a printer was down longer than ``mail_after`` seconds, the run waits (up to
    ``MAIL_WAIT``) for the first alert mail.
    """
    rng = random.Random(seed)
    private, public_pem = generate_key_pair()
    with FakeSmtpServer() as smtp:
        async with open_rig(tmp_path) as rig, httpx.AsyncClient(timeout=5.0) as client:
            shop_port = int(rig.shop_url.rsplit(":", 1)[1])
            link = Link(shop_port)
            await rig.nursery.start(link.serve)
            rig.shop.load_fixture_orders()
            ports = {name: p.port for name, p in rig.printers.items()}
            text = chaos_config(
                tmp_path, link.url, ports, smtp_port=smtp.port, public_pem=public_pem
            )
            config = load_config_text(text)
            plan = FaultPlan(seed, scale=fault_scale) if fault_scale is not None else None
            if plan is not None:
                await rig.nursery.start(plan.run)
            schedule = None
            if outages:
                # One printer like many compatibles: no process ids, confirmed by status.
                rig.printers["counter"].process_id = False
                deps = Dependencies(rig.printers, rig.shop, link, smtp)
                schedule = OutageSchedule(deps, seed, mean_up=25.0, mean_down=25.0)
                await rig.nursery.start(schedule.run)
            loop = ServiceLoop(config)
            await rig.nursery.start(loop.run)

            async def announce(order: dict[str, object]) -> None:
                url = loop.current.ctx.web_url
                if link.down or url is None or rng.random() >= 0.4:
                    return  # no webhook: the poll finds it
                body = sign_webhook_for_shop(
                    order, "created", private, now=EPOCH + trio.current_time()
                )
                for _ in range(rng.choice((1, 1, 2))):  # Wix delivers duplicates
                    await post_quietly(client, f"{url}/webhooks/wix", body)

            await feed_orders(rig.shop, orders, rng, mean_gap=mean_gap, on_order=announce)
            await trio.sleep(TAIL)
            if plan is not None:
                plan.stop()
            if schedule is not None:
                await schedule.heal()
            expected = expected_orders(raw_orders(rig.shop), config)
            report = await wait_drained(
                loop, rig.printers, expected, seed=seed, limit=DRAIN + orders * 2.0
            )
            if (
                schedule is not None
                and mail_after is not None
                and schedule.longest("printer:", HELD) > mail_after
            ):
                with trio.move_on_after(MAIL_WAIT):
                    while not smtp.messages:  # noqa: ASYNC110 - the SMTP fake has no event
                        await trio.sleep(1.0)
            result = ChaosResult(
                seed=seed,
                report=report,
                restarts=loop.restarts(),
                gave_up=loop.gave_up,
                fires=plan.fires() if plan is not None else {},
                job_states=await loop.job_states(),
                mails=[m.subject for m in smtp.messages],
                plan=plan,
                schedule=schedule,
            )
            await loop.stop()
            return result
