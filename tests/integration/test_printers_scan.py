"""``wixprint printers scan``: fake printers on 127.0.0.2 and 127.0.0.3 port 9100 say their
models; the scan finds exactly them, and refuses ranges wider than a /22."""

from __future__ import annotations

import io
import json
import sys
from functools import partial

import trio
import trio.testing

from tests.fakes.lan_printer import ON_FIXED_ADDRESSES, LanPrinter
from wixprint.commands.printers import find_printers, run_scan
from wixprint.printing.probe import probe_printer

pytestmark = ON_FIXED_ADDRESSES


async def _serve(nursery: trio.Nursery, *printers: LanPrinter) -> None:
    for printer in printers:
        await nursery.start(printer.serve)


async def test_scan_finds_exactly_the_two_printers_with_their_models(
    thread_clock: trio.testing.MockClock,
) -> None:
    kitchen = LanPrinter("127.0.0.2", model="TM-m30III")
    bar = LanPrinter("127.0.0.3", model="TM-T88VI")
    async with trio.open_nursery() as nursery:
        await _serve(nursery, kitchen, bar)
        found = await find_printers(["127.0.0.0/29"], usb=False)
        nursery.cancel_scope.cancel()
    assert [(p.host, p.port, p.manufacturer, p.model) for p in found] == [
        ("127.0.0.2", 9100, "EPSON", "TM-m30III"),
        ("127.0.0.3", 9100, "EPSON", "TM-T88VI"),
    ]
    assert [(p.profile.name, p.profile.columns) for p in found] == [
        ("TM-m30III", 48),
        ("TM-T88VI", 42),
    ]
    assert all(p.status is not None and p.status.can_print for p in found)


async def test_the_command_lists_host_model_status_and_profile() -> None:
    kitchen = LanPrinter("127.0.0.2", model="TM-m30III")
    bar = LanPrinter("127.0.0.3", model="TM-T20III")
    async with trio.open_nursery() as nursery:
        await _serve(nursery, kitchen, bar)
        table = await trio.run_process(
            [sys.executable, "-m", "wixprint.cli", "printers", "scan", "127.0.0.0/29"],
            capture_stdout=True,
            capture_stderr=True,
        )
        as_json = await trio.run_process(
            [sys.executable, "-m", "wixprint.cli", "printers", "scan", "--json", "127.0.0.0/29"],
            capture_stdout=True,
        )
        nursery.cancel_scope.cancel()
    lines = table.stdout.decode().splitlines()
    assert lines[0].split() == ["ADDRESS", "MODEL", "STATUS", "PROFILE"]
    assert lines[1].split() == [
        "127.0.0.2",
        "EPSON",
        "TM-m30III",
        "ready",
        "TM-m30III",
        "(48",
        "columns)",
    ]
    assert lines[2].split() == [
        "127.0.0.3",
        "EPSON",
        "TM-T20III",
        "ready",
        "TM-T20III",
        "(48",
        "columns)",
    ]
    listed = [p for p in json.loads(as_json.stdout) if p["host"]]
    assert [(p["host"], p["model"], p["status"]) for p in listed] == [
        ("127.0.0.2", "TM-m30III", "ready"),
        ("127.0.0.3", "TM-T20III", "ready"),
    ]


async def test_a_printer_out_of_paper_shows_it_and_the_scan_does_not_hang(
    thread_clock: trio.testing.MockClock,
) -> None:
    """GS I is not real-time: a printer out of paper answers status but not its name."""
    printer = LanPrinter("127.0.0.2")
    printer.paper_out = True
    async with trio.open_nursery() as nursery:
        await _serve(nursery, printer)
        found = await probe_printer("127.0.0.2", reply_timeout=0.5)
        nursery.cancel_scope.cancel()
    assert found is not None
    assert found.status is not None
    assert found.status.paper == "out"
    assert found.model is None
    assert found.profile.name == "generic-80mm"


async def test_a_silent_listener_is_listed_without_a_status(
    thread_clock: trio.testing.MockClock,
) -> None:
    """Something accepts on 9100 but never answers (not a printer, or a hung one)."""

    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host="127.0.0.2"))
        port = listeners[0].socket.getsockname()[1]
        start = trio.current_time()
        found = await probe_printer("127.0.0.2", port, reply_timeout=0.5)
        waited = trio.current_time() - start
        nursery.cancel_scope.cancel()
    assert found is not None
    assert found.status is None
    assert found.model is None
    assert waited < 1.0  # one reply timeout, not three


def test_ranges_wider_than_a_22_are_refused_with_a_reason() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_scan(["192.168.0.0/21"], out=out, err=err) == 2
    assert "2048 addresses is more than a /22" in err.getvalue()
    assert out.getvalue() == ""
    err = io.StringIO()
    assert run_scan(["kitchen"], out=out, err=err) == 2
    assert "is not an address range" in err.getvalue()
