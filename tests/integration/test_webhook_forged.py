"""A forged webhook against the running service: refused (401), nothing spooled, nothing
printed. The order is not in the shop, so the poll cannot print it either: only a webhook the
service accepted could. A correctly signed control proves the route would print it."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio.testing

from tests.integration.harness import EPOCH, config_text, fixture_order, open_rig, wait_for
from wixprint.sim.webhooks import generate_key_pair, sign_webhook_for_shop


async def test_a_forged_webhook_is_refused_and_prints_nothing_a_signed_one_prints(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        private, public_pem = generate_key_pair()
        forger, _ = generate_key_pair()
        await rig.start(
            config_text(
                tmp_path,
                rig.shop_url,
                {"kitchen": rig.printers["kitchen"].port},
                public_pem=public_pem,
            )
        )
        order = fixture_order(fixtures_dir, "order-01-delivery.json")  # never added to the shop
        now = EPOCH + trio.current_time()
        forged = sign_webhook_for_shop(order, "created", forger, now=now)
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{rig.web_url}/webhooks/wix", content=forged)
            assert response.status_code == 401
            await trio.sleep(20)  # several polls
            assert rig.tickets("kitchen") == []
            listed = (await client.get(f"{rig.web_url}/orders")).json()["orders"]
            assert listed == []

            signed = sign_webhook_for_shop(order, "created", private, now=now + 20)
            response = await client.post(f"{rig.web_url}/webhooks/wix", content=signed)
            assert response.status_code == 200
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        assert "10231" in rig.tickets("kitchen")[0]
