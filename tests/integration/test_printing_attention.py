"""Printers that do not behave like the ideal one, end to end, as the kitchen sees them.

A printer that never answers GS ( H, a ticket that takes 30 s to print, a status reply lost
to the proof reply, a job cut off inside its QR code: none of them may print an order over
and over, stall the queue, or merge two tickets into one strip.
"""

from __future__ import annotations

import copy
import logging
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import trio.testing

from tests.fakes.fake_printer import line_delay
from tests.fakes.smtp import FakeSmtpServer, ReceivedMail
from tests.integration.harness import (
    Rig,
    child_status,
    config_text,
    dashboard_events,
    get_json,
    jobs_of,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    virtual_now,
    wait_fast,
    wait_for,
)
from tests.integration.test_dashboard_actions import ADMIN, post
from tests.integration.test_poll_mark_order import logged
from wixprint.config import Config
from wixprint.config.tomledit import Value
from wixprint.receipts import TicketRequest, render_ticket
from wixprint.spool.machine import UNANSWERED_LIMIT, UNPROVEN_LIMIT
from wixprint.supervisor import faults
from wixprint.vocabulary import Variant
from wixprint.wix.parse import parse_order


def _kitchen(rig: Rig, **printer: Value) -> str:
    text = config_text(rig.tmp, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
    return tune(text, "printers", **printer) if printer else text


def _copies(rig: Rig, number: str) -> list[str]:
    return [t for t, n in zip(rig.tickets("kitchen"), ticket_numbers(rig, "kitchen"), strict=True)
            if n == number]  # fmt: skip


async def test_a_printer_ignoring_process_ids_prints_an_order_at_most_n_times_and_moves_on(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.process_id = False  # many ESC/POS compatibles ignore GS ( H silently
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        await rig.start(tune(text, "printers", proof="process_id"))  # forced: the old default
        first, second = await new_orders(rig, 2, every=5, clock=thread_clock)
        await wait_fast(thread_clock, lambda: second in ticket_numbers(rig, "kitchen"), 600)
        await wait_fast(thread_clock, lambda: len(smtp.messages) >= 2, 600)
        await pass_time(thread_clock, 120)

        copies = _copies(rig, first)
        assert 1 <= len(copies) <= UNPROVEN_LIMIT
        assert all("REPRINT" in c for c in copies[1:])  # every copy after the first says so
        mails = [m for m in smtp.messages if "nicht bestätigt" in m.subject]
        assert [first in m.subject for m in mails].count(True) == 1  # one alert names it
        orders = await get_json(rig, "/orders")
        assert [t["state"] for t in jobs_of(orders, first)] == ["attention"]
        assert next(o for o in orders["orders"] if o["number"] == first)["needs_attention"]
        recovery = await get_json(rig, "/recovery/status")
        assert first in [j["order_number"] for j in recovery["needs_attention"]]
        assert recovery["queues"]["kitchen"]["depth"] == 0  # the queue moved on
        connectivity = await get_json(rig, "/connectivity/status")
        assert "set aside" in connectivity["printers"]["kitchen"]["proof_warning"]

        # The owner fixes the printer's setting and reprints: the order is taken care of.
        printer.process_id = True
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{rig.web_url}/orders/{first}/reprint",
                headers={"Authorization": "Bearer test-admin"},
            )
        assert response.status_code in (200, 202)
        await wait_fast(thread_clock, lambda: len(_copies(rig, first)) > len(copies), 120)
        await pass_time(thread_clock, 30)
        orders = await get_json(rig, "/orders")
        states = [t["state"] for t in jobs_of(orders, first)]
        assert states == ["replaced", "printed"]
        assert not next(o for o in orders["orders"] if o["number"] == first)["needs_attention"]


async def test_auto_proof_prints_every_order_once_on_such_a_printer_with_a_warning(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.printers["kitchen"].process_id = False
        await rig.start(_kitchen(rig))  # proof = "auto", the default
        numbers = await new_orders(rig, 3, every=5, clock=thread_clock)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
        await pass_time(thread_clock, 120)
        assert ticket_numbers(rig, "kitchen") == numbers
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        status = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert (status["proof"], status["process_id"], status["model"]) == (
            "status",
            False,
            "TM-m30III",
        )
        assert "GS ( H" in status["proof_warning"]
        (warned,) = logged(caplog, "printer_proof_warning")  # in the log too, once
        assert (warned["actor"], warned["proof"], warned["warning"]) == (
            "printer",
            "status",
            status["proof_warning"],
        )


async def test_a_printer_that_drops_every_ticket_sets_the_order_aside_after_n_tries(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    """It answers status, takes part of the ticket, then resets the connection: every try
    is an outage with an unknown outcome. Not for ever: at the limit the order is set aside
    and alerted, and the next order prints."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.reset_mid_job(1000, every=True)  # past the capability probe, inside a ticket
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        await rig.start(text)
        (first,) = await new_orders(rig, 1, clock=thread_clock)

        def mails() -> list[ReceivedMail]:
            return [m for m in smtp.messages if first in m.subject]

        await wait_fast(thread_clock, lambda: bool(mails()), 3600)
        assert printer.resets == UNANSWERED_LIMIT
        orders = await get_json(rig, "/orders")
        assert [t["state"] for t in jobs_of(orders, first)] == ["attention"]
        assert "nicht bestätigt" in mails()[0].subject
        # As many copies may be on paper: the owner is told how many went out.
        assert f"ging {UNANSWERED_LIMIT}-mal an den Drucker" in " ".join(mails()[0].body.split())
        recovery = await get_json(rig, "/recovery/status")
        (aside,) = recovery["needs_attention"]
        assert (aside["order_number"], aside["attempts"]) == (first, UNANSWERED_LIMIT)

        printer.disarm()
        (second,) = await new_orders(rig, 1, clock=thread_clock)
        await wait_fast(thread_clock, lambda: second in ticket_numbers(rig, "kitchen"), 600)
        await pass_time(thread_clock, 60)
        assert ticket_numbers(rig, "kitchen") == [second]
        assert printer.resets == UNANSWERED_LIMIT
        assert len(mails()) == 1


def _big_order(rig: Rig, items: int) -> str:
    order: dict[str, Any] = rig.shop.new_demo_order(virtual_now())
    template = order["lineItems"]
    order["lineItems"] = [
        dict(copy.deepcopy(template[i % len(template)]), id=str(uuid.UUID(int=i + 1)))
        for i in range(items)
    ]
    rig.shop.add_order(order)
    return str(order["number"])


def _line_heights(rig: Rig, number: str, config: Config) -> int:
    """How many normal line heights the kitchen ticket of ``number`` takes on paper."""
    raw = next(
        o for o in (rig.shop.order(i) for i in rig.shop.order_ids()) if o and o["number"] == number
    )
    order = parse_order(raw, ZoneInfo(config.service.timezone)).order
    request = TicketRequest("kitchen", Variant.NEW, reprint=False, job_id=1, revision=1)
    printer = config.printers[0]
    size = render_ticket(order, request, config=config, printer=printer).length
    assert size.lines + size.tall_lines > 400  # the size the kitchen complained about
    return size.lines + 2 * size.tall_lines + 6 * size.codes + 4 * size.cuts


async def test_a_thirty_second_ticket_prints_once(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """90 items, two copies: ~480 lines, 30 s on a slow printer; far over reply_timeout."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = _kitchen(rig, reply_timeout=20.0) + "\n[layout]\ncopies = { kitchen = 2 }\n"
        service = await rig.start(text)
        await pass_time(thread_clock, 5)
        number = _big_order(rig, 90)
        printer.print_delay = 30.0 / _line_heights(rig, number, service.ctx.config)
        start = trio.current_time()
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 2, 600)
        took = trio.current_time() - start
        await pass_time(thread_clock, 120)
        assert took >= 30
        assert ticket_numbers(rig, "kitchen") == [number, number]  # the two copies, once
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        orders = await get_json(rig, "/orders")
        assert [t["state"] for t in jobs_of(orders, number)] == ["printed"]


async def test_a_status_reply_lost_to_the_proof_reply_gives_no_duplicate(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.collide = True  # each process id goes out exactly when a status poll comes in
        printer.print_delay = 0.1  # long enough that the job polls status before its proof
        await rig.start(_kitchen(rig))
        numbers = await new_orders(rig, 3, every=20, clock=thread_clock)
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 3, 600)
        await pass_time(thread_clock, 120)
        assert printer.status_ignored >= 3  # the collisions did happen
        assert ticket_numbers(rig, "kitchen") == numbers
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))


async def test_a_retry_after_a_cut_inside_a_qr_code_starts_on_its_own_strip_with_its_banner(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        counter = rig.printers["counter"]
        ports = {name: p.port for name, p in rig.printers.items()}
        await rig.start(config_text(tmp_path, rig.shop_url, ports))
        await pass_time(thread_clock, 5)
        counter.cut_inside("GS ( k", after=30)  # the driver slip's maps link, half sent
        order = rig.shop.new_demo_order(virtual_now())  # a delivery: driver slip with QR
        number = str(order["number"])
        await wait_fast(thread_clock, lambda: any("REPRINT" in t for t in rig.tickets("counter")))
        await pass_time(thread_clock, 60)

        strips = counter.paper()
        fragment, retry = strips[0], strips[1]
        assert fragment.cut  # cut off before the retry, on its own strip
        assert "REPRINT" not in fragment.text
        assert fragment.qr_data == []  # the code never printed
        assert retry.lines[0].strip().startswith("REPRINT")  # the banner on top
        assert f"#{number}" in retry.text
        assert retry.qr_data  # this time the whole slip, QR code included
        assert all(s.unknown_commands == [] for s in strips)


@pytest.mark.parametrize("crashes", [0, 7])
async def test_a_ticket_proven_after_the_actor_gave_up_is_not_printed_again(
    tmp_path: Path,
    thread_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    crashes: int,
) -> None:
    """A 60-second ticket on a printer set to process ids: the actor gives up waiting for its
    proof long before it is out. The owner pauses the printer meanwhile; the printer keeps
    the proof it could not send (the connection was gone). On resume the retry's connection
    gets that stored proof before it sends anything: the REPRINT is withdrawn, one copy on
    paper. So too after the actor crashed before sending seven times in a row: the ninth try
    has the first one's process id again (eight slots), and that id coming back before
    anything was sent is the first try's proof."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        caplog.set_level(logging.INFO)  # reprint_withdrawn
        faults.reset()
        printer = rig.printers["kitchen"]
        text = _kitchen(rig, proof="process_id")
        # No status probe of the connectivity actor's may take the stored proof first.
        await rig.start(tune(text, "connectivity", interval=3600.0, interval_down=3600.0))
        await pass_time(thread_clock, 5)
        printer.print_delay = line_delay(60.0)
        before = printer.job_bytes  # what it was asked at the start
        (number,) = await new_orders(rig, 1)
        await printer.wait_job_bytes(before + 1)
        assert (await post(rig, "/printers/kitchen/pause", headers=ADMIN)).status_code == 200
        await wait_for(lambda: len(logged(caplog, "print_outcome_unknown")) == 1)
        await wait_fast(thread_clock, lambda: printer.stored_process_id is not None, 300)
        assert len(rig.tickets("kitchen")) == 1
        with faults.armed("printer.before_send", times=crashes) if crashes else nullcontext():
            assert (await post(rig, "/printers/kitchen/resume", headers=ADMIN)).status_code == 200
            # Printed (or proven late), or, were the REPRINT sent, unproven again. The restarts
            # are start-ups: no fast clock jumps before this.
            await wait_for(
                lambda: (
                    bool(
                        logged(caplog, "ticket_printed")
                        + logged(caplog, "ticket_printed_late_proof")
                    )
                    or len(logged(caplog, "print_outcome_unknown")) > 1
                )
            )
        await pass_time(thread_clock, 180)  # a REPRINT would be out by now
        assert ticket_numbers(rig, "kitchen") == [number]
        assert len(logged(caplog, "reprint_withdrawn")) == 1
        assert "REPRINT" not in rig.tickets("kitchen")[0]
        (job,) = jobs_of(await get_json(rig, "/orders"), number)
        assert job["state"] == "printed"
        (event,) = [e for e in await dashboard_events(rig) if e["event"] == "ticket_printed"]
        assert (event["order_number"], event["late"]) == (number, True)  # proven late
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "printer:kitchen")["restarts"] == crashes
