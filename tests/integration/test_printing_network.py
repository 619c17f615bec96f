"""NetworkTransport against the fake printer over real loopback TCP, on the virtual clock."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import FakePrinter, sample_ticket
from tests.fakes.fake_printer import start_printer as _start
from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.network import NetworkTransport, Proof
from wixprint.printing.protocol import MAX_PENDING_PAYLOAD, job_tag
from wixprint.vocabulary import PrinterStatus

STATUS_REQUESTS = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
OK = PrinterStatus(online=True, paper="ok")


def _transport(printer: FakePrinter, proof: Proof = "process_id", **kw: float) -> NetworkTransport:
    options: dict[str, float] = {
        "connect_timeout": 2.0,
        "send_timeout": 5.0,
        "reply_timeout": 3.0,
        "status_poll_interval": 2.0,
    }
    options.update(kw)
    return NetworkTransport("kitchen", "127.0.0.1", printer.port, proof=proof, **options)


async def test_job_is_printed_with_proof(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    transport = _transport(printer)
    statuses: list[PrinterStatus] = []
    with trio.fail_after(30):
        await transport.print_job(
            sample_ticket("Hällo €"), tag=job_tag(7), on_status=statuses.append
        )
        await transport.print_job(
            sample_ticket("second"), tag=job_tag(8), on_status=statuses.append
        )
    assert [(t.tag, "Hällo €" in t.text, t.cut) for t in printer.tickets] == [
        (job_tag(7), True, True),
        (job_tag(8), False, True),
    ]
    assert statuses == [OK, OK]
    assert printer.connections == 2  # one connection per job
    assert printer.raw[0].startswith(STATUS_REQUESTS)
    stats = transport.statistics()
    assert (stats.jobs, stats.printed, stats.proofs, stats.unknown_outcomes) == (2, 2, 2, 0)
    assert stats.last_status == OK


async def test_near_end_still_prints(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    printer.paper_near_end = True
    statuses: list[PrinterStatus] = []
    with trio.fail_after(30):
        await _transport(printer).print_job(sample_ticket(), tag=b"AAAA", on_status=statuses.append)
    assert statuses[0].paper == "near_end"
    assert len(printer.tickets) == 1


@pytest.mark.parametrize("fault", ["paper_out", "cover_open", "offline"])
async def test_not_ready_before_job_sends_nothing(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, fault: str
) -> None:
    printer = await _start(nursery)
    setattr(printer, fault, True)
    transport = _transport(printer)
    with trio.fail_after(30), pytest.raises(PrinterNotReady) as caught:
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    assert caught.value.status is not None
    assert not caught.value.status.can_print
    assert printer.job_bytes == 0
    assert bytes(printer.raw[0]) == STATUS_REQUESTS
    setattr(printer, fault, False)
    await trio.sleep(60)
    assert printer.tickets == []
    assert transport.statistics().not_ready == 1


async def test_paper_out_mid_job_waits_and_prints_exactly_once(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=0.1)
    transport = _transport(printer, reply_timeout=3.0, status_poll_interval=2.0)
    ticket = sample_ticket("held ticket")
    statuses: list[PrinterStatus] = []
    saw_out = trio.Event()
    done = trio.Event()

    def on_status(status: PrinterStatus) -> None:
        statuses.append(status)
        if status.paper == "out":
            saw_out.set()

    async def job() -> None:
        await transport.print_job(ticket, tag=job_tag(42), on_status=on_status)
        done.set()

    with trio.fail_after(120):
        nursery.start_soon(job)
        await printer.wait_job_bytes(len(ticket))
        printer.paper_out = True  # the ticket is in the printer, not yet on paper
        await saw_out.wait()
        start = trio.current_time()
        await trio.sleep(30)  # far longer than reply_timeout: still waiting, no resend
        assert not done.is_set()
        assert printer.tickets == []
        printer.paper_out = False
        await done.wait()
    assert trio.current_time() - start >= 30
    assert [(t.tag, "held ticket" in t.text) for t in printer.tickets] == [(job_tag(42), True)]
    assert printer.connections == 1
    assert statuses[0] == OK
    assert sum(s.paper == "out" for s in statuses) >= 10  # polled every 2 s meanwhile
    stats = transport.statistics()
    assert (stats.printed, stats.proofs, stats.unknown_outcomes) == (1, 1, 0)


async def test_healthy_printer_without_proof_is_unknown(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    # The printer looks fine but takes far longer than reply_timeout to confirm.
    printer = await _start(nursery, print_delay=10.0)
    transport = _transport(printer, reply_timeout=3.0)
    with trio.fail_after(30), pytest.raises(PrintOutcomeUnknown) as caught:
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    assert caught.value.answered  # the printer answered status all along
    assert transport.statistics().unknown_outcomes == 1
    assert (await printer.wait_tickets(1))[0].cut  # it was on its way to paper


@pytest.mark.parametrize("print_received", [False, True])
async def test_connection_reset_mid_job_is_unknown(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, print_received: bool
) -> None:
    printer = await _start(nursery)
    if print_received:
        printer.cut_inside("GS ( k", after=8)  # past the ticket's first line, in its QR code
    else:
        printer.reset_mid_job(after_bytes=MAX_PENDING_PAYLOAD + 60)
    transport = _transport(printer)
    with trio.fail_after(30), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    await trio.sleep(10)
    assert printer.tickets == []  # the ticket's cut never arrived
    if print_received:
        [partial] = printer.paper()  # what arrived is on paper, uncut: a REPRINT is right
        assert not partial.cut
        assert partial.tag is None
    else:
        assert printer.paper() == []


async def test_printer_that_goes_silent_mid_job_is_unknown(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=50.0)
    transport = _transport(printer, reply_timeout=3.0)
    ticket = sample_ticket()

    async def power_loss() -> None:
        await printer.wait_job_bytes(len(ticket))
        printer.power_cycle(boot_seconds=5.0)

    nursery.start_soon(power_loss)
    with trio.fail_after(30), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(ticket, tag=b"AAAA", on_status=lambda s: None)
    await trio.sleep(100)
    assert printer.tickets == []  # lost in the power cut: the REPRINT is the only copy


async def test_unreachable_is_offline_quickly(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    transport = _transport(printer, connect_timeout=2.0)
    printer.unreachable = True
    await trio.testing.wait_all_tasks_blocked()
    start = trio.current_time()
    with pytest.raises(PrinterOffline):
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    with pytest.raises(PrinterOffline):
        await transport.probe()
    assert trio.current_time() - start < 0.5
    assert transport.statistics().offline == 2
    printer.unreachable = False
    with trio.fail_after(10):
        while True:  # the listener comes back on the same port
            try:
                assert await transport.probe() == OK
                break
            except PrinterOffline:
                await trio.sleep(0.5)


async def test_probe_waits_for_the_running_job(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    # "refuse" resets any second connection: an overlapping probe would fail.
    printer = await _start(nursery, connections="refuse", print_delay=0.5)
    transport = _transport(printer, reply_timeout=10.0)
    ticket = sample_ticket()
    finished: list[str] = []

    async def job() -> None:
        await transport.print_job(ticket, tag=b"AAAA", on_status=lambda s: None)
        finished.append("job")

    async def probe() -> None:
        assert await transport.probe() == OK
        finished.append("probe")

    with trio.fail_after(60):
        async with trio.open_nursery() as inner:
            inner.start_soon(job)
            await printer.wait_job_bytes(len(ticket))
            inner.start_soon(probe)
    assert finished == ["job", "probe"]
    assert printer.refused == 0
    assert printer.connections == 2


async def test_second_client_is_held_until_the_first_leaves(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, pin3_high=False)
    transport = _transport(printer, reply_timeout=10.0)
    other = await trio.open_tcp_stream("127.0.0.1", printer.port)  # e.g. the POS till
    await other.send_all(b"\x10\x04\x01")
    assert await other.receive_some(1) == b"\x12"
    # Held longer than the reply timeout: the printer looks offline, nothing is sent.
    with trio.fail_after(30), pytest.raises(PrinterOffline):
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    assert printer.job_bytes == 0

    async def leave_later() -> None:
        await trio.sleep(4)
        await other.aclose()

    nursery.start_soon(leave_later)
    start = trio.current_time()
    with trio.fail_after(30):
        assert await transport.probe() == OK
    assert trio.current_time() - start >= 4


async def test_status_proof(thread_clock: trio.testing.MockClock, nursery: trio.Nursery) -> None:
    printer = await _start(nursery)
    transport = _transport(printer, proof="status")
    statuses: list[PrinterStatus] = []
    with trio.fail_after(30):
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=statuses.append)
        assert statuses == [OK, OK]  # before sending and after
        [ticket] = await printer.wait_tickets(1)
    assert ticket.tag is None  # no GS ( H was sent with the ticket
    assert all(tag.startswith(b"~") for tag in printer.process_ids)  # only the first probe
    assert transport.statistics().proofs == 0


async def test_no_proof_returns_after_sending(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=3.0)
    transport = _transport(printer, proof="none")
    with trio.fail_after(10):
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=lambda s: None)
    assert printer.tickets == []  # returned before the printer finished
    with trio.fail_after(60):
        await printer.wait_tickets(1)
    assert printer.process_ids == []


async def test_no_proof_tolerates_a_printer_without_status(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    other = await trio.open_tcp_stream("127.0.0.1", printer.port)
    transport = _transport(printer, proof="none", reply_timeout=2.0)
    statuses: list[PrinterStatus] = []
    with trio.fail_after(30):
        # Held connection: no status replies, yet the bytes go out.
        await transport.print_job(sample_ticket(), tag=b"AAAA", on_status=statuses.append)
        assert statuses == [PrinterStatus(online=True, paper="unknown")]
        await other.aclose()
        await printer.wait_tickets(1)


async def test_send_blocked_by_a_full_printer_buffer_is_unknown(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    transport = _transport(printer, send_timeout=5.0)
    huge = b"\x1b@" + b"x" * 16_000_000 + b"\x1dV\x00"

    def paper_runs_out(status: PrinterStatus) -> None:
        printer.paper_out = True  # right after the status check said OK

    with trio.fail_after(60), pytest.raises(PrintOutcomeUnknown):
        await transport.print_job(huge, tag=b"AAAA", on_status=paper_runs_out)
    assert 0 < printer.job_bytes < len(huge)
