"""NetworkTransport against printers that do not behave like the ideal one (escpos.md §12–§14):
long tickets, lost status replies, stored process ids, printers without process ids, power
loss, errors. Each of these once ended in a duplicate, a lost proof or a stalled queue.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
import trio.testing

from tests.deadlines import fail_after
from tests.fakes.fake_printer import CLEAR_BUFFERS, FakePrinter, line_ticket, sample_ticket
from tests.fakes.fake_printer import start_printer as _start
from wixprint.errors import PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.base import JobOptions
from wixprint.printing.network import NetworkTransport, Proof
from wixprint.printing.profiles import PROFILES, TicketLength
from wixprint.printing.proof import KEEPALIVE
from wixprint.printing.protocol import MAX_PENDING_PAYLOAD, job_tag
from wixprint.vocabulary import PrinterStatus

OK = PrinterStatus(online=True, paper="ok")
RETRY = JobOptions(retry=True)


def _transport(printer: FakePrinter, proof: Proof = "auto", **kw: float) -> NetworkTransport:
    options: dict[str, float] = {"connect_timeout": 2.0, "send_timeout": 5.0, "reply_timeout": 5.0}
    options.update(kw)
    return NetworkTransport("kitchen", "127.0.0.1", printer.port, proof=proof, **options)


def _nothing(status: PrinterStatus) -> None:
    return None


async def test_a_long_ticket_is_waited_for_as_long_as_it_prints(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """480 lines on a slow printer take 30 s: longer than any fixed reply timeout we had."""
    printer = await _start(nursery, print_delay=30.0 / 480)
    transport = _transport(printer, reply_timeout=20.0)
    seconds = PROFILES["TM-m30III"].print_seconds(TicketLength(lines=480, cuts=1))
    start = trio.current_time()
    with fail_after(120):
        got = await transport.print_job(
            line_ticket(480), tag=job_tag(1), on_status=_nothing, options=JobOptions(seconds)
        )
    assert got == "proof"
    assert trio.current_time() - start >= 30
    assert len(printer.tickets) == 1
    assert transport.statistics().unknown_outcomes == 0


async def test_a_status_request_lost_to_the_proof_reply_keeps_the_proof(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The printer sends the process id exactly when our status poll arrives and ignores
    the poll (it is sending block data): the proof is in hand, the job is printed."""
    printer = await _start(nursery, collide=True, print_delay=0.2)
    transport = _transport(printer, reply_timeout=10.0)
    with fail_after(60):
        got = await transport.print_job(sample_ticket(), tag=job_tag(2), on_status=_nothing)
    assert got == "proof"
    assert printer.status_ignored == 1
    assert len(printer.tickets) == 1


@pytest.mark.parametrize("profile", [{"status_delay": 1.5}, {"reply_delay": 0.4}])
async def test_late_and_slow_status_replies_still_print_once(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, profile: dict[str, float]
) -> None:
    printer = await _start(nursery, **profile)
    transport = _transport(printer)
    statuses: list[PrinterStatus] = []
    with fail_after(60):
        got = await transport.print_job(sample_ticket(), tag=job_tag(3), on_status=statuses.append)
    assert got == "proof"
    assert statuses[0] == OK
    assert len(printer.tickets) == 1


async def test_a_late_status_reply_is_not_read_as_the_answer_to_the_next_question(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Replies come 1.5-3 s late. Drawer pin 3 reads high (a real Epson without a drawer):
    DLE EOT 1 answers 0x16, which read as the DLE EOT 2 answer means "cover open"."""
    printer = await _start(nursery, status_delay=1.5, status_jitter=1.5, seed=7)
    transport = _transport(printer)
    seen: list[PrinterStatus] = []
    with fail_after(600):
        for _ in range(20):
            seen.append(await transport.probe())
    assert seen == [OK] * 20


async def test_auto_proof_uses_status_on_a_printer_that_ignores_process_ids(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, process_id=False)
    transport = _transport(printer)
    assert transport.proof_mode().mode == "unknown"
    with fail_after(60):
        first = await transport.print_job(sample_ticket("one"), tag=job_tag(4), on_status=_nothing)
        second = await transport.print_job(sample_ticket("two"), tag=job_tag(5), on_status=_nothing)
        await printer.wait_tickets(2)
    assert (first, second) == ("status", "status")
    caps = transport.capabilities
    assert caps is not None
    assert (caps.process_id, caps.model) == (False, "TM-m30III")
    mode = transport.proof_mode()
    assert mode.mode == "status"
    assert "GS ( H" in mode.warning
    assert transport.statistics().identified == 1  # asked once, not per job


async def test_forced_process_id_on_such_a_printer_is_unknown_while_it_answers(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, process_id=False)
    transport = _transport(printer, proof="process_id", reply_timeout=3.0)
    with fail_after(60), pytest.raises(PrintOutcomeUnknown) as caught:
        await transport.print_job(sample_ticket(), tag=job_tag(6), on_status=_nothing)
    assert caught.value.answered
    assert "set aside" in transport.proof_mode().warning


async def test_the_wait_for_proof_starts_over_once_a_fault_clears(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Paper out while a ticket waits for proof that never comes (the printer ignores
    GS ( H): no deadline while the fault lasts, then ``reply_timeout`` more of healthy
    status, and the operator reads why the outcome is unknown."""
    printer = await _start(nursery, process_id=False, print_delay=0.1)
    transport = _transport(printer, proof="process_id", reply_timeout=3.0)
    ticket = sample_ticket()
    cleared: list[float] = []

    async def paper_out_for_20_s() -> None:
        before = printer.job_bytes
        await printer.wait_job_bytes(before + MAX_PENDING_PAYLOAD + len(ticket))
        printer.paper_out = True
        await trio.sleep(20)
        printer.paper_out = False
        cleared.append(trio.current_time())

    with fail_after(120):
        await transport.identify()
        nursery.start_soon(paper_out_for_20_s)
        with pytest.raises(PrintOutcomeUnknown) as caught:
            await transport.print_job(ticket, tag=job_tag(14), on_status=_nothing)
    [back] = cleared
    assert 3.0 <= trio.current_time() - back < 6.0  # the next healthy poll, then 3 s
    assert caught.value.answered
    assert str(caught.value) == (
        "printer 'kitchen': no process-id reply within 3 s; the ticket may be on paper"
    )


async def test_a_retry_clears_the_printer_and_pads_before_itsline_ticket(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    transport = _transport(printer)
    ticket = sample_ticket("retry")
    with fail_after(60):
        await transport.print_job(ticket, tag=job_tag(7, 2), on_status=_nothing, options=RETRY)
    raw = bytes(printer.raw[-1])
    start = raw.index(CLEAR_BUFFERS)
    assert raw[start + len(CLEAR_BUFFERS) :].startswith(b"\x00" * MAX_PENDING_PAYLOAD + ticket)
    assert printer.clears == 1
    assert "retry" in printer.tickets[0].text


async def test_a_stored_proof_of_the_earlier_attempt_withdraws_the_retry(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    first, second = job_tag(8, 1), job_tag(8, 2)
    assert first != second  # a fresh process id for every attempt
    with fail_after(60), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(line_ticket(20), tag=first, on_status=_nothing)
    with fail_after(60):
        await printer.wait_tickets(1)
        await trio.sleep(1)
        assert printer.stored_process_id == first  # our connection was gone
        retry = JobOptions(retry=True, earlier=frozenset({first}))
        got = await transport.print_job(
            line_ticket(20), tag=second, on_status=_nothing, options=retry
        )
    assert got == "earlier"
    await trio.sleep(30)
    assert len(printer.paper()) == 1  # the retry was never sent
    assert transport.statistics().withdrawn == 1


async def _printed_after_giving_up(
    nursery: trio.Nursery, tag: bytes
) -> tuple[FakePrinter, NetworkTransport]:
    """A ticket whose proof the transport gave up on, printed since: its id is stored."""
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    with fail_after(60), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(line_ticket(20), tag=tag, on_status=_nothing)
    with fail_after(60):
        await printer.wait_tickets(1)
        await trio.sleep(1)
    return printer, transport


async def test_a_late_proof_seen_by_a_probe_is_kept_for_its_job(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    tag = job_tag(9, 1)
    _, transport = await _printed_after_giving_up(nursery, tag)
    with fail_after(60):
        assert transport.take_late_proofs() == []
        pending = [transport.has_late_proofs]
        assert await transport.probe() == OK
    pending.append(transport.has_late_proofs)  # its actor is rung
    assert transport.take_late_proofs() == [tag]
    assert transport.take_late_proofs() == []
    pending.append(transport.has_late_proofs)
    assert pending == [False, True, False]


async def test_a_retry_sends_nothing_when_a_probe_already_brought_its_earlier_id_back(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The id came back on a probe after the actor last looked, while it claimed the retry:
    the retry's own connection no longer sees it, the transport still does."""
    first = job_tag(9, 1)
    printer, transport = await _printed_after_giving_up(nursery, first)
    with fail_after(60):
        assert await transport.probe() == OK
        retry = JobOptions(earlier=frozenset({first}))
        got = await transport.print_job(
            line_ticket(20), tag=job_tag(9, 2), on_status=_nothing, options=retry
        )
    assert got == "earlier"
    await trio.sleep(30)
    assert len(printer.paper()) == 1  # the retry was never sent
    assert transport.statistics().withdrawn == 1
    assert transport.take_late_proofs() == []  # settled by the retry, not again by the actor


async def test_power_loss_mid_job_is_an_unanswered_unknown_and_booting_is_offline(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=1.0)
    transport = _transport(printer, reply_timeout=10.0)
    ticket = line_ticket(30)

    async def power_loss() -> None:
        await printer.wait_received(MAX_PENDING_PAYLOAD + len(ticket))
        printer.power_off()

    nursery.start_soon(power_loss)
    start = trio.current_time()
    with fail_after(60), pytest.raises(PrintOutcomeUnknown) as caught:
        await transport.print_job(ticket, tag=job_tag(10), on_status=_nothing)
    assert not caught.value.answered
    # Silence may be a printer busy with our ticket: it counts once the proof wait is over.
    assert trio.current_time() - start < 40
    printer.power_on(boot_seconds=30.0)
    start = trio.current_time()
    with pytest.raises(PrinterOffline):
        await transport.probe()
    assert trio.current_time() - start == pytest.approx(2.0, abs=0.5)  # the connect timeout
    assert transport.capabilities is None  # asked again after the reconnect


async def _lost_to_a_reboot(
    transport: NetworkTransport, ticket: bytes, on_status: Callable[[PrinterStatus], None]
) -> None:
    """Identify the printer, then print ``ticket``: the outcome is unknown, unanswered."""
    with fail_after(300):
        await transport.identify()
        with pytest.raises(PrintOutcomeUnknown) as caught:
            await transport.print_job(ticket, tag=job_tag(15), on_status=on_status)
    assert not caught.value.answered


async def test_a_printer_rebooted_while_our_question_waited_in_it_is_found_by_the_keepalive(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Paper runs out as the ticket is sent: the printer holds it, its buffer is full, and
    our status question 2 s later waits, received and acknowledged, behind the rest of the
    ticket (a printer busy with a long ticket answers late: no new question goes out while
    it is unanswered). Then the printer is off for 10 s and boots for 10: both are gone,
    and a rebooted Epson does not reset our old connection by itself
    (``tests/fakes/epson/zombie.py``). Nothing of ours is unacknowledged, so the first
    packet we send reaches it at once: the keepalive question 30 s after the first one
    meets the reset."""
    printer = await _start(nursery, print_delay=0.1)
    transport = _transport(printer, reply_timeout=120.0)
    off: list[float] = []

    def paper_out(status: PrinterStatus) -> None:
        printer.paper_out = True  # right after the check before sending

    async def off_for_10_s_then_boot_for_10() -> None:
        await printer.wait_for(lambda: printer.paper_out and printer.job_bytes > 0)
        await trio.sleep(3)
        printer.power_off()
        off.append(trio.current_time())
        await trio.sleep(10)
        printer.power_on(boot_seconds=10.0)

    nursery.start_soon(off_for_10_s_then_boot_for_10)
    await _lost_to_a_reboot(transport, line_ticket(300), paper_out)
    [went_off] = off
    assert trio.current_time() - went_off == pytest.approx(KEEPALIVE - 1, abs=0.5)
    assert bytes(printer.unheard) == b"\x10\x04\x01"  # the keepalive, and nothing before
    assert printer.paper() == []


async def test_a_question_sent_to_a_dead_printer_meets_the_reset_when_tcp_sends_it_again(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Paper out holds the ticket, so the wait has no deadline. Then the printer is off for
    50 s and boots for 15. Our question 2 s after it went silent is never acknowledged:
    TCP sends it again with growing waits, and the keepalive questions every 30 s wait
    behind it; the first try after the boot, 104.2 s after the power loss, meets the
    reset."""
    printer = await _start(nursery, print_delay=0.1)
    transport = _transport(printer, reply_timeout=3.0)
    off: list[float] = []

    def paper_out_then_power_off(status: PrinterStatus) -> None:
        if status == OK:
            printer.paper_out = True  # right after the check before sending
        elif not off:
            printer.power_off()
            off.append(trio.current_time())

    async def back_after_50_s() -> None:
        await printer.wait_for(lambda: not printer.powered)
        await trio.sleep(50)
        printer.power_on(boot_seconds=15.0)

    nursery.start_soon(back_after_50_s)
    await _lost_to_a_reboot(transport, sample_ticket(), paper_out_then_power_off)
    [went_off] = off
    assert trio.current_time() - went_off == pytest.approx(104.2, abs=0.5)
    assert bytes(printer.unheard) == b"\x10\x04\x01" * 4  # 2 s, 32 s, 62 s, 92 s
    assert printer.paper() == []


async def test_paper_out_while_sending_a_real_ticket_is_an_unanswered_unknown(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    transport = _transport(printer, send_timeout=5.0)
    ticket = line_ticket(1000)  # ~20 kB: a big kitchen ticket with two copies

    def paper_runs_out(status: PrinterStatus) -> None:
        printer.paper_out = True  # right after the status check said OK

    with fail_after(60), pytest.raises(PrintOutcomeUnknown) as caught:
        await transport.print_job(ticket, tag=job_tag(11), on_status=paper_runs_out)
    assert not caught.value.answered
    assert "send" in str(caught.value)
    assert 0 < printer.received < MAX_PENDING_PAYLOAD + len(ticket)


@pytest.mark.parametrize("error", ["cutter_jam", "recoverable_error"])
async def test_an_error_while_waiting_holds_the_job_until_cleared(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, error: str
) -> None:
    printer = await _start(nursery, print_delay=0.1)
    transport = _transport(printer, reply_timeout=3.0)
    statuses: list[PrinterStatus] = []
    ticket = line_ticket(10)

    async def jam_then_clear() -> None:
        await printer.wait_received(MAX_PENDING_PAYLOAD + len(ticket))
        setattr(printer, error, True)
        await trio.sleep(60)
        setattr(printer, error, False)

    nursery.start_soon(jam_then_clear)
    with fail_after(120):
        got = await transport.print_job(ticket, tag=job_tag(12), on_status=statuses.append)
    assert got == "proof"
    assert any(s.error for s in statuses)
    assert len(printer.tickets) == 1


async def test_asb_pushed_from_power_on_does_not_confuse_status(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, asb_at_power_on=True)
    transport = _transport(printer)
    with fail_after(60):
        assert await transport.probe() == OK
        assert await transport.print_job(sample_ticket(), tag=job_tag(13), on_status=_nothing)
    assert len(printer.tickets) == 1


async def test_identify_reads_the_model(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, model="TM-T88V", dots=512)
    transport = _transport(printer)
    with fail_after(30):
        caps = await transport.identify()
    assert (caps.model, caps.manufacturer, caps.process_id) == ("TM-T88V", "EPSON", True)
    assert transport.proof_mode().mode == "process_id"
    assert printer.paper() == []  # asking printed nothing
