"""The fake printer itself: it must behave like the printer our transport is written for."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import FakePrinter, sample_ticket
from wixprint.printing.protocol import process_id_request

pytestmark = pytest.mark.usefixtures("thread_clock")  # documentation; each test names it too


async def _start(nursery: trio.Nursery, **kw: object) -> FakePrinter:
    printer = FakePrinter(**kw)  # type: ignore[arg-type]
    await nursery.start(printer.serve)
    return printer


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


async def _ask_status_twice(port: int) -> None:
    async with await trio.open_tcp_stream("127.0.0.1", port) as client:
        for _ in range(2):
            await client.send_all(b"\x10\x04\x01")
            await _read(client, 1)


async def _status(stream: trio.SocketStream) -> bytes:
    await stream.send_all(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
    return await _read(stream, 4)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (None, "12 12 12 12"),
        ("paper_near_end", "12 12 12 1e"),
        ("paper_out", "1a 32 12 7e"),
        ("cover_open", "1a 16 12 12"),
        ("offline", "1a 12 12 12"),
    ],
)
async def test_dle_eot_tables(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery, fault: str | None, expected: str
) -> None:
    printer = await _start(nursery)
    if fault:
        setattr(printer, fault, True)
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        assert (await _status(client)).hex(" ") == expected


async def test_pin_3_is_configurable(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, pin3_high=True)
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        assert (await _status(client))[0] == 0x16


async def test_status_bytes_inside_image_data_are_not_answered(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    raster = b"\x1dv0\x00\x03\x00\x02\x00" + b"\x10\x04\x01\x10\x04\x02"
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        await client.send_all(raster)
        assert await _read(client, 1, within=2) == b""
        await client.send_all(b"\x10\x04\x01")
        assert await _read(client, 2, within=2) == b"\x12"


async def test_process_id_only_after_printing_and_never_while_paper_out(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, print_delay=3.0)
    printer.paper_out = True
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        await client.send_all(sample_ticket("held") + process_id_request(b"T001"))
        assert await _read(client, 7, within=60) == b""
        assert printer.tickets == []
        # Real-time status is still answered while the data is held.
        assert (await _status(client))[3] == 0x7E
        printer.paper_out = False
        start = trio.current_time()
        assert await _read(client, 7, within=60) == b"\x37\x22T001\x00"
        assert trio.current_time() - start >= 3.0  # the print delay
    [ticket] = printer.tickets
    assert ticket.tag == b"T001"
    assert "held" in ticket.text


async def test_held_data_prints_after_the_client_left(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The duplicate hazard: a client that gives up and resends gets two tickets."""
    printer = await _start(nursery)
    printer.paper_out = True
    for _ in range(2):
        async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
            await client.send_all(sample_ticket("Schnitzel"))
            await printer.wait_job_bytes(1)
    printer.paper_out = False
    with trio.fail_after(30):
        tickets = await printer.wait_tickets(2)
    assert all("Schnitzel" in t.text for t in tickets)


async def test_receive_buffer_is_bounded_while_not_printing(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, buffer_size=4096)
    printer.cover_open = True
    data = b"\x1b@" + b"y" * 8_000_000 + b"\x1dV\x00"
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        with trio.move_on_after(5) as blocked:
            await client.send_all(data)
        assert blocked.cancelled_caught  # TCP backpressure reached the sender
        assert printer.job_bytes <= 2 * 4096
    printer.cover_open = False
    with trio.fail_after(60):
        [ticket] = await printer.wait_tickets(1)
    assert not ticket.decoded.cut  # the sender was cut off mid-ticket
    assert 0 < len(ticket.text) < 8_000_000


async def test_refuse_mode_resets_a_second_connection(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery, second_connection="refuse")
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as first:
        assert len(await _status(first)) == 4
        # Depending on timing the reset shows at connect or at the first read.
        with pytest.raises((OSError, trio.BrokenResourceError)):
            await _ask_status_twice(printer.port)
        assert len(await _status(first)) == 4  # the first session is unharmed
    assert printer.refused == 1
    assert printer.connections == 1


async def test_power_cycle_loses_held_data_and_boots_slowly(
    thread_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    printer = await _start(nursery)
    printer.paper_out = True
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        await client.send_all(sample_ticket())
        await printer.wait_job_bytes(1)
        printer.power_cycle(boot_seconds=15.0)
        with pytest.raises(trio.BrokenResourceError):
            await _read(client, 1)
    printer.paper_out = False
    await trio.sleep(1)
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", printer.port)
    await trio.sleep(20)
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
        assert len(await _status(client)) == 4
    assert printer.tickets == []


async def test_asb_and_gs_r(thread_clock: trio.testing.MockClock, nursery: trio.Nursery) -> None:
    printer = await _start(nursery)
    async with await trio.open_tcp_stream("127.0.0.1", printer.port) as client:
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
