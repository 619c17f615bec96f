"""The fake printer itself: it must behave like the Epson our transport is written for.

Each test states one Epson behaviour (escpos.md §4–§6, §12–§14) in bytes on a real socket.
"""

from __future__ import annotations

import socket

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import CLEAR_BUFFERS, FakePrinter, sample_ticket, start_printer
from wixprint.printing.protocol import process_id_request

pytestmark = pytest.mark.usefixtures("thread_clock")  # documentation; each test names it too

STATUS_ALL = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"


async def _start(nursery: trio.Nursery, **options: object) -> FakePrinter:
    """These tests read the DLE EOT tables byte for byte: drawer pin 3 low unless asked
    (a real Epson without a drawer, the fake's default, reports it high)."""
    options.setdefault("pin3_high", False)
    return await start_printer(nursery, **options)


async def _read(stream: trio.SocketStream, n: int, within: float = 5.0) -> bytes:
    """Exactly *n* bytes, or fewer if none came *within* (virtual) seconds."""
    got = b""
    with trio.move_on_after(within):
        while len(got) < n:
            chunk = await stream.receive_some(n - len(got))
            if not chunk:
                break
            got += chunk
    return got


async def _connect(printer: FakePrinter) -> trio.SocketStream:
    return await trio.open_tcp_stream("127.0.0.1", printer.port)


async def _is_reset(printer: FakePrinter) -> bool:
    """A new connection is reset at once (at connect or at the first read)."""
    try:
        async with await _connect(printer) as stream:
            await stream.send_all(b"\x10\x04\x01")
            await _read(stream, 1)
    except (OSError, trio.BrokenResourceError):
        return True
    return False


async def _status(stream: trio.SocketStream) -> bytes:
    await stream.send_all(STATUS_ALL)
    return await _read(stream, 4)


def _lines(n: int, text: str = "line") -> bytes:
    return b"\x1b@\x1bt\x13" + b"".join(f"{text} {i}\n".encode() for i in range(n)) + b"\x1dVB\x00"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (None, "12 12 12 12"),
        ("paper_near_end", "12 12 12 1e"),
        ("paper_out", "1a 32 12 7e"),
        ("cover_open", "1a 16 12 12"),
        ("offline", "1a 12 12 12"),
        ("cutter_jam", "3a 52 1a 12"),
        ("recoverable_error", "3a 52 16 12"),
        ("unrecoverable_error", "3a 52 32 12"),
    ],
)
async def test_dle_eot_tables(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, fault: str | None, expected: str
) -> None:
    printer = await _start(nursery)
    if fault:
        setattr(printer, fault, True)
    async with await _connect(printer) as client:
        assert (await _status(client)).hex(" ") == expected


async def test_near_end_stop_reports_paper_end_and_holds_the_ticket(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, near_end_stop=True)
    printer.paper_near_end = True
    async with await _connect(printer) as client:
        assert (await _status(client)).hex(" ") == "1a 32 12 1e"
        await client.send_all(sample_ticket("held"))
        await trio.sleep(10)
        assert printer.tickets == []
        printer.paper_near_end = False  # a new roll
        with trio.fail_after(10):
            [ticket] = await printer.wait_tickets(1)
    assert "held" in ticket.text


async def test_pin_3_is_configurable(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, pin3_high=True)
    async with await _connect(printer) as client:
        assert (await _status(client))[0] == 0x16


async def test_status_requests_inside_data_are_answered_and_eaten_by_it(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Real-time commands act on receipt, whatever the parser is in: the reason status is
    only ever asked between jobs."""
    printer = await _start(nursery)
    raster = b"\x1dv0\x00\x03\x00\x02\x00" + b"\x10\x04\x01\x10\x04\x02"
    async with await _connect(printer) as client:
        await client.send_all(raster)
        assert await _read(client, 2, within=2) == b"\x12\x12"
        await client.send_all(b"\x1dV\x00")
        [ticket] = await printer.wait_tickets(1)
    assert ticket.has_image
    assert ticket.unknown_commands == []


async def test_one_parser_across_connections_swallows_the_next_jobs_start(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    qr_store = b"\x1d(k\x63\x00\x31\x50\x30" + b"https://maps.example/?q=" + b"x" * 72
    first = b"\x1b@\x1bt\x13DRIVER SLIP #1001\n" + qr_store[:80]  # cut inside the QR data
    second = b"\x1b@\x1bt\x13REPRINT\n#1001\nItem one\nItem two\nMore lines\n\x1dVB\x00"
    for data in (first, second):
        async with await _connect(printer) as client:
            before = printer.received
            await client.send_all(data)
            await printer.wait_received(before + len(data))
    with trio.fail_after(10):
        [strip] = await printer.wait_tickets(1)
    assert strip.lines[0] == "DRIVER SLIP #1001"
    assert "REPRINT" not in strip.text  # eaten as QR data
    assert "More lines" in strip.text  # the rest lands on the same strip

    # Padding that completes any pending payload, then ESC @: the job starts clean.
    async with await _connect(printer) as client:
        before = printer.received
        await client.send_all(first)
        await printer.wait_received(before + len(first))
    async with await _connect(printer) as client:
        await client.send_all(b"\x00" * 128 + b"\x1b@\x1dVB\x00" + second)
        with trio.fail_after(10):
            strips = await printer.wait_tickets(3)
    assert strips[1].lines == ["DRIVER SLIP #1001"]
    assert strips[2].lines[:2] == ["REPRINT", "#1001"]


async def test_process_id_only_after_printing_and_never_while_paper_out(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=1.0)
    printer.paper_out = True
    async with await _connect(printer) as client:
        await client.send_all(sample_ticket("held") + process_id_request(b"T001"))
        assert await _read(client, 7, within=60) == b""
        assert printer.tickets == []
        assert (await _status(client))[3] == 0x7E  # real-time status is still answered
        printer.paper_out = False
        start = trio.current_time()
        assert await _read(client, 7, within=60) == b"\x37\x22T001\x00"
        assert trio.current_time() - start >= 3.0  # print time: 1 s per line height
    [ticket] = printer.tickets
    assert ticket.tag == b"T001"
    assert "held" in ticket.text


async def test_print_time_scales_with_lines(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=0.1)
    async with await _connect(printer) as client:
        for lines in (10, 200):
            start = trio.current_time()
            await client.send_all(_lines(lines) + process_id_request(b"T%03d" % lines))
            assert len(await _read(client, 7, within=600)) == 7
            took = trio.current_time() - start
            assert lines * 0.1 <= took <= lines * 0.1 + 1.0


async def test_a_status_request_during_block_data_is_ignored(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, collide=True)
    async with await _connect(printer) as client:
        await client.send_all(sample_ticket() + process_id_request(b"T002"))
        await printer.wait_tickets(1)
        assert await _read(client, 7, within=5) == b""  # held for the next status request
        await client.send_all(b"\x10\x04\x01")
        assert await _read(client, 8, within=5) == b"\x37\x22T002\x00"  # and no status byte
        await client.send_all(b"\x10\x04\x01")
        assert await _read(client, 1) == b"\x12"
    assert printer.status_ignored == 1


async def test_process_id_is_stored_and_sent_to_the_next_session(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=1.0)
    async with await _connect(printer) as client:
        await client.send_all(_lines(5) + process_id_request(b"T003"))
    with trio.fail_after(30):
        await printer.wait_tickets(1)
    await trio.sleep(1)
    assert printer.stored_process_id == b"T003"
    async with await _connect(printer) as client:
        await client.send_all(b"\x10\x04\x01")
        # The stored id goes out first; the status request arrived while it was sent.
        assert await _read(client, 8, within=5) == b"\x37\x22T003\x00"
        await client.send_all(b"\x10\x04\x01")
        assert await _read(client, 1) == b"\x12"
    assert printer.stored_process_id is None


async def test_clear_buffers_discards_held_data_and_stored_ids(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    printer.paper_out = True
    async with await _connect(printer) as client:
        await client.send_all(sample_ticket("old") + process_id_request(b"T004"))
        await printer.wait_job_bytes(len(sample_ticket("old")) + 1)
        await client.send_all(CLEAR_BUFFERS)
        assert await _read(client, 3) == b"\x37\x25\x00"
        printer.paper_out = False
        await client.send_all(sample_ticket("new") + process_id_request(b"T005"))
        assert await _read(client, 7, within=30) == b"\x37\x22T005\x00"
    assert ["new" in t.text for t in printer.tickets] == [True]
    assert printer.process_ids == [b"T005"]


async def test_three_connections_only_the_first_is_served_and_a_fourth_is_reset(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    first, second, third = [await _connect(printer) for _ in range(3)]
    assert len(await _status(first)) == 4
    await second.send_all(b"\x10\x04\x01")
    assert await _read(second, 1, within=3) == b""  # waits its turn
    assert await _is_reset(printer)
    await first.aclose()
    assert await _read(second, 1) == b"\x12"  # now second is served
    await second.aclose()
    assert len(await _status(third)) == 4
    await third.aclose()
    assert (printer.connections, printer.refused) == (3, 1)


async def test_idle_connections_are_closed_by_the_printer(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, idle_timeout=30.0)
    async with await _connect(printer) as client:
        assert len(await _status(client)) == 4
        start = trio.current_time()
        assert await _read(client, 1, within=100) == b""
        assert 30 <= trio.current_time() - start < 100


async def test_hold_and_refuse_modes(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    refusing = await _start(nursery, connections="refuse")
    async with await _connect(refusing) as first:
        assert await _is_reset(refusing)
        assert len(await _status(first)) == 4
    holding = await _start(nursery, connections="hold")
    async with await _connect(holding) as first:
        other = await _connect(holding)  # completes in the backlog, not accepted
        await other.send_all(b"\x10\x04\x01")
        assert await _read(other, 1, within=3) == b""
    assert await _read(other, 1) == b"\x12"
    await other.aclose()


async def test_power_loss_is_silence_then_connects_time_out_while_booting(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    printer.paper_out = True
    client = await _connect(printer)
    await client.send_all(sample_ticket())
    await printer.wait_job_bytes(1)
    printer.power_off()
    await client.send_all(b"\x10\x04\x01")  # no reset, no answer: silence
    assert await _read(client, 1, within=10) == b""
    printer.paper_out = False
    printer.power_on(boot_seconds=15.0)
    await trio.sleep(1)
    with trio.move_on_after(5) as connecting:
        await _connect(printer)
    assert connecting.cancelled_caught  # a booting printer does not answer at all
    await trio.sleep(15)
    async with await _connect(printer) as fresh:
        assert len(await _status(fresh)) == 4
    with pytest.raises(trio.BrokenResourceError):  # the request sent while off was sent again
        await _read(client, 1)
    await client.aclose()
    assert printer.paper() == []  # the held ticket was lost


async def test_a_rebooted_printer_resets_an_old_connection_only_when_a_packet_reaches_it(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """After a power loss an idle connection is never told, the client's next packet meets
    a RST. A request sent while the printer was off was never acknowledged: the client's
    TCP sends it again (after 0.2, 0.4, 0.8 ... s), and the first try after the boot meets
    the RST (15 s of boot: the seventh, 25.4 s after the first send)."""
    printer = await _start(nursery)
    idle = await _connect(printer)
    assert len(await _status(idle)) == 4
    asking = await _connect(printer)
    printer.power_off()
    await asking.send_all(b"\x10\x04\x01")
    sent = trio.current_time()
    printer.power_on(boot_seconds=15.0)
    with pytest.raises(trio.BrokenResourceError):
        await _read(asking, 1, within=60)
    assert trio.current_time() - sent == pytest.approx(25.4)
    with trio.move_on_after(600) as waited:  # no RST, no FIN: nothing at all
        await idle.receive_some(1)
    assert waited.cancelled_caught
    await idle.send_all(b"\x10\x04\x01")
    with pytest.raises(trio.BrokenResourceError):
        await _read(idle, 1, within=1)
    for stream in (idle, asking):
        await stream.aclose()


async def test_new_data_waits_behind_an_unacknowledged_retransmission(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """Data sent after the boot while earlier data is unacknowledged queues behind it (one
    segment at a time in loss recovery): the RST comes with the next retransmission, the
    eighth try, 51 s after the first send (30 s of boot), not at once."""
    printer = await _start(nursery)
    async with await _connect(printer) as client:
        assert len(await _status(client)) == 4
        printer.power_off()
        await client.send_all(b"\x10\x04\x01")
        sent = trio.current_time()
        printer.power_on(boot_seconds=30.0)
        await trio.sleep(31)
        await client.send_all(b"\x10\x04\x02")
        with pytest.raises(trio.BrokenResourceError):
            await _read(client, 1, within=60)
        assert trio.current_time() - sent == pytest.approx(51.0)
    assert bytes(printer.unheard) == b"\x10\x04\x01\x10\x04\x02"


async def test_a_dead_printer_takes_no_data_and_the_client_gives_up_after_924_s(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """While the printer is off its window stays shut: a ticket sent then blocks the send.
    The client's TCP retransmits and gives up 924.6 s after the first unacknowledged send
    (tcp_retries2 = 15): its socket then fails, whether the printer is back or not."""
    printer = await _start(nursery)
    async with await _connect(printer) as client:
        assert len(await _status(client)) == 4
        printer.power_off()
        sent = trio.current_time()
        with trio.move_on_after(10) as blocked:
            await client.send_all(sample_ticket() * 400)  # 42 kB
        assert blocked.cancelled_caught
        with pytest.raises(trio.BrokenResourceError):
            await _read(client, 1, within=2000)
        assert trio.current_time() - sent == pytest.approx(924.6)
    assert printer.paper() == []


async def test_asb_at_power_on_is_pushed_without_asking(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, asb_at_power_on=True)
    async with await _connect(printer) as client:
        assert (await _read(client, 4)).hex(" ") == "10 00 00 00"
        printer.cover_open = True
        assert (await _read(client, 4)).hex(" ") == "38 00 00 00"


async def test_paper_running_out_mid_ticket_splits_it_across_rolls(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=0.5)
    printer.paper_out_after(3)
    async with await _connect(printer) as client:
        await client.send_all(_lines(6) + process_id_request(b"T006"))
        await trio.sleep(30)
        assert printer.paper_out
        assert [s.lines for s in printer.paper()] == [["line 0", "line 1", "line 2"]]
        assert (await _status(client))[3] == 0x7E
        printer.paper_out = False
        assert await _read(client, 7, within=30) == b"\x37\x22T006\x00"
    [ticket] = printer.tickets
    assert ticket.lines == [f"line {i}" for i in range(6)]
    assert ticket.rolls == {1, 2}


@pytest.mark.parametrize("profile", ["no_process_id", "slow_replies", "late_status"])
async def test_profiles(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, profile: str
) -> None:
    options: dict[str, object] = {
        "no_process_id": {"process_id": False},
        "slow_replies": {"reply_delay": 0.4},
        "late_status": {"status_delay": 3.0},
    }[profile]  # type: ignore[assignment]
    printer = await _start(nursery, **options)
    async with await _connect(printer) as client:
        start = trio.current_time()
        await client.send_all(b"\x10\x04\x01")
        assert await _read(client, 1, within=10) == b"\x12"
        took = trio.current_time() - start
        await client.send_all(sample_ticket() + process_id_request(b"T007"))
        reply = await _read(client, 7, within=10)
    assert took >= {"no_process_id": 0.0, "slow_replies": 0.4, "late_status": 3.0}[profile]
    assert reply == (b"" if profile == "no_process_id" else b"\x37\x22T007\x00")
    assert len(printer.tickets) == 1


async def test_printer_id_and_width(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, model="TM-T88V", dots=512)
    async with await _connect(printer) as client:
        await client.send_all(b"\x1dIC")
        assert await _read(client, 9) == b"\x5fTM-T88V\x00"
        await client.send_all(b"\x1b@" + b"x" * 48 + b"\n" + b"y" * 42 + b"\n\x1dVB\x00")
        [strip] = await printer.wait_tickets(1)
    assert strip.lines == ["x" * 42, "x" * 6, "y" * 42]  # 512 dots: 42 columns of font A
    assert strip.wrapped == 1
    silent = await _start(nursery, model=None)
    async with await _connect(silent) as client:
        await client.send_all(b"\x1dIC")
        assert await _read(client, 1, within=3) == b""


async def test_receive_buffer_and_window_are_small(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, buffer_size=4096)
    printer.cover_open = True
    data = _lines(2000)  # a ~20 kB ticket
    async with await _connect(printer) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        with trio.move_on_after(5) as blocked:
            await client.send_all(data)
        assert blocked.cancelled_caught  # TCP backpressure reached the sender
        assert printer.job_bytes <= 4096 + 16
    printer.cover_open = False
    with trio.fail_after(600):
        while not printer.paper():  # noqa: ASYNC110 - lines print one by one
            await trio.sleep(1)


async def test_held_data_prints_after_the_client_left(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The duplicate hazard: a client that gives up and resends gets two tickets."""
    printer = await _start(nursery)
    printer.paper_out = True
    for _ in range(2):
        async with await _connect(printer) as client:
            before = printer.job_bytes
            await client.send_all(sample_ticket("Schnitzel"))
            await printer.wait_job_bytes(before + 1)
    printer.paper_out = False
    with trio.fail_after(30):
        tickets = await printer.wait_tickets(2)
    assert all("Schnitzel" in t.text for t in tickets)


async def test_asb_and_gs_r(thread_clock: trio.testing.MockClock, nursery: trio.Nursery) -> None:
    printer = await _start(nursery)
    async with await _connect(printer) as client:
        await client.send_all(b"\x1da\x0f")
        assert (await _read(client, 4)).hex(" ") == "10 00 00 00"
        printer.paper_near_end = True
        assert (await _read(client, 4)).hex(" ") == "10 00 03 00"
        printer.paper_out = True
        assert (await _read(client, 4)).hex(" ") == "18 00 0f 00"
        await client.send_all(b"\x1dr\x01")  # GS r waits while the printer cannot print
        assert await _read(client, 1, within=10) == b""
        printer.paper_out = False
        # The ASB push and the GS r reply (paper near end) may come in either order.
        assert (await _read(client, 5)).hex(" ") in ("10 00 03 00 03", "03 10 00 03 00")
