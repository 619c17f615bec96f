"""Printing faults, end to end, as the kitchen sees them on paper.

Paper out, a connection reset mid-ticket, a printer gone for half an hour, an operator's
reprint: every order still comes out once, in the order it arrived, and a copy that might be
a duplicate says REPRINT.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio.testing

from tests.integration.harness import (
    config_text,
    fixture_order,
    get_json,
    jobs_of,
    new_order,
    new_orders,
    open_rig,
    orders_shown,
    pass_time,
    ticket_numbers,
    tune,
    wait_fast,
    wait_for,
)
from wixprint.printing.protocol import MAX_PENDING_PAYLOAD


def kitchen_only(rig_tmp: Path, shop_url: str, port: int) -> str:
    return config_text(rig_tmp, shop_url, {"kitchen": port})


async def test_paper_out_mid_service_loses_nothing_resends_nothing_and_keeps_the_order(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await rig.start(kitchen_only(tmp_path, rig.shop_url, printer.port))
        early = await new_orders(rig, 2, every=3)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)

        # The roll runs out while the next ticket is on its way to the printer.
        sent = printer.job_bytes
        held = await new_orders(rig, 1)
        await printer.wait_job_bytes(sent + 1)
        printer.paper_out = True
        waiting = await new_orders(rig, 3, every=5, clock=thread_clock)  # the rush goes on
        await pass_time(thread_clock, 20)
        assert len(rig.tickets("kitchen")) == 2
        health = await get_json(rig, "/health")
        assert health["checks"]["printer:kitchen"]["status"] == "degraded"
        assert health["checks"]["printer:kitchen"]["reason"] == "paper out"
        orders = await orders_shown(rig, held + waiting)
        assert [t["state"] for t in jobs_of(orders, held[0])] == ["printing"]  # in the printer
        for number in waiting:
            assert [t["state"] for t in jobs_of(orders, number)] == ["queued"]

        printer.paper_out = False
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 6)
        await pass_time(thread_clock, 20)
        assert ticket_numbers(rig, "kitchen") == early + held + waiting
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        # Each ticket went to the printer once: one proof request per job, none repeated.
        tags = [tag for tag in printer.process_ids if not tag.startswith(b"~")]  # not probes
        assert len(tags) == len(set(tags)) == 6
        orders = await get_json(rig, "/orders")
        for number in early + held + waiting:
            assert [t["state"] for t in jobs_of(orders, number)] == ["printed"]


@pytest.mark.parametrize("printed_before_reset", [True, False])
async def test_a_connection_reset_mid_ticket_reprints_it_marked_reprint(
    tmp_path: Path, printed_before_reset: bool, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await rig.start(kitchen_only(tmp_path, rig.shop_url, printer.port))
        await trio.sleep(3)
        # The printer resets 150 bytes into the next ticket; it may or may not print them.
        printer.reset_mid_job(MAX_PENDING_PAYLOAD + 150, print_received=printed_before_reset)
        number = (await new_orders(rig, 1))[0]
        await wait_for(lambda: any("REPRINT" in t for t in rig.tickets("kitchen")))
        await pass_time(thread_clock, 20)
        tickets = rig.tickets("kitchen")
        if printed_before_reset:  # the torn original, unmarked, then the full marked copy
            assert len(tickets) == 2
            assert "REPRINT" not in tickets[0]
        else:
            assert len(tickets) == 1
        assert "REPRINT" in tickets[-1]
        assert ticket_numbers(rig, "kitchen")[-1] == number
        orders = await get_json(rig, "/orders")
        [job] = jobs_of(orders, number)
        assert job["state"] == "printed"
        assert job["reprint"] is True


async def test_a_printer_gone_for_half_an_hour_fails_nothing_and_prints_everything_after(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = kitchen_only(tmp_path, rig.shop_url, printer.port)
        # Slower routine polling keeps half an hour of virtual time cheap in real time.
        text = tune(text, "wix", poll_interval=10.0)
        text = tune(text, "printers", probe_interval=30.0)
        first = await new_orders(rig, 1)
        await rig.start(tune(text, "connectivity", interval=30.0, interval_down=5.0))
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)

        printer.unreachable = True  # unplugged
        await pass_time(thread_clock, 10)
        waiting = []
        for _ in range(4):  # orders keep coming in
            waiting.append(str(new_order(rig)["number"]))
            await pass_time(thread_clock, 60)
        await pass_time(thread_clock, 26 * 60)
        orders = await get_json(rig, "/orders")
        for number in waiting:
            assert [t["state"] for t in jobs_of(orders, number)] == ["queued"]
        health = await get_json(rig, "/health")
        assert health["status"] == "degraded"
        check = health["checks"]["printer:kitchen"]
        assert check["status"] == "degraded"
        assert "cannot connect" in check["reason"]
        recovery = await get_json(rig, "/recovery/status")
        assert recovery["queues"]["kitchen"]["depth"] == 4
        assert recovery["queues"]["kitchen"]["failed"] == 0
        # Waiting is cheap: the head of the queue is not claimed and released (two commits
        # on the SD card each) every two seconds for half an hour, but about once a probe.
        assert rig.service is not None
        head = await rig.service.ctx.spool.get().get_job(jobs_of(orders, waiting[0])[0]["job_id"])
        assert head is not None
        assert head.attempts <= 100

        printer.unreachable = False
        back = trio.current_time()
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 5)
        assert trio.current_time() - back < 60  # not left waiting for a backed-off retry
        await pass_time(thread_clock, 20)
        assert ticket_numbers(rig, "kitchen") == first + waiting
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        health = await get_json(rig, "/health")
        assert health["checks"]["printer:kitchen"]["status"] == "ready"


async def test_an_operator_reprint_needs_the_token_and_prints_marked_at_that_station(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        ports = {name: p.port for name, p in rig.printers.items()}
        await rig.start(config_text(tmp_path, rig.shop_url, ports))
        await wait_for(
            lambda: len(rig.tickets("kitchen")) == 1 and len(rig.tickets("counter")) == 2
        )
        url = f"{rig.web_url}/orders/10231/reprint"
        async with httpx.AsyncClient(timeout=30.0) as client:
            assert (await client.post(url, json={"receipt": "kitchen"})).status_code == 401
            wrong = {"Authorization": "Bearer guessed"}
            denied = await client.post(url, json={"receipt": "kitchen"}, headers=wrong)
            assert denied.status_code == 401
            assert "guessed" not in denied.text
            await pass_time(thread_clock, 10)
            assert len(rig.tickets("kitchen")) == 1

            admin = {"Authorization": "Bearer test-admin"}
            response = await client.post(url, json={"receipt": "kitchen"}, headers=admin)
            assert response.status_code == 200
            assert len(response.json()["jobs"]) == 1
            unknown = await client.post(f"{rig.web_url}/orders/99999/reprint", headers=admin)
            assert unknown.status_code == 404
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)
        await pass_time(thread_clock, 10)
        kitchen = rig.tickets("kitchen")
        assert "REPRINT" not in kitchen[0]
        assert "REPRINT" in kitchen[1]
        assert "10231" in kitchen[1]
        assert len(rig.tickets("counter")) == 2  # only the kitchen ticket was asked for


async def test_a_spool_read_failure_never_quarantines_the_order(
    tmp_path: Path, thread_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poison order is one that cannot be rendered; a spool that fails to read the order is
    the spool's problem: the actor restarts and the ticket still prints (marked REPRINT, since
    the crash left it in ``printing``)."""
    from wixprint.errors import SpoolError
    from wixprint.spool import Spool

    real = Spool.order_raw
    failures = {"left": 4}

    async def flaky(self: Spool, order_id: str) -> str | None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise SpoolError("spool order_raw failed (SQLITE_IOERR)")
        return await real(self, order_id)

    monkeypatch.setattr(Spool, "order_raw", flaky)
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await rig.start(kitchen_only(tmp_path, rig.shop_url, printer.port))
        numbers = await new_orders(rig, 1)
        await wait_for(lambda: ticket_numbers(rig, "kitchen") == numbers, limit=120)
        orders = await get_json(rig, "/orders")
        assert [t["state"] for t in jobs_of(orders, numbers[0])] == ["printed"]
        assert failures["left"] == 0


async def test_a_usb_printer_shows_online_at_once_when_a_ticket_went_through(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """A USB printer (``transport = "device"``) has no reply channel: its probe sees only
    whether the device is there, never the paper. Plugged in while an order waits, its first
    probe finds it (one probe: not yet confirmed online); the ticket the device then takes
    proves it is, and the dashboard says so at once. Its paper stays unknown: no ticket can
    tell, and a later probe would only say "unknown" again."""
    device = tmp_path / "lp0"  # a regular file stands in for /dev/usb/lp0
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = tune(
            kitchen_only(tmp_path, rig.shop_url, rig.printers["kitchen"].port),
            "printers",
            transport="device",
            device=str(device),
        )
        # Three agreeing observations to confirm a change: the probe and the ticket are two.
        connectivity = {"interval": 3600.0, "interval_down": 3600.0, "confirm": 3}
        await rig.start(tune(text, "connectivity", **connectivity))
        (number,) = await new_orders(rig, 1)
        await pass_time(thread_clock, 30)
        before = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert before["online"] is False  # unplugged
        device.write_bytes(b"")  # plugged in
        await wait_for(lambda: f"#{number}".encode() in device.read_bytes())
        await pass_time(thread_clock, 5)
        after = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert (after["online"], after["paper"]) == (True, "unknown")
