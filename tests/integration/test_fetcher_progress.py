"""A poll interrupted by crashes still progresses: every crash costs at most the page in hand.

The fetcher's poll runs here as its restarts would run it: once per attempt, from what the
spool holds, with fault points armed at a rate that lets only every other page or commit
through, and an overlap window spanning many pages.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trio
import trio.testing

from tests.fakes.fake_wix import open_fake_wix
from tests.integration.harness import API_KEY, SITE_ID, VirtualWall, config_text, tune, virtual_now
from wixprint.actors.context import ActorContext
from wixprint.actors.fetcher import POLL_RESUME, poll_once
from wixprint.app import ServiceOptions, build_context
from wixprint.config import load_config_text
from wixprint.errors import InjectedFault
from wixprint.sim.shop import FakeWixShop
from wixprint.spool import open_spool
from wixprint.spool.horizons import POLL_MARK
from wixprint.supervisor import faults
from wixprint.wix.client import WixClient, open_wix_client
from wixprint.wix.intake import format_wix_time, parse_wix_time

ORDERS = 40
PAGE = 3


@asynccontextmanager
async def fetcher_parts(
    tmp_path: Path,
) -> AsyncIterator[tuple[ActorContext, WixClient, FakeWixShop]]:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID, clock=virtual_now)
    async with open_fake_wix(shop) as (_, url):
        text = tune(config_text(tmp_path, url, {"kitchen": 9}), "wix", page_limit=PAGE)
        config = load_config_text(text)
        ctx = build_context(
            config, ServiceOptions(wall=VirtualWall(), with_monitor=False, with_watchdog=False)
        )
        async with (
            open_spool(tmp_path / "spool.sqlite3", clock=VirtualWall()) as spool,
            open_wix_client(url, API_KEY, SITE_ID, request_timeout=30.0) as client,
        ):
            ctx.spool.set(spool)
            yield ctx, client, shop


async def test_half_the_pages_and_commits_crashing_still_takes_every_order_in_once(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with fetcher_parts(tmp_path) as (ctx, client, shop):
        start = virtual_now()
        ids = [str(shop.new_demo_order(start + timedelta(seconds=i))["id"]) for i in range(ORDERS)]
        await trio.sleep(ORDERS + 1)
        spool = ctx.spool.get()
        faults.reset()
        faults.arm("fetcher.after_fetch", 0.5, rng=random.Random(1))
        faults.arm("spool.after_commit", 0.5, rng=random.Random(2))
        attempts = crashes = 0
        known = 0
        try:
            while known < ORDERS:
                attempts += 1
                assert attempts <= 400, f"no progress: {known} of {ORDERS} after {crashes} crashes"
                try:
                    await poll_once(ctx, client, "2025-01-01T00:00:00Z")
                except InjectedFault:
                    crashes += 1
                now_known = len(await spool.known_revisions(ids))
                assert now_known >= known  # progress never goes back
                known = now_known
        finally:
            stats = faults.statistics()
            faults.reset()
        assert crashes >= 20
        assert stats["fetcher.after_fetch"].fires + stats["spool.after_commit"].fires == crashes
        # Each order was committed once: one revision, its tickets once.
        assert stats["spool.after_commit"].hits == ORDERS
        recent = await spool.recent_orders(ORDERS)
        assert {o.order_id for o in recent} == set(ids)
        assert all(o.revision == 1 for o in recent)
        tickets = [t for o in recent for t in o.tickets]
        assert len(tickets) == len(
            {(t.kind, t.printer, o.order_id) for o in recent for t in o.tickets}
        )
        # A clean poll afterwards clears the resume point.
        await poll_once(ctx, client, "2025-01-01T00:00:00Z")
        assert await spool.get_cursor(POLL_RESUME) == ""


async def test_a_poll_interrupted_before_a_restart_or_an_upgrade_resumes_where_it_got(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """Where an interrupted poll got is kept in the spool's ``cursors`` table as
    ``poll_resume``: part of the spool's format, so a spool left mid-poll (by this version or
    an earlier one) resumes there rather than reading the whole overlap window again."""
    async with fetcher_parts(tmp_path) as (ctx, client, shop):
        spool = ctx.spool.get()
        mark = virtual_now() - timedelta(seconds=60)
        resume = format_wix_time(mark - timedelta(seconds=100))
        await spool.set_cursor(POLL_MARK, format_wix_time(mark))
        await spool.set_cursor("poll_resume", resume)
        await poll_once(ctx, client, "2025-01-01T00:00:00Z")
        [poll] = [b for b in shop.search_bodies if isinstance(b, dict) and "filter" in b["search"]]
        assert poll["search"]["filter"]["updatedDate"] == {"$gte": resume}
        assert await spool.get_cursor("poll_resume") == ""  # that poll completed


async def test_more_than_a_page_of_orders_with_garbled_future_dates_is_taken_in(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """Dates years ahead move neither the mark nor the resume point (one garbled date must
    not hide later orders); whole pages of them still come in, to the last page."""
    async with fetcher_parts(tmp_path) as (ctx, client, shop):
        future = datetime(2099, 1, 1, tzinfo=UTC)
        ids = [str(shop.new_demo_order(future + timedelta(seconds=i))["id"]) for i in range(4)]
        spool = ctx.spool.get()
        await poll_once(ctx, client, "2025-01-01T00:00:00Z")
        assert set(await spool.known_revisions(ids)) == set(ids)  # pages of 3: two pages
        assert await spool.get_cursor(POLL_RESUME) is None  # no point inside the window


async def test_a_not_before_older_than_any_wix_date_starts_the_first_poll_at_now(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """``not_before = "0001-01-01"`` ("everything") is a valid ISO time but no Wix date: the
    first poll starts at Wix's now (less the overlap), as without a readable one, and takes
    the new order in."""
    async with fetcher_parts(tmp_path) as (ctx, client, shop):
        await trio.sleep(700)
        order_id = str(shop.new_demo_order(virtual_now())["id"])
        before = virtual_now()
        await poll_once(ctx, client, "0001-01-01T00:00:00")
        overlap = timedelta(seconds=600)  # the default
        [poll] = [b for b in shop.search_bodies if isinstance(b, dict) and "filter" in b["search"]]
        since = parse_wix_time(poll["search"]["filter"]["updatedDate"]["$gte"])
        assert since is not None
        assert before - overlap - timedelta(milliseconds=1) <= since <= virtual_now() - overlap
        assert list(await ctx.spool.get().known_revisions([order_id])) == [order_id]
