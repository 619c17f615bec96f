"""``wixprint test-print`` against fake printers: it says what the printer is, how its
tickets are confirmed, warns when that is weaker than a process id, and prints a ruler."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import start_printer
from wixprint.commands.testprint import print_test_tickets
from wixprint.config import Config, PrinterConfig, ServiceConfig
from wixprint.receipts.testticket import ruler


def _config(tmp_path: Path, port: int, **printer: object) -> Config:
    return Config(
        service=ServiceConfig(state_dir=str(tmp_path)),
        printers=[
            PrinterConfig(name="bar", host="127.0.0.1", port=port, connect_timeout=2.0, **printer)  # type: ignore[arg-type]
        ],
    )


async def test_a_printer_without_process_ids_gets_a_warning(
    thread_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = await start_printer(nursery, process_id=False)
    with trio.fail_after(60):
        assert await print_test_tickets(_config(tmp_path, printer.port)) == 0
    out = capsys.readouterr().out
    assert "bar: printed (reports 'TM-m30III'; profile TM-m30III, 48 columns)" in out
    assert "bar: proof of print: status" in out
    assert "WARNING - the printer does not answer GS ( H" in out
    with trio.fail_after(60):  # confirmed by status: it may still be printing
        [strip] = await printer.wait_tickets(1)
    assert strip.lines[:2] == ruler(48)
    assert strip.wrapped == 0


async def test_a_tm_t88_configured_as_generic_is_named_and_printed_to_its_width(
    thread_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = await start_printer(nursery, model="TM-T88V", dots=512)
    config = _config(tmp_path, printer.port, model="generic-80mm")
    with trio.fail_after(60):
        assert await print_test_tickets(config) == 0
    out = capsys.readouterr().out
    assert "proof of print: process_id" in out
    assert 'the printer says it is a TM-T88V: set model = "TM-T88V"' in out
    [strip] = printer.tickets
    assert strip.wrapped > 0  # 48 columns on 512 dots: the ruler wraps, as the owner sees
    with trio.fail_after(60):
        assert await print_test_tickets(_config(tmp_path, printer.port)) == 0  # model "auto"
    assert printer.tickets[1].wrapped == 0
    assert printer.tickets[1].lines[0] == ruler(42)[0]


async def test_an_unreachable_printer_fails(
    thread_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = await start_printer(nursery)
    printer.unreachable = True
    await trio.testing.wait_all_tasks_blocked()
    with trio.fail_after(60):
        assert await print_test_tickets(_config(tmp_path, printer.port)) == 1
    assert "bar: FAILED - PrinterOffline" in capsys.readouterr().out
