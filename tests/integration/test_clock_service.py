"""A Raspberry Pi without a clock, in-process on the virtual clock: the service's wall clock
is set days off Wix's, and jumps, while the simulated shop keeps the true time (its ``Date``
header follows its own clock, as Wix's does).

What the owner must see: orders approved before the install are never printed although the
Pi started 30 days behind; jumps of the clock by days in either direction print nothing
twice and drop nothing; a difference from Wix's time shows on ``/health`` and, if it lasts,
in an alert; and while nobody vouches for the time at the very first start, nothing is taken.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import trio.testing

from tests.integration.harness import (
    Rig,
    VirtualWall,
    config_text,
    fixture_order,
    get_json,
    open_rig,
    pass_time,
    ticket_numbers,
    virtual_now,
    wait_fast,
    wait_for,
)
from wixprint.app import ServiceOptions, create_service
from wixprint.config import load_config_text
from wixprint.events import AlertEvent
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop
from wixprint.spool.horizons import POLL_MARK
from wixprint.timesync import KernelClock
from wixprint.wixtime import format_wix_time, parse_wix_time

DAY = 86400.0


class SkewedWall:
    """The Pi's wall clock: the true (virtual) time plus a skew the test moves."""

    def __init__(self, skew: float) -> None:
        self.skew = skew
        self._true = VirtualWall()

    def __call__(self) -> float:
        return self._true() + self.skew


@pytest.fixture(autouse=True)
def kernel_unsynchronised(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NTP on this Pi: only Wix can vouch for the time (whatever this machine's is)."""
    unsynced = KernelClock(False, 16.0, "STA_UNSYNC")
    monkeypatch.setattr("wixprint.actors.clock.read_kernel_clock", lambda: unsynced)


async def start(rig: Rig, tmp_path: Path, wall: SkewedWall, *, public_pem: str = "") -> None:
    ports = {"kitchen": rig.printers["kitchen"].port}
    text = config_text(tmp_path, rig.shop_url, ports, public_pem=public_pem)
    rig.config = load_config_text(text.replace('not_before = "2025-01-01T00:00:00Z"', ""))
    options = ServiceOptions(wall=wall, with_monitor=False, with_watchdog=False)
    rig.service = create_service(rig.config, options)
    await rig.nursery.start(rig.service.run)


def history(rig: Rig, n: int) -> list[str]:
    """Orders Wix approved before the install (two days ago, true time)."""
    before = virtual_now() - timedelta(days=2)
    return [str(rig.shop.new_demo_order(before)["number"]) for _ in range(n)]


def order(rig: Rig) -> str:
    return str(rig.shop.new_demo_order(virtual_now())["number"])


async def test_thirty_days_behind_at_the_first_start_then_jumps_both_ways(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        old = history(rig, 3)
        wall = SkewedWall(-30 * DAY)
        await start(rig, tmp_path, wall)
        assert rig.service is not None
        ctx = rig.service.ctx
        await wait_for(lambda: ctx.clock.first_start is not None)
        # Recorded from Wix's time, not from the Pi's clock 30 days behind.
        assert ctx.clock.first_start == virtual_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        health = await get_json(rig, "/health")
        assert health["checks"]["clock"]["status"] == "degraded"
        assert health["checks"]["clock"]["reason"] == "the clock is 30 d behind Wix's time"

        new = [order(rig), order(rig)]
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 2)
        await pass_time(thread_clock, 120)
        assert sorted(ticket_numbers(rig, "kitchen")) == sorted(new)  # history not printed

        # NTP comes: the clock jumps 30 days forward.
        wall.skew = 0.0
        await pass_time(thread_clock, 120)
        health = await get_json(rig, "/health")
        assert health["checks"]["clock"]["status"] == "ready"
        new.append(order(rig))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)

        # A bad clock source pushes it 30 days ahead: still nothing dropped, nothing twice.
        wall.skew = 30 * DAY
        await pass_time(thread_clock, 30)
        new.append(order(rig))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 4)
        await wait_fast(
            thread_clock,
            lambda: any(
                isinstance(e, AlertEvent) and e.key == "clock" and e.state == "raised"
                for e in ctx.recent
            ),
            limit=1800,
        )
        wall.skew = 0.0
        new.append(order(rig))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 5)
        await pass_time(thread_clock, 300)
        assert sorted(ticket_numbers(rig, "kitchen")) == sorted(new)  # each once
        assert not set(old) & set(ticket_numbers(rig, "kitchen"))
        assert not any("REPRINT" in t for t in rig.tickets("kitchen"))


async def test_no_word_from_anyone_at_the_first_start_means_nothing_is_taken_yet(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """No NTP and Wix unreachable at the very first start: no first start is recorded, so
    nothing is fetched and a webhook is told to come back; once Wix answers, its time is
    the first start and only orders from then on print."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        old = history(rig, 2)
        rig.shop.delay_responses(3600)  # no answer within the request timeout
        private, public_pem = generate_key_pair()
        pi_wall = SkewedWall(-30 * DAY)
        await start(rig, tmp_path, pi_wall, public_pem=public_pem)
        assert rig.service is not None
        ctx = rig.service.ctx
        await pass_time(thread_clock, 120)
        assert ctx.clock.first_start is None
        health = await get_json(rig, "/health")
        assert health["checks"]["fetcher"]["reason"] == "waiting for a true clock (first start)"
        assert "no time from Wix yet" in health["checks"]["clock"]["reason"]

        # A genuine webhook, signed by the Pi's own time (nobody else's is known yet).
        pushed = rig.shop.new_demo_order(virtual_now())
        body = sign_webhook_for_shop(pushed, "created", private, now=pi_wall())
        caplog.clear()
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(f"{rig.web_url}/webhooks/wix", content=body)
        assert response.status_code == 503  # Wix sends it again later
        assert "temporarily unavailable" in response.text
        assert await ctx.spool.get().recent_orders() == []  # nothing spooled
        [refused] = [r for r in caplog.records if r.msg == "http_dependency_unavailable"]
        plain = vars(logging.makeLogRecord({}))
        extra = {k: v for k, v in vars(refused).items() if k not in plain and k != "message"}
        assert (extra, refused.exc_info) == ({"error_type": "ClockUntrusted"}, None)
        assert "not recorded yet" not in response.text  # the type only, never the message

        rig.shop.delay_responses(0)
        await wait_fast(thread_clock, lambda: ctx.clock.first_start is not None, limit=120)
        new = order(rig)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await pass_time(thread_clock, 60)
        assert ticket_numbers(rig, "kitchen") == [new]
        assert not set(old) & set(ticket_numbers(rig, "kitchen"))


async def test_a_pi_days_behind_keeps_its_poll_mark_current_and_takes_signed_webhooks(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The poll mark and a webhook's age are judged by Wix's time while the Pi's clock is
    known off: capped by a clock 30 days behind, the mark never moved (every poll read back
    to it), and every genuine webhook was refused as "not yet valid"."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        private, public_pem = generate_key_pair()
        await start(rig, tmp_path, SkewedWall(-30 * DAY), public_pem=public_pem)
        assert rig.service is not None
        ctx = rig.service.ctx
        await wait_for(lambda: ctx.clock.first_start is not None and ctx.clock.verdict.skewed)
        await pass_time(thread_clock, 30)  # the order comes after the first start's mark
        polled = order(rig)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await pass_time(thread_clock, 30)
        mark = parse_wix_time(await ctx.spool.get().get_cursor(POLL_MARK))
        assert mark is not None
        assert mark > virtual_now() - timedelta(seconds=40)

        pushed = fixture_order(fixtures_dir, "order-01-delivery.json")  # not in the shop
        pushed["createdDate"] = pushed["updatedDate"] = format_wix_time(virtual_now())
        body = sign_webhook_for_shop(pushed, "created", private, now=virtual_now().timestamp())
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{rig.web_url}/webhooks/wix", content=body)
        assert response.status_code == 200
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 2)
        assert sorted(ticket_numbers(rig, "kitchen")) == sorted([polled, "10231"])
