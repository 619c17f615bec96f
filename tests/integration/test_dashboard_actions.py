"""The dashboard's admin actions against the whole service: pause and resume a printer (jobs
wait, no alert while paused, the pause outlasts a restart), retry a job set aside, test-print,
and the preview of an order, each over HTTP with the admin token."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import trio.testing
from PIL import Image

from tests.integration.harness import (
    Rig,
    config_text,
    get_json,
    jobs_of,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    wait_fast,
    wait_for,
)
from wixprint.commands.preview import load_raw_order
from wixprint.receipts.preview import detected_profiles, preview_tickets
from wixprint.wix.parse import parse_order

ADMIN = {"X-Admin-Token": "test-admin"}
ALERTS = "\n[alerts]\nprinter_offline_after = 60.0\n"


async def post(rig: Rig, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30.0) as client:
        return await client.post(f"{rig.web_url}{path}", **kwargs)


async def test_a_paused_printer_holds_its_jobs_raises_no_alert_and_stays_paused_over_a_restart(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = config_text(rig.tmp, rig.shop_url, {"kitchen": printer.port}, extra=ALERTS)
        await rig.start(text)
        assert (await post(rig, "/printers/kitchen/pause")).status_code == 401
        response = await post(rig, "/printers/kitchen/pause", headers=ADMIN)
        assert response.json() == {"printer": "kitchen", "paused": True}
        (number,) = await new_orders(rig, 1)
        await pass_time(thread_clock, 30)
        assert rig.tickets("kitchen") == []  # the printer is fine: it waits for the owner
        printer.paper_out = True  # the roll is being changed
        await pass_time(thread_clock, 300)  # five times the alert's grace

        assert rig.tickets("kitchen") == []
        status = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert (status["paused"], status["problem"]["kind"]) == (True, "paused")
        assert [t["state"] for t in jobs_of(await get_json(rig, "/orders"), number)] == ["queued"]
        alerts = (await get_json(rig, "/recovery/status"))["alerts"]
        assert [a for a in alerts if "kitchen" in str(a["key"])] == []
        health = (await get_json(rig, "/health"))["checks"]["printer:kitchen"]
        assert health["reason"] == "paused"

        await rig.stop()
        printer.paper_out = False
        await rig.start(text)
        await pass_time(thread_clock, 30)
        assert rig.tickets("kitchen") == []
        status = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert status["paused"] is True

        response = await post(rig, "/printers/kitchen/resume", headers=ADMIN)
        assert response.json() == {"printer": "kitchen", "paused": False}
        await wait_for(lambda: ticket_numbers(rig, "kitchen") == [number])
        status = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert (status["paused"], status["problem"]) == (False, None)


async def test_a_paused_printer_that_stays_out_of_paper_alerts_after_resume(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        extra = ALERTS + 'language = "en"\n'
        await rig.start(config_text(rig.tmp, rig.shop_url, {"kitchen": printer.port}, extra=extra))
        await post(rig, "/printers/kitchen/pause", headers=ADMIN)
        printer.paper_out = True
        await pass_time(thread_clock, 120)
        await post(rig, "/printers/kitchen/resume", headers=ADMIN)
        await pass_time(thread_clock, 120)
        status = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert status["problem"] == {"kind": "paper_out", "title": "Printer kitchen: out of paper"}
        alerts = (await get_json(rig, "/recovery/status"))["alerts"]
        assert [a["key"] for a in alerts if a["raised"]] == ["paper_out:kitchen"]


async def test_retry_of_a_job_set_aside_prints_it_once_more_on_its_printer(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.process_id = False  # never confirms: the job is set aside
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port})
        await rig.start(tune(text, "printers", proof="process_id"))
        (number,) = await new_orders(rig, 1)

        async def set_aside() -> list[dict[str, Any]]:
            orders = await get_json(rig, "/orders")
            if number not in [o["number"] for o in orders["orders"]]:
                return []  # not fetched yet
            return [j for j in jobs_of(orders, number) if j["state"] == "attention"]

        found: list[dict[str, Any]] = []
        for _ in range(60):
            found = await set_aside()
            if found:
                break
            await pass_time(thread_clock, 10)
        (job,) = found
        copies = len(rig.tickets("kitchen"))
        printer.process_id = True
        assert (await post(rig, f"/jobs/{job['job_id']}/retry")).status_code == 401
        response = await post(rig, f"/jobs/{job['job_id']}/retry", headers=ADMIN)
        assert response.status_code == 200
        (new_job,) = response.json()["jobs"]
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) > copies, 120)
        await pass_time(thread_clock, 30)
        tickets = jobs_of(await get_json(rig, "/orders"), number)
        assert [(t["job_id"], t["state"]) for t in tickets] == [
            (job["job_id"], "replaced"),
            (new_job, "printed"),
        ]
        assert "REPRINT" in rig.tickets("kitchen")[-1]
        again = await post(rig, f"/jobs/{job['job_id']}/retry", headers=ADMIN)
        assert (again.status_code, again.json()) == (409, {"error": "job is not set aside"})


async def test_test_print_and_preview_from_the_dashboard(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        text = config_text(tmp_path, rig.shop_url, {n: p.port for n, p in rig.printers.items()})
        service = await rig.start(text)
        response = await post(rig, "/printers/counter/test-print", headers=ADMIN)
        assert response.status_code == 200
        said = response.json()
        assert (said["printed"], said["model"], said["proof"]) == (True, "TM-m30III", "process_id")
        await wait_for(lambda: any("edge to edge" in t for t in rig.tickets("counter")))

        (number,) = await new_orders(rig, 1)
        await wait_for(lambda: ticket_numbers(rig, "kitchen") == [number])
        async with httpx.AsyncClient(timeout=30.0) as client:
            url = f"{rig.web_url}/orders/{number}/preview"
            assert (await client.get(url)).status_code == 401
            shown = (await client.get(url, headers=ADMIN)).json()
        assert rig.config is not None
        raw = await trio.to_thread.run_sync(load_raw_order, number, rig.config)
        order = parse_order(raw, ZoneInfo(rig.config.service.timezone)).order
        profiles = detected_profiles(rig.config, service.ctx.transports)
        expected = preview_tickets(order, rig.config, profiles=profiles)
        assert [t["text"] for t in shown["tickets"]] == [t.text for t in expected]
        assert [(t["receipt"], t["printer"]) for t in shown["tickets"]] == [
            ("kitchen", "kitchen"),
            ("driver", "counter"),
            ("customer", "counter"),
        ]
        picture = Image.open(io.BytesIO(base64.b64decode(shown["png"])))
        assert picture.width == 576 + 32
