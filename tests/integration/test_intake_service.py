"""Order intake, end to end: from the simulated Wix shop (and signed webhooks) to paper.

Each test is one promise a restaurant owner relies on: no order is missed across pages, an
outage, a restart or a crash; nothing prints twice; old orders stay off the printers; a
changed or canceled order reaches the stations that cooked it; a wrong API key is reported,
not crash-looped.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio.testing

from tests.integration.harness import (
    VirtualWall,
    child_status,
    config_text,
    fixture_order,
    get_json,
    new_order,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    virtual_now,
    wait_fast,
    wait_for,
)
from wixprint.actors.clock import PROBE_EVERY
from wixprint.sim.webhooks import OrderEventSlug, generate_key_pair, sign_webhook_for_shop
from wixprint.supervisor import faults
from wixprint.wix.intake import format_wix_time

APPROVED = {
    "order-01-delivery.json": "10231",
    "order-02-pickup.json": "10187",
    "order-03-dine-in-pos.json": "10232",
    "order-04-many-items-modifiers.json": "10244",
    "order-07-cash-not-paid.json": "10142",
}


def count(tickets: list[str], needle: str) -> int:
    return sum(needle in t for t in tickets)


async def test_orders_spread_over_several_pages_all_print_once(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        for name in APPROVED:
            rig.shop.add_order(fixture_order(fixtures_dir, name))
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", page_limit=2))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 5)
        # Several polls more: the overlap fetches them again, nothing prints again.
        await pass_time(thread_clock, 8)
        assert sorted(ticket_numbers(rig, "kitchen")) == sorted(APPROVED.values())
        follow_ups = [
            body
            for body in rig.shop.search_bodies
            if isinstance(body, dict) and "cursor" in body["search"].get("cursorPaging", {})
        ]
        assert len(follow_ups) >= 2  # five orders in pages of two: one poll took three pages


async def test_a_wix_outage_is_caught_up_with_nothing_missed(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        first = new_order(rig)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        rig.shop.set_down(True)
        await pass_time(thread_clock, 10)
        during = await new_orders(rig, 3, every=10, clock=thread_clock)
        await pass_time(thread_clock, 10)
        health = await get_json(rig, "/health")
        assert health["status"] == "degraded"
        assert "Wix unreachable" in health["checks"]["fetcher"]["reason"]
        assert len(rig.tickets("kitchen")) == 1  # the orders are in Wix, not here yet
        rig.shop.set_down(False)
        rig.shop.fail_next(1)  # and the first request after the outage fails once more
        # The fetcher's backoff may still wait a minute or two: Wix is not hammered.
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 4, limit=400)
        await pass_time(thread_clock, 6)
        assert ticket_numbers(rig, "kitchen") == [first["number"], *during]
        assert (await get_json(rig, "/health"))["checks"]["fetcher"]["status"] == "ready"


async def test_webhooks_out_of_order_and_the_poll_print_the_latest_version_once(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        private, public_pem = generate_key_pair()
        text = config_text(
            tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port}, public_pem=public_pem
        )
        await rig.start(text)
        created: dict[str, Any] = fixture_order(fixtures_dir, "order-01-delivery.json")
        # Staff changed the order at once: 3 currywursts instead of 2, a newer updatedDate.
        updated = copy.deepcopy(created)
        updated["lineItems"][1]["quantity"] = 3
        updated["updatedDate"] = format_wix_time(virtual_now())
        now = VirtualWall()()
        async with httpx.AsyncClient(timeout=30.0) as client:
            # Wix delivers order_updated before order_created.
            deliveries: list[tuple[OrderEventSlug, dict[str, Any]]] = [
                ("updated", updated),
                ("created", created),
            ]
            for slug, order in deliveries:
                body = sign_webhook_for_shop(order, slug, private, now=now)
                response = await client.post(f"{rig.web_url}/webhooks/wix", content=body)
                assert response.status_code == 200
        orders = await get_json(rig, "/orders")
        assert [(o["number"], o["source"]) for o in orders["orders"]] == [("10231", "webhook")]
        rig.shop.add_order(updated)  # and the poll finds it too
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await pass_time(thread_clock, 10)  # the poll sees the order too
        kitchen = rig.tickets("kitchen")
        assert len(kitchen) == 1
        assert "3x Currywurst" in kitchen[0]
        assert "GEÄNDERT" not in kitchen[0]
        assert "REPRINT" not in kitchen[0]


async def test_a_restarted_service_resumes_from_its_mark_and_prints_nothing_twice(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(text)
        before = await new_orders(rig, 2)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 2)
        await pass_time(thread_clock, 4)
        await rig.stop()
        await pass_time(thread_clock, 30)
        after = await new_orders(rig, 2)  # while the service was down
        searches = len(rig.shop.search_bodies)
        await rig.start(text)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 4)
        await pass_time(thread_clock, 10)
        assert ticket_numbers(rig, "kitchen") == before + after
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        # The first poll of the new process starts at the persisted mark, not at not_before
        # (the clock actor's probe for Wix's Date header is a search without a filter).
        polls = [
            body
            for body in rig.shop.search_bodies[searches:]
            if isinstance(body, dict) and "filter" in body["search"]
        ]
        since = polls[0]["search"]["filter"]["updatedDate"]["$gte"]
        assert since > "2025-06-15"  # virtual "today"; not_before is 2025-01-01


@pytest.mark.parametrize("point", ["fetcher.after_fetch", "spool.after_commit"])
async def test_a_crash_during_intake_loses_nothing_and_shows_as_a_restart(
    tmp_path: Path, point: str, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        await trio.sleep(3)
        with faults.armed(point, times=1):
            numbers = await new_orders(rig, 3)
            await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
        await pass_time(thread_clock, 10)
        assert ticket_numbers(rig, "kitchen") == numbers
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "fetcher")["restarts"] == 1
        restarts = [e for e in recovery["recent"] if e["event"] == "actor_restarted"]
        assert [(e["actor"], e["error_type"]) for e in restarts] == [("fetcher", "InjectedFault")]


async def test_orders_created_before_not_before_never_print(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        for name in APPROVED:
            rig.shop.add_order(fixture_order(fixtures_dir, name))
        # Orders from January and March, edited today: Wix returns them, we must not print them.
        for name in ("order-02-pickup.json", "order-07-cash-not-paid.json"):
            order_id = str(fixture_order(fixtures_dir, name)["id"])
            rig.shop.update_order(order_id, buyerNote="Rechnung bitte per Mail")
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", not_before="2025-06-01T00:00:00Z"))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
        await pass_time(thread_clock, 10)
        assert sorted(ticket_numbers(rig, "kitchen")) == ["10231", "10232", "10244"]


async def test_a_changed_then_canceled_order_reaches_the_stations_that_cooked_it(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path) as rig:
        order = fixture_order(fixtures_dir, "order-01-delivery.json")
        rig.shop.add_order(order)
        ports = {n: p.port for n, p in rig.printers.items()}
        # The counter prints only the customer receipt here: the guest's copy of the bill.
        text = config_text(
            tmp_path, rig.shop_url, ports, extra='[layout]\ndelivery = ["kitchen", "customer"]\n'
        )
        await rig.start(text)
        await wait_for(lambda: all(len(rig.tickets(p)) == 1 for p in ("kitchen", "bar", "counter")))
        assert "Currywurst" in rig.tickets("kitchen")[0]
        assert "Apfelschorle" in rig.tickets("bar")[0]

        items: Any = copy.deepcopy(order["lineItems"])
        items[1]["quantity"] = 3
        rig.shop.update_order(str(order["id"]), lineItems=items)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)
        changed = rig.tickets("kitchen")[1]
        assert "GEÄNDERT" in changed
        assert "3x Currywurst" in changed

        rig.shop.cancel_order(str(order["id"]))
        await wait_for(lambda: count(rig.tickets("kitchen"), "STORNIERT") == 1)
        await wait_for(lambda: count(rig.tickets("bar"), "STORNIERT") == 1)
        await pass_time(thread_clock, 10)
        kitchen, bar, counter = (rig.tickets(p) for p in ("kitchen", "bar", "counter"))
        assert len(kitchen) == 3
        assert "STORNIERT" in kitchen[2]
        assert "10231" in kitchen[2]
        assert count(bar, "STORNIERT") == 1
        assert len(counter) == 1  # the guest keeps the bill: no CHANGED or CANCELED copy
        assert all("REPRINT" not in t for t in kitchen + bar + counter)


async def test_malformed_orders_in_a_search_answer_do_not_hold_up_the_good_ones(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        await trio.sleep(3)
        good = await new_orders(rig, 2)
        # A real order whose updatedDate came back garbled, years in the future.
        skewed = fixture_order(fixtures_dir, "order-03-dine-in-pos.json")
        skewed |= {"id": "skewed-1", "number": "20001", "updatedDate": "2099-01-01T00:00:00.000Z"}
        rig.shop.malformed_next(["not an order", {"number": "666", "status": "APPROVED"}, skewed])
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
        later = await new_orders(rig, 2)  # must not hide behind the garbled date
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 5)
        await pass_time(thread_clock, 6)
        assert ticket_numbers(rig, "kitchen") == [*good, "20001", *later]
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "fetcher")["restarts"] == 0
        # Each entry no code can read is named in the log, by the poll that met it.
        lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
        malformed = [m for m in lines if m.get("event") == "order_malformed"]
        assert [(m["actor"], m["source"]) for m in malformed] == [("fetcher", "poll")] * 2


async def test_a_rejected_wix_key_degrades_health_and_alerts_without_a_crash_loop(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", api_key="revoked-key"))
        new_order(rig)
        await pass_time(thread_clock, 20)
        health = await get_json(rig, "/health")
        assert health["status"] == "degraded"
        assert health["checks"]["fetcher"]["status"] == "degraded"
        assert "401" in health["checks"]["fetcher"]["reason"]
        assert "revoked-key" not in str(health)
        recovery = await get_json(rig, "/recovery/status")
        alerts = [(e["key"], e["state"]) for e in recovery["recent"] if e["event"] == "alert_event"]
        assert alerts[:1] == [("wix_auth", "raised")]
        await pass_time(thread_clock, 600)
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "fetcher")["restarts"] == 0
        # It waits for a human instead of hammering Wix: a handful of polls in ten minutes,
        # besides the clock actor's requests for Wix's time (at start, then every PROBE_EVERY).
        probes = 1 + int(600 // PROBE_EVERY)
        assert 1 <= rig.shop.statistics().by_status.get(401, 0) <= 5 + probes
        alerts = [(e["key"], e["state"]) for e in recovery["recent"] if e["event"] == "alert_event"]
        assert alerts.count(("wix_auth", "raised")) == 1
        assert rig.tickets("kitchen") == []


@pytest.mark.parametrize(
    ("fault", "first_cause"),
    [
        ("read_orders", 'the key lacks the "Read Orders" permission'),
        ("dashboard_url", "wrong site ID (the GUID after /dashboard/"),
    ],
)
async def test_a_refused_key_is_explained_by_its_likely_cause(
    tmp_path: Path, thread_clock: trio.testing.MockClock, fault: str, first_cause: str
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        if fault == "read_orders":
            rig.shop.key_lacks_read_orders = True
        else:  # the whole dashboard address pasted instead of the site ID
            url = f"https://manage.wix.com/dashboard/{rig.shop.site_id}/home"
            text = tune(text, "wix", site_id=url)
        await rig.start(text)
        await pass_time(thread_clock, 20)
        health = await get_json(rig, "/health")
        reason = health["checks"]["fetcher"]["reason"]
        assert "403" in reason
        likely = reason.split("Likely: ", 1)[1]
        assert likely.startswith(first_cause)
        for other in ("Read Orders", "site ID", "does not own the site"):
            assert other in likely  # every usual cause is named, the likeliest first
        recovery = await get_json(rig, "/recovery/status")
        raised = [e for e in recovery["recent"] if e["event"] == "alert_event"]
        assert [(e["key"], e["state"]) for e in raised][:1] == [("wix_auth", "raised")]
