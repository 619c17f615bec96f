"""Proof waits against a printer that is busy with our own ticket (escpos.md §12): status
requests queue behind the data it has not read yet, and requests it ignores while it sends
block data never get an answer. Neither may end a job whose ticket is still printing."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.deadlines import fail_after
from tests.fakes.fake_printer import FakePrinter, line_ticket
from tests.fakes.fake_printer import start_printer as _start
from wixprint.errors import PrintOutcomeUnknown
from wixprint.printing.base import JobOptions
from wixprint.printing.network import NetworkTransport
from wixprint.printing.protocol import job_tag
from wixprint.vocabulary import PrinterStatus

LINE = 0.05
"""Seconds per line of the slow printer."""


def _transport(printer: FakePrinter, **kw: float) -> NetworkTransport:
    options: dict[str, float] = {"connect_timeout": 2.0, "send_timeout": 5.0, "reply_timeout": 5.0}
    options.update(kw)
    return NetworkTransport("kitchen", "127.0.0.1", printer.port, proof="auto", **options)


def _nothing(status: PrinterStatus) -> None:
    return None


async def unproven_then_confirmed_by_status(
    nursery: trio.Nursery, order: int
) -> tuple[FakePrinter, NetworkTransport, str]:
    """A printer busy with a long ticket whose proof never came in time (its outcome is
    unknown), then the next, short job (``order + 1``): the questions wait behind the lines,
    so that job is confirmed by status. Returns once both tickets are out."""
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    with fail_after(60), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(line_ticket(40), tag=job_tag(order, 1), on_status=_nothing)
    with fail_after(120):
        got = await transport.print_job(
            line_ticket(5), tag=job_tag(order + 1), on_status=_nothing, options=JobOptions(3.0)
        )
        await printer.wait_tickets(2)
    return printer, transport, got


async def test_a_long_ticket_on_a_printer_without_process_ids_is_confirmed_once(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """400 lines take 20 s; the status request after the ticket is answered only once the
    printer has read all of it. That silence is our own ticket, not a lost printer."""
    printer = await _start(nursery, process_id=False, print_delay=LINE)
    transport = _transport(printer)
    ticket = line_ticket(400, "Kaesespaetzle mit Roestzwiebeln, extra Kaese")
    with fail_after(300):
        got = await transport.print_job(
            ticket, tag=job_tag(1), on_status=_nothing, options=JobOptions(400 * LINE)
        )
        await printer.wait_tickets(1)
    assert got == "status"
    assert len(printer.paper()) == 1
    assert transport.statistics().unknown_outcomes == 0


async def test_a_status_request_ignored_at_connect_does_not_stop_polling_for_the_job(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The printer sends another job's stored process id when we connect and ignores our
    first status request meanwhile. The paper then runs out mid-ticket and a new roll goes
    in: the wait must see the fault, or it gives up on a ticket that is still printing."""
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    other, ours = job_tag(1, 1), job_tag(2, 1)
    with fail_after(60), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(line_ticket(20, "other"), tag=other, on_status=_nothing)
    with fail_after(60):
        await printer.wait_tickets(1)
        await trio.sleep(1)
    assert printer.stored_process_id == other
    statuses: list[PrinterStatus] = []

    async def new_roll() -> None:
        await printer.wait_for(lambda: printer.paper_out)
        await trio.sleep(30)
        printer.paper_out = False

    printer.paper_out_after(10)
    nursery.start_soon(new_roll)
    with fail_after(300):
        got = await transport.print_job(
            line_ticket(40, "ours"), tag=ours, on_status=statuses.append, options=JobOptions(20.0)
        )
        await printer.wait_tickets(2)
    assert got == "proof"
    assert any(s.paper == "out" for s in statuses)  # the fault was seen while waiting
    assert printer.status_ignored >= 1
    assert [t.tag for t in printer.tickets] == [other, ours]
    assert transport.take_late_proofs() == [other]


async def test_a_busy_printer_keeps_its_process_ids_and_the_retry_is_proven(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """After an unproven attempt the printer is asked again what it supports while it still
    prints that attempt: the questions wait behind its lines. That is no reason to confirm
    the TM-m30III by status from now on; the retry clears the printer, then asks."""
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    first, second = job_tag(3, 1), job_tag(3, 2)
    with fail_after(60), pytest.raises(PrintOutcomeUnknown) as caught:
        await transport.print_job(line_ticket(40), tag=first, on_status=_nothing)
    assert caught.value.answered
    with fail_after(60):
        caps = await transport.identify()  # what the printer actor does next
    assert caps.process_id is not False
    assert caps.model == "TM-m30III"
    retry = JobOptions(10.0, retry=True, earlier=frozenset({first}))
    with fail_after(120):
        got = await transport.print_job(
            line_ticket(10), tag=second, on_status=_nothing, options=retry
        )
        await printer.wait_tickets(1)
    assert got == "proof"
    now = transport.capabilities
    assert now is not None
    assert (now.process_id, now.model) == (True, "TM-m30III")
    assert transport.proof_mode().mode == "process_id"
    assert printer.tickets[-1].tag == second


async def test_a_new_job_on_a_busy_printer_is_confirmed_by_status_and_it_is_asked_again(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The next job is not a retry (the earlier one was set aside): nothing is cleared, the
    questions time out behind the lines, this job is confirmed by status; once the printer
    is idle it is asked again and answers process ids as before."""
    _, transport, got = await unproven_then_confirmed_by_status(nursery, 4)
    with fail_after(120):
        later = await transport.print_job(
            line_ticket(5), tag=job_tag(6), on_status=_nothing, options=JobOptions(3.0)
        )
    assert (got, later) == ("status", "proof")
    caps = transport.capabilities
    assert caps is not None
    assert (caps.process_id, caps.model) == (True, "TM-m30III")


async def test_a_status_request_ignored_during_block_data_does_not_silence_the_printer(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """This printer takes half a second to send a block reply and ignores DLE EOT meanwhile;
    the status proof's first request comes right after the capability probe's answers. The
    request that never gets an answer must not make the printer look silent."""
    printer = await _start(nursery, block_seconds=0.5)
    transport = NetworkTransport(
        "kitchen", "127.0.0.1", printer.port, proof="status", reply_timeout=5.0
    )
    with fail_after(60):
        got = await transport.print_job(line_ticket(5), tag=job_tag(7), on_status=_nothing)
        await printer.wait_tickets(1)
    assert got == "status"
    assert printer.status_ignored >= 1
    assert transport.statistics().unknown_outcomes == 0
