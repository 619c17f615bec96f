"""The whole tree against the simulated shop and fake printers, on the virtual clock.

Each test states one thing a restaurant owner relies on: orders come out at the right
station, once; a webhook and a poll of the same order print once; a printer out of paper
loses nothing and resends nothing; a restart resumes without reprinting.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import trio.testing

from tests.integration.harness import config_text, fixture_order, open_rig, wait_for
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop

APPROVED = [
    "order-01-delivery.json",
    "order-02-pickup.json",
    "order-03-dine-in-pos.json",
    "order-04-many-items-modifiers.json",
    "order-07-cash-not-paid.json",
]


def count(tickets: list[str], needle: str) -> int:
    return sum(needle in t for t in tickets)


async def test_every_fixture_order_prints_once_at_the_right_station(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path) as rig:
        for name in [*APPROVED, "order-08-canceled.json"]:
            rig.shop.add_order(fixture_order(fixtures_dir, name))
        await rig.start(
            config_text(tmp_path, rig.shop_url, {n: p.port for n, p in rig.printers.items()})
        )
        # kitchen: 5 approved orders (the canceled one never printed), one of them (10244, due
        # five days after the rig's "now") a pre-order held with its notice slip; counter:
        # driver slips and customer receipts of the deliveries and the pickup not held.
        await wait_for(
            lambda: len(rig.tickets("kitchen")) >= 5 and len(rig.tickets("counter")) >= 5
        )
        await trio.sleep(10)
        kitchen, bar, counter = rig.tickets("kitchen"), rig.tickets("bar"), rig.tickets("counter")
        for number in ("10231", "10187", "10232", "10244", "10142"):
            assert count(kitchen, number) == 1, number
        assert count(kitchen, "10256") == 0
        assert len(kitchen) == 5
        notice = next(t for t in kitchen if "10244" in t)
        assert "VORBESTELLUNG ERHALTEN" in notice
        assert "Tiramisu" not in notice  # a notice lists nothing to cook
        assert len(counter) == 5
        assert count(counter, "10244") == 0
        # Drinks went to the bar, not the kitchen, and the kitchen ticket says so.
        assert any("Apfelschorle" in t for t in bar)
        order_01 = next(t for t in kitchen if "10231" in t)
        assert "Apfelschorle" in order_01.split("Bar")[-1]
        assert "Schnitzel" in order_01
        assert all("REPRINT" not in t for t in kitchen + bar + counter)
        assert "46,20" not in order_01  # no prices on kitchen tickets
        assert any("46,20" in t for t in counter)


async def test_webhook_and_poll_of_the_same_order_print_once(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        private, public_pem = generate_key_pair()
        text = config_text(
            tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port}, public_pem=public_pem
        )
        await rig.start(text)
        order = fixture_order(fixtures_dir, "order-01-delivery.json")
        rig.shop.add_order(order)
        body = sign_webhook_for_shop(
            order, "created", private, now=trio.current_time() + 1_750_000_000
        )
        async with httpx.AsyncClient() as client:
            for _ in range(3):  # Wix delivers duplicates
                response = await client.post(f"{rig.web_url}/webhooks/wix", content=body)
                assert response.status_code == 200
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await trio.sleep(20)  # several polls later
        assert count(rig.tickets("kitchen"), "10231") == 1
