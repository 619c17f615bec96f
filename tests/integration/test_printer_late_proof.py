"""A process id that comes back after its job was given up on, as the kitchen sees it.

A printer slower than its profile is still printing when the wait for proof ends: the job goes
back to the queue marked as a possible duplicate, and the printer keeps the id it could not
send for the next connection (escpos.md §13). Whichever connection brings it back, that
ticket is on paper: the order is printed, its REPRINT is never sent, and an order set aside
after unproven tries stops needing attention.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio.testing

from tests.fakes.fake_printer import line_delay
from tests.fakes.transports import LateProofTransport
from tests.integration.harness import (
    Rig,
    config_text,
    dashboard_events,
    get_json,
    jobs_of,
    new_orders,
    open_rig,
    orders_shown,
    pass_time,
    ticket_numbers,
    tune,
    wait_fast,
    wait_for,
)
from tests.integration.test_dashboard_actions import ADMIN, post
from tests.integration.test_poll_mark_order import logged
from wixprint.printing.protocol import job_tag
from wixprint.receipts.testticket import TEST_TAG

SLOW_TICKET = 60.0
"""Virtual seconds one ticket takes on the slow printer: far beyond the wait for its proof
(``reply_timeout`` 10 s plus what the profile expects, under a second)."""


def _config(rig: Rig, **connectivity: float) -> str:
    text = config_text(rig.tmp, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
    return tune(text, "connectivity", **connectivity) if connectivity else text


async def _states(rig: Rig, number: str) -> list[str]:
    """The states ``GET /orders`` shows for the tickets of order ``number``."""
    return [t["state"] for t in jobs_of(await orders_shown(rig, [number]), number)]


async def _printed_after_the_wait_while_paused(rig: Rig, clock: trio.testing.MockClock) -> str:
    """A new order whose ticket the slow printer finishes after the wait for its proof;
    the operator paused the printer meanwhile, so nothing else connects (but a probe). Its
    number, once the printer holds the ticket's id for the next connection."""
    printer = rig.printers["kitchen"]
    (number,) = await new_orders(rig, 1, clock=clock)
    await wait_for(lambda: printer.job_bytes > 200)  # the ticket is in the printer
    assert (await post(rig, "/printers/kitchen/pause", headers=ADMIN)).status_code == 200
    await wait_fast(clock, lambda: printer.stored_process_id is not None, 300)
    return number


async def test_an_id_brought_back_by_the_reconnect_prints_the_order_and_withdraws_its_reprint(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator pauses the printer while its first try waits for proof; the printer
    finishes that ticket after the wait ended and keeps its id. On resume the actor asks the
    printer what it supports (contact was lost): that connection brings the id back, before
    any job is claimed."""
    caplog.set_level(logging.INFO)
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.print_delay = line_delay(SLOW_TICKET)
        # No connectivity probe may fetch the id first: the reconnect is what this is about.
        await rig.start(_config(rig, interval=3600.0, interval_down=3600.0))
        number = await _printed_after_the_wait_while_paused(rig, thread_clock)
        assert await _states(rig, number) == ["queued"]  # unproven: a REPRINT is due

        assert (await post(rig, "/printers/kitchen/resume", headers=ADMIN)).status_code == 200
        await wait_fast(thread_clock, lambda: printer.stored_process_id is None, 60)
        await pass_time(thread_clock, 120)

        assert ticket_numbers(rig, "kitchen") == [number]
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        (ticket,) = jobs_of(await get_json(rig, "/orders"), number)
        assert ticket["state"] == "printed"
        (late,) = logged(caplog, "ticket_printed_late_proof")
        assert (late["job"], late["order"]) == (ticket["job_id"], number)


async def test_an_id_a_probe_brings_back_settles_its_order_at_once_even_while_paused(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """As above, but the printer stays paused and the connectivity actor's probe is the next
    connection. The printer actor, idle for up to ``probe_interval`` (here 300 s), is woken
    and settles the order at once: its REPRINT no longer waits for the resume."""
    caplog.set_level(logging.INFO)
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.print_delay = line_delay(SLOW_TICKET)
        text = _config(rig, interval=10.0, interval_down=10.0)
        # proof set: an unproven ticket keeps what the printer supports, so no probe rings the
        # actor to ask again; only the id coming back may wake it.
        await rig.start(tune(text, "printers", probe_interval=300.0, proof="process_id"))
        number = await _printed_after_the_wait_while_paused(rig, thread_clock)
        assert await _states(rig, number) == ["queued"]
        await wait_fast(thread_clock, lambda: printer.stored_process_id is None, 60)
        taken = trio.current_time()
        with trio.fail_after(60):
            while await _states(rig, number) != ["printed"]:  # noqa: ASYNC110 - over HTTP
                await trio.sleep(0.5)
        assert trio.current_time() - taken < 5  # not the actor's 300 s idle wait

        (late,) = logged(caplog, "ticket_printed_late_proof")
        assert late["order"] == number
        (event,) = [e for e in await dashboard_events(rig) if e["event"] == "ticket_printed"]
        assert (event["order_number"], event["late"]) == (number, True)
        assert (await post(rig, "/printers/kitchen/resume", headers=ADMIN)).status_code == 200
        await pass_time(thread_clock, 120)
        assert ticket_numbers(rig, "kitchen") == [number]  # its REPRINT was never sent


async def test_an_id_back_while_the_paper_is_out_settles_its_order_before_the_new_roll(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """As the first, but the roll ran out meanwhile: the reconnect brings the id back and
    finds the printer unable to print. The order shows printed at once, not only once the
    owner has found a new roll (until then it looked unprinted: a reprint would cook it
    twice)."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.print_delay = line_delay(SLOW_TICKET)
        await rig.start(_config(rig, interval=3600.0, interval_down=3600.0))
        number = await _printed_after_the_wait_while_paused(rig, thread_clock)
        printer.paper_out = True
        assert (await post(rig, "/printers/kitchen/resume", headers=ADMIN)).status_code == 200
        await wait_fast(thread_clock, lambda: printer.stored_process_id is None, 60)
        await pass_time(thread_clock, 30)
        assert await _states(rig, number) == ["printed"]

        printer.paper_out = False
        await pass_time(thread_clock, 60)
        assert ticket_numbers(rig, "kitchen") == [number]  # its REPRINT was never sent


@pytest.mark.parametrize(
    "before",
    [pytest.param([TEST_TAG], id="a test print's"), pytest.param([job_tag(999)], id="no job's")],
)
async def test_late_ids_that_settle_nothing_do_not_hide_the_one_that_does(
    tmp_path: Path, thread_clock: trio.testing.MockClock, before: list[bytes]
) -> None:
    """Several ids taken at once: each is looked at, whatever the ones before it were."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        transport = LateProofTransport("kitchen", before)
        await rig.start(_config(rig), transports={"kitchen": transport})
        (number,) = await new_orders(rig, 1, clock=thread_clock)
        await wait_for(lambda: bool(transport.tags))
        await pass_time(thread_clock, 60)
        assert len(transport.tags) == 1  # its REPRINT was never sent
        assert await _states(rig, number) == ["printed"]
