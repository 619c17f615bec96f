"""Bad orders as bytes: escaped lone surrogates, NULs, deep nesting, dates at the ends of time,
numbers beyond reason and wrong types anywhere, written into the JSON text Wix sends.

Pure properties first: one such order in a search answer goes through the client's decoder and
the whole of intake, one in a signed webhook through verification; neither may raise. Then the
whole service: such orders in the shop's answers and in webhooks, each followed by a good
order. No actor restarts, every webhook gets a 200, every good order prints once, and every
bad one is either taken in or set aside in the quarantine.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings

from tests.crash.chaos import ServiceLoop, chaos_config, post_quietly, wait_drained, wall_now
from tests.crash.conftest import chaos_orders
from tests.crash.ledger import expected_orders
from tests.crash.rawjson import RawOrder, raw_orders, raw_webhook
from tests.crash.test_bad_input import (
    NOW,
    PRIVATE,
    PUBLIC,
    draw_examples,
    replayable,
    through_the_pipeline,
)
from tests.fakes.fake_wix import RawJsonShop
from tests.integration.harness import EPOCH, open_rig
from wixprint.config import load_config_text
from wixprint.sim.webhooks import generate_key_pair
from wixprint.wix.client import parse_search_page
from wixprint.wix.jsontext import loads
from wixprint.wix.webhook import verify_webhook

QUICK = settings(
    max_examples=150,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def through_the_client(order: RawOrder) -> str:
    """A search answer holding the order's text, as the fetcher reads it, then intake."""
    page = parse_search_page(loads(f'{{"orders": [{order.text}], "metadata": {{}}}}'))
    if not page.orders:
        return "malformed"
    return through_the_pipeline(page.orders[0])


@replayable
@QUICK
@given(raw_orders())
def test_any_order_text_in_a_search_answer_is_taken_in_or_set_aside(order: RawOrder) -> None:
    assert through_the_client(order) in ("printed", "rejected", "quarantined", "malformed")


@replayable
@QUICK
@given(raw_orders())
def test_any_order_text_in_a_signed_webhook_is_verified_and_taken_in(order: RawOrder) -> None:
    event = verify_webhook(raw_webhook(order, PRIVATE, now=NOW), PUBLIC, now=NOW)
    assert event.order is not None
    assert event.order_id == order.order_id
    assert through_the_pipeline(event.order) in ("printed", "rejected", "quarantined")


async def run_raw_json_service(tmp_path: Path, seed: int, count: int) -> None:
    rng = random.Random(seed)
    bad = draw_examples(raw_orders(), count, seed)
    private, public_pem = generate_key_pair()
    statuses: list[int | None] = []
    async with (
        open_rig(tmp_path, shop_class=RawJsonShop) as rig,
        # Virtual seconds: generous, so that a slow disk cannot make the clock jump past it.
        httpx.AsyncClient(timeout=120.0) as client,
    ):
        shop = rig.shop
        assert isinstance(shop, RawJsonShop)
        ports = {name: p.port for name, p in rig.printers.items()}
        config = load_config_text(
            chaos_config(tmp_path, rig.shop_url, ports, public_pem=public_pem)
        )
        loop = ServiceLoop(config)
        await rig.nursery.start(loop.run)
        url = f"{loop.current.ctx.web_url}/webhooks/wix"
        good = []
        for i, order in enumerate(bad):
            await trio.sleep(rng.expovariate(1.0))
            if i % 2:
                body = raw_webhook(order, private, now=int(EPOCH + trio.current_time()))
                statuses.append(await post_quietly(client, url, body))
            else:
                shop.raw_next([order.text])
            good.append(shop.new_demo_order(wall_now()))  # a good order after each bad one
        expected = expected_orders(good, config)
        # A bad order may print or not (taken in or set aside): not "unexpected" on paper.
        optional = {o.number for o in bad}
        report = await wait_drained(
            loop, rig.printers, expected, seed=seed, limit=600.0, optional=optional
        )
        known = await loop.current.ctx.spool.get().known_revisions([o.order_id for o in bad])
        restarts = loop.restarts()
        states = await loop.job_states()
        await loop.stop()
    lost = [o.number for o in bad if o.order_id not in known]
    why = (
        f"{report.describe()}\nrestarts: {restarts}\nwebhook statuses: {statuses}\n"
        f"job states: {states}\nbad orders neither taken in nor set aside: {lost}"
    )
    print(report.summary(), f"bad={len(bad)} statuses={sorted(set(map(str, statuses)))}")
    assert sum(restarts.values()) == 0, why
    assert loop.gave_up == 0, why
    assert all(status == 200 for status in statuses), why
    assert not report.missing, why
    assert not report.unmarked_duplicates, why
    assert not report.wrong_printer, why
    assert not report.unexpected, why
    assert not lost, why


async def test_raw_json_service_quick(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    await run_raw_json_service(tmp_path, seed, 12)


@pytest.mark.chaos
async def test_raw_json_service_long(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    await run_raw_json_service(tmp_path, seed, max(12, chaos_orders() // 10))
