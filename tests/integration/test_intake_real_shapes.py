"""The whole service against the simulated shop's real-world shapes (issue 13): what prints,
pre-orders held until cook time, the owner's push, payment methods, rejected orders."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import trio
import trio.testing

from tests.integration.harness import (
    config_text,
    count,
    fixture_order,
    get_json,
    open_rig,
    pass_time,
    tune,
    virtual_now,
    wait_fast,
    wait_for,
)
from wixprint.sim.samples import shift_dates
from wixprint.wixtime import format_wix_time, parse_wix_time

TOKEN = "owner-push-0123456789abcdef"


def fresh(fixtures: Path, name: str, **changes: Any) -> dict[str, Any]:
    """A fixture order moved so that it was created now (its slot keeps its distance)."""
    order: dict[str, Any] = fixture_order(fixtures, name)
    start = parse_wix_time(order["createdDate"])
    assert start is not None
    moved: dict[str, Any] = shift_dates(order, virtual_now() - start)
    moved.update(changes)
    return moved


async def test_the_owners_push_prints_an_order_within_one_round_trip(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        text = tune(text, "wix", poll_interval=300.0, automation_token=TOKEN)
        await rig.start(text)
        await pass_time(thread_clock, 5)  # the first poll went by: the next is 5 minutes away
        rig.shop.add_order(fresh(fixtures_dir, "order-03-dine-in-pos.json"))
        async with httpx.AsyncClient() as client:
            wrong = await client.post(f"{rig.web_url}/webhooks/automation/not-{TOKEN}", json={})
            assert wrong.status_code == 404
            # What a Wix Automation sends: no signature, a few fields; never trusted.
            body = {"orderNumber": "10232", "_id": "whatever", "value": "12.40"}
            pushed = await client.post(f"{rig.web_url}/webhooks/automation/{TOKEN}", json=body)
            assert pushed.status_code == 200
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1, limit=5)
        assert count(rig.tickets("kitchen"), "#10232") == 1


async def test_a_preorder_prints_a_notice_now_and_its_ticket_at_cook_time(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(text + "\n[layout]\npreorder_lead = 1.0\n")
        now = virtual_now()
        slot = {
            "from": format_wix_time(now + timedelta(minutes=3)),
            "to": format_wix_time(now + timedelta(minutes=3, seconds=15)),
        }
        orders = []
        for number in ("20001", "20002"):
            order = fresh(fixtures_dir, "order-14-scheduled.json", number=number)
            order["id"] = f"{order['id'][:-5]}{number}"
            order["shippingInfo"]["logistics"]["deliveryTimeSlot"] = slot
            rig.shop.add_order(order)
            orders.append(order)
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 2, limit=30)
        await pass_time(thread_clock, 10)
        notices = rig.tickets("kitchen")
        assert len(notices) == 2
        assert all("VORBESTELLUNG ERHALTEN" in t for t in notices)
        listed = (await get_json(rig, "/orders"))["orders"]
        assert {o["number"]: bool(o["scheduled"]) for o in listed} == {
            "20001": True,
            "20002": True,
        }
        recovery = await get_json(rig, "/recovery/status")
        assert sorted(s["order"] for s in recovery["scheduled"]) == ["20001", "20002"]

        rig.shop.cancel_order(orders[1]["id"])  # canceled while held: never cooked
        await pass_time(thread_clock, 60)
        assert len(rig.tickets("kitchen")) == 2  # nothing before cook time
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 3, limit=120)
        await pass_time(thread_clock, 120)
        kitchen = rig.tickets("kitchen")
        assert len(kitchen) == 3, kitchen
        ticket = kitchen[2]
        assert "#20001" in ticket
        assert "VORBESTELLUNG" not in ticket
        listed = (await get_json(rig, "/orders"))["orders"]
        assert all(o["scheduled"] is None for o in listed)


async def test_a_reservation_prints_nothing_and_says_so_on_orders(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(text)
        rig.shop.add_order(fresh(fixtures_dir, "order-11-table-reservation.json"))
        rig.shop.add_order(fresh(fixtures_dir, "order-03-dine-in-pos.json"))
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await trio.sleep(10)
        assert len(rig.tickets("kitchen")) == 1
        assert count(rig.tickets("kitchen"), "#10232") == 1
        listed = {o["number"]: o for o in (await get_json(rig, "/orders"))["orders"]}
        assert listed["10262"]["skipped"] == "nothing to print: table_reservations"
        assert listed["10262"]["tickets"] == []


async def test_the_driver_slip_says_cash_and_the_kitchen_never_waits_for_it(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        text = config_text(
            tmp_path,
            rig.shop_url,
            {"kitchen": rig.printers["kitchen"].port, "counter": rig.printers["counter"].port},
        )
        await rig.start(text)
        order = fresh(fixtures_dir, "order-07-cash-not-paid.json")
        rig.shop.add_order(order)
        await wait_for(lambda: len(rig.tickets("counter")) >= 2)
        driver = next(t for t in rig.tickets("counter") if "FAHRER" in t.upper())
        assert "BAR KASSIEREN" in driver
        assert count(rig.tickets("kitchen"), "#10142") == 1
        listed = {o["number"]: o for o in (await get_json(rig, "/orders"))["orders"]}
        assert listed["10142"]["payment"] == "known"


async def test_a_pending_order_rejected_after_printing_gets_a_canceled_ticket(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", print_statuses=["APPROVED", "PENDING"]))
        order = fresh(fixtures_dir, "order-19-pending.json")
        rig.shop.add_order(order)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        rig.shop.update_order(order["id"], status="REJECTED")
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 2)
        assert "STORNIERT" in rig.tickets("kitchen")[1]


async def test_a_held_preorder_survives_a_restart_and_prints_once(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        text += "\n[layout]\npreorder_lead = 1.0\n"
        await rig.start(text)
        order = fresh(fixtures_dir, "order-14-scheduled.json")
        now = virtual_now()
        order["shippingInfo"]["logistics"]["deliveryTimeSlot"] = {
            "from": format_wix_time(now + timedelta(minutes=3)),
            "to": format_wix_time(now + timedelta(minutes=3, seconds=15)),
        }
        rig.shop.add_order(order)
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 1, limit=30)
        await rig.stop()  # the power goes; it comes back after the release time
        await pass_time(thread_clock, 240)
        await rig.start(text)
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 2, limit=60)
        await pass_time(thread_clock, 60)
        kitchen = rig.tickets("kitchen")
        assert len(kitchen) == 2, kitchen
        assert "VORBESTELLUNG ERHALTEN" in kitchen[0]
        assert "VORBESTELLUNG" not in kitchen[1]
        assert "#10265" in kitchen[1]
