"""NetworkTransport, what the operator and the printer actor rely on beyond one ticket: the
reason shown for a printer that cannot print, the proof mode and its warning, what is asked
again after losing contact, the counters, the log lines, the defaults, the fault point in
the middle of a send. Against the fake printer over loopback TCP, on the virtual clock.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import CLEAR_BUFFERS, FakePrinter, line_ticket, sample_ticket
from tests.fakes.fake_printer import start_printer as _start
from tests.integration.test_printing_slow_proof import unproven_then_confirmed_by_status
from tests.integration.test_printing_truth import OK, RETRY, _nothing, _transport
from wixprint.config import PrinterConfig
from wixprint.errors import InjectedFault, PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.base import JobOptions, ProofMode
from wixprint.printing.factory import make_transport
from wixprint.printing.network import NetworkTransport, NetworkTransportStatistics, Proof
from wixprint.printing.protocol import frame_job, job_tag, process_id_request
from wixprint.supervisor import faults
from wixprint.vocabulary import PrinterStatus

NO_PROCESS_ID = (
    "the printer does not answer GS ( H: tickets are confirmed by status only, so a ticket "
    "lost inside the printer (power cut) is not noticed"
)
IN_VAIN = (
    'proof = "process_id" but the printer does not answer GS ( H: every ticket will wait for '
    'proof in vain and be set aside; use proof = "auto"'
)
BY_STATUS = "confirmed by status only"
UNCONFIRMED = 'tickets are not confirmed at all (proof = "none")'


async def test_every_reason_names_the_printer_once(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The operator reads these in /health and the alerts: which printer, and what."""
    printer = await _start(nursery)
    transport = _transport(printer)
    with trio.fail_after(120):
        printer.paper_out = True
        with pytest.raises(PrinterNotReady) as not_ready:
            await transport.print_job(sample_ticket(), tag=job_tag(1), on_status=_nothing)
        assert str(not_ready.value) == "printer 'kitchen' cannot print"
        with pytest.raises(PrinterNotReady) as not_ready:
            await transport.identify()
        assert str(not_ready.value) == "printer 'kitchen' cannot print"
        printer.paper_out = False

        printer.reset_mid_job(after_bytes=1)  # drops the connection as the questions arrive
        with pytest.raises(PrinterOffline) as dropped:
            await transport.identify()
        assert str(dropped.value).startswith("printer 'kitchen': ")
        assert str(dropped.value).count("printer") == 1

        def paper_runs_out(status: PrinterStatus) -> None:
            printer.paper_out = True  # right after the status check said OK: the send blocks

        with pytest.raises(PrintOutcomeUnknown) as unknown:
            await transport.print_job(line_ticket(1000), tag=job_tag(2), on_status=paper_runs_out)
        assert str(unknown.value) == (
            "printer 'kitchen': send did not finish within 5 s; the ticket may be on paper"
        )
        printer.paper_out = False

        other = await trio.open_tcp_stream("127.0.0.1", printer.port)  # holds the printer
        with pytest.raises(PrinterOffline) as silent:
            await transport.probe()
        assert (
            str(silent.value) == "printer 'kitchen': no status reply (no status reply in 3 tries)"
        )
        await other.aclose()

        printer.unreachable = True
        with pytest.raises(PrinterOffline) as offline:
            await transport.print_job(sample_ticket(), tag=job_tag(3), on_status=_nothing)
        assert (
            str(offline.value) == f"printer 'kitchen': cannot connect to 127.0.0.1:{printer.port}"
        )


# proof, printer answers GS ( H → proof mode before contact, after identify()
PROOF_MODES: dict[tuple[Proof, bool], tuple[ProofMode, ProofMode]] = {
    ("auto", True): (ProofMode("unknown"), ProofMode("process_id")),
    ("auto", False): (ProofMode("unknown"), ProofMode("status", NO_PROCESS_ID)),
    ("process_id", True): (ProofMode("process_id"), ProofMode("process_id")),
    ("process_id", False): (ProofMode("process_id"), ProofMode("process_id", IN_VAIN)),
    ("status", True): (ProofMode("status", BY_STATUS), ProofMode("status", BY_STATUS)),
    ("status", False): (ProofMode("status", BY_STATUS), ProofMode("status", NO_PROCESS_ID)),
    ("none", True): (ProofMode("none", UNCONFIRMED), ProofMode("none", UNCONFIRMED)),
    ("none", False): (ProofMode("none", UNCONFIRMED), ProofMode("none", UNCONFIRMED)),
}


@pytest.mark.parametrize(("proof", "answers"), PROOF_MODES)
async def test_the_proof_mode_and_its_warning_follow_config_and_printer(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, proof: Proof, answers: bool
) -> None:
    """What the status page and ``wixprint test-print`` show."""
    printer = await _start(nursery, process_id=answers)
    transport = _transport(printer, proof=proof)
    before, after = PROOF_MODES[proof, answers]
    assert transport.proof_mode() == before
    with trio.fail_after(30):
        await transport.identify()
    assert transport.proof_mode() == after


@pytest.mark.parametrize(
    ("proof", "cause", "asked_again"),
    [
        ("auto", "no proof", True),  # maybe it stopped answering GS ( H: ask again
        ("process_id", "no proof", False),  # forced: asking again changes nothing
        ("process_id", "connection lost", True),  # a reconnect may be another printer
        ("status", "connection lost", True),
    ],
)
async def test_what_is_asked_again_after_an_unknown_outcome(
    thread_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    proof: Proof,
    cause: str,
    asked_again: bool,
) -> None:
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, proof=proof, reply_timeout=1.0)
    with trio.fail_after(60):
        await transport.identify()
        assert transport.capabilities is not None
        if cause == "connection lost":
            printer.reset_mid_job(after_bytes=700)  # inside the ticket
        with pytest.raises(PrintOutcomeUnknown) as caught:
            await transport.print_job(line_ticket(20), tag=job_tag(4), on_status=_nothing)
    assert caught.value.answered == (cause == "no proof")
    assert (transport.capabilities is None) == asked_again


async def test_the_counters_count_every_event(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=0.5)
    transport = _transport(printer, reply_timeout=1.0)
    assert transport.statistics() == NetworkTransportStatistics(
        jobs=0, printed=0, proofs=0, unknown_outcomes=0, not_ready=0, offline=0, last_status=None
    )
    with trio.fail_after(600):
        printer.paper_out = True
        for n in (1, 2):
            with pytest.raises(PrinterNotReady):
                await transport.print_job(sample_ticket(), tag=job_tag(n), on_status=_nothing)
        printer.paper_out = False
        for n in (3, 4):  # unproven, printed later: the retry is withdrawn
            with pytest.raises(PrintOutcomeUnknown):
                await transport.print_job(line_ticket(20), tag=job_tag(n, 1), on_status=_nothing)
            await printer.wait_tickets(n - 2)
            await trio.sleep(1)
            assert printer.stored_process_id == job_tag(n, 1)  # our connection was gone
            retry = JobOptions(retry=True, earlier=frozenset({job_tag(n, 1)}))
            got = await transport.print_job(
                line_ticket(20), tag=job_tag(n, 2), on_status=_nothing, options=retry
            )
            assert got == "earlier"
        for n in (5, 6):  # unproven, printed later: a probe brings the proof
            with pytest.raises(PrintOutcomeUnknown):
                await transport.print_job(line_ticket(20), tag=job_tag(n, 1), on_status=_nothing)
            await printer.wait_tickets(n - 2)
            await trio.sleep(1)
            assert await transport.probe() == OK
    assert transport.take_late_proofs() == [job_tag(5, 1), job_tag(6, 1)]
    assert len(printer.paper()) == 4
    # Asked what it supports at each first attempt (an unproven one makes it ask again).
    assert transport.statistics() == NetworkTransportStatistics(
        jobs=8,
        printed=2,
        proofs=0,
        unknown_outcomes=4,
        not_ready=2,
        offline=0,
        last_status=OK,
        late_proofs=2,
        withdrawn=2,
        identified=4,
    )


async def test_foreign_process_ids_are_kept_for_their_jobs_up_to_64(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Process ids we did not ask for on this connection belong to other attempts: kept for
    the printer actor, the latest 64 (a printer answering junk must not grow memory)."""
    printer = await _start(nursery)
    transport = _transport(printer, proof="process_id")
    foreign = [job_tag(n) for n in range(100, 170)]
    data = sample_ticket() + b"".join(process_id_request(tag) for tag in foreign)
    with trio.fail_after(60):
        assert await transport.print_job(data, tag=job_tag(7), on_status=_nothing) == "proof"
    assert transport.take_late_proofs() == foreign[-64:]
    assert transport.statistics().late_proofs == 70


async def _paper_out_once_the_ticket_is_in(
    printer: FakePrinter, ticket: bytes, seconds: float
) -> None:
    """Paper out for ``seconds`` once the next job's ticket is in the printer, not yet on
    paper (the printer was asked what it supports before: nothing else comes first)."""
    before = printer.job_bytes
    framed = frame_job(ticket, tag=job_tag(0), clear=False, process_id=True)
    await printer.wait_job_bytes(before + len(framed) - len(process_id_request(job_tag(0))))
    printer.paper_out = True
    await trio.sleep(seconds)
    printer.paper_out = False


def _logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    return [line for line in lines if line.get("event") == event]


async def test_the_log_tells_what_the_printer_did(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """One line per status change while a ticket is held (not one per poll), the model at
    first contact, an unknown outcome; each names the printer and the printing actor."""
    caplog.set_level(logging.INFO)
    printer = await _start(nursery, print_delay=0.1)
    transport = _transport(printer, proof="auto", status_poll_interval=2.0)
    ticket = sample_ticket("held ticket")
    with trio.fail_after(30):
        await transport.identify()
    nursery.start_soon(_paper_out_once_the_ticket_is_in, printer, ticket, 30.0)
    with trio.fail_after(120):
        assert await transport.print_job(ticket, tag=job_tag(8), on_status=_nothing) == "proof"
        printer.print_delay = 10.0
        with pytest.raises(PrintOutcomeUnknown):
            await transport.print_job(ticket, tag=job_tag(9), on_status=_nothing)
    changes = _logged(caplog, "printer.status_while_waiting")
    assert [(c["paper"], c["online"], c["cover_open"]) for c in changes] == [
        ("out", False, False),  # paper out takes it offline
        ("ok", True, False),
    ]
    [identified] = _logged(caplog, "printer.identified")
    assert (identified["model"], identified["process_id"], identified["proof"]) == (
        "TM-m30III",
        True,
        "process_id",
    )
    [unknown] = _logged(caplog, "printer.outcome_unknown")
    assert unknown["answered"] is True
    for line in [*changes, identified, unknown]:
        assert (line["actor"], line["printer"]) == ("printing", "kitchen")


async def test_a_transport_from_config_uses_the_documented_defaults(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The transport's own defaults are the config's (one set of defaults); the two the
    config does not set: status polled every 2 s while a ticket is held, and 2 s for a
    printer to answer what it supports."""
    built = NetworkTransport("kitchen", "127.0.0.1")
    documented = PrinterConfig(name="kitchen", host="127.0.0.1")
    assert (
        built.port,
        built.connect_timeout,
        built.send_timeout,
        built.reply_timeout,
        built.status_timeout,
        built.proof,
    ) == (
        documented.port,
        documented.connect_timeout,
        documented.send_timeout,
        documented.reply_timeout,
        documented.status_timeout,
        documented.proof,
    )

    mute = await _start(nursery, process_id=False, model=None)  # answers no question
    transport = make_transport(
        PrinterConfig(name="mute", host="127.0.0.1", port=mute.port), state_dir=tmp_path
    )
    start = trio.current_time()
    with trio.fail_after(30):
        caps = await transport.identify()
    assert (caps.process_id, caps.model) == (False, None)
    assert 2.0 <= trio.current_time() - start < 2.9

    printer = await _start(nursery, print_delay=0.1)
    transport = make_transport(
        PrinterConfig(name="kitchen", host="127.0.0.1", port=printer.port), state_dir=tmp_path
    )
    ticket = sample_ticket()
    out: list[float] = []

    def on_status(status: PrinterStatus) -> None:
        if status.paper == "out":
            out.append(trio.current_time())

    with trio.fail_after(120):
        await transport.identify()
        nursery.start_soon(_paper_out_once_the_ticket_is_in, printer, ticket, 20.0)
        await transport.print_job(ticket, tag=job_tag(10), on_status=on_status)
    gaps = [b - a for a, b in itertools.pairwise(out)]
    assert len(gaps) >= 6
    assert statistics.median(gaps) == pytest.approx(2.0, abs=0.3)


async def test_a_crash_in_the_middle_of_a_send_leaves_half_the_ticket_at_the_printer(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The ``printer.mid_send`` fault point: the chaos tests' hardest window."""
    printer = await _start(nursery)
    transport = _transport(printer, proof="process_id")
    ticket = sample_ticket()
    payload = frame_job(ticket, tag=job_tag(11), clear=False, process_id=True)
    with trio.fail_after(30):
        with faults.armed("printer.mid_send"), pytest.raises(InjectedFault):
            await transport.print_job(ticket, tag=job_tag(11), on_status=_nothing)
        await printer.wait_for(
            lambda: bytes(printer.raw[-1]).endswith(payload[: len(payload) // 2])
        )
    await trio.sleep(10)
    assert bytes(printer.raw[-1]).endswith(payload[: len(payload) // 2])
    assert printer.paper() == []


async def test_a_late_answer_to_the_question_is_taken_without_asking_again(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """A printer still busy with an unproven ticket answers what it supports only once that
    ticket is out, after the next job was confirmed by status and its connection closed: the
    printer keeps the answer and sends it on the next connection, here a status probe (the
    connectivity actor's). It counts all the same: the job after uses process ids without
    asking a third time."""
    printer, transport, got = await unproven_then_confirmed_by_status(nursery, 12)
    with trio.fail_after(120):
        await trio.sleep(1)
        assert await transport.probe() == OK
        caps = transport.capabilities
        later = await transport.print_job(
            line_ticket(5), tag=job_tag(14), on_status=_nothing, options=JobOptions(3.0)
        )
    assert (got, later) == ("status", "proof")
    assert caps is not None
    assert (caps.process_id, caps.model) == (True, "TM-m30III")
    assert transport.statistics().identified == 2
    assert len([tag for tag in printer.process_ids if tag.startswith(b"~")]) == 2


@pytest.mark.parametrize("proof", ["process_id", "none"])
async def test_a_retry_on_a_printer_known_already_clears_it_first(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, proof: Proof
) -> None:
    """What an earlier attempt left in the printer is discarded before the retry, also when
    the printer is not asked what it supports first (known already, or ``proof = "none"``)."""
    printer = await _start(nursery)
    transport = _transport(printer, proof=proof)
    with trio.fail_after(60):
        await transport.identify()
        got = await transport.print_job(
            sample_ticket("retry"), tag=job_tag(15, 2), on_status=_nothing, options=RETRY
        )
        await printer.wait_tickets(1)
    assert got == ("sent" if proof == "none" else "proof")  # "sent": nothing more is known
    assert printer.clears == 1
    assert CLEAR_BUFFERS in bytes(printer.raw[-1])
    assert ["retry" in ticket.text for ticket in printer.tickets] == [True]


@pytest.mark.parametrize(
    ("process_id", "model", "asked"),
    [
        (True, "TM-m30III", 1),
        (True, None, 1),
        (False, "TM-m30III", 1),  # it answers GS I: it heard the questions
        (False, None, 2),  # no answer at all: maybe stuck behind old lines, clear and ask again
    ],
)
async def test_a_retry_asks_again_only_a_printer_that_answered_nothing(
    thread_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    process_id: bool,
    model: str | None,
    asked: int,
) -> None:
    printer = await _start(nursery, process_id=process_id, model=model)
    transport = _transport(printer)
    with trio.fail_after(60):
        await transport.print_job(
            sample_ticket("retry"), tag=job_tag(16, 2), on_status=_nothing, options=RETRY
        )
        await printer.wait_tickets(1)
    assert transport.statistics().identified == asked
    assert len([tag for tag in printer.process_ids if tag.startswith(b"~")]) == (
        asked if process_id else 0
    )
    assert printer.clears == 1  # once, before the questions or before the ticket
    assert len(printer.tickets) == 1
